import Foundation
import MemdescTestSupport
import Testing

/// `--kernel`: every command that reads a snapshot decodes it as the given kernel; a bad
/// value is a usage error naming it.
@Suite struct KernelDecodeCLITests {
  let cli = MemdescCLI()
  static let hvo = PackageRoot.file("Tests/SnapshotTests/Fixtures/hvo-hugetlb.mdsnap")
  static let other = PackageRoot.file("Tests/SnapshotTests/Fixtures/hvo-off.mdsnap")

  @Test func aBadKernelIsAUsageErrorOnEveryCommand() throws {
    try withScratchDirectory("cli-kernel") { dir in
      let commands: [[String]] = [
        ["analyze", Self.hvo], ["report", Self.hvo, "-o", dir.file("r.html")], ["explain", "0x10", Self.hvo],
        ["snapshot", "info", Self.hvo], ["snapshot", "summary", Self.hvo], ["snapshot", "capture", "--from", Self.hvo, "-o", dir.file("c.mdsnap")],
        ["diff", Self.other, Self.hvo],
      ]
      for args in commands {
        for bad in ["banana", "6", "-7.1", ""] {
          let r = try cli.run(args + ["--kernel", bad], exit: .usage)
          #expect(r.stderrLines.first == "Error: cannot read --kernel '\(bad)': expected a kernel version MAJOR.MINOR[.PATCH][-LOCAL] such as 6.16, 7.1 or 6.18.44-fc-v595", "\(args): \(r.stderr)")
        }
        try cli.run(args + ["--kernel", "7.1"])
      }
    }
  }

  /// The release decides (the fixture's 6.18 vendor kernel: fake heads corrected, deferred
  /// init); `--kernel` overrides it.
  @Test func theDecodeIsShownAndOverridden() throws {
    let text = try cli.run(["analyze", Self.hvo, "--eras", "classic"]).stdout
    #expect(text.contains("decoded as      6.18-fc-v595 (HVO fake heads shown, corrected; a PFN without a struct page reads 0; KPF_THP any large rmappable folio; struct-page init deferred past boot)"), "\(text)")
    #expect(text.contains(" all-zero sections (") && text.contains(" deferred init), "), "\(text)")
    #expect(text.contains("8,890 fake (HVO) corrected"), "\(text)")
    let j = try cli.json(try cli.run(["analyze", Self.hvo, "--format", "json", "--kernel", "7.1"]).stdout)
    let census = try #require(j["census"] as? [String: Any])
    let kernel = try #require(census["kernel"] as? [String: Any])
    #expect(kernel["version"] as? String == "7.1" && kernel["fake_heads"] as? Bool == false && kernel["deferred_init"] as? Bool == false)
    #expect(census["hvo_fake_heads_corrected"] as? Int == 0)
    let causes = try #require(census["zero_section_causes"] as? [String: Any])
    #expect(Array(causes.keys) == ["unknown"], "\(causes)")
    let mainline = try cli.run(["analyze", Self.hvo, "--eras", "classic", "--kernel", "6.18"]).stdout
    #expect(mainline.contains("reads zero, cause unknown)"), "\(mainline)")
  }

  /// The metrics, the fleet row and `diff` give each cause of all-zero RAM sections its
  /// own class: the vendor 6.18 capture's 61 sections are deferred init, the same words
  /// read as mainline 6.18 (or the derived 7.1 capture) are of unknown cause.
  @Test func zeroSectionCausesInMetricsRowsAndDiff() throws {
    let zero = 1_998_848
    for (kernel, cause) in [(nil, "deferred_init"), ("6.18", "zero_unknown")] {
      let k = kernel.map { ["--kernel", $0] } ?? []
      let metrics = try cli.run(["analyze", Self.hvo, "--format", "openmetrics"] + k).stdout
      let row = try cli.json(try cli.run(["analyze", Self.hvo, "--format", "jsonl"] + k).stdout)
      for c in ["zero_offline", "deferred_init", "zero_unknown"] {
        let n = c == cause ? zero : 0
        #expect(metrics.contains("memdesc_pages{class=\"\(c)\"} \(n)\n"), "\(kernel ?? "release"): \(c)")
        #expect(row["\(c)_pages"] as? Int == n, "\(kernel ?? "release"): \(c)_pages \(String(describing: row["\(c)_pages"]))")
      }
    }
    let seven = PackageRoot.file("Tests/SnapshotTests/Fixtures/hvo-7.1.mdsnap")
    let diff = try cli.json(try cli.run(["diff", Self.hvo, seven, "--format", "json"]).stdout)
    let classes = try #require(diff["classes"] as? [String: [String: Int]])
    #expect(classes["deferred_init"] == ["a": zero, "b": 0, "delta": -zero], "\(classes)")
    #expect(classes["zero_unknown"] == ["a": 0, "b": zero, "delta": zero], "\(classes)")
    #expect(classes["zero_offline"] == ["a": 0, "b": 0, "delta": 0], "\(classes)")
    let text = try cli.run(["diff", Self.hvo, seven]).stdout
    #expect(text.contains("zero_unknown") && text.contains("deferred_init"), "\(text)")
  }

  /// Acceptance through the CLI: the derived 7.1 fixture gives the pools exactly, 0 fake
  /// heads corrected, and its report shows the decode and the zero sections' cause.
  @Test func theSevenOneFixtureInTextAndReport() throws {
    let seven = PackageRoot.file("Tests/SnapshotTests/Fixtures/hvo-7.1.mdsnap")
    let text = try cli.run(["analyze", seven, "--eras", "classic"]).stdout
    for fragment in [
      "decoded as      7.1-derived (HVO fake heads not shown;", "hugetlb 2048kB     100 huge pages (100 with HVO); pool nr_hugepages 100",
      "hugetlb 1048576kB  2 huge pages (2 with HVO); pool nr_hugepages 2", "hugetlb heads 102 COMPOUND_HEAD PFNs, 0 fake (HVO) corrected",
      "memmap                 census 89,414 pages, kernel 89,414 pages: agree", "(61 reads zero, cause unknown)",
    ] {
      #expect(text.contains(fragment), "\(fragment)")
    }
    try withScratchDirectory("cli-kernel-report") { dir in
      try cli.run(["report", seven, "-o", dir.file("r.html")])
      let html = try String(contentsOfFile: dir.file("r.html"), encoding: .utf8)
      #expect(html.contains("<b>decoded as</b> 7.1-derived (HVO fake heads not shown;") && html.contains("all-zero sections (61 reads zero, cause unknown)"))
    }
  }
}
