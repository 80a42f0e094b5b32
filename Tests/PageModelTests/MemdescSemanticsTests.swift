import Testing
@testable import PageModel

@Suite struct MemdescSemanticsTests {
  /// Acceptance (issue 4): compound_head on a folio page in memdesc8 is a BUG; page_folio
  /// of a slab page is nil; Dirty on a page (not its folio) in memdesc32 is refused.
  @Test func seedEmailSemantics() throws {
    let m8 = try flatMachine(Memdesc8Format.self, ram: 64 << 20)
    let f = try #require(m8.allocFolio(order: 2, kind: .anon))
    #expect(throws: MemdescBug.compoundHeadOnOwnedPage(f.pfn + 1, .anon)) { try m8.compoundHead(f.pfn + 1) }
    let bare = try #require(m8.allocPages(order: 0))
    #expect(try m8.compoundHead(bare) == bare)
    let slab = try #require(m8.allocSlab(order: 1))
    #expect(m8.pageFolio(slab) == nil)
    #expect(m8.pageFolio(slab + 1) == nil)
    #expect(m8.folio(containing: slab) == nil)
    #expect(throws: MemdescBug.self) { try m8.compoundHead(slab) }

    let m32 = try flatMachine(Memdesc32Format.self, ram: 64 << 20)
    let g = try #require(m32.allocFolio(order: 1, kind: .file))
    #expect(throws: MemdescBug.folioFlagOnPage(.dirty, g.pfn + 1)) { try m32.setPageFlag(g.pfn + 1, .dirty) }
    #expect(throws: MemdescBug.goneFlag(.head)) { try m32.setPageFlag(g.pfn, .head) }
    #expect(throws: MemdescBug.goneFlag(.private)) { try m32.folioSet(g, .private) }
    try m32.folioSet(g, .dirty)
    #expect(m32.folioTest(g, .dirty))
    try m32.setPageFlag(g.pfn + 1, .hwPoison)
    #expect(m32.testPageFlag(g.pfn + 1, .hwPoison) && !m32.testPageFlag(g.pfn, .hwPoison))
    // memdesc8 has no flags word: AnonExclusive is refused, HWPoison is a retype.
    #expect(throws: MemdescBug.noPageFlags(.anonExclusive, .memdesc8)) { try m8.setPageFlag(f.pfn, .anonExclusive) }
    #expect(throws: MemdescBug.hwPoisonFreePage(PFN(m8.machine.freeBlock(containing: bare + 1).map { $0.head.rawValue } ?? 0))) {
      try m8.setPageFlag(PFN(m8.machine.freeBlock(containing: bare + 1).map { $0.head.rawValue } ?? 0), .hwPoison)
    }

    // The 64-byte eras still accept a folio flag through a page: PF_HEAD sends it to the head.
    let c = try flatMachine(ClassicEncoding.self, ram: 64 << 20)
    let h = try #require(c.allocFolio(order: 2, kind: .file))
    try c.setPageFlag(h.pfn + 3, .dirty)
    #expect(c.folioTest(h, .dirty))
  }

  /// Issue 14: HWPoison in memdesc8 as the plan has it: the page's word becomes type
  /// HWPoison (9) pointing at a `struct hwpoison` that keeps the old word, so the page
  /// stays in its folio; unpoisoning puts the word back and frees the descriptor.
  @Test func memdesc8HWPoisonRetypesOnePage() throws {
    let m = try flatMachine(Memdesc8Format.self, ram: 64 << 20)
    let f = try #require(m.allocFolio(order: 2, kind: .anon))
    let before = m.memmap.load(m.page(f.pfn + 1), 0, as: UInt64.self)
    try m.setPageFlag(f.pfn + 1, .hwPoison)
    let word = m.memmap.load(m.page(f.pfn + 1), 0, as: UInt64.self)
    #expect(word & MemdescType.mask == 9 && Memdesc8Format.type(of: word) == .hwPoison)
    #expect(m.descriptorPointer(word & ~MemdescType.mask).load(fromByteOffset: HWPoisonLayout.memdesc, as: UInt64.self) == before)
    #expect(m.descriptorPointer(word & ~MemdescType.mask).load(fromByteOffset: HWPoisonLayout.pfn, as: UInt64.self) == (f.pfn + 1).rawValue)
    #expect(m.testPageFlag(f.pfn + 1, .hwPoison) && !m.testPageFlag(f.pfn, .hwPoison) && !m.testPageFlag(f.pfn + 2, .hwPoison))
    #expect(m.memmap.load(m.page(f.pfn + 2), 0, as: UInt64.self) == before)  // only that page is retyped
    #expect(m.pageFolio(f.pfn + 1) == f && m.folioOrder(f) == 2)
    #expect(throws: MemdescBug.compoundHeadOnOwnedPage(f.pfn + 1, .anon)) { try m.compoundHead(f.pfn + 1) }
    #expect(m.descriptorStats.first { $0.kind == .hwpoison }?.objects == 1)
    try m.setPageFlag(f.pfn + 1, .hwPoison, false)
    #expect(m.memmap.load(m.page(f.pfn + 1), 0, as: UInt64.self) == before && !m.testPageFlag(f.pfn + 1, .hwPoison))
    #expect(m.descriptorStats.first { $0.kind == .hwpoison }?.objects == 0)
    // A folio freed with a poisoned page gives the allocator words it knows.
    try m.setPageFlag(f.pfn + 3, .hwPoison)
    m.folioPut(f)
    _ = try m.checkBuddyInvariants()
    #expect(m.descriptorStats.first { $0.kind == .hwpoison }?.objects == 0)
  }

  /// put_page() on a folio page drops the folio's reference; page refcounts stay 0.
  @Test func putPageDropsTheFolioReference() throws {
    let m = try flatMachine(Memdesc32Format.self, ram: 64 << 20)
    let f = try #require(m.allocFolio(order: 3, kind: .anon))
    m.folioGet(f)
    #expect(m.folioRefCount(f) == 2)
    #expect(m.memmap.load(m.page(f.pfn + 5), Memdesc32Format.refcount, as: UInt32.self) == 0)
    try m.putPage(f.pfn + 5)
    #expect(m.folioRefCount(f) == 1)
    let free = m.machine.freePages + m.machine.pcpPages
    let descriptorPages = m.cost().descriptorFrames.values.reduce(0, +)
    try m.putPage(f.pfn + 7)
    // The folio's 8 pages go back; the descriptor slab page that emptied with it is kept
    // (one empty slab per cache, as SLUB's min_partial keeps some).
    let released = descriptorPages - m.cost().descriptorFrames.values.reduce(0, +)
    #expect(released == 0)
    #expect(m.machine.freePages + m.machine.pcpPages == free + 8)
    #expect(m.pageFolio(f.pfn) == nil)
  }

  /// Every page of a folio points at one descriptor, 16-byte aligned, whose pfn and order
  /// name the folio; the descriptor's zone and node are the pages'.
  @Test(arguments: [Era.memdesc32, .memdesc8])
  func descriptorsAreWellFormed(era: Era) throws {
    func body<F: MemdescFormat>(_ m: MemdescModel<F>) throws {
      let f = try #require(m.allocFolio(order: 4, kind: .anon))
      let word = m.memdescWord(f.pfn)
      #expect(F.type(of: word) == .anon)
      #expect((word & ~MemdescType.mask) % 16 == 0)
      for i in 0..<16 { #expect(m.memdescWord(f.pfn + i) == word) }
      let d = m.descriptorPointer(word & ~MemdescType.mask)
      #expect(d.load(fromByteOffset: MemdescFolioLayout.pfn, as: UInt64.self) == f.pfn.rawValue)
      #expect(d.load(fromByteOffset: MemdescFolioLayout.order, as: UInt8.self) == 4)
      let flags = d.load(fromByteOffset: MemdescFolioLayout.flags, as: UInt64.self)
      #expect(PageFlagsLayout.zone(of: flags) == m.machine.zones[m.machine.zoneIndex(of: f.pfn)].type.rawValue)
      // The descriptor lives in a slab page of the same machine, typed Slab.
      let (slabPFN, _) = DirectMap.location(word & ~MemdescType.mask)
      #expect(F.type(of: m.memdescWord(slabPFN)) == .slab)
      #expect(m.descriptorStats.first { $0.kind == .largeFolio }?.objects == 1)
    }
    if era == .memdesc32 { try body(flatMachine(Memdesc32Format.self, ram: 64 << 20)) } else { try body(flatMachine(Memdesc8Format.self, ram: 64 << 20)) }
  }
}
