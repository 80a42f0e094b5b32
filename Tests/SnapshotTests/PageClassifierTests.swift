import Foundation
import PageModel
import Render
import Snapshot
import Testing

/// The one kpageflags classifier: its precedence rules, the map's classes derived from
/// it, the extent of folios and HugeTLB pages, and the RAM read without a census.
@Suite struct PageClassifierTests {
  static let head = KPF.compoundHead.mask, tail = KPF.compoundTail.mask

  @Test(arguments: [
    (UInt64(0), PageClass.zero),
    (KPF.huge.mask | KPF.buddy.mask, .hugetlb),
    (KPF.buddy.mask, .free),
    (KPF.slab.mask | KPF.anon.mask | KPF.ksm.mask, .slab),
    (KPF.pgtable.mask, .pageTable),
    (KPF.zeroPage.mask | KPF.reserved.mask, .zeroPage),
    (KPF.offline.mask, .offline),
    (KPF.reserved.mask | KPF.anon.mask, .reserved),
    (KPF.anon.mask | KPF.swapbacked.mask | KPF.lru.mask, .anon),
    (KPF.swapbacked.mask | KPF.lru.mask, .shmem),
    (KPF.uptodate.mask, .file),
    (KPF.thp.mask | head, .file),
    (KPF.referenced.mask, .other),
  ])
  func precedence(word: UInt64, expected: PageClass) {
    #expect(PageClassifier.classify(word) == expected)
  }

  @Test func mapClassesFollowTheClassifier() {
    #expect(MapClass.of(KPF.anon.mask | Self.head) == .thp)
    #expect(MapClass.of(KPF.anon.mask | Self.tail) == .thp)
    #expect(MapClass.of(KPF.anon.mask) == .anon)
    #expect(MapClass.of(KPF.swapbacked.mask) == .file)
    #expect(MapClass.of(KPF.zeroPage.mask) == .other)
    #expect(MapClass.of(0) == .hole)
    #expect(MapClass.of(KPF.huge.mask | Self.tail) == .hugetlb)
  }

  static func snapshot(_ words: [UInt64], texts: [String: String] = [:]) throws -> PageSnapshot {
    try PageSnapshot(origin: .kpageflagsDump("<synthetic>"), kpageflags: KPageArray(file: .kpageflags, words: words), texts: texts, metadata: SnapshotMetadata())
  }

  @Test func folioExtent() throws {
    var words = [UInt64](repeating: KPF.buddy.mask, count: 4096)
    let anon = KPF.anon.mask | KPF.lru.mask
    words[8] = anon | Self.head
    for i in 9..<16 { words[i] = anon | Self.tail }
    let s = try Self.snapshot(words)
    for pfn in [8, 13, 15] { #expect(try PageClassifier.extent(of: pfn, in: s).kind == .folio(head: 8, order: 3)) }
    #expect(try PageClassifier.extent(of: 16, in: s).kind == .single)
    #expect(try PageProbe.read(s, pfn: 13).situation == .folio(head: PFN(8), order: 3, kind: .anon))
    // A run of 6 tails is no aligned power of two: left as booted.
    words[14] = KPF.buddy.mask
    #expect(try PageProbe.read(try Self.snapshot(words), pfn: 10).situation == .asBooted)
  }

  /// HVO: the 2 MiB page's struct pages read as one head and 63 tails per 64 PFNs.
  @Test func hugetlbExtentWithFakeHeads() throws {
    var words = [UInt64](repeating: 0, count: 2048)
    let huge = KPF.huge.mask | KPF.uptodate.mask
    for i in 512..<1024 { words[i] = huge | (i % 64 == 0 ? Self.head : Self.tail) }
    for i in 1024..<1536 { words[i] = huge | (i == 1024 ? Self.head : Self.tail) }
    let s = try Self.snapshot(words)
    #expect(try PageClassifier.extent(of: 640, in: s).kind == .hugetlb(head: 512, order: 9, hvo: true))
    #expect(try PageClassifier.extent(of: 1100, in: s).kind == .hugetlb(head: 1024, order: 9, hvo: false))
    let text = ExplainOutput.probe(try PageProbe.read(s, pfn: 640), origin: "test")
    #expect(text.contains("a 2 MiB HugeTLB page at PFN 0x200 (offset 128), HVO-optimised"))
  }

  @Test func ramWithoutCensus() throws {
    let section = 1 << Kernel.pfnSectionShift
    var words = [UInt64](repeating: 0, count: 3 * section)
    words[5] = KPF.buddy.mask
    words[2 * section + 7] = KPF.anon.mask
    let bare = try SnapshotRAM.of(try Self.snapshot(words))
    #expect(!bare.known)
    #expect(bare.ranges == [PFN(0)..<PFN(section), PFN(2 * section)..<PFN(3 * section)])
    #expect(bare.ranges == (try Census.of(try Self.snapshot(words))).ramRanges)
    let withIomem = try SnapshotRAM.of(try Self.snapshot(words, texts: ["iomem": "00001000-0009ffff : System RAM\n"]))
    #expect(withIomem.known && withIomem.ranges == [PFN(1)..<PFN(0xa0)])
  }
}
