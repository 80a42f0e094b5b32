import Foundation
import MemdescTestSupport
import Testing

/// `memdesc replay` and `simulate --trace` on the small recording fixture, and their
/// refusals of bad input.
@Suite struct ReplayCLITests {
  let cli = MemdescCLI()
  let fixture = PackageRoot.file("Tests/SnapshotTests/Fixtures/recording/small.mdrec")

  @Test func replayInEachFormatAgrees() throws {
    let text = try cli.run(["replay", fixture, "--ram", "1G"]).stdout
    #expect(text.contains("3640 events") && text.contains("memdesc8"))
    let json = try cli.json(cli.run(["replay", fixture, "--ram", "1G", "--format", "json", "--eras", "memdesc32"]).stdout)
    let eras = try #require(json["eras"] as? [[String: Any]])
    #expect(eras.count == 1 && eras[0]["era"] as? String == "memdesc32" && eras[0]["allocations"] as? Int == 1859)
    let csv = try cli.run(["replay", fixture, "--ram", "1G", "--format", "csv", "--eras", "classic"]).stdout
    #expect(csv.split(separator: "\n").count == 2 && csv.contains("classic,3640,1859,"))
  }

  @Test func simulateReadsRecordingsAsTraces() throws {
    let r = try cli.run(["simulate", "--ram", "1G", "--trace", fixture, "--eras", "memdesc8"])
    #expect(r.stdout.hasPrefix("trace \(fixture): 1725 operations"))
  }

  @Test func badRecordingsAreOneLineAndExit1() throws {
    try withScratchDirectory("replay-bad") { dir in
      let bad = dir.file("bad.mdrec")
      try Data("not a recording".utf8).write(to: URL(fileURLWithPath: bad))
      try cli.run(["replay", bad, "--ram", "1G"], exit: .failure, stderrLine: "memdesc: error: \(bad): not a Memdesc recording (no \\x89MDREC magic)")
      try cli.run(["replay", fixture], exit: .failure, stderrLine: "memdesc: error: \(fixture): no start snapshot (recorded with --no-snapshots): give --ram")
      try cli.run(["replay", fixture, "--ram", "1G", "-o", dir.file("no/x.txt")], exit: .failure)
      try cli.run(["replay", fixture, "--ram", "x"], exit: .usage)
    }
  }

  @Test func htmlIsWrittenAtomicallyWithThreeTimeSeries() throws {
    try withScratchDirectory("replay-html") { dir in
      let out = dir.file("replay.html")
      let r = try cli.run(["replay", fixture, "--ram", "1G", "--format", "html", "-o", out])
      let html = try String(contentsOfFile: out, encoding: .utf8)
      #expect(r.stdout == "wrote \(out): \(html.utf8.count) bytes\n")
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["replay.html"], "a temporary was left")
      #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n") && !html.contains("<script"))
      for id in ["descriptor-memory", "descriptor-slab-pages", "descriptor-rates"] { #expect(html.contains("<svg id=\"\(id)\""), "\(id)") }
      for title in ["descriptor memory (MiB)", "descriptor-slab pages (4 KiB)", "descriptors per second", "time since the first event (s)"] {
        #expect(html.contains(">\(title)</text>"), "axis title \(title)")
      }
      // Each era in the table; memdesc32 and memdesc8 allocate the same descriptors, so
      // their lines are drawn once under both names, as are classic's and mask's zeros.
      for era in ["classic", "mask", "memdesc32", "memdesc8"] { #expect(html.contains("<tr data-era=\"\(era)\">"), "\(era)") }
      #expect(html.contains("data-series=\"memdesc32 = memdesc8\"") && html.contains("data-series=\"memdesc32 = memdesc8 allocs\""))
      #expect(html.contains("data-series=\"classic = mask\""))
      // A directory that is not there: one line, exit 1, nothing written.
      try cli.run(["replay", fixture, "--ram", "1G", "--format", "html", "-o", dir.file("no/r.html")], exit: .failure)
      try cli.run(["replay", fixture, "--ram", "1G", "--format", "pdf"], exit: .usage)
    }
  }
}
