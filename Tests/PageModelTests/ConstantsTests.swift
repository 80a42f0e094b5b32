import Testing
@testable import PageModel

/// Every mirrored kernel number, pinned. A change here must be a deliberate act.
@Suite struct ConstantsTests {
  @Test func kernelConstants() {
    #expect(Kernel.pageShift == 12)
    #expect(Kernel.pageSize == 4096)
    #expect(Kernel.structPageSize == 64)
    #expect(Kernel.structPageShift == 6)
    #expect(Kernel.structPagesPerVmemmapPage == 64)
    #expect(Kernel.maxPageOrder == 10)
    #expect(PhysicalMemory.madvPopulateWrite == 23)  // MADV_POPULATE_WRITE, uapi mman-common.h
    #expect(Kernel.nrPageOrders == 11)
    #expect(Kernel.maxFolioOrder == 22)
    #expect(Kernel.maxFolioNrPages == 4_194_304)
    #expect(Kernel.maxFolioVmemmapAlign == 0x1000_0000)
    #expect(Kernel.sectionSizeBits == 27)
    #expect(Kernel.pfnSectionShift == 15)
    #expect(Kernel.pagesPerSection == 32768)
    #expect(Kernel.vmemmapPagesPerSection == 512)
    #expect(Kernel.vmemmapBaseL4 == 0xffff_ea00_0000_0000)
    #expect(Kernel.tailMapping == 0xdead_0000_0000_0400)
    #expect(Kernel.listPoison1 == 0xdead_0000_0000_0100)
    #expect(Kernel.listPoison2 == 0xdead_0000_0000_0122)
    #expect(Kernel.pageAllocCostlyOrder == 3)
    #expect(Kernel.pageblockOrder == 9)
    #expect(Kernel.migratePcpTypes == 3)
    #expect(Kernel.nrPcpThp == 2)
    #expect(Kernel.nrPcpLists == 14)
    // The model folds the migratetypes: one list per per-CPU order, 0-3 and 9.
    #expect(ZoneLists.pcpLists == 5)
    #expect((0..<ZoneLists.pcpLists).map(ZoneLists.pcpOrder) == [0, 1, 2, 3, 9])
    #expect((0...Kernel.maxPageOrder).filter(ZoneLists.pcpAllowed) == [0, 1, 2, 3, 9])
  }

  @Test func pageFlagBits() {
    let expected: [(PageFlag, Int)] = [
      (.locked, 0), (.writeback, 1), (.referenced, 2), (.uptodate, 3), (.dirty, 4), (.lru, 5), (.head, 6),
      (.waiters, 7), (.active, 8), (.workingset, 9), (.ownerPriv1, 10), (.owner2, 11), (.arch1, 12),
      (.reserved, 13), (.private, 14), (.private2, 15), (.reclaim, 16), (.swapbacked, 17), (.unevictable, 18),
      (.dropbehind, 19), (.mlocked, 20), (.hwPoison, 21), (.young, 22), (.idle, 23),
    ]
    for (flag, bit) in expected { #expect(flag.rawValue == bit, "PG_\(flag)") }
    #expect(PageFlag.allCases.count == expected.count)
    #expect(PageFlag.hasHWPoisoned == .active)
    #expect(PageFlag.largeRmappable == .workingset)
    #expect(PageFlag.partiallyMapped == .reclaim)
    #expect(PageFlag.swapcache == .ownerPriv1)
    #expect(PageFlag.anonExclusive == .owner2)
    #expect(PageFlagsLayout.nodesShift == 54)
    #expect(PageFlagsLayout.zonesShift == 51)
  }

  @Test func pageTypes() {
    let expected: [(PageType, UInt8)] = [
      (.buddy, 0xf0), (.offline, 0xf1), (.table, 0xf2), (.guardPage, 0xf3), (.hugetlb, 0xf4), (.slab, 0xf5),
      (.zsmalloc, 0xf6), (.unaccepted, 0xf7), (.largeKmalloc, 0xf8), (.netpp, 0xf9), (.mapcountUnderflow, 0xff),
    ]
    for (t, v) in expected { #expect(t.rawValue == v) }
    #expect(Set(PageType.allCases) == Set(expected.map(\.0)), "a page type is not pinned here")
    #expect(PageType.buddy.word == 0xf000_0000)
    #expect(PageType.of(0xffff_ffff) == nil)
    #expect(PageType.of(0) == nil)
    #expect(PageType.of(0xf400_0000) == .hugetlb)
  }

  @Test func kpfBits() {
    let expected: [(KPF, Int)] = [
      (.locked, 0), (.error, 1), (.referenced, 2), (.uptodate, 3), (.dirty, 4), (.lru, 5), (.active, 6), (.slab, 7),
      (.writeback, 8), (.reclaim, 9), (.buddy, 10), (.mmap, 11), (.anon, 12), (.swapcache, 13), (.swapbacked, 14),
      (.compoundHead, 15), (.compoundTail, 16), (.huge, 17), (.unevictable, 18), (.hwPoison, 19), (.noPage, 20),
      (.ksm, 21), (.thp, 22), (.offline, 23), (.zeroPage, 24), (.idle, 25), (.pgtable, 26), (.reserved, 32),
      (.mlocked, 33), (.owner2, 34), (.private, 35), (.private2, 36), (.ownerPrivate, 37), (.arch, 38),
      (.uncached, 39), (.softDirty, 40), (.arch2, 41), (.arch3, 42),
    ]
    for (k, bit) in expected { #expect(k.rawValue == bit, "KPF_\(k)") }
    #expect(KPF.allCases.count == expected.count)
  }

  @Test func structPageOffsets() {
    #expect(StructPageLayout.flags == 0)
    #expect(StructPageLayout.compoundInfo == 8)
    #expect(StructPageLayout.lruNext == 8)
    #expect(StructPageLayout.lruPrev == 16)
    #expect(StructPageLayout.mapping == 24)
    #expect(StructPageLayout.index == 32)
    #expect(StructPageLayout.private == 40)
    #expect(StructPageLayout.mapcount == 48)
    #expect(StructPageLayout.refcount == 52)
    #expect(StructPageLayout.memcgData == 56)
    #expect(StructPageLayout.folioFlags1 == 64)
    #expect(StructPageLayout.folioHead1 == 72)
    #expect(StructPageLayout.folioLargeMapcount == 80)
    #expect(StructPageLayout.folioEntireMapcount == 88)
    #expect(StructPageLayout.folioPincount == 92)
    #expect(StructPageLayout.folioMapcount1 == 112)
    #expect(StructPageLayout.folioRefcount1 == 116)
    #expect(StructPageLayout.folioNrPages == 120)
    #expect(StructPageLayout.folioDeferredList == 144)
    #expect(StructPageLayout.folioHead3 == 200)
    #expect(ZoneType.dma.rawValue == 0 && ZoneType.dma32.rawValue == 1 && ZoneType.normal.rawValue == 2)
    #expect(ZoneType.dma.pfnLimit == 0x1000 && ZoneType.dma32.pfnLimit == 0x100000)
  }

  @Test func memdescNumbers() {
    let types: [(MemdescType, UInt64)] = [
      (.misc, 0), (.buddy, 1), (.file, 2), (.anon, 3), (.ksm, 4), (.slab, 5), (.movable, 6), (.pageTable, 7),
      (.netPool, 8), (.hwPoison, 9), (.perCPU, 10),
    ]
    for (t, v) in types { #expect(t.rawValue == v) }
    let subtypes: [(MiscSubtype, UInt64)] = [
      (.reserved, 0), (.zeroPage, 1), (.unknown, 2), (.vmalloc, 3), (.guardPage, 4), (.offline, 5),
      (.kmallocLarge, 6), (.exact, 7), (.brd, 8),
    ]
    for (t, v) in subtypes { #expect(t.rawValue == v) }
    #expect(MiscWord.subtypeShift == 4 && MiscWord.mappable == 1 << 11 && MiscWord.orderShift == 12)
    #expect(Memdesc32Format.structPageSize == 32 && Memdesc8Format.structPageSize == 8)
    #expect(Memdesc32Format.flags == 0 && Memdesc32Format.memdesc == 8 && Memdesc32Format.private == 16 && Memdesc32Format.refcount == 24)
    #expect(Memdesc32Format.vmemmapPagesPerSection == 256 && Memdesc8Format.vmemmapPagesPerSection == 64)
    #expect(ClassicEncoding.vmemmapPagesPerSection == 512)
    #expect(Era.allCases.map(\.structPageBytes) == [64, 64, 32, 8])
  }

  /// hvo.md 3.2: the mask-era compound_info of every tail, per order.
  @Test(arguments: [
    (1, 0xFFFF_FFFF_FFFF_FF81 as UInt64), (2, 0xFFFF_FFFF_FFFF_FF01), (7, 0xFFFF_FFFF_FFFF_E001),
    (9, 0xFFFF_FFFF_FFFF_8001), (18, 0xFFFF_FFFF_FF00_0001), (22, 0xFFFF_FFFF_F000_0001),
  ])
  func maskTailInfo(order: Int, info: UInt64) {
    #expect(MaskEncoding.tailInfo(headAddress: 0xffff_ea00_0000_8000, order: order) == info)
  }
}
