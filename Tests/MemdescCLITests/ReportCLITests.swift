import Foundation
import MemdescTestSupport
import Testing

/// Headless Chromium, found on PATH. Tests never install it: `.ci/run` does.
enum Chromium {
  static let path: String? = {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
      for name in ["chromium", "chromium-browser"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { return "\(dir)/\(name)" }
    }
    return nil
  }()

  /// Loads a file and returns the DOM and stderr (console messages appear there).
  static func dumpDOM(_ file: String) throws -> (dom: String, stderr: String, seconds: Double) {
    let r = try runProcess(URL(fileURLWithPath: path!), ["--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr", "--v=0", "--dump-dom", "file://" + file])
    return (r.stdout, r.stderr, r.seconds)
  }
}

/// References in an HTML page that would make a browser load something from outside it:
/// every `src`, `srcset`, `href`, `xlink:href`, `data` or `poster` attribute and every CSS
/// `url(...)` or `@import` whose target is not a `#fragment` of the page or a `data:` URI.
/// (Namespace URIs such as SVG's `xmlns="http://www.w3.org/2000/svg"` load nothing.)
func externalReferences(in html: String) -> [String] {
  let inPage = { (v: String) in v.hasPrefix("#") || v.hasPrefix("data:") }
  var refs = ["src", "srcset", "href", "xlink:href", "data", "poster"].flatMap { attributes($0, in: html) }
  var rest = html[...]
  while let r = rest.range(of: "url(") {
    let after = rest[r.upperBound...]
    let end = after.firstIndex(of: ")") ?? after.endIndex
    refs.append(after[..<end].trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")))
    rest = after[end...]
  }
  if html.contains("@import") { refs.append("@import") }
  return refs.filter { !inPage($0) }
}

/// Values of `name="..."` attributes in a DOM, in order.
func attributes(_ name: String, in text: String) -> [String] {
  var out: [String] = []
  var rest = text[...]
  let key = " \(name)=\""
  while let r = rest.range(of: key) {
    let after = rest[r.upperBound...]
    guard let end = after.firstIndex(of: "\"") else { break }
    out.append(String(after[..<end]))
    rest = after[end...]
  }
  return out
}

@Suite struct ReportCLITests {
  let cli = MemdescCLI()

  /// Acceptance: each fixture's report renders in headless Chromium with no console
  /// message, its map has one cell per 2 MiB of the snapshot, and the era bars carry
  /// `analyze --format json`'s numbers.
  @Test(.enabled(if: Chromium.path != nil, "skipped: Chromium is not on PATH (.ci/run installs it)"),
        arguments: ["idle", "thp-anon", "hvo-hugetlb.mdsnap"])
  func fixtureReportRendersInChromium(fixture: String) throws {
    let scratch = try ScratchDirectory("cli-report")
    defer { scratch.remove() }
    let dir = scratch.path
    let html = dir + "/report.html"
    try cli.run(["report", AnalyzeCLITests.fixture(fixture), "-o", html])
    let (dom, stderr, _) = try Chromium.dumpDOM(html)
    let console = stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }
    #expect(console.isEmpty, "console messages: \(console)")
    #expect(dom.contains("id=\"map\""))
    // One cell per 2 MiB: the fixtures have 6,553,600 PFNs = 12,800 cells, all drawn.
    let cells = try #require(attributes("data-cells", in: dom).first.flatMap { Int($0) })
    #expect(cells == 6_553_600 / 512)
    #expect(attributes("data-block-cells", in: dom).first == "1")
    let drawn = attributes("data-n", in: dom).compactMap { Int($0) }.reduce(0, +)
    #expect(drawn == cells)
    // Era bars against analyze --format json.
    let j = try cli.json(try cli.run(["analyze", AnalyzeCLITests.fixture(fixture), "--format", "json"]).stdout)
    let eras = try #require(j["eras"] as? [[String: Any]])
    let names = attributes("data-era", in: dom)
    for e in eras {
      let name = try #require(e["era"] as? String)
      #expect(names.contains(name))
      for (key, attr) in [("memmap_bytes", "data-memmap-bytes"), ("descriptor_bytes", "data-descriptor-bytes"), ("hvo_saved_bytes", "data-hvo-saved-bytes"), ("hvo_pte_table_bytes", "data-hvo-pte-table-bytes"), ("page_ext_bytes", "data-page-ext-bytes"), ("total_overhead_bytes", "data-total-bytes")] {
        let bars = zip(attributes("data-era", in: dom), attributes(attr, in: dom)).filter { $0.0 == name }.map(\.1)
        #expect(bars.first == (e[key] as? Int).map(String.init), "\(fixture) \(name) \(key)")
      }
    }
    if let vm = j["vmstat_memmap_bytes"] as? Int { #expect(attributes("data-vmstat-memmap-bytes", in: dom).first == String(vm)) }
  }

  /// `report --page-ext` projects the page_ext tables as `analyze --page-ext` does and
  /// draws them after each era's bar; the HVO capture's bars carry HVO's PTE tables.
  @Test func pageExtAndPTETablesInTheEraBars() throws {
    let scratch = try ScratchDirectory("cli-report-page-ext")
    defer { scratch.remove() }
    let fixture = AnalyzeCLITests.fixture("hvo-hugetlb.mdsnap"), out = scratch.path + "/r.html"
    try cli.run(["report", fixture, "--page-ext", "owner", "-o", out])
    let html = try String(contentsOfFile: out, encoding: .utf8)
    let j = try cli.json(try cli.run(["analyze", fixture, "--page-ext", "owner", "--format", "json"]).stdout)
    let eras = try #require(j["eras"] as? [[String: Any]])
    // 576 frames for each of the 192 present sections, in every era.
    #expect(eras.allSatisfy { $0["page_ext_bytes"] as? Int == 576 * 192 * 4096 })
    let bars = zip(attributes("data-era", in: html), zip(attributes("data-page-ext-bytes", in: html), attributes("data-hvo-pte-table-bytes", in: html)))
    for e in eras {
      let bar = try #require(bars.first { $0.0 == e["era"] as? String }?.1)
      #expect(bar.0 == (e["page_ext_bytes"] as? Int).map(String.init) && bar.1 == (e["hvo_pte_table_bytes"] as? Int).map(String.init), "\(e)")
    }
    #expect(html.contains("page_ext tables (not in the totals)") && html.contains("vmemmap PTE tables of HVO's PMD splits"))
    try cli.run(["report", fixture, "-o", scratch.path + "/p.html"])
    #expect(!(try String(contentsOfFile: scratch.path + "/p.html", encoding: .utf8)).contains("page_ext tables (not in the totals)"))
    let bad = try cli.run(["report", fixture, "--page-ext", "idle", "-o", scratch.path + "/x.html"], exit: .usage)
    #expect(bad.stderr.contains("idle"), "\(bad.stderr)")
  }

  /// The map's classes on the HVO capture: HugeTLB cells exist, and a fake-head-free count.
  @Test func hvoReportHasHugetlbCells() throws {
    let scratch = try ScratchDirectory("cli-report")
    defer { scratch.remove() }
    let dir = scratch.path
    try cli.run(["report", AnalyzeCLITests.fixture("hvo-hugetlb.mdsnap"), "-o", dir + "/r.html"])
    let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
    #expect(html.contains("class=\"k-hugetlb\""))
    #expect(!html.contains("<script"))
    #expect(externalReferences(in: html).isEmpty, "the report loads \(externalReferences(in: html))")
    // 100 x 2 MiB + 2 x 1 GiB HugeTLB pages: 200 MiB + 2 GiB = 51,200 + 524,288 pages.
    let legend = zip(attributes("data-class", in: html), attributes("data-pages", in: html)).first { $0.0 == "hugetlb" }
    #expect(legend?.1 == String(51_200 + 524_288))
  }

  @Test func demoReport() throws {
    let scratch = try ScratchDirectory("cli-report")
    defer { scratch.remove() }
    let dir = scratch.path
    try cli.run(["report", "--demo", "-o", dir + "/d.html"])
    #expect(try String(contentsOfFile: dir + "/d.html", encoding: .utf8).contains("built-in demonstration"))
  }

  /// Bad input as for analyze; an output path in a missing directory or under a file or
  /// a read-only place: one clear line, exit 1, nothing written.
  @Test func badInputAndOutput() throws {
    let scratch = try ScratchDirectory("cli-report")
    defer { scratch.remove() }
    let dir = scratch.path
    try cli.run(["report", dir + "/nope", "-o", dir + "/x.html"], exit: .failure, stderrLine: "memdesc: error: \(dir)/nope: no such file or directory")
    FileManager.default.createFile(atPath: dir + "/empty", contents: Data())
    try cli.run(["report", dir + "/empty", "-o", dir + "/x.html"], exit: .failure, stderrLine: "memdesc: error: \(dir)/empty: empty file: a kpageflags dump holds one 8-byte word per PFN")
    let fixture = AnalyzeCLITests.fixture("idle")
    try cli.run(["report", fixture, "-o", dir + "/missing/x.html"], exit: .failure, stderrLine: "memdesc: error: \(dir)/missing/x.html: cannot write the report: directory '\(dir)/missing' does not exist (no such file or directory)")
    FileManager.default.createFile(atPath: dir + "/file", contents: Data("x".utf8))
    try cli.run(["report", fixture, "-o", dir + "/file/x.html"], exit: .failure, stderrLine: "memdesc: error: \(dir)/file/x.html: cannot write the report: '\(dir)/file' is not a directory")
    try cli.run(["report", fixture, "-o", "/proc/memdesc-report.html"], exit: .failure, stderrLine: "memdesc: error: /proc/memdesc-report.html: cannot write the report: no such file or directory")
    #expect(!FileManager.default.fileExists(atPath: "/proc/memdesc-report.html"))
    // Nothing half-written: the directory holds only the two inputs.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["empty", "file"])
    try cli.run(["report", fixture, "--live", "-o", dir + "/x.html"], exit: .usage, stderrLine: "Error: give either a SOURCE or --live, not both")
  }
}
