import Foundation
import MemdescTestSupport
import Testing

/// `memdesc diff A B` as a user runs it: JSON of the fixture pair, the HTML page, usage
/// and data errors.
@Suite struct DiffCLITests {
  let cli = MemdescCLI()
  static let fixtures = PackageRoot.file("Tests/SnapshotTests/Fixtures")

  @Test func jsonOfTheHVOPair() throws {
    let r = try cli.run(["diff", Self.fixtures + "/hvo-off.mdsnap", Self.fixtures + "/hvo-on.mdsnap", "--format", "json", "--eras", "classic"])
    let j = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    let vmstat = try #require(j["vmstat_memmap_pages"] as? [String: Int])
    let census = try #require(j["classic_memmap_frames"] as? [String: Int])
    #expect(vmstat["delta"] == -3584 && census["delta"] == vmstat["delta"])
    #expect(j["hugetlb_optimize_vmemmap_a"] as? Int == 0 && j["hugetlb_optimize_vmemmap_b"] as? Int == 1)
    let pools = try #require(j["pools"] as? [[String: Any]])
    #expect((pools.first { $0["name"] as? String == "2048kB" }?["hvo_optimized"] as? [String: Int])?["delta"] == 512)
  }

  @Test func htmlIsWrittenAtomicallyWithTheChangeMap() throws {
    try withScratchDirectory("diff-html") { scratch in
      let out = scratch.file("d.html")
      let r = try cli.run(["diff", Self.fixtures + "/hvo-off.mdsnap", Self.fixtures + "/hvo-off.mdsnap", "--format", "html", "-o", out, "--eras", "classic"])
      #expect(r.stdout.hasPrefix("wrote \(out): "))
      let html = try String(contentsOfFile: out, encoding: .utf8)
      #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
      #expect(html.contains("data-changed-cells=\"0\"") && !html.contains(" changed\""))
      #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["d.html"])
    }
  }

  @Test func badArgumentsAndSources() throws {
    try cli.run(["diff", Self.fixtures + "/idle"], exit: .usage, stderrLine: "Error: Missing expected argument '<b>'")
    try cli.run(["diff", "/nonexistent-a", Self.fixtures + "/idle"], exit: .failure, stderrLine: "memdesc: error: /nonexistent-a: no such file or directory")
    try cli.run(["diff", Self.fixtures + "/idle", Self.fixtures + "/idle", "--eras", "nope"], exit: .usage, stderrLine: "Error: unknown era 'nope' in --eras; expected some of: classic, mask, memdesc32, memdesc8")
  }
}
