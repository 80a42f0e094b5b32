import Foundation
import Testing

/// Headless Chromium, found on PATH or installed from Debian's archive (as root).
enum Chromium {
  static let path: String? = {
    func find() -> String? {
      for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        for name in ["chromium", "chromium-browser"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { return "\(dir)/\(name)" }
      }
      return nil
    }
    if let p = find() { return p }
    guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get") else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1"]
    try? p.run()
    p.waitUntilExit()
    return find()
  }()

  /// Loads a file and returns the DOM and stderr (console messages appear there).
  static func dumpDOM(_ file: String) throws -> (dom: String, stderr: String, seconds: Double) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path!)
    p.arguments = ["--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr", "--v=0", "--dump-dom", "file://" + file]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let start = Date()
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self), Date().timeIntervalSince(start))
  }
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
  let cli = CLITests()

  func tempDir() throws -> String {
    let d = NSTemporaryDirectory() + "memdesc-report-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
  }

  /// Acceptance: each fixture's report renders in headless Chromium with no console
  /// message, its map has one cell per 2 MiB of the snapshot, and the era bars carry
  /// `analyze --format json`'s numbers.
  @Test(.enabled(if: Chromium.path != nil, "Chromium is not on PATH and could not be installed with apt-get (needs root and Debian's archive)"),
        arguments: ["idle", "thp-anon", "hvo-hugetlb.mdsnap"])
  func fixtureReportRendersInChromium(fixture: String) throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let html = dir + "/report.html"
    let r = try cli.run(["report", AnalyzeCLITests.fixture(fixture), "-o", html])
    #expect(r.status == 0, "\(r.stderr)")
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
      for (key, attr) in [("memmap_bytes", "data-memmap-bytes"), ("descriptor_bytes", "data-descriptor-bytes"), ("hvo_saved_bytes", "data-hvo-saved-bytes"), ("total_overhead_bytes", "data-total-bytes")] {
        let bars = zip(attributes("data-era", in: dom), attributes(attr, in: dom)).filter { $0.0 == name }.map(\.1)
        #expect(bars.first == (e[key] as? Int).map(String.init), "\(fixture) \(name) \(key)")
      }
    }
    if let vm = j["vmstat_memmap_bytes"] as? Int { #expect(attributes("data-vmstat-memmap-bytes", in: dom).first == String(vm)) }
  }

  /// The map's classes on the HVO capture: HugeTLB cells exist, and a fake-head-free count.
  @Test func hvoReportHasHugetlbCells() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try cli.run(["report", AnalyzeCLITests.fixture("hvo-hugetlb.mdsnap"), "-o", dir + "/r.html"])
    #expect(r.status == 0)
    let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
    #expect(html.contains("class=\"k-hugetlb\""))
    #expect(!html.contains("<script"))
    #expect(!html.contains("http://") || !html.contains("src=\"http"))
    // 100 x 2 MiB + 2 x 1 GiB HugeTLB pages: 200 MiB + 2 GiB = 51,200 + 524,288 pages.
    let legend = zip(attributes("data-class", in: html), attributes("data-pages", in: html)).first { $0.0 == "hugetlb" }
    #expect(legend?.1 == String(51_200 + 524_288))
  }

  @Test func demoReport() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try cli.run(["report", "--demo", "-o", dir + "/d.html"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try String(contentsOfFile: dir + "/d.html", encoding: .utf8).contains("built-in demonstration"))
  }

  /// Bad input as for analyze; an output path in a missing directory or under a file or
  /// a read-only place: one clear line, exit 1, nothing written.
  @Test func badInputAndOutput() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let missing = try cli.run(["report", dir + "/nope", "-o", dir + "/x.html"])
    #expect(missing.status != 0)
    #expect(missing.stderr.contains("no such file or directory"))
    FileManager.default.createFile(atPath: dir + "/empty", contents: Data())
    let empty = try cli.run(["report", dir + "/empty", "-o", dir + "/x.html"])
    #expect(empty.status != 0 && empty.stderr.contains(dir + "/empty"))
    let fixture = AnalyzeCLITests.fixture("idle")
    let noDir = try cli.run(["report", fixture, "-o", dir + "/missing/x.html"])
    #expect(noDir.status != 0)
    #expect(noDir.stderr.contains("directory '\(dir)/missing' does not exist"), "\(noDir.stderr)")
    FileManager.default.createFile(atPath: dir + "/file", contents: Data("x".utf8))
    let fileAsDir = try cli.run(["report", fixture, "-o", dir + "/file/x.html"])
    #expect(fileAsDir.status != 0)
    #expect(fileAsDir.stderr.contains("is not a directory"), "\(fileAsDir.stderr)")
    let readOnly = try cli.run(["report", fixture, "-o", "/proc/memdesc-report.html"])
    #expect(readOnly.status != 0)
    #expect(readOnly.stderr.contains("cannot write the report"), "\(readOnly.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "/proc/memdesc-report.html"))
    // Nothing half-written: the directory holds only the two inputs.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["empty", "file"])
    let stdin = try cli.run(["report", fixture, "--live", "-o", dir + "/x.html"])
    #expect(stdin.status != 0)
  }
}

@Suite struct ExplainCLITests {
  let cli = CLITests()

  /// Acceptance: classic era, a fake-head PFN of an HVO'd 2 MiB page: the frame is the
  /// head's, PG_head is read there, and the corrected head is given.
  @Test func classicFakeHead() throws {
    let r = try cli.run(["explain", "0x240040", AnalyzeCLITests.fixture("hvo-hugetlb.mdsnap"), "--era", "classic"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("a 2 MiB HugeTLB page at PFN 0x240000 (offset 64), HVO-optimised"))
    #expect(r.stdout.contains("reproduced: a 2 MiB HugeTLB page with HVO at PFN 0x240000"))
    #expect(r.stdout.contains("read-only, mapped by 8 vmemmap pages: the head's frame"))
    #expect(r.stdout.contains("flags 0x10000000000040: PG_head"))
    #expect(r.stdout.contains("a fake head"))
    #expect(r.stdout.contains("so the real head is 0xffffea0009000000 = PFN 0x240000 (the corrected head)"))
    #expect(r.stdout.contains("head:  0x240000"))
  }

  /// Acceptance: mask era, the same PFN: the shared read-only tail frame and the mask decode.
  @Test func maskSharedTail() throws {
    let r = try cli.run(["explain", "0x240040", "--ram", "12G", "--hugetlb", "2M", "--era", "mask"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("read-only, mapped by 7 vmemmap pages: the shared read-only tail frame of zone normal order 9"))
    #expect(r.stdout.contains("compound_info 0xffffffffffff8001: bit 0 set, a tail; mask = 0xffffffffffff8000 (GENMASK(63, order + 6): order 9)"))
    #expect(r.stdout.contains("head = page & mask = 0xffffea0009001000 & 0xffffffffffff8001 = 0xffffea0009000000 = PFN 0x240000"))
  }

  @Test func memdescErasAndErrors() throws {
    let r = try cli.run(["explain", "0x40040", "--ram", "8G", "--hugetlb", "2M"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("era memdesc32"))
    #expect(r.stdout.contains("memdesc word 0x"))
    #expect(r.stdout.contains("compound_head() is a BUG"))
    for bad in [["explain", "zz", "--ram", "8G"], ["explain", "1"], ["explain", "0x10", "--ram", "8G", "--era", "nope"],
                ["explain", "0x900000", "--ram", "8G"], ["explain", "0x10", AnalyzeCLITests.fixture("nope")]] {
      let e = try cli.run(bad)
      #expect(e.status != 0, "\(bad)")
      #expect(!e.stderr.isEmpty)
    }
  }
}
