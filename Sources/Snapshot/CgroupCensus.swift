import PageModel

/// What one memory cgroup (one kpagecgroup value) holds: its pages by class, its folios
/// by kind and order, the population the projection costs, and what its pages' share of
/// each era's memmap and descriptors comes to.
public struct CgroupUsage: Sendable, Equatable {
  /// The kpagecgroup value (the cgroup directory's inode); 0 for pages charged to no
  /// memory cgroup. nil for a row that sums several cgroups (`other`).
  public var inode: UInt64?
  /// The path (`CgroupMap.name`), `(none)`, `inode N`, or `other` for the summed row.
  public var name: String
  /// How many cgroups the row sums (1 for one cgroup).
  public var cgroups = 1
  /// PFNs with this kpagecgroup value, of every class.
  public var pages = 0
  /// Pages by class: the census's classes, and the folios' pages by kind
  /// (`CgroupUsage.classNames`).
  public var classPages: [String: Int] = [:]
  /// Folios by kind and order.
  public var folios: [CensusFolioKind: [Int: Int]] = [:]
  /// Slabs by order (their descriptors are costed per slab).
  public var slabs: [Int: Int] = [:]
  public var population = Population()

  /// The classes of `classPages`, in report order: the census's (`free`, `slab`,
  /// `pgtable`, `reserved`, `zero_page`, `offline`, `hugetlb`, `no_flag` for words that
  /// read 0, `irregular` for compound runs that changed while read) and the folio kinds
  /// gathered as `anon` (order 0, mTHP and THP), `file` (order 0 and large), `shmem`,
  /// `other`.
  public static let classNames = ["anon", "file", "shmem", "other", "slab", "pgtable", "hugetlb", "reserved", "zero_page", "offline", "free", "no_flag", "irregular"]

  public init(inode: UInt64?, name: String) {
    self.inode = inode
    self.name = name
  }

  /// Anonymous base pages (order 0, mTHP and THP folios).
  public var anonPages: Int { classPages["anon"] ?? 0 }

  init(inode: UInt64, name: String, census c: Census) {
    self.init(inode: inode, name: name)
    func kinds(_ k: [CensusFolioKind]) -> Int { k.reduce(0) { $0 + c.folioPages($1) } }
    classPages = [
      "anon": kinds([.anon, .anonMTHP, .anonTHP]), "file": kinds([.file, .fileLarge]), "shmem": kinds([.shmem]),
      "other": kinds([.other]), "slab": c.slabPages, "pgtable": c.pgtablePages, "hugetlb": c.hugetlbPages,
      "reserved": c.reservedPages, "zero_page": c.zeroPagePages, "offline": c.offlinePages, "free": c.buddyPages,
      "no_flag": c.zeroPFNs, "irregular": c.irregularCompoundPages + c.orphanTailPages,
    ].filter { $0.value != 0 }
    pages = classPages.values.reduce(0, +)
    folios = c.folios
    slabs = c.slabs
    population = c.population()
  }

  /// Adds another row's counts (for the `other` row).
  public mutating func add(_ u: CgroupUsage) {
    cgroups += u.cgroups
    pages += u.pages
    classPages.merge(u.classPages, uniquingKeysWith: +)
    for (k, o) in u.folios { folios[k, default: [:]].merge(o, uniquingKeysWith: +) }
    slabs.merge(u.slabs, uniquingKeysWith: +)
    var p = population
    for (k, o) in u.population.folios { p.folios[k, default: [:]].merge(o, uniquingKeysWith: +) }
    p.slabs.merge(u.population.slabs, uniquingKeysWith: +)
    p.pageTables += u.population.pageTables
    p.hugetlb.merge(u.population.hugetlb, uniquingKeysWith: +)
    p.hugetlbOptimized.merge(u.population.hugetlbOptimized, uniquingKeysWith: +)
    p.hugetlbZones.merge(u.population.hugetlbZones, uniquingKeysWith: max)
    population = p
  }

  /// What this row's pages cost in `era`, in bytes (not frames: a cgroup owns a share of
  /// the memmap's and the descriptor caches' frames, not whole frames).
  public func cost(_ era: Era) -> CgroupCost { CgroupCost(population: population, pages: pages, era: era) }
}

/// A cgroup's share of an era's descriptor cost.
///
/// - memmap: one struct page per page of the cgroup (`Era.structPageBytes`), less the
///   vmemmap that HVO frees for its optimised HugeTLB pages (`Hstate.optimizablePages`);
/// - descriptors (memdesc eras): per folio its `struct folio` (80 bytes at order 0, 128
///   larger, 160 HugeTLB), per page table a `struct ptdesc`, per slab a `struct slab`,
///   the object sizes `EraCost.project` packs into frames.
///
/// The whole machine's figure (`EraCost.project`) also pays for RAM no cgroup holds
/// (free pages, holes inside sections) and rounds caches up to whole frames, so the rows
/// do not add up to it.
public struct CgroupCost: Sendable, Equatable {
  public var era: Era
  public var memmapBytes: Int
  public var descriptorBytes: Int
  public var totalBytes: Int { memmapBytes + descriptorBytes }

  public init(population p: Population, pages: Int, era: Era) {
    self.era = era
    var saved = 0
    for (order, n) in p.hugetlbOptimized where n > 0 { saved += n * Hstate.optimizablePages(order: order, era) * Kernel.pageSize }
    memmapBytes = max(0, pages * era.structPageBytes - saved)
    guard era == .memdesc32 || era == .memdesc8 else {
      descriptorBytes = 0
      return
    }
    var d = 0
    for orders in p.folios.values {
      for (order, n) in orders { d += n * (order == 0 ? DescriptorKind.folio : .largeFolio).objectSize }
    }
    d += p.hugetlb.values.reduce(0, +) * DescriptorKind.hugetlbFolio.objectSize
    d += p.pageTables * DescriptorKind.ptdesc.objectSize
    d += p.slabs.values.reduce(0, +) * DescriptorKind.slab.objectSize
    descriptorBytes = d
  }
}

/// A snapshot's pages by memory cgroup: one census per kpagecgroup value, read in
/// lock-step with kpageflags.
public struct CgroupCensus: Sendable {
  /// Every cgroup with pages, charged ones first by pages (most first), then `(none)`
  /// (inode 0) last.
  public var usages: [CgroupUsage]
  /// Whether the snapshot carried a cgroup map; without one, cgroups are named by inode.
  public var hasMap: Bool
  /// Cgroups in the map (every cgroup directory found at capture, with pages or not).
  public var mappedCgroups: Int

  /// The census by cgroup. Each kpagecgroup value gets its own scanner, fed the runs of
  /// PFNs that have both one kpageflags word and that value, so a folio (whose pages are
  /// all charged to its memcg) is seen whole by its cgroup's scanner; `census` gives the
  /// HugeTLB pools as the whole-machine census found them. A snapshot without
  /// kpagecgroup is an error naming the source.
  public static func of(_ snapshot: PageSnapshot, census: Census) throws -> CgroupCensus {
    guard let cgroups = snapshot.kpagecgroup else {
      throw SnapshotError(.notFound, path: snapshot.origin.description, "has no kpagecgroup: memory by cgroup needs /proc/kpagecgroup (a capture of a kernel with CONFIG_MEMCG)")
    }
    let map = try snapshot.cgroupMap()
    let pools = census.hugetlb.map { (name: $0.name, order: $0.order, pool: $0.poolPages) }
    let pmdOrder = ((2 << 20) / snapshot.metadata.pageSize).trailingZeroBitCount
    var index: [UInt64: Int] = [:]
    var inodes: [UInt64] = []
    var scanners: [CensusScanner] = []
    var lastInode: UInt64 = .max
    var last = -1
    let buffer = FileIO.allocateReadBuffer(words: snapshot.kpageflags.chunkWords)
    defer { buffer.deallocate() }
    try snapshot.kpageflags.forEachChunk { start, words in
      guard let f = words.baseAddress else { return }
      try cgroups.read(start..<(start + words.count), into: buffer)
      var i = 0
      let n = words.count
      while i < n {
        let w = f[i], g = buffer[i]
        var j = i + 1
        while j < n && f[j] == w && buffer[j] == g { j += 1 }
        if g != lastInode {
          if let k = index[g] {
            last = k
          } else {
            last = scanners.count
            index[g] = last
            inodes.append(g)
            scanners.append(CensusScanner(pfns: snapshot.pfnCount, ram: nil, hugeOrders: pools.map(\.order), pmdOrder: pmdOrder))
          }
          lastInode = g
        }
        scanners[last].run(w, start + i, j - i)
        i = j
      }
    }
    var usages: [CgroupUsage] = []
    for k in scanners.indices {
      let c = scanners[k].finish(hugeOrders: pools, pageSize: snapshot.metadata.pageSize)
      usages.append(CgroupUsage(inode: inodes[k], name: map?.name(inodes[k]) ?? (inodes[k] == 0 ? "(none)" : "inode \(inodes[k])"), census: c))
    }
    usages.sort { a, b in
      if (a.inode == 0) != (b.inode == 0) { return b.inode == 0 }
      return a.pages != b.pages ? a.pages > b.pages : a.name < b.name
    }
    return CgroupCensus(usages: usages, hasMap: map != nil, mappedCgroups: map?.entries.count ?? 0)
  }

  /// The `top` charged cgroups with the most pages, the rest summed as one `other` row
  /// (nil when there is no rest), and the uncharged pages (`(none)`, nil when none):
  /// so that a metrics label set stays bounded whatever the host runs.
  public func top(_ top: Int) -> (rows: [CgroupUsage], other: CgroupUsage?, uncharged: CgroupUsage?) {
    let charged = usages.filter { $0.inode != 0 }
    var other: CgroupUsage?
    for u in charged.dropFirst(top) {
      if other == nil {
        other = CgroupUsage(inode: nil, name: "other")
        other!.cgroups = 0
      }
      other!.add(u)
    }
    return (Array(charged.prefix(top)), other, usages.first { $0.inode == 0 })
  }
}
