/// Page allocation and freeing on top of the buddy lists: zone fallback, the per-CPU
/// lists for small orders, and the preparation of new pages.
extension Machine {
  /// Allocates 2^order contiguous pages, trying the zones the flags allow from the highest
  /// down, on `node` first and then on the nearer nodes. Returns the first PFN, or nil
  /// when no zone has a free block that large. The block's first page gets refcount 1;
  /// with ``GFP/comp`` and order > 0 it becomes a compound page.
  ///
  /// Watermarks, reclaim and compaction are not modelled: a request fails only when no
  /// allowed zone has a free block of the order.
  ///
  /// Kernel: `alloc_pages_node()` -> `__alloc_pages()` -> `get_page_from_freelist()`.
  @inlinable
  public func allocPages(order: Int, gfp: GFP = .kernel, node: Int = 0) -> PFN? {
    guard let pfn = allocBlock(order: order, gfp: gfp, node: node) else { return nil }
    Format.prepNewPage(self, pfn, order: order, gfp: gfp)
    return pfn
  }

  /// Takes a block off the free lists for a request, with zone and node fallback, and
  /// leaves its struct pages for the caller to prepare.
  /// Kernel: `get_page_from_freelist()`.
  @inlinable
  func allocBlock(order: Int, gfp: GFP, node: Int) -> PFN? {
    precondition(order >= 0 && order <= Kernel.maxPageOrder, "alloc_pages order \(order) above MAX_PAGE_ORDER")
    let list = zonelistTable + (node &* 3 &+ min(gfp.highestZone.rawValue, 2)) &* zonelistStride
    var i = 1
    while i <= list[0] {
      let zone = list[i]
      i &+= 1
      if gfp.contains(.thisNode) && zones[zone].node != node { continue }
      if let pfn = rmqueue(zone: zone, order: order) { return pfn }
    }
    return nil
  }

  /// Drops the caller's reference on a block from ``allocPages(order:gfp:node:)`` and
  /// frees it when that was the last one.
  ///
  /// Kernel: `__free_pages()`.
  @inlinable
  public func freePages(_ pfn: PFN, order: Int) {
    if Format.putPageTestZero(self, memmap.address(of: pfn)) { freeFrozenPages(pfn, order: order) }
  }

  /// Frees a block whose refcount is already 0: unprepares it and sends it to the
  /// per-CPU lists or the buddy lists.
  ///
  /// Kernel: `free_frozen_pages()` -> `free_pages_prepare()`, then `free_unref_page()`
  /// or `free_one_page()`.
  @inlinable
  func freeFrozenPages(_ pfn: PFN, order: Int) {
    let head = memmap.address(of: pfn)
    Format.freePagesPrepare(self, head, order: order)
    let zone = zoneIndex(of: pfn)
    if order <= Kernel.pageAllocCostlyOrder && zoneCounters[zone].pcpHigh > 0 {
      listAdd(head, list(zone, ZoneLists.pcp(order)))
      zoneCounters[zone].pcpCount &+= 1 << order
      if zoneCounters[zone].pcpCount >= zoneCounters[zone].pcpHigh { freePCPPagesBulk(zone: zone) }
    } else {
      freeOneBlock(pfn, order: order, zone: zone)
    }
  }

  /// Kernel: `rmqueue()`: the per-CPU lists for small orders, the buddy lists otherwise.
  @inlinable
  func rmqueue(zone: Int, order: Int) -> PFN? {
    guard order <= Kernel.pageAllocCostlyOrder && zoneCounters[zone].pcpHigh > 0 else {
      return rmqueueSmallest(zone: zone, order: order)
    }
    let pcp = list(zone, ZoneLists.pcp(order))
    if listFirst(pcp) == nil {
      // Kernel: `rmqueue_bulk()` with `nr_pcp_alloc()`'s batch.
      let count = order == 0 ? zoneCounters[zone].pcpBatch : max(zoneCounters[zone].pcpBatch >> order, 2)
      for _ in 0..<count {
        guard let pfn = rmqueueSmallest(zone: zone, order: order) else { break }
        listAddTail(memmap.address(of: pfn), pcp)
        zoneCounters[zone].pcpCount &+= 1 << order
      }
    }
    guard let page = listFirst(pcp) else { return nil }
    listDel(page, pcp)
    zoneCounters[zone].pcpCount &-= 1 << order
    return memmap.pfn(ofPageAt: page)
  }

  /// Moves a batch of the oldest per-CPU pages back to the buddy lists.
  /// Kernel: `free_pcppages_bulk()`.
  @usableFromInline
  func freePCPPagesBulk(zone: Int) {
    var toFree = zoneCounters[zone].pcpBatch
    var order = 0
    var idle = 0
    while toFree > 0 && zoneCounters[zone].pcpCount > 0 && idle <= ZoneLists.pcpOrders {
      let pcp = list(zone, ZoneLists.pcp(order))
      if let page = listLast(pcp) {
        listDel(page, pcp)
        zoneCounters[zone].pcpCount -= 1 << order
        toFree -= 1 << order
        freeOneBlock(memmap.pfn(ofPageAt: page), order: order, zone: zone)
        idle = 0
      } else {
        idle += 1
      }
      order = (order + 1) % ZoneLists.pcpOrders
    }
  }

  /// Empties every per-CPU list into the buddy lists. Kernel: `drain_all_pages(NULL)`.
  public func drainAllPages() {
    for zone in zones.indices {
      for order in 0..<ZoneLists.pcpOrders {
        let pcp = list(zone, ZoneLists.pcp(order))
        while let page = listLast(pcp) {
          listDel(page, pcp)
          zoneCounters[zone].pcpCount -= 1 << order
          freeOneBlock(memmap.pfn(ofPageAt: page), order: order, zone: zone)
        }
      }
    }
  }
}

/// Page preparation of the 64-byte eras: refcounts and flags in the struct page, compound
/// pages with tails.
extension Machine where Format: CompoundEncoding {
  /// Kernel: `page_ref_dec_and_test()`.
  @inlinable @inline(__always)
  func putPageTestZero(_ page: UInt64) -> Bool {
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
  func prepNewPage(_ pfn: PFN, order: Int, gfp: GFP) {
    let head = memmap.address(of: pfn)
    #if PAGEMODEL_DEBUG_VM
      for i in 0..<(1 << order) { checkNewPage(memmap.address(of: pfn + i)) }
    #endif
    memmap.set(head, StructPageLayout.private, UInt64(0))
    memmap.set(head, StructPageLayout.refcount, UInt32(1))
    if order > 0 && gfp.contains(.comp) { prepCompoundPage(pfn, order: order) }
  }

  /// Kernel: `check_new_page()` / `page_expected_state()`.
  @usableFromInline
  func checkNewPage(_ page: UInt64) {
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
  func freePagesPrepare(_ head: UInt64, order: Int) {
    let flags: UInt64 = memmap.load(head, StructPageLayout.flags)
    if flags & PageFlag.head.mask != 0 {
      let page1 = head &+ UInt64(Kernel.structPageSize)
      let flags1: UInt64 = memmap.load(page1, StructPageLayout.flags)
      // Kernel: `page[1].flags &= ~PAGE_FLAGS_SECOND` (the order byte and first-tail flags).
      let second = UInt64(0xff) | PageFlag.hasHWPoisoned.mask | PageFlag.largeRmappable.mask | PageFlag.partiallyMapped.mask
      memmap.set(page1, StructPageLayout.flags, flags1 & ~second)
      memmap.set(head, StructPageLayout.folioNrPages, UInt32(0))
      let expected = Format.tailInfo(headAddress: head, order: order)
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

extension CompoundEncoding {
  @inlinable
  public static func prepNewPage(_ m: Machine<Self>, _ pfn: PFN, order: Int, gfp: GFP) { m.prepNewPage(pfn, order: order, gfp: gfp) }
  @inlinable
  public static func freePagesPrepare(_ m: Machine<Self>, _ head: UInt64, order: Int) { m.freePagesPrepare(head, order: order) }
  @inlinable
  public static func putPageTestZero(_ m: Machine<Self>, _ page: UInt64) -> Bool { m.putPageTestZero(page) }
}
