import PageModel
import Snapshot

/// `memdesc diff A B`: text, JSON and HTML of a `SnapshotDiff` (every difference B - A).
public enum DiffOutput {
  static func signed(_ n: Int) -> String { n > 0 ? "+\(n)" : String(n) }
  static func signedBytes(_ n: Int) -> String { (n > 0 ? "+" : n < 0 ? "-" : "") + ByteSize.human(UInt64(n.magnitude)) }

  public static func text(_ d: SnapshotDiff) -> String {
    var out = ""
    func line(_ s: String = "") { out += s + "\n" }
    let a = d.a.analysis, b = d.b.analysis
    line("A               \(a.source) (kernel \(a.kernelRelease ?? "unknown"))")
    line("B               \(b.source) (kernel \(b.kernelRelease ?? "unknown"))")
    line("differences are B - A")
    line()
    line("memmap          pages (4 KiB)     A            B            B - A")
    if let v = d.vmstatMemmapPages {
      line("  vmstat        " + "".rightPadded(17) + String(v.a).rightPadded(12) + " " + String(v.b).rightPadded(12) + " " + signed(v.delta))
    } else {
      line("  vmstat        not in both snapshots")
    }
    if let m = d.classicMemmapFrames {
      line("  census (classic era) " + "".rightPadded(10) + String(m.a).rightPadded(12) + " " + String(m.b).rightPadded(12) + " " + signed(m.delta))
    }
    line()
    line("hugetlb pools   huge pages A -> B, with HVO A -> B, nr_hugepages A -> B")
    for p in d.pools {
      line("  \(p.name.rightPadded(12)) \(p.folios.a) -> \(p.folios.b) (\(signed(p.folios.delta))), HVO \(p.optimized.a) -> \(p.optimized.b) (\(signed(p.optimized.delta))), nr_hugepages \(p.poolPages.a.map(String.init) ?? "-") -> \(p.poolPages.b.map(String.init) ?? "-")")
    }
    line("  vm.hugetlb_optimize_vmemmap \(d.hvoSysctl.a.map(String.init) ?? "-") -> \(d.hvoSysctl.b.map(String.init) ?? "-")")
    line()
    line("pages by class  A            B            B - A")
    for (name, p) in d.classes { line("  " + name.rightPadded(24) + String(p.a).rightPadded(12) + " " + String(p.b).rightPadded(12) + " " + signed(p.delta)) }
    line()
    line("folios          kind:order   A            B            B - A")
    for f in d.folios where f.folios.delta != 0 {
      line("  " + "\(f.kind.rawValue):\(f.order)".rightPadded(24) + String(f.folios.a).rightPadded(12) + " " + String(f.folios.b).rightPadded(12) + " " + signed(f.folios.delta))
    }
    let same = d.folios.filter { $0.folios.delta == 0 }.count
    if same > 0 { line("  (\(same) kind:order pairs unchanged)") }
    line()
    line("eras            memmap         descriptors    HVO saved      total")
    for (ea, eb) in d.eras {
      line("  " + ea.era.rawValue.rightPadded(14)
        + signedBytes(Int(eb.memmapBytes) - Int(ea.memmapBytes)).rightPadded(15)
        + signedBytes(Int(eb.descriptorBytes) - Int(ea.descriptorBytes)).rightPadded(15)
        + signedBytes(Int(eb.hvoSavedBytes) - Int(ea.hvoSavedBytes)).rightPadded(15)
        + signedBytes(Int(eb.totalOverheadBytes) - Int(ea.totalOverheadBytes)))
    }
    line()
    let c = d.changedCells
    line("memory map      \(c.changed) of \(c.cells) cells of 2 MiB changed their dominant class")
    return out
  }

  public static func json(_ d: SnapshotDiff) throws -> String { try JSONOutput.render(DiffJSON(d)) }

  /// The HTML page: the report's furniture and map drawing, the map showing the cells
  /// whose dominant class differs in B's class (the others faded), then the tables.
  public static func html(_ d: SnapshotDiff) -> String {
    let a = d.a.analysis, b = d.b.analysis
    var h = SnapshotReport.pageHead(title: "Memdesc diff", subtitle: "A: \(SnapshotReport.esc(a.source)) · B: \(SnapshotReport.esc(b.source)) · differences are B - A")
    let (map, changed, before) = d.changeMap()
    let c = d.changedCells
    h += "<style>.same{opacity:.13}</style>\n"
    h += "<h2>What changed in the memory map</h2>\n"
    h += "<p class=\"sub\">\(SnapshotReport.group(c.changed)) of \(SnapshotReport.group(c.cells)) cells of 2 MiB have another dominant class in B: drawn in B's class; unchanged cells are faded. Hover for the class before and after.</p>\n"
    h += "<div class=\"legend\">"
    for k in MapClass.allCases where map.totals[k.rawValue] > 0 {
      h += "<span data-class=\"\(k.key)\" data-pages=\"\(map.totals[k.rawValue])\"><span class=\"sw\" style=\"background:\(SnapshotReport.colors[k]!)\"></span>now \(k.label)</span>"
    }
    h += "</div>\n"
    let pageSize = b.pageSize
    SnapshotReport.drawMap(&h, map, pageSize: pageSize, extra: " data-changed-cells=\"\(c.changed)\"") { i, run, lo, hi in
      let t = "PFN \(hex(lo))-\(hex(hi)) (\(SnapshotReport.human(UInt64(hi - lo + 1) * UInt64(pageSize)))): " + (changed[i] ? "\(before[i].key) -> \(run.mapClass.key)" : "\(run.mapClass.key), unchanged")
      return ("k-\(run.mapClass.key)" + (changed[i] ? " changed" : " same"), t)
    }
    func table(_ id: String, _ head: String, _ rows: [(String, Int, Int)]) {
      h += "<table id=\"\(id)\"><tr><th class=\"l\">\(head)</th><th>A</th><th>B</th><th>B - A</th></tr>\n"
      for (n, x, y) in rows {
        h += "<tr data-name=\"\(SnapshotReport.esc(n))\" data-delta=\"\(y - x)\"><td class=\"l\">\(SnapshotReport.esc(n))</td><td>\(SnapshotReport.group(x))</td><td>\(SnapshotReport.group(y))</td><td>\(signed(y - x))</td></tr>\n"
      }
      h += "</table>\n"
    }
    h += "<h2>The memmap: the census against vmstat</h2>\n"
    h += "<p class=\"sub\">Pages of struct pages: vmstat's nr_memmap_boot_pages + nr_memmap_pages, and the classic era's memmap as the census finds it (64-byte struct pages, less what HVO frees for the HugeTLB pages whose fake heads showed).</p>\n"
    var memmap: [(String, Int, Int)] = []
    if let v = d.vmstatMemmapPages { memmap.append(("vmstat", v.a, v.b)) }
    if let m = d.classicMemmapFrames { memmap.append(("census, classic era", m.a, m.b)) }
    table("memmap", "memmap pages", memmap)
    h += "<h2>HugeTLB pools and HVO</h2>\n"
    h += "<p class=\"sub\">vm.hugetlb_optimize_vmemmap \(d.hvoSysctl.a.map(String.init) ?? "-") → \(d.hvoSysctl.b.map(String.init) ?? "-").</p>\n"
    table("pools", "pool", d.pools.flatMap { p in [("\(p.name) huge pages", p.folios.a, p.folios.b), ("\(p.name) with HVO", p.optimized.a, p.optimized.b)] })
    h += "<h2>Era costs</h2>\n"
    table("eras", "era (bytes)", d.eras.flatMap { x, y in
      [("\(x.era.rawValue) memmap", Int(x.memmapBytes), Int(y.memmapBytes)), ("\(x.era.rawValue) descriptors", Int(x.descriptorBytes), Int(y.descriptorBytes)),
       ("\(x.era.rawValue) total", Int(x.totalOverheadBytes), Int(y.totalOverheadBytes))]
    })
    h += "<h2>Pages by class</h2>\n"
    table("classes", "class", d.classes.map { ($0.name, $0.pages.a, $0.pages.b) })
    h += "<h2>Folios by kind and order</h2>\n"
    table("folios", "kind:order", d.folios.map { ("\($0.kind.rawValue):\($0.order)", $0.folios.a, $0.folios.b) })
    h += "<p class=\"note\">Made by memdesc diff. Classes come from /proc/kpageflags words; each map cell is classed by the class with the most pages in it, in A and in B.</p>\n"
    h += SnapshotReport.pageFoot
    return h
  }
}

/// `memdesc diff --format json`.
struct DiffJSON: Encodable {
  struct Pair: Encodable {
    var a, b, delta: Int
    init(_ p: SnapshotDiff.Pair) {
      a = p.a
      b = p.b
      delta = p.delta
    }
    init(_ x: Int, _ y: Int) { self.init(SnapshotDiff.Pair(x, y)) }
  }
  struct Pool: Encodable {
    var name: String
    var hugePages, optimized: Pair
    @Nullable var poolPagesA: Int?
    @Nullable var poolPagesB: Int?
    enum CodingKeys: String, CodingKey { case name, hugePages = "huge_pages", optimized = "hvo_optimized", poolPagesA = "nr_hugepages_a", poolPagesB = "nr_hugepages_b" }
  }
  struct EraDelta: Encodable {
    var era: String
    var memmapBytes, descriptorBytes, hvoSavedBytes, totalOverheadBytes, memmapFrames: Pair
    enum CodingKeys: String, CodingKey {
      case era, memmapBytes = "memmap_bytes", descriptorBytes = "descriptor_bytes", hvoSavedBytes = "hvo_saved_bytes"
      case totalOverheadBytes = "total_overhead_bytes", memmapFrames = "memmap_frames"
    }
  }
  var a, b: String
  @Nullable var vmstatMemmapPages: Pair?
  @Nullable var classicMemmapFrames: Pair?
  @Nullable var hvoSysctlA: Int?
  @Nullable var hvoSysctlB: Int?
  var pools: [Pool]
  var classes: [String: Pair]
  var folios: [String: [String: Pair]]
  var eras: [EraDelta]
  var changedCells, cells: Int

  enum CodingKeys: String, CodingKey {
    case a, b, vmstatMemmapPages = "vmstat_memmap_pages", classicMemmapFrames = "classic_memmap_frames"
    case hvoSysctlA = "hugetlb_optimize_vmemmap_a", hvoSysctlB = "hugetlb_optimize_vmemmap_b", pools, classes, folios, eras
    case changedCells = "changed_cells", cells
  }

  init(_ d: SnapshotDiff) {
    a = d.a.analysis.source
    b = d.b.analysis.source
    vmstatMemmapPages = d.vmstatMemmapPages.map(Pair.init)
    classicMemmapFrames = d.classicMemmapFrames.map(Pair.init)
    hvoSysctlA = d.hvoSysctl.a
    hvoSysctlB = d.hvoSysctl.b
    pools = d.pools.map { Pool(name: $0.name, hugePages: Pair($0.folios), optimized: Pair($0.optimized), poolPagesA: $0.poolPages.a, poolPagesB: $0.poolPages.b) }
    classes = Dictionary(uniqueKeysWithValues: d.classes.map { ($0.name, Pair($0.pages)) })
    var f: [String: [String: Pair]] = [:]
    for r in d.folios { f[r.kind.rawValue, default: [:]][String(r.order)] = Pair(r.folios) }
    folios = f
    eras = d.eras.map { x, y in
      EraDelta(
        era: x.era.rawValue, memmapBytes: Pair(Int(x.memmapBytes), Int(y.memmapBytes)), descriptorBytes: Pair(Int(x.descriptorBytes), Int(y.descriptorBytes)),
        hvoSavedBytes: Pair(Int(x.hvoSavedBytes), Int(y.hvoSavedBytes)), totalOverheadBytes: Pair(Int(x.totalOverheadBytes), Int(y.totalOverheadBytes)),
        memmapFrames: Pair(x.memmapFrames, y.memmapFrames))
    }
    let c = d.changedCells
    changedCells = c.changed
    cells = c.cells
  }
}
