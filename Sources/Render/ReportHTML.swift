import PageModel
import Snapshot

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The HTML report: one self-contained page (inline CSS and SVG, no script).
extension SnapshotReport {
  static let colors: [MapClass: String] = [
    .free: "#d9ead3", .file: "#6fa8dc", .anon: "#e69138", .thp: "#b45f06", .hugetlb: "#8e7cc3",
    .slab: "#c27ba0", .pageTable: "#45818e", .reserved: "#555555", .other: "#a8a8a8", .uninitialised: "#e4e4e4", .hole: "#ffffff",
  ]

  static func esc(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for ch in s {
      switch ch {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(ch)
      }
    }
    return out
  }

  static func human(_ b: UInt64) -> String { Fmt.bytes(b) }
  static func group(_ n: Int) -> String { Fmt.group(n) }

  /// The self-contained HTML page: inline CSS and SVG, no script.
  public func html() -> String {
    var h = ""
    h.reserveCapacity(1 << 20)
    let a = analysis, c = a.census
    let title = "Memdesc report: \(metadata.hostName ?? a.source)"
    h += Self.pageHead(title: title, subtitle: "\(Self.esc(a.source)) · kernel \(Self.esc(a.kernelRelease ?? "unknown"))\(metadata.capturedAt.map { " · captured " + Self.esc($0) } ?? "")")
    if let preface { h += "<p class=\"note\">\(Self.esc(preface))</p>\n" }
    h += "<div class=\"facts\">"
    h += "<div><b>PFNs</b> \(Self.group(c.pfns)) (\(Self.human(UInt64(c.pfns) * UInt64(a.pageSize))) span)</div>"
    h += "<div><b>RAM</b> \(Self.human(UInt64(c.ramPFNs) * UInt64(a.pageSize)))\(c.ramKnown ? "" : " (from non-zero sections)") in \(c.ramSections) sections</div>"
    h += "<div><b>holes</b> \(Self.group(c.holePFNs)) PFNs</div>"
    h += "<div><b>decoded as</b> \(Self.esc(AnalysisOutput.decodeLine(c.kernel)))</div>"
    h += "<div class=\"free\"><b>free</b> \(AnalysisOutput.freeLines(a.free, pageSize: a.pageSize).map(Self.esc).joined(separator: "<br>"))</div>"
    h += "<div><b>memmap (vmstat)</b> \(a.vmstatMemmapPages.map { Self.human(UInt64($0) * UInt64(a.pageSize)) } ?? "not recorded")</div>"
    h += "</div>\n"
    mapSection(&h)
    eraSection(&h)
    folioSection(&h)
    mapcountSection(&h)
    cgroupSection(&h)
    hvoSection(&h)
    crosscheckSection(&h)
    h += "<p class=\"note\">Made by memdesc report. Classes come from /proc/kpageflags words (a tail page carries its folio's flags); each map cell is coloured by the class with the most pages in it.</p>\n"
    h += Self.pageFoot
    return h
  }

  /// The page's start: doctype, head with the style sheet (the map's class colours
  /// included), the title as heading and `subtitle` (HTML) under it.
  static func pageHead(title: String, subtitle: String) -> String {
    """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(esc(title))</title>
      <style>
      body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;background:#f6f6f4}
      main{max-width:1180px;margin:0 auto;padding:18px 28px 40px;background:#fff}
      h1{font-size:22px;margin:4px 0 2px}h2{font-size:17px;margin:26px 0 6px;border-bottom:1px solid #ddd;padding-bottom:3px}
      .sub{color:#555;margin:0 0 8px}.facts{display:flex;flex-wrap:wrap;gap:6px 22px;margin:8px 0}
      .facts div{white-space:nowrap}.facts div.free{white-space:normal;flex-basis:100%}.facts b{font-weight:600}
      .legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:6px 0 8px;font-size:13px}
      .legend span.sw{display:inline-block;width:13px;height:13px;border:1px solid #999;vertical-align:-2px;margin-right:5px}
      svg text{font:11px system-ui,sans-serif;fill:#333}
      table{border-collapse:collapse;font-size:13px;margin:6px 0}
      th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;white-space:nowrap}td.note,td.l{white-space:normal}th{background:#f0f0ee;font-weight:600}
      td.l,th.l{text-align:left}.ok{color:#1b7a1b;font-weight:600}.moved{color:#a66a00;font-weight:600}.differ{color:#b00020;font-weight:600}
      .note{color:#555;font-size:12.5px}ul.notes li{margin:3px 0;color:#444}
      \(MapClass.allCases.map { ".k-\($0.key){fill:\(Self.colors[$0]!)}" }.joined())
      .k-hole{fill:url(#hole-hatch)}
      .legend span.sw.hole{background:repeating-linear-gradient(45deg,#fff 0 3px,#bbb 3px 4px)}
      svg text.axis-title{font-weight:600;fill:#444}
      </style></head><body><main>
      <h1>\(esc(title))</h1>
      <p class="sub">\(subtitle)</p>

      """
  }

  static let pageFoot = "</main></body></html>\n"

  func mapSection(_ h: inout String) {
    let m = map
    let cellBytes = UInt64(m.cellPFNs) * UInt64(analysis.pageSize)
    h += "<h2>Physical memory map</h2>\n"
    let blockNote = m.level == 0
      ? "one cell per \(Self.human(cellBytes)) of the PFN span"
      : "one block per \(Self.human(cellBytes << UInt64(m.level))) (\(m.blockCells) cells of \(Self.human(cellBytes)): the map had too many runs to draw cell by cell)"
    h += "<p class=\"sub\">\(Self.group(m.cells)) cells of \(Self.human(cellBytes)), \(Self.mapColumns(m.cells)) to a row (\(Self.human(UInt64(Self.mapColumns(m.cells)) * cellBytes)) a row), \(blockNote); hover for the PFN range and the pages of each class.</p>\n"
    let totalPages = max(1, m.totals.reduce(0, +))
    h += "<p class=\"note\" id=\"legend-base\">Shares are of the whole PFN span, \(Self.group(m.pfns)) PFNs (\(Self.human(UInt64(m.pfns) * UInt64(analysis.pageSize)))), holes included; a class with no page is left out.</p>\n"
    h += "<div class=\"legend\">"
    for k in MapClass.allCases where m.totals[k.rawValue] > 0 {
      let pages = m.totals[k.rawValue]
      let swatch = k == .hole ? "<span class=\"sw hole\"></span>" : "<span class=\"sw\" style=\"background:\(Self.colors[k]!)\"></span>"
      h += "<span data-class=\"\(k.key)\" data-pages=\"\(pages)\">\(swatch)\(k.label) \(Fmt.percent(Double(pages) * 100 / Double(totalPages)))</span>"
    }
    h += "</div>\n"
    let pageSize = analysis.pageSize
    Self.drawMap(&h, m, pageSize: pageSize) { _, run, lo, hi in
      var t = "PFN \(hex(lo))-\(hex(hi)) (\(Self.human(UInt64(hi - lo + 1) * UInt64(pageSize))), \(run.mapClass.key)):"
      for k in MapClass.allCases where run.counts[k.rawValue] > 0 { t += " \(k.key) \(run.counts[k.rawValue])" }
      return ("k-\(run.mapClass.key)", t)
    }
  }

  /// Columns of the map: a power of two, at least 64, with no more rows than columns.
  static func mapColumns(_ cells: Int) -> Int {
    var cols = 64
    while (cells + cols - 1) / cols > cols { cols *= 2 }
    return cols
  }

  /// The map's SVG: each run of `m` drawn as rectangles in rows of `mapColumns` cells,
  /// with address labels; `style` gives each run (its index, the run, its first and last
  /// PFN) a CSS class and a title. The report and `diff` draw their maps with it.
  static func drawMap(_ h: inout String, _ m: PhysicalMap, pageSize: Int, id: String = "map", extra: String = "", style: (Int, MapRun, Int, Int) -> (cls: String, title: String)) {
    func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : formatFixed(v, decimals: 2) }
    let cells = m.cells
    let cellBytes = UInt64(m.cellPFNs) * UInt64(pageSize)
    let cols = mapColumns(cells)
    let rows = max(1, (cells + cols - 1) / cols)
    let width = 1024.0
    let cw = width / Double(cols)
    let ch = max(cw, min(8, 640.0 / Double(rows)))
    let left = 112.0, top = 34.0
    let height = Double(rows) * ch
    let rowBytes = UInt64(cols) * cellBytes
    h += "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fmt(left + width + 2)) \(fmt(top + height + 4))\" width=\"100%\" "
    h += "data-cells=\"\(cells)\" data-cell-bytes=\"\(cellBytes)\" data-block-cells=\"\(m.blockCells)\" data-cols=\"\(cols)\" data-rows=\"\(rows)\" data-runs=\"\(m.runs.count)\" data-pfns=\"\(m.pfns)\"\(extra) role=\"img\" aria-label=\"physical memory map\">\n"
    h += "<defs><pattern id=\"hole-hatch\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"4\" height=\"4\" fill=\"#fff\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"4\" stroke=\"#bbb\" stroke-width=\"1.2\"/></pattern></defs>\n"
    // Axis titles: down, the physical address where a row starts; across, the offset in the row.
    h += "<text class=\"axis-title\" id=\"map-y-title\" x=\"0\" y=\"11\">physical address ↓</text>"
    h += "<text class=\"axis-title\" id=\"map-x-title\" x=\"\(fmt(left))\" y=\"11\">offset within the row (\(Self.human(rowBytes)) a row, one cell \(Self.human(cellBytes)))</text>"
    for i in 0...4 {
      let x = left + width * Double(i) / 4
      h += "<line x1=\"\(fmt(x))\" x2=\"\(fmt(x))\" y1=\"\(fmt(top - 5))\" y2=\"\(fmt(top - 1))\" stroke=\"#666\"/>"
      h += "<text class=\"tick\" x=\"\(fmt(x))\" y=\"\(fmt(top - 8))\" text-anchor=\"\(i == 0 ? "start" : i == 4 ? "end" : "middle")\">+\(Self.human(rowBytes * UInt64(i) / 4))</text>"
    }
    // Address labels, at least 22 px apart.
    let labelEvery = max(1, Int((22.0 / ch).rounded(.up)))
    var r = 0
    while r < rows {
      let addr = UInt64(r) * rowBytes
      h += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(top + Double(r) * ch + min(ch, 10) - 1))\" text-anchor=\"end\">\(addr == 0 ? "0" : human(addr))</text>"
      r += labelEvery
    }
    h += "\n<g transform=\"translate(\(fmt(left)),\(fmt(top)))\" shape-rendering=\"crispEdges\">\n"
    for (index, run) in m.runs.enumerated() {
      let lo = run.firstCell * m.cellPFNs
      let hi = min(m.pfns, (run.firstCell + run.cells) * m.cellPFNs) - 1
      let (cls, t) = style(index, run, lo, hi)
      // Pieces: the rest of the first row, whole rows, the start of the last row.
      var pieces: [(x: Int, y: Int, w: Int, h: Int)] = []
      var start = run.firstCell
      let end = run.firstCell + run.cells
      if start % cols != 0 {
        let e = min(end, (start / cols + 1) * cols)
        pieces.append((start % cols, start / cols, e - start, 1))
        start = e
      }
      if end - start >= cols {
        let full = (end - start) / cols
        pieces.append((0, start / cols, cols, full))
        start += full * cols
      }
      if start < end { pieces.append((0, start / cols, end - start, 1)) }
      if pieces.count == 1 {
        let p = pieces[0]
        h += "<rect x=\"\(fmt(Double(p.x) * cw))\" y=\"\(fmt(Double(p.y) * ch))\" width=\"\(fmt(Double(p.w) * cw))\" height=\"\(fmt(Double(p.h) * ch))\" class=\"\(cls)\" data-n=\"\(p.w * p.h)\"><title>\(t)</title></rect>\n"
      } else {
        h += "<g class=\"\(cls)\"><title>\(t)</title>"
        for p in pieces {
          h += "<rect x=\"\(fmt(Double(p.x) * cw))\" y=\"\(fmt(Double(p.y) * ch))\" width=\"\(fmt(Double(p.w) * cw))\" height=\"\(fmt(Double(p.h) * ch))\" data-n=\"\(p.w * p.h)\"/>"
        }
        h += "</g>\n"
      }
    }
    h += "</g></svg>\n"
  }

  func fmt(_ v: Double) -> String {
    if v == v.rounded() { return String(Int(v)) }
    return formatFixed(v, decimals: 2)
  }

  func eraSection(_ h: inout String) {
    let a = analysis
    h += "<h2>What the memmap costs, era by era</h2>\n"
    let anySaved = a.eras.contains { $0.hvoSavedBytes > 0 }
    let anyAllHVO = zip(a.eras, a.erasAllHVO).contains { $0.totalOverheadBytes != $1.totalOverheadBytes }
    let anyTables = a.eras.contains { $0.hvoPTETableFrames > 0 }
    let anyPageExt = a.eras.contains { $0.pageExtFrames > 0 }
    h += "<p class=\"sub\">This machine's population (census) on its RAM (\(Self.human(a.layout.ramBytes)), projected into each era: struct pages (memmap) plus descriptors, with HVO as the snapshot had it"
      + (anyTables ? ", and the PTE tables of the vmemmap PMDs HVO split (one page-table frame each)" : "")
      + (anySaved ? "; the hatched part is what HVO saved, net of those tables" : "")
      + (anyPageExt ? "; the purple part, not in the totals, is the page_ext tables of \(a.pageExt.spelling) (\(a.pageExt.entryBytes) bytes a page, the same in every era)" : "") + "."
      + (anyAllHVO ? " The dashed mark is the total if every HugeTLB page had HVO." : "")
      + (a.vmstatMemmapPages != nil ? " The grey bar is the real machine's own memmap (vmstat nr_memmap_boot_pages + nr_memmap_pages)." : "") + "</p>\n"
    let vmstatBytes = a.vmstatMemmapPages.map { UInt64($0) * UInt64(a.pageSize) }
    var maxBytes = vmstatBytes ?? 0
    for e in a.eras { maxBytes = max(maxBytes, e.totalOverheadBytes + e.hvoSavedBytes + e.pageExtBytes) }
    for e in a.erasAllHVO { maxBytes = max(maxBytes, e.totalOverheadBytes) }
    maxBytes = max(maxBytes, 1)
    let left = 190.0, barW = 560.0, rowH = 34.0, top = 8.0
    let rows = a.eras.count + (vmstatBytes == nil ? 0 : 1)
    let height = top + Double(rows) * rowH + 34 + (anyTables || anyPageExt ? 18 : 0)
    func x(_ b: UInt64) -> Double { Double(b) / Double(maxBytes) * barW }
    h += "<svg id=\"eras\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1100 \(fmt(height))\" width=\"100%\" data-ram-bytes=\"\(a.layout.ramBytes)\" data-vmstat-memmap-bytes=\"\(vmstatBytes.map { String($0) } ?? "")\">\n"
    h += "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#e8f3e8\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#4a9a4a\" stroke-width=\"2\"/></pattern></defs>\n"
    var y = top
    if let vb = vmstatBytes {
      h += "<g data-bar=\"vmstat\"><text x=\"\(fmt(left - 8))\" y=\"\(fmt(y + 19))\" text-anchor=\"end\">this machine (vmstat)</text>"
      h += "<rect x=\"\(fmt(left))\" y=\"\(fmt(y + 6))\" width=\"\(fmt(x(vb)))\" height=\"20\" fill=\"#999\"><title>vmstat memmap: \(Self.human(vb))</title></rect>"
      h += "<text x=\"\(fmt(left + x(vb) + 6))\" y=\"\(fmt(y + 20))\">\(Self.human(vb)) memmap</text></g>\n"
      y += rowH
    }
    for (e, all) in zip(a.eras, a.erasAllHVO) {
      h += "<g data-era=\"\(e.era.rawValue)\" data-memmap-bytes=\"\(e.memmapBytes)\" data-descriptor-bytes=\"\(e.descriptorBytes)\" data-hvo-saved-bytes=\"\(e.hvoSavedBytes)\" data-hvo-pte-table-bytes=\"\(e.hvoPTETableBytes)\" data-page-ext-bytes=\"\(e.pageExtBytes)\" data-total-bytes=\"\(e.totalOverheadBytes)\" data-total-all-hvo-bytes=\"\(all.totalOverheadBytes)\">"
      h += "<text x=\"\(fmt(left - 8))\" y=\"\(fmt(y + 19))\" text-anchor=\"end\">\(e.era.rawValue) (\(e.structPageBytes)-byte page)</text>"
      let mw = x(e.memmapBytes), dw = x(e.descriptorBytes), tw = x(e.hvoPTETableBytes), sw = x(e.hvoSavedBytes), pw = x(e.pageExtBytes)
      h += "<rect x=\"\(fmt(left))\" y=\"\(fmt(y + 6))\" width=\"\(fmt(mw))\" height=\"20\" fill=\"#3d85c6\"><title>\(e.era.rawValue): memmap \(Self.human(e.memmapBytes))</title></rect>"
      if dw > 0 { h += "<rect x=\"\(fmt(left + mw))\" y=\"\(fmt(y + 6))\" width=\"\(fmt(dw))\" height=\"20\" fill=\"#e69138\"><title>\(e.era.rawValue): descriptors \(Self.human(e.descriptorBytes))</title></rect>" }
      if tw > 0 { h += "<rect x=\"\(fmt(left + mw + dw))\" y=\"\(fmt(y + 6))\" width=\"\(fmt(tw))\" height=\"20\" fill=\"#a61c00\"><title>\(e.era.rawValue): \(Fmt.group(e.hvoPTETableFrames)) vmemmap PTE tables of the PMDs HVO split, \(Self.human(e.hvoPTETableBytes))</title></rect>" }
      if sw > 0 { h += "<rect x=\"\(fmt(left + mw + dw + tw))\" y=\"\(fmt(y + 6))\" width=\"\(fmt(sw))\" height=\"20\" fill=\"url(#hatch)\" stroke=\"#4a9a4a\" stroke-width=\".8\"><title>\(e.era.rawValue): saved by HVO \(Self.human(e.hvoSavedBytes))</title></rect>" }
      if pw > 0 { h += "<rect x=\"\(fmt(left + mw + dw + tw + sw))\" y=\"\(fmt(y + 6))\" width=\"\(fmt(pw))\" height=\"20\" fill=\"#8e7cc3\"><title>\(e.era.rawValue): page_ext tables \(Self.human(e.pageExtBytes)), not in the total</title></rect>" }
      if all.totalOverheadBytes != e.totalOverheadBytes {
        let ax = left + x(all.totalOverheadBytes)
        h += "<line x1=\"\(fmt(ax))\" x2=\"\(fmt(ax))\" y1=\"\(fmt(y + 2))\" y2=\"\(fmt(y + 30))\" stroke=\"#222\" stroke-dasharray=\"3 2\"><title>with HVO on every HugeTLB page: \(Self.human(all.totalOverheadBytes))</title></line>"
      }
      let label = "\(Self.human(e.totalOverheadBytes)) = \(Fmt.percent(e.overheadPercent)) of RAM" + (e.hvoSavedBytes > 0 ? " (HVO saved \(Self.human(e.hvoSavedBytes)))" : "")
        + (e.pageExtFrames > 0 ? " + page_ext \(Self.human(e.pageExtBytes))" : "")
      h += "<text x=\"\(fmt(left + mw + dw + tw + sw + pw + 6))\" y=\"\(fmt(y + 20))\">\(label)</text></g>\n"
      y += rowH
    }
    // Legend.
    let ly = y + 14
    h += "<g><rect x=\"\(fmt(left))\" y=\"\(fmt(ly - 10))\" width=\"12\" height=\"12\" fill=\"#3d85c6\"/><text x=\"\(fmt(left + 17))\" y=\"\(fmt(ly))\">struct pages (memmap)</text>"
    if a.eras.contains(where: { $0.descriptorBytes > 0 }) {
      h += "<rect x=\"\(fmt(left + 170))\" y=\"\(fmt(ly - 10))\" width=\"12\" height=\"12\" fill=\"#e69138\"/><text x=\"\(fmt(left + 187))\" y=\"\(fmt(ly))\">descriptors (folios, slabs, ptdescs)</text>"
    }
    if anySaved {
      h += "<rect x=\"\(fmt(left + 410))\" y=\"\(fmt(ly - 10))\" width=\"12\" height=\"12\" fill=\"url(#hatch)\" stroke=\"#4a9a4a\"/><text x=\"\(fmt(left + 427))\" y=\"\(fmt(ly))\">saved by HVO</text>"
    }
    if anyAllHVO {
      h += "<line x1=\"\(fmt(left + 540))\" x2=\"\(fmt(left + 540))\" y1=\"\(fmt(ly - 12))\" y2=\"\(fmt(ly + 3))\" stroke=\"#222\" stroke-dasharray=\"3 2\"/><text x=\"\(fmt(left + 547))\" y=\"\(fmt(ly))\">total if every HugeTLB page had HVO</text>"
    }
    // A second line for what only some machines have.
    if anyTables {
      h += "<rect x=\"\(fmt(left))\" y=\"\(fmt(ly + 8))\" width=\"12\" height=\"12\" fill=\"#a61c00\"/><text x=\"\(fmt(left + 17))\" y=\"\(fmt(ly + 18))\">vmemmap PTE tables of HVO's PMD splits</text>"
    }
    if anyPageExt {
      h += "<rect x=\"\(fmt(left + 300))\" y=\"\(fmt(ly + 8))\" width=\"12\" height=\"12\" fill=\"#8e7cc3\"/><text x=\"\(fmt(left + 317))\" y=\"\(fmt(ly + 18))\">page_ext tables (not in the totals)</text>"
    }
    h += "</g>\n"
    h += "</svg>\n"
  }

  func folioSection(_ h: inout String) {
    let a = analysis, c = a.census
    h += "<h2>Folios by kind and order</h2>\n"
    let orders = Set(c.folios.values.flatMap { $0.filter { $0.value > 0 }.keys }).sorted()
    let maxCount = max(1, c.folios.values.flatMap(\.values).max() ?? 1)
    h += "<table id=\"folios\"><tr><th class=\"l\">kind</th>"
    for o in orders { h += "<th>order \(o)<br><span class=\"note\">\(Self.human(UInt64(a.pageSize) << UInt64(o)))</span></th>" }
    h += "<th>folios</th><th>memory</th></tr>\n"
    for kind in CensusFolioKind.allCases {
      let row = c.folios[kind] ?? [:]
      guard row.values.contains(where: { $0 > 0 }) else { continue }
      h += "<tr><td class=\"l\">\(kind.rawValue)</td>"
      for o in orders {
        let n = row[o] ?? 0
        if n == 0 { h += "<td></td>"; continue }
        // Shade by log of the count.
        let t = log2(Double(n) + 1) / log2(Double(maxCount) + 1)
        let alpha = formatFixed(0.08 + 0.55 * t, decimals: 2)
        h += "<td style=\"background:rgba(61,133,198,\(alpha))\" data-kind=\"\(kind.rawValue)\" data-order=\"\(o)\">\(Self.group(n))</td>"
      }
      h += "<td>\(Self.group(c.folioCount(kind)))</td><td>\(Self.human(UInt64(c.folioPages(kind)) * UInt64(a.pageSize)))</td></tr>\n"
    }
    h += "</table>\n"
    h += "<table><tr><th class=\"l\">not folios</th><th>pages</th><th>memory</th><th class=\"l\">detail</th></tr>\n"
    func row(_ name: String, _ pages: Int, _ detail: String) {
      h += "<tr><td class=\"l\">\(name)</td><td>\(Self.group(pages))</td><td>\(Self.human(UInt64(pages) * UInt64(a.pageSize)))</td><td class=\"l\">\(Self.esc(detail))</td></tr>\n"
    }
    row("free (buddy)", c.buddyPages, c.buddyBlocks.map { "buddyinfo blocks per order: " + $0.map(String.init).joined(separator: " ") } ?? "")
    row("slab", c.slabPages, "\(c.slabs.values.reduce(0, +)) slabs; by order " + c.slabs.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
    row("page tables", c.pgtablePages, "")
    row("reserved", c.reservedPages, "")
    for p in c.hugetlb where p.folios > 0 || (p.poolPages ?? 0) > 0 {
      row("HugeTLB \(p.name)", p.folios << p.order, "\(p.folios) huge pages, \(p.optimized) with HVO" + (p.poolPages.map { "; nr_hugepages \($0)" } ?? ""))
    }
    row("RAM reading 0", c.zeroRAMPFNs, "\(Self.group(c.zeroSectionRAMPFNs)) in all-zero sections\(AnalysisOutput.zeroCauses(c)), \(Self.group(c.noFlagRAMPFNs)) allocated without flags")
    h += "</table>\n"
  }

  func hvoSection(_ h: inout String) {
    h += "<h2>HVO, modelled: the vmemmap of one 2 MiB HugeTLB page in each era</h2>\n"
    h += "<p class=\"sub\" id=\"hvo-model\">A model, not this machine's pages: a small model machine per era, one 2 MiB HugeTLB page allocated with vm.hugetlb_optimize_vmemmap=1, its vmemmap PTEs read. Each box is one 4 KiB vmemmap page (the struct pages of a run of PFNs); crossed boxes are frames given back.</p>\n"
    let pools = analysis.census.hugetlb.filter { $0.folios > 0 }
    h += "<p class=\"sub\" id=\"hvo-machine\"><b>This machine:</b> " + (pools.isEmpty
      ? "no HugeTLB pages, so HVO frees nothing here."
      : pools.map { p in "\(Self.group(p.folios)) HugeTLB page\(p.folios == 1 ? "" : "s") of \(Self.human(UInt64(analysis.pageSize) << UInt64(p.order))), \(Self.group(p.optimized)) with HVO" }.joined(separator: "; ") + ".") + "</p>\n"
    let colors: [HVOPicture.Mapping: String] = [.private: "#93c47d", .headAlias: "#f6b26b", .sharedTail: "#8e7cc3", .sharedFolio: "#76a5af"]
    let labels: [HVOPicture.Mapping: String] = [
      .private: "own frame, writable", .headAlias: "read-only alias of the head's frame (fake heads)",
      .sharedTail: "read-only shared tail frame (one per zone and order)", .sharedFolio: "read-only frame shared by the folio's tail vmemmap pages",
    ]
    let box = 46.0, gap = 6.0, left = 190.0, rowH = 66.0
    let height = Double(hvo.count) * rowH + 50
    h += "<svg id=\"hvo\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1100 \(fmt(height))\" width=\"100%\">\n"
    var y = 8.0
    for p in hvo {
      h += "<g data-era=\"\(p.era.rawValue)\" data-vmemmap-pages=\"\(p.pages.count)\" data-freed-frames=\"\(p.freedFrames)\">"
      h += "<text x=\"\(fmt(left - 10))\" y=\"\(fmt(y + 22))\" text-anchor=\"end\">\(p.era.rawValue) (\(p.structPageBytes)-byte page)</text>"
      h += "<text x=\"\(fmt(left - 10))\" y=\"\(fmt(y + 37))\" text-anchor=\"end\" class=\"note\" style=\"fill:#777\">\(p.framesBefore) vmemmap page\(p.framesBefore == 1 ? "" : "s")</text>"
      var x = left
      for (i, pg) in p.pages.enumerated() {
        let t = "vmemmap page \(i): struct pages of PFN +\(pg.pfns.lowerBound - Int(p.hugePagePFN.rawValue))..+\(pg.pfns.upperBound - 1 - Int(p.hugePagePFN.rawValue)); frame \(pg.frame.rawValue) \(pg.writable ? "writable" : "read-only"): \(labels[pg.mapping]!)"
        h += "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(box))\" height=\"\(fmt(box))\" rx=\"3\" fill=\"\(colors[pg.mapping]!)\" stroke=\"#555\" data-mapping=\"\(pg.mapping.rawValue)\"><title>\(Self.esc(t))</title></rect>"
        h += "<text x=\"\(fmt(x + box / 2))\" y=\"\(fmt(y + 20))\" text-anchor=\"middle\">\(i)</text>"
        h += "<text x=\"\(fmt(x + box / 2))\" y=\"\(fmt(y + 36))\" text-anchor=\"middle\" style=\"font-size:9px\">\(pg.writable ? "rw" : "ro")</text>"
        x += box + gap
      }
      x += 18
      let freed = max(0, p.freedFrames)
      for _ in 0..<freed {
        h += "<g><rect x=\"\(fmt(x))\" y=\"\(fmt(y + 10))\" width=\"26\" height=\"26\" fill=\"#fff\" stroke=\"#c00\" stroke-dasharray=\"3 2\"/><line x1=\"\(fmt(x + 4))\" y1=\"\(fmt(y + 14))\" x2=\"\(fmt(x + 22))\" y2=\"\(fmt(y + 32))\" stroke=\"#c00\"/><line x1=\"\(fmt(x + 22))\" y1=\"\(fmt(y + 14))\" x2=\"\(fmt(x + 4))\" y2=\"\(fmt(y + 32))\" stroke=\"#c00\"/></g>"
        x += 30
      }
      let summary = p.optimized
        ? "\(freed) frame\(freed == 1 ? "" : "s") freed (net, as vmstat counts)"
        : "not optimisable: its struct pages fit in one vmemmap page"
      h += "<text x=\"\(fmt(x + 8))\" y=\"\(fmt(y + 27))\">\(summary)</text></g>\n"
      y += rowH
    }
    let shown = [HVOPicture.Mapping.private, .headAlias, .sharedTail, .sharedFolio].filter { m in hvo.contains { $0.pages.contains { $0.mapping == m } } }
    for (i, m) in shown.enumerated() {
      let lx = left + Double(i % 2) * 400, ly = y + Double(i / 2) * 18
      h += "<rect x=\"\(fmt(lx))\" y=\"\(fmt(ly))\" width=\"12\" height=\"12\" fill=\"\(colors[m]!)\" stroke=\"#555\"/><text x=\"\(fmt(lx + 17))\" y=\"\(fmt(ly + 10))\">\(labels[m]!)</text>"
    }
    h += "</svg>\n"
  }

  func crosscheckSection(_ h: inout String) {
    let a = analysis
    h += "<h2>Cross-checks against the kernel's counters</h2>\n"
    if a.crosschecks.isEmpty {
      h += "<p class=\"sub\">None: the snapshot has no meminfo, vmstat, hugepages or buddyinfo.</p>\n"
    } else {
      // A column that would be empty on every row is left out (live runs have no "after").
      let after = a.crosschecks.contains { $0.kernelAfter != nil }
      let notes = a.crosschecks.contains { !$0.agree }
      h += "<table id=\"crosschecks\"><tr><th class=\"l\">check</th><th class=\"l\">kernel counter</th><th>census</th><th>kernel</th>" + (after ? "<th>kernel after</th>" : "") + "<th class=\"l\">status</th>" + (notes ? "<th class=\"l\">note</th>" : "") + "</tr>\n"
      for x in a.crosschecks {
        let cls = x.status == "agree" ? "ok" : x.status == "partial" ? "moved" : x.status
        h += "<tr><td class=\"l\">\(Self.esc(x.name))</td><td class=\"l\">\(Self.esc(x.source))</td><td>\(Self.group(x.census)) \(x.unit)</td><td>\(Self.group(x.kernel)) \(x.unit)</td>"
        if after { h += "<td>\(x.kernelAfter.map { Self.group($0) } ?? "")</td>" }
        h += "<td class=\"l \(cls)\">\(x.status)\(x.exact ? "" : " (not exact)")</td>" + (notes ? "<td class=\"l note\">\(x.agree ? "" : Self.esc(x.note))</td>" : "") + "</tr>\n"
      }
      h += "</table>\n"
    }
    let notes = a.notes
    if !notes.isEmpty {
      h += "<ul class=\"notes\">" + notes.map { "<li>\(Self.esc($0))</li>" }.joined() + "</ul>\n"
    }
  }
}

extension MapClass {
  /// Short key used in the HTML (CSS class `k-KEY`, data attributes).
  var key: String {
    switch self {
    case .free: "free"
    case .file: "file"
    case .anon: "anon"
    case .thp: "thp"
    case .hugetlb: "hugetlb"
    case .slab: "slab"
    case .pageTable: "pgtable"
    case .reserved: "reserved"
    case .other: "other"
    case .uninitialised: "uninit"
    case .hole: "hole"
    }
  }

  /// Legend text.
  var label: String {
    switch self {
    case .free: "free (buddy)"
    case .file: "page cache, shmem"
    case .anon: "anonymous (order 0)"
    case .thp: "anonymous large (THP, mTHP)"
    case .hugetlb: "HugeTLB"
    case .slab: "slab"
    case .pageTable: "page tables"
    case .reserved: "reserved"
    case .other: "kernel, no flags"
    case .uninitialised: "section reads 0 (not initialised)"
    case .hole: "hole (not RAM)"
    }
  }
}
