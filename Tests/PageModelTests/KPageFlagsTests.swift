import Testing
@testable import PageModel

@Suite struct KPageFlagsTests {
  @Test func freeBlocksReadBuddyOnEveryPage() throws {
    let m = try flatMachine(MaskEncoding.self, ram: 128 << 20)
    let p = try #require(m.allocPages(order: 5))
    // Splitting a larger block left p's buddy free at order 5: each of its pages reads BUDDY.
    let other = PFN(p.rawValue ^ 32)
    let block = try #require(m.machine.freeBlock(containing: other + 7))
    #expect(block.head == other && block.order == 5)
    for pfn in other..<(other + 32) { #expect(m.kpageflags(pfn) == KPF.buddy.mask) }
    // An allocated plain (non-compound) block reads no flags at all.
    for pfn in p..<(p + 32) { #expect(m.kpageflags(pfn) == 0) }
  }

  @Test(arguments: [Era.classic, .mask])
  func foliosReadHeadTailAndTHP(era: Era) throws {
    func body<E: CompoundEncoding>(_ m: Page64Model<E>) throws {
      let f = try #require(m.allocFolio(order: 9))
      #expect(m.kpageflags(f.pfn) == KPF.compoundHead.mask | KPF.thp.mask)
      for n in 1..<512 { #expect(m.kpageflags(f.pfn + n) == KPF.compoundTail.mask | KPF.thp.mask) }
      // A compound page that is not a folio for rmap (alloc_pages with __GFP_COMP).
      let c = try #require(m.allocPages(order: 2, gfp: .comp))
      #expect(m.kpageflags(c) == KPF.compoundHead.mask)
      #expect(m.kpageflags(c + 3) == KPF.compoundTail.mask)
      // Pages on the per-CPU lists are neither buddy nor anything else: they read 0. (The
      // order-9 refill above left a THP block on its list; drained first, so that freeing
      // one page does not cross pcp->high and send it back to the buddy at once.)
      m.drainAllPages()
      let o = try #require(m.allocPages(order: 0))
      m.freePages(o, order: 0)
      #expect(m.machine.pcpPages > 0)
      #expect(m.kpageflags(o) == 0)
      m.drainAllPages()
      #expect(m.kpageflags(o) == KPF.buddy.mask)
    }
    if era == .classic { try body(flatMachine(ClassicEncoding.self, ram: 128 << 20)) } else { try body(flatMachine(MaskEncoding.self, ram: 128 << 20)) }
  }

  @Test func vmemmapWritesToReadOnlyFramesFault() throws {
    let m = try flatMachine(MaskEncoding.self, ram: 128 << 20)
    let page = m.page(0x1000)
    let before = m.memmap.bytes(ofPageAt: page)
    // Make the vmemmap page read-only, as HVO does to tail mappings.
    let index = Int((page - m.memmap.base) >> 12)
    m.machine.vmemmapTable._makeReadOnly(index)
    #expect(throws: VmemmapFault.self) { try m.memmap.store(page, StructPageLayout.refcount, UInt32(7)) }
    do {
      try m.memmap.store(page, StructPageLayout.refcount, UInt32(7))
    } catch {
      #expect(error.kind == .readOnly)
      #expect(error.address == page + 52)
    }
    #expect(m.memmap.bytes(ofPageAt: page) == before)
  }
}
