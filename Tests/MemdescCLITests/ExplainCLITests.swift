import Foundation
import MemdescTestSupport
import Testing

@Suite struct ExplainCLITests {
  let cli = MemdescCLI()

  /// Acceptance: classic era, a fake-head PFN of an HVO'd 2 MiB page: the frame is the
  /// head's, PG_head is read there, and the corrected head is given.
  @Test func classicFakeHead() throws {
    let r = try cli.run(["explain", "0x240040", AnalyzeCLITests.fixture("hvo-hugetlb.mdsnap"), "--era", "classic"])
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
    #expect(r.stdout.contains("read-only, mapped by 7 vmemmap pages: the shared read-only tail frame of zone normal order 9"))
    #expect(r.stdout.contains("compound_info 0xffffffffffff8001: bit 0 set, a tail; mask = 0xffffffffffff8000 (GENMASK(63, order + 6): order 9)"))
    #expect(r.stdout.contains("head = page & mask = 0xffffea0009001000 & 0xffffffffffff8001 = 0xffffea0009000000 = PFN 0x240000"))
  }

  @Test func memdescErasAndErrors() throws {
    let r = try cli.run(["explain", "0x40040", "--ram", "8G", "--hugetlb", "2M"])
    #expect(r.stdout.contains("era memdesc32"))
    #expect(r.stdout.contains("memdesc word 0x"))
    #expect(r.stdout.contains("compound_head() is a BUG"))
    let nope = AnalyzeCLITests.fixture("nope")
    for (bad, exit, line) in [
      (["explain", "zz", "--ram", "8G"], CLIExit.usage, "Error: The value 'zz' is invalid for '<pfn>'"),
      (["explain", "1"], .usage, "Error: give exactly one of SOURCE, --live, --demo or --ram SIZE"),
      (["explain", "0x10", "--ram", "8G", "--era", "nope"], .usage, "Error: The value 'nope' is invalid for '--era <era>'. Please provide one of 'classic', 'mask', 'memdesc32' or 'memdesc8'."),
      (["explain", "0x900000", "--ram", "8G"], .failure, "memdesc: error: PFN 0x900000 is not RAM in the model machine (RAM: 0x0-0x1fffff)"),
      (["explain", "0x10", nope], .failure, "memdesc: error: \(nope): no such file or directory"),
    ] {
      try cli.run(bad, exit: exit, stderrLine: line)
    }
  }
}
