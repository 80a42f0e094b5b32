import PageModel
import Snapshot

/// `memdesc analyze --by cgroup`: the census by memory cgroup as text, JSON, CSV and
/// OpenMetrics, the `top` cgroups with the most pages, the rest as one `other` row and
/// the uncharged pages as `(none)` (docs/cgroups.md).
public enum CgroupOutput {
  public static func text(_ a: SnapshotAnalysis, _ g: CgroupCensus, top: Int, eras: [Era]) -> String {
    let (rows, other, uncharged) = g.top(top)
    var out = ""
    func line(_ s: String = "") { out += s + "\n" }
    line("source          \(a.source)")
    line("kernel release  \(a.kernelRelease ?? "unknown")")
    let charged = g.usages.filter { $0.inode != 0 }.count
    line("cgroups         \(charged) with pages; " + (g.hasMap ? "\(g.mappedCgroups) in the snapshot's cgroup map" : "no cgroup map in this snapshot (version 1 or not captured): named by inode"))
    line()
    let classes = ["anon", "file", "shmem", "slab", "pgtable"]
    var header = "cgroup".rightPadded(40) + " " + "pages".leftPadded(10)
    for c in classes { header += " " + c.leftPadded(9) }
    header += " " + "rest".leftPadded(9)
    for e in eras { header += " " + e.rawValue.leftPadded(10) }
    line(header)
    func row(_ u: CgroupUsage) {
      var name = u.name
      if u.inode == nil { name += " (\(u.cgroups) cgroups)" }
      var s = name.rightPadded(40) + " " + String(u.pages).leftPadded(10)
      var shown = 0
      for c in classes {
        let n = u.classPages[c] ?? 0
        shown += n
        s += " " + String(n).leftPadded(9)
      }
      s += " " + String(u.pages - shown).leftPadded(9)
      for e in eras { s += " " + ByteSize.human(UInt64(u.cost(e).totalBytes)).leftPadded(10) }
      line(s)
      var folios: [String] = []
      for kind in CensusFolioKind.allCases {
        let o = Fmt.orders(u.folios[kind] ?? [:])
        if !o.isEmpty { folios.append("\(kind.rawValue) \(o)") }
      }
      if !folios.isEmpty { line("    folios by order: " + folios.joined(separator: "; ")) }
    }
    for u in rows { row(u) }
    if let other { row(other) }
    if let uncharged { row(uncharged) }
    line()
    line("pages: PFNs charged to the cgroup (kpagecgroup); rest: hugetlb, reserved, free, no-flag and other pages;")
    line("era columns: the cgroup's pages' struct pages and descriptors in that era (docs/cgroups.md)")
    return out
  }

  public static func json(_ a: SnapshotAnalysis, _ g: CgroupCensus, top: Int, eras: [Era]) throws -> String {
    try JSONOutput.render(CgroupCensusJSON(a, g, top: top, eras: eras))
  }

  public static func csv(_ g: CgroupCensus, top: Int, eras: [Era]) -> String {
    let (rows, other, uncharged) = g.top(top)
    var out = "cgroup,inode,key,value\n"
    for u in rows + [other, uncharged].compactMap({ $0 }) {
      let prefix = "\(csvField(u.name)),\(u.inode.map(String.init) ?? ""),"
      func row(_ k: String, _ v: Int) { out += prefix + k + ",\(v)\n" }
      row("pages", u.pages)
      row("cgroups", u.cgroups)
      for c in CgroupUsage.classNames { if let n = u.classPages[c] { row("class:\(c)", n) } }
      for kind in CensusFolioKind.allCases {
        for (order, n) in (u.folios[kind] ?? [:]).sorted(by: { $0.key < $1.key }) where n > 0 { row("folios:\(kind.rawValue):\(order)", n) }
      }
      for e in eras {
        let c = u.cost(e)
        row("era:\(e.rawValue):memmap_bytes", c.memmapBytes)
        row("era:\(e.rawValue):descriptor_bytes", c.descriptorBytes)
        row("era:\(e.rawValue):total_bytes", c.totalBytes)
      }
    }
    return out
  }

  /// A CSV field: quoted (quotes doubled) when it has a comma, quote or line break.
  static func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + escaping(s) { $0 == "\"" ? "\"\"" : nil } + "\""
  }

  /// The cgroup families `analyze --by cgroup --format openmetrics` adds to the analysis's
  /// (docs/metrics.md): the `cgroup` label takes the top cgroups' paths, `other` and
  /// `(none)`, so at most `top + 2` values.
  static func families(_ g: CgroupCensus, top: Int, eras: [Era]) -> [MetricsOutput.Family] {
    let (rows, other, uncharged) = g.top(top)
    let all = rows + [other, uncharged].compactMap { $0 }
    var pages = MetricsOutput.Family("memdesc_cgroup_pages", unit: "pages", "Base pages charged to the memory cgroup (kpagecgroup) by class; cgroup=\"other\" sums the cgroups beyond the top ones, \"(none)\" is pages charged to none.")
    var total = MetricsOutput.Family("memdesc_cgroup_overhead_bytes", unit: "bytes", "The cgroup's pages' struct pages and descriptors in the era.")
    var count = MetricsOutput.Family("memdesc_cgroup_count", "Memory cgroups a row sums (1 for one cgroup; more for cgroup=\"other\").")
    for u in all {
      let label = ("cgroup", u.name)
      for c in CgroupUsage.classNames { if let n = u.classPages[c] { pages.add([label, ("class", c)], n) } }
      for e in eras { total.add([label, ("era", e.rawValue)], u.cost(e).totalBytes) }
      count.add([label], u.cgroups)
    }
    return [pages, total, count]
  }

  public static func metrics(_ a: SnapshotAnalysis, _ g: CgroupCensus, top: Int, eras: [Era], run: RunInfo, dialect: MetricsDialect) -> String {
    MetricsOutput.render(a, run: run, dialect: dialect, extra: families(g, top: top, eras: eras))
  }
}

/// `analyze --by cgroup --format json`.
struct CgroupCensusJSON: Encodable {
  var source: String
  @Nullable var kernelRelease: String?
  var cgroupMap: Bool
  var mappedCgroups: Int
  var chargedCgroups: Int
  var top: Int
  var cgroups: [CgroupUsageJSON]
  @Nullable var other: CgroupUsageJSON?
  @Nullable var uncharged: CgroupUsageJSON?

  enum CodingKeys: String, CodingKey {
    case source, kernelRelease = "kernel_release", cgroupMap = "cgroup_map", mappedCgroups = "mapped_cgroups"
    case chargedCgroups = "charged_cgroups", top, cgroups, other, uncharged
  }

  init(_ a: SnapshotAnalysis, _ g: CgroupCensus, top: Int, eras: [Era]) {
    let (rows, o, u) = g.top(top)
    source = a.source
    kernelRelease = a.kernelRelease
    cgroupMap = g.hasMap
    mappedCgroups = g.mappedCgroups
    chargedCgroups = g.usages.filter { $0.inode != 0 }.count
    self.top = top
    cgroups = rows.map { CgroupUsageJSON($0, eras: eras) }
    other = o.map { CgroupUsageJSON($0, eras: eras) }
    uncharged = u.map { CgroupUsageJSON($0, eras: eras) }
  }
}

struct CgroupUsageJSON: Encodable, Sendable {
  @Nullable var inode: UInt64?
  var path: String
  var cgroups, pages, anonPages: Int
  var classes: [String: Int]
  var folios: [String: [String: Int]]
  var slabs: [String: Int]
  var eras: [CgroupCostJSON]

  enum CodingKeys: String, CodingKey {
    case inode, path, cgroups, pages, anonPages = "anon_pages", classes, folios, slabs, eras
  }

  init(_ u: CgroupUsage, eras e: [Era]) {
    inode = u.inode
    path = u.name
    cgroups = u.cgroups
    pages = u.pages
    anonPages = u.anonPages
    classes = u.classPages
    folios = Dictionary(uniqueKeysWithValues: CensusFolioKind.allCases.compactMap { k in
      let o = CensusJSON.orders(u.folios[k] ?? [:])
      return o.isEmpty ? nil : (k.rawValue, o)
    })
    slabs = CensusJSON.orders(u.slabs)
    eras = e.map { CgroupCostJSON(u.cost($0)) }
  }
}

struct CgroupCostJSON: Encodable, Sendable {
  var era: String
  var memmapBytes, descriptorBytes, totalBytes: Int

  enum CodingKeys: String, CodingKey {
    case era, memmapBytes = "memmap_bytes", descriptorBytes = "descriptor_bytes", totalBytes = "total_bytes"
  }

  init(_ c: CgroupCost) {
    era = c.era.rawValue
    memmapBytes = c.memmapBytes
    descriptorBytes = c.descriptorBytes
    totalBytes = c.totalBytes
  }
}

extension SnapshotReport {
  /// The cgroups with the most pages (`report --by-cgroup`): per row one bar per era of
  /// what its pages' struct pages and descriptors cost, on one scale.
  func cgroupSection(_ h: inout String) {
    guard let g = cgroups else { return }
    let (rows, other, uncharged) = g.top(10)
    // Pages charged to none (free memory, holes, most kernel pages) would dwarf the
    // cgroups' bars: they get a line of their own.
    let all = rows + [other].compactMap { $0 }
    let eras = analysis.eras.map(\.era)
    h += "<h2>Memory by cgroup</h2>\n"
    h += "<p class=\"sub\">The memory cgroups with the most pages (kpagecgroup\(g.hasMap ? "" : "; no cgroup map in this snapshot, so by inode")), the rest summed as other: per era, what the cgroup's pages cost in struct pages and descriptors (docs/cgroups.md).</p>\n"
    if let u = uncharged {
      h += "<p class=\"note\" data-cgroup=\"(none)\" data-pages=\"\(u.pages)\">Charged to no cgroup: \(Self.group(u.pages)) pages (\(eras.map { "\($0.rawValue) \(Self.human(UInt64(u.cost($0).totalBytes)))" }.joined(separator: ", "))).</p>\n"
    }
    let maxBytes = max(1, all.flatMap { u in eras.map { u.cost($0).totalBytes } }.max() ?? 1)
    let left = 330.0, barW = 520.0, barH = 9.0, gap = 6.0
    let rowH = Double(eras.count) * (barH + 2) + gap
    let height = Double(all.count) * rowH + 30
    h += "<svg id=\"cgroups\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1100 \(fmt(height))\" width=\"100%\">\n"
    let palette = ["#3d85c6", "#6aa84f", "#e69138", "#8e7cc3"]
    var y = 4.0
    for u in all {
      let name = u.inode == nil ? "other (\(u.cgroups) cgroups)" : u.name
      h += "<g data-cgroup=\"\(Self.esc(u.name))\" data-pages=\"\(u.pages)\"><text x=\"\(fmt(left - 8))\" y=\"\(fmt(y + rowH / 2))\" text-anchor=\"end\">\(Self.esc(name.count > 48 ? "…" + name.suffix(47) : name)) · \(Self.group(u.pages)) pages</text>"
      for (i, e) in eras.enumerated() {
        let c = u.cost(e)
        let w = Double(c.totalBytes) / Double(maxBytes) * barW
        let by = y + Double(i) * (barH + 2)
        h += "<rect x=\"\(fmt(left))\" y=\"\(fmt(by))\" width=\"\(fmt(w))\" height=\"\(fmt(barH))\" fill=\"\(palette[i % palette.count])\" data-era=\"\(e.rawValue)\" data-total-bytes=\"\(c.totalBytes)\"><title>\(e.rawValue): \(Self.human(UInt64(c.totalBytes)))</title></rect>"
        h += "<text x=\"\(fmt(left + w + 5))\" y=\"\(fmt(by + barH - 1))\" style=\"font-size:9px\">\(e.rawValue) \(Self.human(UInt64(c.totalBytes)))</text>"
      }
      h += "</g>\n"
      y += rowH
    }
    h += "</svg>\n"
  }
}
