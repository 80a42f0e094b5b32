import Foundation
import MemdescTestSupport
import PageModel
import Testing

@testable import Snapshot

/// Decoding kpageflags by kernel version, and all-zero sections labelled by cause.
@Suite struct KernelDecodeTests {
  /// The hvo-hugetlb fixture (6.18, 2 x 1 GiB and 100 x 2 MiB HugeTLB pages with HVO) as
  /// a kernel without fake heads would have reported it (`KernelRewrite.removeFakeHeads`),
  /// with `release` for its kernel release.
  static func derived(release: String) throws -> (snapshot: PageSnapshot, rewritten: Int) {
    let s = Analysed.hvo.snapshot
    var words = [UInt64](repeating: 0, count: s.pfnCount)
    try words.withUnsafeMutableBufferPointer { try s.kpageflags.read(0..<s.pfnCount, into: $0.baseAddress!) }
    let n = KernelRewrite.removeFakeHeads(&words)
    var meta = s.metadata
    meta.kernelRelease = release
    return (try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: words), texts: s.texts, metadata: meta), n)
  }

  /// `Fixtures/hvo-7.1.mdsnap` is exactly `derived(release: "7.1.0-derived")` (kpageflags
  /// and the text files; no kpagecount or kpagecgroup, to keep it small), so the README's
  /// example of a 7.1 snapshot reads what this derivation gives. With
  /// MEMDESC_WRITE_DERIVED=PATH set, the test writes the file there instead of comparing.
  @Test func theStoredSevenOneFixtureIsTheDerivation() throws {
    let (d, _) = try Self.derived(release: "7.1.0-derived")
    if let out = ProcessInfo.processInfo.environment["MEMDESC_WRITE_DERIVED"] {
      _ = try SnapshotFormat.write(d, to: out)
      print("wrote \(out)")
      return
    }
    let stored = try PageSnapshot.open(Fixture.file("", "hvo-7.1.mdsnap"))
    #expect(stored.metadata.kernelRelease == "7.1.0-derived" && stored.texts == d.texts && stored.kpagecount == nil)
    var a = [UInt64](repeating: 0, count: d.pfnCount), b = a
    try a.withUnsafeMutableBufferPointer { try d.kpageflags.read(0..<d.pfnCount, into: $0.baseAddress!) }
    try b.withUnsafeMutableBufferPointer { try stored.kpageflags.read(0..<stored.pfnCount, into: $0.baseAddress!) }
    #expect(a == b)
    let c = try Census.of(stored)
    #expect(c.hugetlbFolios("1048576kB") == 2 && c.hugetlbFolios("2048kB") == 100 && c.hvoFakeHeadsCorrected == 0)
  }

  @Test func versionsAndWhatTheyShowArePinned() throws {
    // (release, fake heads, NOPAGE, THP = large rmappable, deferred init)
    let table: [(String, Bool, Bool, Bool, Bool)] = [
      ("5.15.0-91-generic", false, true, false, false), ("6.8", false, true, false, false), ("6.10.3", false, true, false, false),
      ("6.11", false, true, true, false),
      ("6.15", false, true, true, false), ("6.16", false, false, true, false), ("6.17", true, false, true, false),
      ("6.18.44-fc-v595", true, false, true, true), ("7.0-rc1", true, false, true, false), ("7.1", false, false, true, false),
      ("7.1.0+", false, false, true, false), ("8.0", false, false, true, false),
    ]
    for (r, fake, nopage, thp, deferred) in table {
      let d = try #require(KernelDecode(release: r), "\(r)")
      #expect(d.showsFakeHeads == fake && d.marksNoPage == nopage && d.thpMeansLargeRmappable == thp && d.defersStructPageInit == deferred, "\(r)")
      #expect(KernelDecode(release: d.description) == d, "\(r) reads back")
    }
    #expect(KernelDecode(release: "6.18.44-fc-v595")?.description == "6.18-fc-v595")
    for bad in ["", "6", "6.", "six.eighteen", "6.18x", "6.18.", "-6.18", "6.18 x", "12345.1", "6.18-\u{7f}"] {
      #expect(KernelDecode(release: bad) == nil, "'\(bad)'")
    }
    #expect(KernelDecode.assumed == KernelDecode(release: "6.18"))
    #expect(KernelDecode.lazyDeferredInitFamilies == ["fc"])
    #expect(KPF.noPage.rawValue == 20 && KPF.noPage.mask == 1 << 20)
  }

  /// 6.18 (the capture as it is): fake heads shown and corrected, exact pools.
  @Test func aSixEighteenSnapshotIsCorrectedAsBefore() throws {
    let c = Analysed.hvo.analysis.census
    #expect(c.kernel == KernelDecode(release: "6.18.44-fc-v595"))
    #expect(c.hugetlbFolios("1048576kB") == 2 && c.hugetlbFolios("2048kB") == 100)
    // 4095 fake heads per 1 GiB page, 7 per 2 MiB page.
    #expect(c.hvoFakeHeadsCorrected == 2 * 4095 + 100 * 7)
    #expect(c.hugetlb.map(\.optimized) == [100, 2])
  }

  /// Acceptance: 7.1 and 6.16 snapshots with HVO (no fake heads) give exact HugeTLB counts
  /// (the pools' nr_hugepages) and 0 fake heads corrected.
  @Test(arguments: ["7.1.0", "6.16.3"])
  func aSnapshotWithoutFakeHeadsGivesExactPools(release: String) throws {
    let (s, rewritten) = try Self.derived(release: release)
    #expect(rewritten == 2 * 4095 + 100 * 7)
    let pools = try #require(try s.hugepages())
    let c = try Census.of(s)
    #expect(!c.kernel.showsFakeHeads)
    for h in pools.hstates { #expect(c.hugetlbFolios(h.name) == h.nrHugepages, "\(h.name)") }
    #expect(c.hugetlbFolios("1048576kB") == 2 && c.hugetlbFolios("2048kB") == 100)
    #expect(c.hvoFakeHeadsCorrected == 0 && c.hugetlbHeadPFNs == 102 && c.hugetlbAmbiguousBlocks == 0)
    #expect(c.irregularCompoundPages == Analysed.hvo.analysis.census.irregularCompoundPages)
    // HVO is not in the words; the sysctl (1 in the fixture) says every page has it, and
    // vmstat's memmap agrees: 98,304 - (2 x 4095 + 100 x 7) = 89,414 pages.
    #expect(c.hvoFromSysctl && c.hugetlb.map(\.optimized) == [100, 2])
    let memmap = try #require(try SnapshotAnalysis.of(s).check("memmap"))
    #expect(memmap.agree && memmap.kernel == 89_414 && memmap.census == 89_414)
    // The rest of the census is the same as the 6.18 one's.
    let old = Analysed.hvo.analysis.census
    #expect(c.buddyPages == old.buddyPages && c.folios == old.folios)
    #expect(c.zeroRAMSections == old.zeroRAMSections, "\(c.zeroRAMSections) \(old.zeroRAMSections) \(c.ramKnown) \(old.ramKnown) \(c.ramPFNs) \(old.ramPFNs)")
  }

  /// The correction is made only where the kernel can show fake heads: the 6.18 words
  /// read as 7.1's correct nothing, and the fake-head runs are irregular.
  @Test func fakeHeadsAreNotCorrectedWhereTheKernelCannotShowThem() throws {
    var s = Analysed.hvo.snapshot
    s.kernelOverride = KernelDecode(release: "7.1")
    let c = try Census.of(s)
    #expect(c.hvoFakeHeadsCorrected == 0)
    #expect(c.hugetlbFolios("1048576kB") == 0 && c.hugetlbFolios("2048kB") == 0)
    #expect(c.irregularCompoundPages == Analysed.hvo.analysis.census.irregularCompoundPages + (2 << 18) + 100 * 512)
  }

  /// The fixtures' vendor kernel defers struct-page init: its all-zero sections are
  /// "deferred init"; decoded as mainline they are of unknown cause; offline memory
  /// blocks recorded in the snapshot make theirs "offline".
  @Test func allZeroSectionsAreLabelledByCause() throws {
    let c = Analysed.hvo.analysis.census
    let n = c.zeroRAMSections
    #expect(n > 0 && c.zeroSectionCauses == [.deferredInit: ZeroSections(sections: n, ramPFNs: c.zeroSectionRAMPFNs)])
    var s = Analysed.hvo.snapshot
    s.kernelOverride = KernelDecode(release: "6.18")
    let mainline = try Census.of(s)
    #expect(mainline.zeroSectionCauses == [.unknown: ZeroSections(sections: n, ramPFNs: c.zeroSectionRAMPFNs)])
    // 1 GiB blocks (8 sections), every one but block 0 offline: every all-zero section
    // is above the first GiB, so all of them are offline memory.
    let sections = s.pfnCount >> Kernel.pfnSectionShift
    var text = "block_size_bytes 40000000\n"
    for b in 0..<(sections / 8) { text += "memory\(b) \(String(b * 8, radix: 16)) \(b == 0 ? "online" : "offline")\n" }
    s.texts["memory-blocks"] = text
    #expect(try Census.of(s).zeroSectionCauses == [.offline: ZeroSections(sections: n, ramPFNs: c.zeroSectionRAMPFNs)])
    // Online blocks say nothing about the cause.
    s.texts["memory-blocks"] = text.replacingOccurrences(of: "offline", with: "online")
    #expect(try Census.of(s).zeroSectionCauses == [.unknown: ZeroSections(sections: n, ramPFNs: c.zeroSectionRAMPFNs)])
  }

  /// A kernel up to 6.15 marks a PFN without an online struct page NOPAGE: a hole, or
  /// inside System RAM an offline block.
  @Test func noPageWordsAreHolesAndMarkOfflineSections() throws {
    let sec = 1 << Kernel.pfnSectionShift
    var words = [UInt64](repeating: KPF.buddy.mask, count: 3 * sec)
    for p in sec..<(2 * sec) { words[p] = KPF.noPage.mask }
    let iomem = "00000000-\(String(3 * sec * 4096 - 1, radix: 16)) : System RAM\n"
    var meta = SnapshotMetadata()
    meta.kernelRelease = "6.12.0"
    let s = try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: words), texts: ["iomem": iomem], metadata: meta)
    let c = try Census.of(s)
    #expect(c.noPagePFNs == sec && c.zeroPFNs == sec && c.buddyPages == 2 * sec)
    #expect(c.zeroSectionCauses == [.offline: ZeroSections(sections: 1, ramPFNs: sec)])
    #expect(PageClassifier.classify(KPF.noPage.mask) == .zero)
    #expect(PageClassifier.classify(KPF.noPage.mask | KPF.buddy.mask) == .free)
  }

  @Test func memoryBlocksParseAndRoundTrip() throws {
    let text = "block_size_bytes 8000000\nmemory0 00000000 online\nmemory7 00000007 offline\nmemory8 8 going-offline\n"
    let b = try MemoryBlocks.parse(text, path: "mb")
    #expect(b.blockBytes == 128 << 20 && b.sectionsPerBlock == 1)
    #expect(b.blocks.map(\.firstSection) == [0, 7, 8] && b.blocks.map(\.isOnline) == [true, false, false])
    #expect(try MemoryBlocks.parse(b.text, path: "mb") == b)
    #expect(b.offlineSections(sectionCount: 70) == [1 << 7 | 1 << 8, 0])
    for (bad, fragment) in [
      ("", "empty"), ("block_size_bytes 1000\n", "line 1"), ("block_size_bytes 8000000\nmemory0 0 sleepy\n", "line 2 'memory0 0 sleepy'"),
      ("block_size_bytes 8000000\nmemory0 0 online\nmemory0 1 online\n", "memory0 is listed twice"),
      ("block_size_bytes 8000000\nmemoryx 0 online\n", "line 2"), ("block_size_bytes 8000000\nmemory1 fffffffffffffffff online\n", "line 2"),
    ] {
      expectSnapshotError(.badText, ["mb", fragment]) { _ = try MemoryBlocks.parse(bad, path: "mb") }
    }
  }

  /// Format version 3 stores the memory blocks; a damaged section is refused on open.
  @Test func memoryBlocksAreStoredInSnapshotFiles() throws {
    let text = "block_size_bytes 8000000\nmemory0 0 online\nmemory1 1 offline\n"
    let snap = try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: [0, 1 << 10]), texts: ["memory-blocks": text])
    let back = try SnapshotFormat.parse(try SnapshotFormat.encode(snap).bytes, path: "x.mdsnap")
    #expect(try back.memoryBlocks() == MemoryBlocks.parse(text, path: "x"))
    let bad = try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: [0]), texts: ["memory-blocks": "nope\n"])
    let badBack = try SnapshotFormat.parse(try SnapshotFormat.encode(bad).bytes, path: "x.mdsnap")
    expectSnapshotError(.badText, ["x.mdsnap (memory-blocks)", "line 1 'nope'"]) { try badBack.validateTexts() }
  }
}

/// The memory blocks of this machine, as a capture reads them.
@Suite struct LiveMemoryBlocksTests {
  @Test func thisMachinesBlocksParse() throws {
    guard FileManager.default.fileExists(atPath: "/sys/devices/system/memory/block_size_bytes") else {
      print("skipped: /sys/devices/system/memory has no block_size_bytes (no memory hotplug in this kernel)")
      return
    }
    let b = try #require(try MemoryBlocks.live())
    let size = try String(contentsOfFile: "/sys/devices/system/memory/block_size_bytes", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(b.blockBytes == Int(size, radix: 16))
    let dirs = try FileManager.default.contentsOfDirectory(atPath: "/sys/devices/system/memory").filter { $0.hasPrefix("memory") && Int($0.dropFirst(6)) != nil }
    #expect(b.blocks.count == dirs.count && !b.blocks.isEmpty)
    #expect(b.blocks.allSatisfy { $0.firstSection == $0.id * b.sectionsPerBlock }, "phys_index is the block's first section")
    #expect(try MemoryBlocks.parse(b.text, path: "x") == b)
  }
}
