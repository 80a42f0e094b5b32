import PageModel
import Snapshot

/// Mapcounts (kpagecount) in `analyze`'s text and JSON and in the report.
enum MapcountOutput {
  /// The text block: per class mapped, unmapped and shared pages, mappings and the
  /// largest count; then the largest counts with their first PFN.
  static func text(_ m: MapcountCensus?) -> String {
    guard let m else { return "mapcounts       not in this snapshot (no kpagecount)\n" }
    var out = "mapcounts (kpagecount)\n"
    out += "  class        mapped      unmapped    shared (>1) mappings    largest\n"
    for name in classOrder(m) {
      let c = m.byClass[name]!
      out += "  " + name.rightPadded(12) + " " + String(c.mappedPages).rightPadded(11) + " " + String(c.unmappedPages).rightPadded(11) + " "
        + String(c.sharedPages).rightPadded(11) + " " + String(c.mappings).rightPadded(11) + " " + String(c.maxCount) + "\n"
    }
    if !m.largest.isEmpty {
      out += "  largest counts: " + m.largest.map { "\($0.count) (PFN \(hex($0.pfn)), \($0.pageClass.censusName))" }.joined(separator: ", ") + "\n"
    }
    return out
  }

  /// Classes with mapped pages first (most first), then the rest by name.
  static func classOrder(_ m: MapcountCensus) -> [String] {
    m.byClass.keys.sorted { a, b in
      let x = m.byClass[a]!.mappedPages, y = m.byClass[b]!.mappedPages
      return x != y ? x > y : a < b
    }
  }
}

/// The `mapcounts` object of `analyze --format json` (null without kpagecount).
struct MapcountJSON: Encodable {
  struct Counts: Encodable {
    var mappedPages, unmappedPages, sharedPages, mappings, maxCount: Int
    enum CodingKeys: String, CodingKey {
      case mappedPages = "mapped_pages", unmappedPages = "unmapped_pages", sharedPages = "shared_pages", mappings, maxCount = "max_count"
    }
    init(_ c: MapcountCensus.ClassCounts) {
      mappedPages = c.mappedPages
      unmappedPages = c.unmappedPages
      sharedPages = c.sharedPages
      mappings = c.mappings
      maxCount = c.maxCount
    }
  }
  struct Largest: Encodable {
    var pfn, count: Int
    var pageClass: String
    enum CodingKeys: String, CodingKey { case pfn, count, pageClass = "class" }
  }
  var byClass: [String: Counts]
  var total: Counts
  var largest: [Largest]
  enum CodingKeys: String, CodingKey { case byClass = "by_class", total, largest }

  init(_ m: MapcountCensus) {
    byClass = m.byClass.mapValues(Counts.init)
    total = Counts(m.total)
    largest = m.largest.map { Largest(pfn: $0.pfn, count: $0.count, pageClass: $0.pageClass.censusName) }
  }
}

extension SnapshotReport {
  /// Mapcounts: per class, mapped pages as a bar split into mapped once and shared.
  func mapcountSection(_ h: inout String) {
    guard let m = analysis.mapcounts else { return }
    h += "<h2>How often pages are mapped</h2>\n"
    h += "<p class=\"sub\">From /proc/kpagecount: per class, pages mapped into user page tables once and more than once (shared), and pages no page table maps.</p>\n"
    h += "<table id=\"mapcounts\"><tr><th class=\"l\">class</th><th>mapped once</th><th>shared (&gt;1)</th><th>unmapped</th><th>mappings</th><th>largest count</th></tr>\n"
    for name in MapcountOutput.classOrder(m) {
      let c = m.byClass[name]!
      h += "<tr data-class=\"\(name)\" data-mapped-pages=\"\(c.mappedPages)\" data-shared-pages=\"\(c.sharedPages)\"><td class=\"l\">\(name)</td><td>\(Self.group(c.mappedPages - c.sharedPages))</td><td>\(Self.group(c.sharedPages))</td><td>\(Self.group(c.unmappedPages))</td><td>\(Self.group(c.mappings))</td><td>\(Self.group(c.maxCount))</td></tr>\n"
    }
    h += "</table>\n"
    if !m.largest.isEmpty {
      h += "<p class=\"note\">Largest counts: " + m.largest.map { "\(Self.group($0.count)) (PFN \(hex($0.pfn)), \($0.pageClass.censusName))" }.joined(separator: ", ") + "</p>\n"
    }
  }
}
