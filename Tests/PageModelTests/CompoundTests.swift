import PropertyBased
import Testing
@testable import PageModel

@Suite struct CompoundTests {
  /// Acceptance: for every order 0-10 in both eras, every page of an allocated folio
  /// gives the right compoundHead, pageFolio and folioOrder.
  @Test(arguments: 0...Kernel.maxPageOrder)
  func everyPageFindsItsHead(order: Int) throws {
    try check(ClassicEncoding.self, order: order)
    try check(MaskEncoding.self, order: order)
  }

  func check<E: CompoundEncoding>(_: E.Type, order: Int) throws {
    let m = try flatMachine(E.self, ram: 256 << 20)
    var folios: [Folio] = []
    for _ in 0..<3 { folios.append(try #require(m.allocFolio(order: order))) }
    for folio in folios {
      #expect(folio.pfn.isAligned(toOrder: order))
      #expect(m.folioOrder(folio) == order)
      #expect(m.folioNrPages(folio) == 1 << order)
      #expect(m.folioRefCount(folio) == 1)
      for n in 0..<(1 << order) {
        let pfn = m.folioPage(folio, n)
        #expect(m.compoundHead(pfn) == folio.pfn, "\(E.era) order \(order) page \(n)")
        #expect(m.pageFolio(pfn) == folio)
        #expect(m.folioOrder(m.pageFolio(pfn)) == order)
        #expect(m.isHead(pfn) == (n == 0 && order > 0))
        #expect(m.isTail(pfn) == (n > 0))
        if n > 0 {
          let info: UInt64 = m.memmap.load(m.page(pfn), StructPageLayout.compoundInfo)
          #expect(info == E.tailInfo(headAddress: m.page(folio.pfn), order: order))
          // The branchy decode agrees with the branch-free one on real words.
          #expect(E.headBranchy(ofPageAt: m.page(pfn), info: info) == m.page(folio.pfn))
        }
      }
    }
    for folio in folios { m.folioPut(folio) }
    m.drainAllPages()
    _ = try m.checkBuddyInvariants()
  }

  /// The mask era's tails are identical for every folio of an order (the property that
  /// lets HVO share one tail frame); the classic era's differ by head address.
  @Test func maskTailsAreIdenticalAcrossFolios() throws {
    let mask = try flatMachine(MaskEncoding.self, ram: 128 << 20)
    let classic = try flatMachine(ClassicEncoding.self, ram: 128 << 20)
    let a = try #require(mask.allocFolio(order: 9)), b = try #require(mask.allocFolio(order: 9))
    let wa: UInt64 = mask.memmap.load(mask.page(a.pfn + 7), 8), wb: UInt64 = mask.memmap.load(mask.page(b.pfn + 7), 8)
    #expect(wa == wb && wa == 0xFFFF_FFFF_FFFF_8001)
    let c = try #require(classic.allocFolio(order: 9)), d = try #require(classic.allocFolio(order: 9))
    let wc: UInt64 = classic.memmap.load(classic.page(c.pfn + 7), 8), wd: UInt64 = classic.memmap.load(classic.page(d.pfn + 7), 8)
    #expect(wc == classic.page(c.pfn) | 1)
    #expect(wc != wd)
  }

  /// The branch-free and branchy decodes agree on random words, with bit 0 set and clear.
  @Test func branchlessMatchesBranchyOnRandomWords() async {
    await propertyCheck(count: 2000, input: Gen.uint64(in: 0...UInt64.max), Gen.uint64(in: 0...UInt64.max)) { rawPage, info in
      let page = rawPage & ~UInt64(63)  // struct pages are 64-byte aligned
      #expect(ClassicEncoding.head(ofPageAt: page, info: info) == ClassicEncoding.headBranchy(ofPageAt: page, info: info))
      #expect(MaskEncoding.head(ofPageAt: page, info: info) == MaskEncoding.headBranchy(ofPageAt: page, info: info))
      #expect(MaskEncoding.head(ofPageAt: page, info: info | 1) == page & (info | 1))
      #expect(MaskEncoding.head(ofPageAt: page, info: info & ~1) == page)
    }
  }

  /// With a vmemmap base aligned to 4 KiB only, the mask decode of the series' patch 02
  /// warning gives a wrong head for orders whose struct pages span more than 4 KiB; the
  /// classic encoding does not care.
  @Test func misalignedBaseGivesWrongHeadsInMaskEra() throws {
    let base = Kernel.vmemmapBaseL4 + 0x1000
    let m = try flatMachine(MaskEncoding.self, ram: 256 << 20, base: base, allowMisaligned: true)
    let small = try #require(m.allocFolio(order: 4))  // 1 KiB of struct pages, fits in 4 KiB
    #expect(m.compoundHead(small.pfn + 15) == small.pfn)
    let big = try #require(m.allocFolio(order: 9))  // 32 KiB of struct pages
    var wrong = 0
    for n in 1..<512 where m.compoundHead(big.pfn + n) != big.pfn { wrong += 1 }
    // The head's struct page is not 32 KiB aligned, so tails mask to the wrong address.
    #expect(wrong > 0)
    #expect(m.compoundHead(big.pfn + 511) == big.pfn + 448)  // 0x1000 of misalignment = 64 pages
    let c = try flatMachine(ClassicEncoding.self, ram: 256 << 20, base: base)
    let f = try #require(c.allocFolio(order: 9))
    for n in 0..<512 { #expect(c.compoundHead(f.pfn + n) == f.pfn) }
  }
}
