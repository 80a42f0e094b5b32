import Testing
@testable import PageModel

@Suite struct HVOTests {
  /// Acceptance (issue 3): 1000 x 2 MiB with HVO frees 7000 frames in both eras; the
  /// classic era shows 7000 fake heads and 8000 kpageflags heads, the mask era none and
  /// 1000, with one shared tail frame. Shrinking to 0 gives every frame back.
  @Test(arguments: [Era.classic, .mask])
  func thousandTwoMegabytePages(era: Era) throws {
    func body<E: CompoundEncoding>(_ m: Page64Model<E>) throws {
      let boot = try m.checkBuddyInvariants()
      let before = m.memmapFrames
      m.hugetlb.optimizeVmemmap = true
      #expect(m.setNrHugePages(order: 9, count: 1000) == 1000)
      #expect(before - m.memmapFrames == 7000)
      #expect(m.countFakeHeads() == (E.era == .classic ? 7000 : 0))
      #expect(m.hugetlbKPageFlagsHeads() == (E.era == .classic ? 8000 : 1000))
      #expect(m.sharedTailFrames == (E.era == .classic ? 0 : 1))
      for f in m.hugetlb.hstates[0].folios {
        for n in [0, 1, 63, 64, 65, 448, 511] { #expect(m.compoundHead(f.pfn + n) == f.pfn) }
        #expect(m.isHead(f.pfn) && !m.isHead(f.pfn + 64) && m.isTail(f.pfn + 64))
      }
      #expect(m.setNrHugePages(order: 9, count: 0) == 0)
      #expect(m.memmapFrames == before)
      m.drainAllPages()
      let after = try m.checkBuddyInvariants()
      // The memmap now lives partly in other frames (boot frames went back to the buddy
      // allocator, restores took new ones), so the free lists are not the boot ones, but
      // they hold as many pages, less the shared tail frame the mask era keeps and the
      // PTE tables of the 16 PMDs HVO split (never merged back).
      func pages(_ s: BuddyFreeState) -> Int { s.buddyBlocks.joined().reduce(0) { $0 + (1 << $1.order) } }
      #expect(m.vmemmapPageTable.pteTables == 16)
      #expect(pages(after) == pages(boot) - m.sharedTailFrames - 16)
      #expect(m.machine.freePages + m.memmapFrames + m.sharedTailFrames + 16 == m.layout.ramPages)
    }
    if era == .classic { try body(flatMachine(ClassicEncoding.self, ram: 8 << 30)) } else { try body(flatMachine(MaskEncoding.self, ram: 8 << 30)) }
  }

  /// Acceptance: 2 x 1 GiB with HVO frees 8190 frames in both eras; classic reads 8192
  /// kpageflags heads.
  @Test(arguments: [Era.classic, .mask])
  func twoGigantic(era: Era) throws {
    func body<E: CompoundEncoding>(_ m: Page64Model<E>) throws {
      let before = m.memmapFrames
      m.hugetlb.optimizeVmemmap = true
      #expect(m.setNrHugePages(order: 18, count: 2) == 2)
      #expect(before - m.memmapFrames == 8190)
      #expect(m.hugetlbKPageFlagsHeads() == (E.era == .classic ? 8192 : 2))
      for f in m.hugetlb.hstates[1].folios {
        #expect(m.folioOrder(f) == 18)
        for n in [1, 64, 4096, 262_143] { #expect(m.compoundHead(f.pfn + n) == f.pfn) }
      }
      #expect(m.setNrHugePages(order: 18, count: 0) == 0)
      #expect(m.memmapFrames == before)
      _ = try m.checkBuddyInvariants()
    }
    if era == .classic { try body(flatMachine(ClassicEncoding.self, ram: 8 << 30)) } else { try body(flatMachine(MaskEncoding.self, ram: 8 << 30)) }
  }

  @Test(arguments: [Era.classic, .mask])
  func withoutOptimizeNothingIsFreed(era: Era) throws {
    func body<E: CompoundEncoding>(_ m: Page64Model<E>) throws {
      let before = m.memmapFrames
      #expect(m.setNrHugePages(order: 9, count: 100) == 100)
      #expect(m.memmapFrames == before)
      #expect(m.countFakeHeads() == 0)
      #expect(m.hugetlbKPageFlagsHeads() == 100)
      for f in m.hugetlb.hstates[0].folios { #expect(m.kpageflags(f.pfn) & KPF.huge.mask != 0) }
    }
    if era == .classic { try body(flatMachine(ClassicEncoding.self, ram: 1 << 30)) } else { try body(flatMachine(MaskEncoding.self, ram: 1 << 30)) }
  }

  /// A write to a shared (read-only) tail frame faults and changes no byte.
  @Test func writeToSharedTailFaults() throws {
    let m = try flatMachine(MaskEncoding.self, ram: 1 << 30)
    m.hugetlb.optimizeVmemmap = true
    m.setNrHugePages(order: 9, count: 1)
    let f = m.hugetlb.hstates[0].folios[0]
    let tail = m.page(f.pfn + 100)
    let before = m.memmap.bytes(ofPageAt: tail)
    #expect(throws: VmemmapFault.self) { try m.memmap.store(tail, StructPageLayout.refcount, UInt32(1)) }
    #expect(m.memmap.bytes(ofPageAt: tail) == before)
  }

  /// Restore that cannot get its frames fails cleanly: the folio stays optimised in the
  /// pool, and nothing leaks.
  @Test(arguments: [Era.classic, .mask])
  func restoreFailsForLackOfFrames(era: Era) throws {
    func body<E: CompoundEncoding>(_ m: Page64Model<E>) throws {
      m.hugetlb.optimizeVmemmap = true
      m.setNrHugePages(order: 9, count: 1)
      var hog: [PFN] = []
      while let p = m.allocPages(order: 0) { hog.append(p) }
      let frames = m.memmapFrames
      #expect(m.setNrHugePages(order: 9, count: 0) == 1)
      #expect(m.memmapFrames == frames)
      #expect(m.hugetlb.optimized.count == 1)
      for p in hog { m.freePages(p, order: 0) }
      #expect(m.setNrHugePages(order: 9, count: 0) == 0)
      _ = try m.checkBuddyInvariants()
    }
    if era == .classic { try body(flatMachine(ClassicEncoding.self, ram: 128 << 20)) } else { try body(flatMachine(MaskEncoding.self, ram: 128 << 20)) }
  }

  /// Issue 14: in the memdesc eras an optimised page keeps its head's vmemmap page on a
  /// writable frame of its own and maps every other one read-only onto one copy of its
  /// own: a write to the head's struct page succeeds (the per-page flags HugeTLB keeps
  /// there), a write to a tail's faults and changes nothing, and HWPoison of a tail goes
  /// to the folio's raw list without touching the tail's struct page (as the kernel's
  /// `folio_set_hugetlb_hwpoison()` does). Restore gives the tails their own frames
  /// again, filled from the read-only copy, not from the head.
  @Test(arguments: [Era.memdesc32, .memdesc8])
  func memdescHeadWritableTailsReadOnly(era: Era) throws {
    func body<F: MemdescFormat>(_ m: MemdescModel<F>, tail: Int) throws {
      let before = m.memmapFrames
      m.hugetlb.optimizeVmemmap = true
      m.setNrHugePages(order: Hstate.pud, count: 1)
      let f = try #require(m.hugetlb.hstates[1].folios.first)
      let ptes = m.machine.vmemmapPTERange(f, order: Hstate.pud)
      let head = m.machine.vmemmapTable[ptes.lowerBound], shared = m.machine.vmemmapTable[ptes.lowerBound + 1]
      #expect(head.isWritable && !shared.isWritable && head.frame != shared.frame)
      for i in ptes.dropFirst() { #expect(m.machine.vmemmapTable[i] == shared) }
      #expect(before - m.memmapFrames == ptes.count - 2)
      // The head's struct page takes a write; a tail's faults.
      let word = m.memdescWord(f.pfn)
      try m.memmap.store(m.page(f.pfn), F.memdescOffset, word)
      let t = m.page(f.pfn + tail)
      let bytes = m.memmap.bytes(ofPageAt: t)
      #expect(throws: VmemmapFault.self) { try m.memmap.store(t, F.memdescOffset, UInt64(0)) }
      #expect(m.memmap.bytes(ofPageAt: t) == bytes)
      // HWPoison of that tail: recorded in the folio, the tail's bytes untouched.
      try m.setPageFlag(f.pfn + tail, .hwPoison)
      #expect(m.testPageFlag(f.pfn + tail, .hwPoison) && !m.testPageFlag(f.pfn + tail + 1, .hwPoison))
      #expect(m.testHeadPageFlag(f, .hwPoison) && m.memmap.bytes(ofPageAt: t) == bytes)
      #expect(throws: MemdescBug.hugetlbTailFlag(.anonExclusive, f.pfn + tail)) { try m.setPageFlag(f.pfn + tail, .anonExclusive) }
      #expect(m.setNrHugePages(order: Hstate.pud, count: 0) == 1)  // a poisoned page stays
      try m.setPageFlag(f.pfn + tail, .hwPoison, false)
      #expect(!m.testHeadPageFlag(f, .hwPoison))
      if F.hasPageFlags { try m.setPageFlag(f.pfn, .anonExclusive) }  // the head's own flag
      #expect(m.hugetlbVmemmapRestoreFolio(f))
      #expect(m.memmap.bytes(ofPageAt: m.page(f.pfn + tail)) == bytes)
      if F.hasPageFlags { #expect(m.testPageFlag(f.pfn, .anonExclusive) && !m.testPageFlag(f.pfn + (1 << 12), .anonExclusive)) }
      #expect(m.memmapFrames == before)
      #expect(m.setNrHugePages(order: Hstate.pud, count: 0) == 0)
      _ = try m.checkBuddyInvariants()
    }
    if era == .memdesc32 { try body(flatMachine(Memdesc32Format.self, ram: 4 << 30), tail: 4097) } else { try body(flatMachine(Memdesc8Format.self, ram: 4 << 30), tail: 4097) }
  }
}
