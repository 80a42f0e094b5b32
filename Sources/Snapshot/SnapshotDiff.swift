import PageModel

extension Census {
  /// The census's page classes by name, as `memdesc_pages{class}`, the fleet rows and
  /// `diff` show them: `ram`, `hole`, `free`, `slab`, `pgtable`, `reserved`, `zero_page`,
  /// `offline`, `hugetlb`, the RAM in all-zero sections by cause (`deferred_init`,
  /// `zero_offline`: offline memory blocks, `zero_unknown`: cause unknown; the three add
  /// up to `zero_section_ram_pfns`), `no_flag` (other RAM reading 0).
  public var classPages: [(name: String, pages: Int)] {
    [("ram", ramPFNs), ("hole", holePFNs), ("free", buddyPages), ("slab", slabPages), ("pgtable", pgtablePages),
     ("reserved", reservedPages), ("zero_page", zeroPagePages), ("offline", offlinePages), ("hugetlb", hugetlbPages)]
      + ZeroSectionCause.allCases.map { ($0.className, zeroSectionCauses[$0]?.ramPFNs ?? 0) }
      + [("no_flag", noFlagRAMPFNs)]
  }
}

/// Two snapshots compared: `b` (after) against `a` (before). Every difference is `b - a`.
public struct SnapshotDiff: Sendable {
  /// A count before and after.
  public struct Pair: Sendable, Equatable {
    public var a: Int
    public var b: Int
    public var delta: Int { b - a }
    public init(_ a: Int, _ b: Int) {
      self.a = a
      self.b = b
    }
  }

  /// One HugeTLB pool before and after: huge pages found, HVO-optimised, and the pool's
  /// `nr_hugepages` where recorded.
  public struct Pool: Sendable, Equatable {
    public var name: String
    public var folios: Pair
    public var optimized: Pair
    public var poolPages: (a: Int?, b: Int?)
    public static func == (x: Pool, y: Pool) -> Bool {
      x.name == y.name && x.folios == y.folios && x.optimized == y.optimized && x.poolPages.a == y.poolPages.a && x.poolPages.b == y.poolPages.b
    }
  }

  public var a: SnapshotReport
  public var b: SnapshotReport
  /// `vm.hugetlb_optimize_vmemmap` as each snapshot recorded it (nil: not recorded).
  public var hvoSysctl: (a: Int?, b: Int?)

  public init(a: SnapshotReport, b: SnapshotReport, hvoSysctl: (a: Int?, b: Int?) = (nil, nil)) {
    self.a = a
    self.b = b
    self.hvoSysctl = hvoSysctl
  }

  /// Both snapshots analysed (each in one pass that also builds its map), costing `eras`.
  public static func of(_ a: PageSnapshot, _ b: PageSnapshot, eras: [Era] = Era.allCases) throws -> SnapshotDiff {
    SnapshotDiff(
      a: try SnapshotReport.of(a, eras: eras, hvo: []), b: try SnapshotReport.of(b, eras: eras, hvo: []),
      hvoSysctl: (try a.hugepages()?.optimizeVmemmap, try b.hugepages()?.optimizeVmemmap))
  }

  /// Pages by class (`Census.classPages`), then base pages in folios of each kind.
  public var classes: [(name: String, pages: Pair)] {
    let ca = a.analysis.census, cb = b.analysis.census
    var rows = zip(ca.classPages, cb.classPages).map { ($0.name, Pair($0.pages, $1.pages)) }
    for kind in CensusFolioKind.allCases { rows.append(("folio_pages:\(kind.rawValue)", Pair(ca.folioPages(kind), cb.folioPages(kind)))) }
    return rows
  }

  /// Folios by kind and order, where either snapshot has some.
  public var folios: [(kind: CensusFolioKind, order: Int, folios: Pair)] {
    var rows: [(CensusFolioKind, Int, Pair)] = []
    for kind in CensusFolioKind.allCases {
      let fa = a.analysis.census.folios[kind] ?? [:], fb = b.analysis.census.folios[kind] ?? [:]
      for order in Set(fa.keys).union(fb.keys).sorted() {
        let p = Pair(fa[order] ?? 0, fb[order] ?? 0)
        if p.a != 0 || p.b != 0 { rows.append((kind, order, p)) }
      }
    }
    return rows
  }

  /// Each era's cost before and after (the eras both analyses costed, in `a`'s order).
  public var eras: [(a: EraCost, b: EraCost)] {
    a.analysis.eras.compactMap { ea in b.analysis.eras.first { $0.era == ea.era }.map { (ea, $0) } }
  }

  /// The HugeTLB pools by name, as either snapshot has them.
  public var pools: [Pool] {
    let pa = a.analysis.census.hugetlb, pb = b.analysis.census.hugetlb
    var names = pa.map(\.name)
    for p in pb where !names.contains(p.name) { names.append(p.name) }
    return names.map { n in
      let x = pa.first { $0.name == n }, y = pb.first { $0.name == n }
      return Pool(name: n, folios: Pair(x?.folios ?? 0, y?.folios ?? 0), optimized: Pair(x?.optimized ?? 0, y?.optimized ?? 0), poolPages: (x?.poolPages, y?.poolPages))
    }
  }

  /// vmstat's memmap (`nr_memmap_boot_pages + nr_memmap_pages`) before and after, when
  /// both snapshots have vmstat.
  public var vmstatMemmapPages: Pair? {
    guard let x = a.analysis.vmstatMemmapPages, let y = b.analysis.vmstatMemmapPages else { return nil }
    return Pair(x, y)
  }

  /// The classic era's memmap frames (today's kernel: 64-byte struct pages, HVO as the
  /// census found it) before and after: the figure to set beside vmstat's. nil when the
  /// classic era is not costed.
  public var classicMemmapFrames: Pair? {
    eras.first { $0.a.era == .classic }.map { Pair($0.a.memmapFrames, $0.b.memmapFrames) }
  }

  /// The memory map's cells (2 MiB each) whose dominant class differs, and the cells
  /// compared (the longer map's; a cell beyond the shorter one counts as a hole there).
  public var changedCells: (changed: Int, cells: Int) {
    let ca = a.map.cellClasses(), cb = b.map.cellClasses()
    let n = max(ca.count, cb.count)
    var changed = 0
    for i in 0..<n where (i < ca.count ? ca[i] : .hole) != (i < cb.count ? cb[i] : .hole) { changed += 1 }
    return (changed, n)
  }

  /// `b`'s map with its runs split where the dominant class differs from `a`'s: each run
  /// is either all changed or all unchanged, `changed[i]` says which run is which, and a
  /// changed run's counts are `b`'s pages by class in it (for its title). Both maps
  /// must have the same cell size (they do for one page size).
  public func changeMap() -> (map: PhysicalMap, changed: [Bool], before: [MapClass]) {
    let ca = a.map.cellClasses(), cb = b.map.cellClasses()
    let n = max(ca.count, cb.count)
    var runs: [MapRun] = [], changed: [Bool] = [], before: [MapClass] = []
    var i = 0
    while i < n {
      let x = i < ca.count ? ca[i] : .hole, y = i < cb.count ? cb[i] : .hole
      var j = i + 1
      while j < n && (j < ca.count ? ca[j] : .hole) == x && (j < cb.count ? cb[j] : .hole) == y { j += 1 }
      var counts = [Int](repeating: 0, count: MapClass.allCases.count)
      counts[y.rawValue] = (j - i) * b.map.cellPFNs
      runs.append(MapRun(firstCell: i, cells: j - i, mapClass: y, counts: counts))
      changed.append(x != y)
      before.append(x)
      i = j
    }
    var totals = [Int](repeating: 0, count: MapClass.allCases.count)
    for (r, c) in zip(runs, changed) where c { totals[r.mapClass.rawValue] += r.cells * b.map.cellPFNs }
    let map = PhysicalMap(cellPFNs: b.map.cellPFNs, pfns: max(a.map.pfns, b.map.pfns), level: 0, runs: runs, totals: totals)
    return (map, changed, before)
  }
}

extension PhysicalMap {
  /// The dominant class of every cell (a block's class for each of its cells when the
  /// map was kept at a coarser level): one byte a cell.
  public func cellClasses() -> [MapClass] {
    var out = [MapClass](repeating: .hole, count: cells)
    for r in runs {
      let end = min(cells, r.firstCell + r.cells)
      guard r.firstCell < end else { continue }
      for c in r.firstCell..<end { out[c] = r.mapClass }
    }
    return out
  }
}
