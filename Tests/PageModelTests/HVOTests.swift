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
      // they hold as many pages, less the shared tail frame the mask era keeps.
      func pages(_ s: BuddyFreeState) -> Int { s.buddyBlocks.joined().reduce(0) { $0 + (1 << $1.order) } }
      #expect(pages(after) == pages(boot) - m.sharedTailFrames)
      #expect(m.machine.freePages + m.memmapFrames + m.sharedTailFrames == m.layout.ramPages)
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
}
