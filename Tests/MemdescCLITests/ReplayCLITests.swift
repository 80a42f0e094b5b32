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
}
