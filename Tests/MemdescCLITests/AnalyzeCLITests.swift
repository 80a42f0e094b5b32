import Foundation
import MemdescTestSupport
import Testing

/// `memdesc analyze` and plain `memdesc` through the built binary.
@Suite struct AnalyzeCLITests {
  let cli = MemdescCLI()

  static func fixture(_ name: String) -> String { SnapshotCLITests.fixture(name) }

  /// Acceptance: the JSON keys, and the thp-anon figures.
  @Test func thpAnonJSON() throws {
    let r = try cli.run(["analyze", Self.fixture("thp-anon"), "--format", "json"])
    let j = try cli.json(r.stdout)
    for key in ["source", "kernel_release", "census", "eras", "crosschecks"] { #expect(j[key] != nil, "\(key)") }
    #expect(j["kernel_release"] as? String == "6.18.44-fc-v595")
    let c = try #require(j["census"] as? [String: Any])
    for key in ["pfns", "ram_pfns", "buddy_pages", "slab_pages", "pgtable_pages", "hugetlb_pages", "hvo_fake_heads_corrected", "folios"] {
      #expect(c[key] != nil, "census.\(key)")
    }
    #expect(c["pfns"] as? Int == 6_553_600 && c["ram_pfns"] as? Int == 6_291_358)
    let folios = try #require(c["folios"] as? [String: [String: Int]])
    #expect(folios["anon_thp"] == ["9": 1024] && folios["anon_mthp"] == ["4": 4096] && folios["shmem"]?["9"] == 128)
    #expect(c["hugetlb_pages"] as? [String: Int] == ["2048kB": 0, "1048576kB": 0])
    let eras = try #require(j["eras"] as? [[String: Any]])
    #expect(eras.map { $0["era"] as? String } == ["classic", "mask", "memdesc32", "memdesc8"])
    #expect(eras[0]["memmap_bytes"] as? Int == 98_304 * 4096)
    let checks = try #require(j["crosschecks"] as? [[String: Any]])
    for name in ["Hugetlb", "AnonHugePages", "ShmemHugePages", "Shmem", "memmap"] {
      #expect(checks.first { $0["name"] as? String == name }?["agree"] as? Bool == true, "\(name)")
    }
  }

  /// Acceptance: the HVO capture reports the pools' counts, and says it corrected fake heads.
  @Test func hvoSnapshotText() throws {
    let r = try cli.run(["analyze", Self.fixture("hvo-hugetlb.mdsnap"), "--eras", "classic,memdesc8"])
    #expect(r.stdout.contains("hugetlb 2048kB     100 huge pages (100 with HVO); pool nr_hugepages 100"), "\(r.stdout)")
    #expect(r.stdout.contains("8,890 fake (HVO) corrected"))
    #expect(r.stdout.contains("HVO fake heads corrected"))
    #expect(r.stdout.contains("memdesc8") && !r.stdout.contains("memdesc32"))
    let j = try cli.json(try cli.run(["analyze", Self.fixture("hvo-hugetlb.mdsnap"), "--format", "json"]).stdout)
    let c = try #require(j["census"] as? [String: Any])
    #expect(c["hugetlb_pages"] as? [String: Int] == ["1048576kB": 2, "2048kB": 100])
    #expect(c["hvo_fake_heads_corrected"] as? Int == 8890)
  }

  @Test func demoAndCSV() throws {
    let d = try cli.run(["analyze", "--demo"])
    #expect(d.stdout.hasPrefix("memdesc analyze --demo: a built-in demonstration, not a reading of this host"))
    #expect(d.stdout.contains("memmap                 census 8,024 pages, kernel 8,024 pages: agree"), "\(d.stdout)")
    let csv = try cli.run(["analyze", "--demo", "--format", "csv", "--eras", "mask"])
    #expect(csv.stdout.hasPrefix("section,name,value\ncensus,pfns,524288\n"))
    #expect(csv.stdout.contains("hugetlb_pages,2048kB,32"))
  }

  /// Plain `memdesc` analyses this machine when /proc/kpageflags is readable, the demo
  /// otherwise, and says which.
  @Test func plainMemdescSaysWhich() throws {
    let r = try cli.run([])
    let readable = FileHandle(forReadingAtPath: "/proc/kpageflags").map { h in defer { try? h.close() }; return (try? h.read(upToCount: 8))?.count == 8 } ?? false
    if readable {
      #expect(r.stdout.hasPrefix("memdesc: /proc/kpageflags is readable: analysing this machine (memdesc analyze --live)"))
      #expect(r.stdout.contains("source          live"))
    } else {
      #expect(r.stdout.hasPrefix("memdesc: /proc/kpageflags is not readable"))
    }
  }

  @Test(arguments: [
    (["analyze", "/nonexistent/snap"], CLIExit.failure, "memdesc: error: /nonexistent/snap: no such file or directory"),
    (["analyze", "--demo", "--eras", "classic,tomorrow"], .usage, "Error: unknown era 'tomorrow' in --eras; expected some of: classic, mask, memdesc32, memdesc8"),
    (["analyze"], .usage, "Error: give a SOURCE (snapshot file, raw directory or kpageflags dump), --live or --demo"),
    (["analyze", "--demo", "/tmp"], .usage, "Error: --demo analyses the built-in demonstration; give no SOURCE or --live with it"),
  ])
  func badInput(args: [String], exit: CLIExit, line: String) throws {
    try cli.run(args, exit: exit, stderrLine: line)
  }

  @Test func badTextFileNamesIt() throws {
    let scratch = try ScratchDirectory("cli-analyze")
    defer { scratch.remove() }
    let dir = scratch.path
    let flags = Data(repeating: 0, count: 8 * 4096)
    try flags.write(to: URL(fileURLWithPath: dir + "/kpageflags"))
    try "Node 0, zone DMA one two\n".write(toFile: dir + "/buddyinfo", atomically: true, encoding: .utf8)
    try cli.run(["analyze", dir], exit: .failure, stderrLine: "memdesc: error: \(dir)/buddyinfo: line 1 'Node 0, zone DMA one two': 'one' is not a count (unsigned decimal)")
    try FileManager.default.removeItem(atPath: dir + "/buddyinfo")
    // All zero and no iomem: no RAM to model.
    try cli.run(["analyze", dir], exit: .failure, stderrLine: "memdesc: error: \(dir)/kpageflags: cannot model this machine's RAM: the layout has no RAM (kpageflags reads all zero and there is no iomem?)")
  }
}
