/// The 64-byte `struct page` of the classic and mask eras: a free block's first page has
/// page type buddy and its order in `private`, and is linked through `buddy_list`
/// (which overlays `lru` at offset 8), exactly as in the kernel.
extension CompoundEncoding {
  @inlinable public static var structPageShift: Int { Kernel.structPageShift }

  @inlinable
  public static func initPage(_ p: UnsafeMutableRawPointer, address: UInt64, zone: ZoneType, node: Int, reserved: Bool) {
    let links = PageFlagsLayout.links(zone: zone, node: node)
    p.storeBytes(of: reserved ? links | PageFlag.reserved.mask : links, toByteOffset: StructPageLayout.flags, as: UInt64.self)
    // INIT_LIST_HEAD(&page->lru): an empty list points at itself.
    p.storeBytes(of: address &+ 8, toByteOffset: StructPageLayout.lruNext, as: UInt64.self)
    p.storeBytes(of: address &+ 8, toByteOffset: StructPageLayout.lruPrev, as: UInt64.self)
    // _mapcount -1 in the low half, _refcount (1 reserved, 0 free) in the high half.
    p.storeBytes(of: reserved ? 0x0000_0001_ffff_ffff : 0x0000_0000_ffff_ffff, toByteOffset: StructPageLayout.mapcount, as: UInt64.self)
  }

  @inlinable
  public static func isReserved(_ m: Memmap<Self>, _ page: UInt64) -> Bool {
    m.load(page, StructPageLayout.flags, as: UInt64.self) & PageFlag.reserved.mask != 0
  }
  @inlinable
  public static func clearReserved(_ m: Memmap<Self>, _ page: UInt64) {
    m.set(page, StructPageLayout.flags, m.load(page, StructPageLayout.flags, as: UInt64.self) & ~PageFlag.reserved.mask)
  }

  @inlinable
  public static func buddyOrder(_ m: Memmap<Self>, _ page: UInt64) -> Int? {
    let type: UInt32 = m.load(page, StructPageLayout.mapcount)
    guard type >> 24 == UInt32(PageType.buddy.rawValue) else { return nil }
    return Int(truncatingIfNeeded: m.load(page, StructPageLayout.private, as: UInt64.self))
  }

  @inlinable
  public static func setBuddy(_ m: Memmap<Self>, _ page: UInt64, order: Int) {
    m.set(page, StructPageLayout.private, UInt64(order))
    m.set(page, StructPageLayout.mapcount, PageType.buddy.word)
  }

  @inlinable
  public static func clearBuddy(_ m: Memmap<Self>, _ page: UInt64) {
    m.set(page, StructPageLayout.mapcount, PageType.noType)
    m.set(page, StructPageLayout.private, UInt64(0))
  }
}

/// Page preparation of the 64-byte eras: refcounts and flags in the struct page, compound
/// pages with tails.
extension CompoundEncoding {
  /// Kernel: `page_ref_dec_and_test()`.
  // `@inlinable` only: on a protocol requirement implemented in this extension,
  // `@inline(__always)` leaves the client's `Machine<ClassicEncoding>` specialisation
  // calling it through the witness table (docs/benchmarks.md, suggested library changes).
  @inlinable
  public static func putPageTestZero(_ memmap: Memmap<Self>, _ page: UInt64) -> Bool {
    let ref: UInt32 = memmap.load(page, StructPageLayout.refcount)
    vmBugOn(ref == 0, "put_page on a page with refcount 0")
    memmap.set(page, StructPageLayout.refcount, ref &- 1)
    return ref == 1
  }

  /// Checks a page leaving the allocator and gives it its first reference; makes a
  /// compound page of a multi-page block when asked.
  ///
  /// Kernel: `prep_new_page()` -> `post_alloc_hook()` (`set_page_private(page, 0)`,
  /// `set_page_refcounted()`), `check_new_page()`, `prep_compound_page()`.
  @inlinable
  public static func prepNewPage(_ memmap: Memmap<Self>, _ pfn: PFN, order: Int, gfp: GFP, zone: ZoneType, node: Int) {
    let head = memmap.address(of: pfn)
    #if PAGEMODEL_DEBUG_VM
      for i in 0..<(1 << order) { checkNewPage(memmap, memmap.address(of: pfn + i)) }
    #endif
    memmap.set(head, StructPageLayout.private, UInt64(0))
    memmap.set(head, StructPageLayout.refcount, UInt32(1))
    if order > 0 && gfp.contains(.comp) { prepCompoundPage(memmap, pfn, order: order) }
  }

  /// Kernel: `check_new_page()` / `page_expected_state()`.
  @usableFromInline
  static func checkNewPage(_ memmap: Memmap<Self>, _ page: UInt64) {
    let mapcount: UInt32 = memmap.load(page, StructPageLayout.mapcount)
    let refcount: UInt32 = memmap.load(page, StructPageLayout.refcount)
    let mapping: UInt64 = memmap.load(page, StructPageLayout.mapping)
    let flags: UInt64 = memmap.load(page, StructPageLayout.flags)
    let memcg: UInt64 = memmap.load(page, StructPageLayout.memcgData)
    vmBugOn(mapcount != PageType.noType, "bad page: nonzero mapcount or page type 0x\(String(mapcount, radix: 16)) at pfn \(memmap.pfn(ofPageAt: page))")
    vmBugOn(refcount != 0, "bad page: nonzero _refcount at pfn \(memmap.pfn(ofPageAt: page))")
    vmBugOn(mapping != 0, "bad page: non-NULL mapping at pfn \(memmap.pfn(ofPageAt: page))")
    vmBugOn(flags & PageFlagsLayout.flagsMask & ~PageFlag.hwPoison.mask != 0, "bad page: flags set at allocation at pfn \(memmap.pfn(ofPageAt: page))")
    vmBugOn(memcg != 0, "bad page: still charged to a cgroup at pfn \(memmap.pfn(ofPageAt: page))")
  }

  /// Undoes what allocation and use did to a block's struct pages before it is freed.
  ///
  /// Kernel: `free_pages_prepare()` with `free_tail_page_prepare()` for each tail.
  @inlinable
  public static func freePagesPrepare(_ memmap: Memmap<Self>, _ head: UInt64, order: Int) {
    let flags: UInt64 = memmap.load(head, StructPageLayout.flags)
    if flags & PageFlag.head.mask != 0 {
      let page1 = head &+ UInt64(Kernel.structPageSize)
      let flags1: UInt64 = memmap.load(page1, StructPageLayout.flags)
      // Kernel: `page[1].flags &= ~PAGE_FLAGS_SECOND` (the order byte and first-tail flags).
      let second = UInt64(0xff) | PageFlag.hasHWPoisoned.mask | PageFlag.largeRmappable.mask | PageFlag.partiallyMapped.mask
      memmap.set(page1, StructPageLayout.flags, flags1 & ~second)
      memmap.set(head, StructPageLayout.folioNrPages, UInt32(0))
      let expected = tailInfo(headAddress: head, order: order)
      for i in 1..<(1 << order) {
        let tail = head &+ UInt64(i << Kernel.structPageShift)
        let info: UInt64 = memmap.load(tail, StructPageLayout.compoundInfo)
        vmBugOn(info != expected, "bad page: corrupted compound_info in tail \(i) of pfn \(memmap.pfn(ofPageAt: head))")
        memmap.set(tail, StructPageLayout.mapping, UInt64(0))
        // Kernel: clear_compound_head().
        memmap.set(tail, StructPageLayout.compoundInfo, UInt64(0))
        // Kernel: `(page + i)->flags &= ~PAGE_FLAGS_CHECK_AT_PREP`.
        let tailFlags: UInt64 = memmap.load(tail, StructPageLayout.flags)
        memmap.set(tail, StructPageLayout.flags, tailFlags & ~(PageFlagsLayout.flagsMask & ~PageFlag.hwPoison.mask))
      }
    }
    memmap.set(head, StructPageLayout.flags, flags & ~(PageFlagsLayout.flagsMask & ~PageFlag.hwPoison.mask))
    memmap.set(head, StructPageLayout.mapping, UInt64(0))
    memmap.set(head, StructPageLayout.memcgData, UInt64(0))
  }
}

/// Compound pages of the 64-byte eras: the head, the tails and the folio fields.
extension CompoundEncoding {
  /// Makes a compound page of the 2^order pages at `pfn`: PG_head on the first, the
  /// era's `compound_info` on each tail, and the folio fields in pages 1-3.
  ///
  /// Kernel: `prep_compound_page()` -> `__SetPageHead()`, `prep_compound_tail()`,
  /// `prep_compound_head()`.
  @inlinable
  public static func prepCompoundPage(_ memmap: Memmap<Self>, _ pfn: PFN, order: Int) {
    let head = memmap.address(of: pfn)
    let flags: UInt64 = memmap.load(head, StructPageLayout.flags)
    memmap.set(head, StructPageLayout.flags, flags | PageFlag.head.mask)
    let info = tailInfo(headAddress: head, order: order)
    for i in 1..<(1 << order) { prepCompoundTail(memmap, head &+ UInt64(i << Kernel.structPageShift), info: info) }
    prepCompoundHead(memmap, head, order: order)
  }

  /// Kernel: `prep_compound_tail()`: `mapping = TAIL_MAPPING`, `set_compound_head()`,
  /// `private = 0`.
  @inlinable @inline(__always)
  static func prepCompoundTail(_ memmap: Memmap<Self>, _ tail: UInt64, info: UInt64) {
    memmap.set(tail, StructPageLayout.mapping, Kernel.tailMapping)
    memmap.set(tail, StructPageLayout.compoundInfo, info)
    memmap.set(tail, StructPageLayout.private, UInt64(0))
  }

  /// Kernel: `prep_compound_head()`: the order (`folio_set_order()`) and the mapcount
  /// fields of page 1, the deferred-split list head of page 2.
  @inlinable
  static func prepCompoundHead(_ memmap: Memmap<Self>, _ head: UInt64, order: Int) {
    let flags1: UInt64 = memmap.load(head, StructPageLayout.folioFlags1)
    memmap.set(head, StructPageLayout.folioFlags1, (flags1 & ~UInt64(0xff)) | UInt64(order))
    memmap.set(head, StructPageLayout.folioNrPages, UInt32(1 << order))
    memmap.set(head, StructPageLayout.folioLargeMapcount, UInt32.max)
    memmap.set(head, StructPageLayout.folioNrPagesMapped, UInt32(0))
    memmap.set(head, StructPageLayout.folioMMIds, UInt64(0))
    memmap.set(head, StructPageLayout.folioMMIdMapcount, UInt64.max)
    memmap.set(head, StructPageLayout.folioEntireMapcount, UInt32.max)
    memmap.set(head, StructPageLayout.folioPincount, UInt32(0))
    if order > 1 {
      let list = head &+ UInt64(StructPageLayout.folioDeferredList)
      memmap.set(head, StructPageLayout.folioDeferredList, list)
      memmap.set(head, StructPageLayout.folioDeferredList + 8, list)
    }
  }
}
