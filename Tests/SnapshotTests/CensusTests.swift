import Foundation
import PageModel
import Testing

@testable import Snapshot

/// The fixtures analysed once per test process (each scan reads 6.5 M PFNs).
enum Analysed {
  static let thpAnon = load(Fixture.dir("thp-anon"))
  static let idle = load(Fixture.dir("idle"))
  /// This VM captured with 100 x 2 MiB and 2 x 1 GiB HugeTLB pages and
  /// vm.hugetlb_optimize_vmemmap=1 (`memdesc snapshot capture`).
  static let hvo = load(hvoPath)
  static var hvoPath: String {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("hvo-hugetlb.mdsnap").path
  }

  static func load(_ path: String) -> (snapshot: PageSnapshot, analysis: SnapshotAnalysis) {
    let s = try! PageSnapshot.open(path)
    return (s, try! SnapshotAnalysis.of(s))
  }
}

extension SnapshotAnalysis {
  func check(_ name: String) -> Crosscheck? { crosschecks.first { $0.name == name } }
}

@Suite struct CensusTests {
  /// Acceptance: 1024 anonymous 2 MiB THPs, 4096 anonymous 64 KiB mTHPs, 128 shmem
  /// 2 MiB THPs; Hugetlb, AnonHugePages, ShmemHugePages and Shmem agree with meminfo.
  @Test func thpAnonFixture() throws {
    let a = Analysed.thpAnon.analysis
    let c = a.census
    #expect(c.folios[.anonTHP] == [9: 1024])
    #expect(c.folios[.anonMTHP] == [4: 4096])
    #expect(c.folios[.shmem] == [0: 2197, 9: 128])
    #expect(c.folios[.anon] == [0: 331_322])
    #expect(c.folios[.fileLarge] == [1: 3221, 2: 7004, 3: 1757, 4: 698, 5: 281, 6: 254, 7: 191, 8: 99, 9: 515])
    #expect(c.folios[.other] == [2: 3, 3: 35, 4: 1, 5: 2, 9: 3])
    for name in ["Hugetlb", "AnonHugePages", "ShmemHugePages", "Shmem", "memmap", "nr_hugepages 2048kB", "nr_hugepages 1048576kB"] {
      let x = try #require(a.check(name), "\(name)")
      #expect(x.agree, "\(name): census \(x.census), kernel \(x.kernel)")
    }
    #expect(a.check("AnonHugePages")?.kernel == 2_097_152 && a.check("ShmemHugePages")?.kernel == 262_144 && a.check("Shmem")?.kernel == 270_932)
    #expect(c.pfns == 6_553_600 && c.ramPFNs == 6_291_358 && c.ramKnown && c.ramSections == 192)
    #expect(c.buddyPages == 819_036 && c.slabPages == 25_515 && c.pgtablePages == 2728)
    #expect(c.slabs == [0: 12_443, 1: 1960, 2: 1928, 3: 180])
    #expect(c.zeroRAMSections == 112 && c.zeroPagePages == 1 && c.reservedPages == 9673)
    // Spurious ANON/KSM on slab pages (kpageflags.md point 6) stays out of the anon folios.
    #expect(c.slabSpuriousAnonPages == 4633 && c.slabSpuriousKSMPages == 1622)
    #expect(c.hugetlbPages == 0 && c.hvoFakeHeadsCorrected == 0)
    #expect(c.irregularCompoundPages == 0 && c.orphanTailPages == 0)
    // Free pages: not exact (per-CPU lists), reported as such.
    let free = try #require(a.check("free pages"))
    #expect(!free.exact && free.kernel == 820_135 && free.census == 819_036 && free.note.contains("per-CPU"))
  }

  @Test func idleFixture() throws {
    let a = Analysed.idle.analysis
    let c = a.census
    #expect(c.folios[.anonTHP] == nil && c.folios[.anonMTHP] == nil && c.folios[.shmem] == [0: 2197])
    #expect(c.buddyPages == 1_625_654 && c.slabPages == 20_298 && c.pgtablePages == 1062)
    #expect(c.zeroRAMSections == 124)
    for name in ["Hugetlb", "AnonHugePages", "ShmemHugePages", "Shmem", "memmap"] {
      #expect(a.check(name)?.agree == true, "\(name)")
    }
    #expect(a.check("memmap")?.kernel == 98_304)
  }

  /// Acceptance: with HVO, hugetlb_pages are the pools' nr_hugepages, not the fake heads.
  @Test func hvoSnapshot() throws {
    let (s, a) = Analysed.hvo
    let c = a.census
    #expect(s.metadata.kernelRelease == "6.18.44-fc-v595")
    let pools = try #require(try s.hugepages())
    #expect(pools.optimizeVmemmap == 1)
    #expect(pools.hstates.map(\.nrHugepages).sorted() == [2, 100])
    #expect(c.hugetlbFolios("2048kB") == 100 && c.hugetlbFolios("1048576kB") == 2)
    #expect(c.hugetlb.allSatisfy { $0.optimized == $0.folios })
    // The raw kpageflags really shows the fake heads: a head every 64 PFNs.
    let histogram = try FlagWordHistogram.of(s.kpageflags)
    let rawHeads = histogram.entries.filter { $0.word & KPF.huge.mask != 0 && $0.word & KPF.compoundHead.mask != 0 }.reduce(0) { $0 + Int($1.pages) }
    #expect(rawHeads == 100 * 8 + 2 * 4096)
    #expect(rawHeads > 102)
    #expect(c.hugetlbHeadPFNs == rawHeads && c.hvoFakeHeadsCorrected == rawHeads - 102)
    // The 1 GiB blocks read like 512 x 2 MiB pages each; the pools' counts decided.
    #expect(c.hugetlbAmbiguousBlocks == 2 && c.hugetlbNote != nil)
    for name in ["Hugetlb", "nr_hugepages 2048kB", "nr_hugepages 1048576kB", "memmap", "Shmem", "AnonHugePages"] {
      #expect(a.check(name)?.agree == true, "\(name): \(String(describing: a.check(name)))")
    }
    // vmstat shows HVO's saving: 98304 - 100 x 7 - 2 x 4095.
    #expect(a.vmstatMemmapPages == 98_304 - 700 - 8190)
    #expect(a.eras.first { $0.era == .classic }?.memmapFrames == 89_414)
    #expect(a.notes.contains { $0.contains("fake heads corrected") })
  }

  /// The scan carries runs across chunk boundaries: any chunk size gives the same census.
  @Test func chunkSizeDoesNotMatter() throws {
    let s = Analysed.thpAnon.snapshot
    var words = [UInt64](repeating: 0, count: s.pfnCount)
    try words.withUnsafeMutableBufferPointer { try s.kpageflags.read(0..<s.pfnCount, into: $0.baseAddress!) }
    // 0x100000-0x180000 holds THPs, mTHPs and slabs; odd chunk lengths split runs.
    let slice = Array(words[0x100000..<0x180000])
    func census(chunk: Int) throws -> Census {
      let store = KPageArray(file: .kpageflags, words: slice)
      let array = KPageArray(file: .kpageflags, path: "<slice>", count: slice.count, chunkWords: chunk, backing: store.backing)
      return try Census.of(PageSnapshot(origin: .kpageflagsDump("<slice>"), kpageflags: array))
    }
    let whole = try census(chunk: 1 << 20)
    for chunk in [1, 7, 64, 1000] {
      let c = try census(chunk: chunk)
      #expect(c.folios == whole.folios && c.slabs == whole.slabs && c.buddyPages == whole.buddyPages, "chunk \(chunk)")
    }
  }

  /// A 1 GiB-aligned HVO block reads the same as 512 optimised 2 MiB pages: the pools decide.
  @Test(arguments: [(1, 0, 1, 0), (0, 512, 0, 512), (1, 512, 1, 0)])
  func ambiguousHVOBlocks(pool1G: Int, pool2M: Int, expect1G: Int, expect2M: Int) throws {
    let huge = KPF.huge.mask
    var words = [UInt64](repeating: KPF.buddy.mask, count: 1 << 19)
    for p in stride(from: 1 << 18, to: 1 << 19, by: 64) {
      words[p] = huge | KPF.compoundHead.mask
      for t in 1..<64 { words[p + t] = huge | KPF.compoundTail.mask }
    }
    let text = "hugepages-1048576kB nr_hugepages=\(pool1G)\nhugepages-2048kB nr_hugepages=\(pool2M)\nvm.hugetlb_optimize_vmemmap=1\n"
    let s = try PageSnapshot(origin: .kpageflagsDump("<synthetic>"), kpageflags: KPageArray(file: .kpageflags, words: words), texts: ["hugepages": text])
    let c = try Census.of(s)
    #expect(c.hugetlbFolios("1048576kB") == expect1G && c.hugetlbFolios("2048kB") == expect2M)
    #expect(c.hvoFakeHeadsCorrected == 4096 - expect1G - expect2M)
  }

  /// Without HVO a run is the whole huge page; RAM without iomem is the non-zero sections.
  @Test func plainHugetlbAndUnknownRAM() throws {
    var words = [UInt64](repeating: 0, count: 1 << 17)
    let head = KPF.huge.mask | KPF.compoundHead.mask, tail = KPF.huge.mask | KPF.compoundTail.mask
    for p in stride(from: 0, to: 4096, by: 512) {
      words[p] = head
      for t in 1..<512 { words[p + t] = tail }
    }
    words[40_000] = KPF.lru.mask
    let c = try Census.of(PageSnapshot(origin: .kpageflagsDump("<synthetic>"), kpageflags: KPageArray(file: .kpageflags, words: words)))
    #expect(c.hugetlbFolios("2048kB") == 8 && c.hvoFakeHeadsCorrected == 0)
    #expect(!c.ramKnown && c.ramSections == 2 && c.ramPFNs == 1 << 16)
    #expect(c.folios[.file] == [0: 1])
  }

  @Test func iomemParsing() throws {
    let t = try Fixture.text("idle", "iomem")
    let r = try #require(try ProcText.systemRAM(t, path: "iomem"))
    #expect(r == [PFN(0x1)..<PFN(0x9f), PFN(0x100)..<PFN(0xc0000), PFN(0x100000)..<PFN(0x640000)])
    // Without root the kernel shows zeros: RAM is then unknown.
    #expect(try ProcText.systemRAM("00000000-00000000 : System RAM\n", path: "iomem") == nil)
    expectSnapshotError(.badText, ["iomem", "line 1"]) { _ = try ProcText.systemRAM("zz-10 : System RAM\n", path: "iomem") }
    expectSnapshotError(.badText, ["buddyinfo", "line 1"]) { _ = try ProcText.buddyinfo("garbage here\n", path: "buddyinfo") }
  }
}

/// The scanner's flat counters are indexed by `CensusFolioKind.index`: it must be each
/// kind's position in `allCases` (what `finish` reads them back by).
@Suite struct CensusFlatCounterTests {
  @Test func kindIndexIsAllCasesPosition() {
    for (i, kind) in CensusFolioKind.allCases.enumerated() { #expect(kind.index == i, "\(kind)") }
  }
}
