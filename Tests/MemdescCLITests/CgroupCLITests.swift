import Foundation
import MemdescTestSupport
import Testing

/// `analyze --by cgroup` on the fixtures: JSON rows, the bounded OpenMetrics label set,
/// CSV, and errors.
@Suite struct CgroupCLITests {
  let cli = MemdescCLI()
  static let fixtures = PackageRoot.file("Tests/SnapshotTests/Fixtures")

  @Test func jsonRowsAndTheOtherRow() throws {
    let r = try cli.run(["analyze", Self.fixtures + "/thp-anon", "--by", "cgroup", "--top", "2", "--format", "json", "--eras", "classic,memdesc32"])
    let j = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(j["cgroup_map"] as? Bool == false && j["top"] as? Int == 2)
    let rows = try #require(j["cgroups"] as? [[String: Any]])
    #expect(rows.count == 2)
    // A raw directory has no map: rows are named by inode, most pages first.
    #expect(rows.allSatisfy { ($0["path"] as? String) == "inode \($0["inode"] as! Int)" })
    #expect((rows[0]["pages"] as! Int) >= (rows[1]["pages"] as! Int))
    // The fixture's 1024 anonymous THPs (2 MiB each) are in its biggest cgroup.
    #expect((rows[0]["anon_pages"] as! Int) >= 1024 * 512)
    let other = try #require(j["other"] as? [String: Any])
    #expect(other["path"] as? String == "other" && (other["cgroups"] as? Int ?? 0) == (j["charged_cgroups"] as! Int) - 2)
    #expect((rows[0]["eras"] as? [[String: Any]])?.map { $0["era"] as? String } == ["classic", "memdesc32"])
  }

  @Test func openMetricsLabelsAreBounded() throws {
    let r = try cli.run(["analyze", Self.fixtures + "/idle", "--by", "cgroup", "--top", "3", "--format", "openmetrics"])
    let labels = Set(r.stdout.split(separator: "\n").filter { $0.hasPrefix("memdesc_cgroup_count{") }.map { String($0) })
    #expect(labels.count == 5, "\(labels)")  // 3 cgroups, other, (none)
    #expect(r.stdout.contains("memdesc_cgroup_count{cgroup=\"other\"} 4"))
    #expect(r.stdout.contains("memdesc_cgroup_pages{cgroup=\"inode 6115\",class=\"anon\"} 34874"))
    #expect(r.stdout.hasSuffix("# EOF\n") && r.stdout.contains("memdesc_build_info"))
  }

  @Test func csvAndErrors() throws {
    let r = try cli.run(["analyze", Self.fixtures + "/idle", "--by", "cgroup", "--top", "1", "--format", "csv", "--eras", "memdesc8"])
    #expect(r.stdout.hasPrefix("cgroup,inode,key,value\ninode 6115,6115,pages,370521\n"))
    #expect(r.stdout.contains("other,,cgroups,6\n"))
    try cli.run(["analyze", Self.fixtures + "/idle", "--by", "cgroup", "--top", "0"], exit: .usage, stderrLine: "Error: --top 0 is not a count from 1 to 10000")
    try cli.run(["analyze", Self.fixtures + "/idle", "--by", "memory"], exit: .usage)
    try cli.run(["analyze", Self.fixtures + "/fuzz/kpageflags-32k.gz", "--by", "cgroup"], exit: .failure,
                stderrLine: "memdesc: error: kpageflags dump \(Self.fixtures)/fuzz/kpageflags-32k.gz: has no kpagecgroup: memory by cgroup needs /proc/kpagecgroup (a capture of a kernel with CONFIG_MEMCG)")
  }

  @Test func reportSectionByCgroupAndMapcounts() throws {
    try withScratchDirectory("cgroup-report") { scratch in
      let out = scratch.file("r.html")
      try cli.run(["report", Self.fixtures + "/idle", "--by-cgroup", "-o", out, "--eras", "classic,memdesc8"])
      let html = try String(contentsOfFile: out, encoding: .utf8)
      #expect(html.contains("<svg id=\"cgroups\""))
      #expect(html.contains("data-cgroup=\"inode 6115\" data-pages=\"370521\""))
      #expect(html.contains("data-cgroup=\"(none)\""))
      #expect(html.contains("<table id=\"mapcounts\">"))
    }
  }
}
