/// Page allocation and freeing on top of the buddy lists: zone fallback, the per-CPU
/// lists for small orders and pageblock order, and the preparation of new pages.
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
  // Always inlined, as are the `MemoryModel` wrappers over it: a caller's constant `gfp`
  // and `node` then fold the zone-list choice and the `__GFP_THISNODE` test away. Left
  // to the inliner, the family's wrapper level kept this and `allocBlock` out of line
  // (+25 Ir per order-0 pair against the pre-redesign allocator).
  @inlinable @inline(__always)
  public func allocPages(order: Int, gfp: GFP = .kernel, node: Int = 0) -> PFN? {
    guard let (pfn, zone) = allocBlock(order: order, gfp: gfp, node: node) else { return nil }
    Format.prepNewPage(memmap, pfn, order: order, gfp: gfp, zone: zoneCounters[zone].type, node: zoneCounters[zone].node)
    return pfn
  }

  /// Takes a block off the free lists for a request, with zone and node fallback, and
  /// leaves its struct pages for the caller to prepare. Returns the block and the index
  /// of the zone it came from.
  /// Kernel: `get_page_from_freelist()`.
  @inlinable
  public func allocBlock(order: Int, gfp: GFP, node: Int) -> (pfn: PFN, zone: Int)? {
    precondition(order >= 0 && order <= Kernel.maxPageOrder, "alloc_pages order \(order) above MAX_PAGE_ORDER")
    let list = zonelistTable + (node &* 3 &+ min(gfp.highestZone.rawValue, 2)) &* zonelistStride
    var i = 1
    while i <= list[0] {
      let zone = list[i]
      i &+= 1
      if gfp.contains(.thisNode) && zones[zone].node != node { continue }
      if let pfn = rmqueue(zone: zone, order: order) { return (pfn, zone) }
    }
    return nil
  }

  /// Drops the caller's reference on a block from ``allocPages(order:gfp:node:)`` and
  /// frees it when that was the last one.
  ///
  /// Kernel: `__free_pages()`.
  @inlinable
  public func freePages(_ pfn: PFN, order: Int) {
    if Format.putPageTestZero(memmap, memmap.address(of: pfn)) { freeFrozenPages(pfn, order: order) }
  }

  /// Frees a block whose refcount is already 0: unprepares it and sends it to the
  /// per-CPU lists or the buddy lists.
  ///
  /// Kernel: `free_frozen_pages()` -> `free_pages_prepare()`, then `free_unref_page()`
  /// or `free_one_page()`.
  @inlinable
  func freeFrozenPages(_ pfn: PFN, order: Int) {
    let head = memmap.address(of: pfn)
    Format.freePagesPrepare(memmap, head, order: order)
    let zone = zoneIndex(of: pfn)
    if ZoneLists.pcpAllowed(order) && zoneCounters[zone].pcpHigh > 0 {
      // Kernel: `free_unref_page_commit()`.
      let index = ZoneLists.pcp(order)
      listAdd(head, list(zone, index, for: head))
      zoneCounters[zone].pcpCount &+= 1 << order
      if zoneCounters[zone].pcpCount >= zoneCounters[zone].pcpHigh {
        freePCPPagesBulk(zone: zone, count: zoneCounters[zone].pcpBatch, from: index &- Kernel.nrPageOrders)
      }
    } else {
      freeOneBlock(pfn, order: order, zone: zone)
    }
  }

  /// Kernel: `rmqueue()`: the per-CPU lists for small orders and pageblock order, the
  /// buddy lists otherwise.
  @inlinable
  func rmqueue(zone: Int, order: Int) -> PFN? {
    guard ZoneLists.pcpAllowed(order) && zoneCounters[zone].pcpHigh > 0 else {
      return rmqueueSmallest(zone: zone, order: order)
    }
    let index = ZoneLists.pcp(order)
    var hit = firstListed(zone, index)
    if hit == nil {
      // Kernel: `rmqueue_bulk()` with `nr_pcp_alloc()`'s batch; a pageblock-order
      // refill is therefore 2 blocks whenever the batch is below 1024.
      let count = order == 0 ? zoneCounters[zone].pcpBatch : max(zoneCounters[zone].pcpBatch >> order, 2)
      for _ in 0..<count {
        guard let pfn = rmqueueSmallest(zone: zone, order: order) else { break }
        let page = memmap.address(of: pfn)
        listAddTail(page, list(zone, index, for: page))
        zoneCounters[zone].pcpCount &+= 1 << order
      }
      hit = firstListed(zone, index)
    }
    guard let (page, pcp) = hit else { return nil }
    listDel(page, pcp)
    zoneCounters[zone].pcpCount &-= 1 << order
    return memmap.pfn(ofPageAt: page)
  }

  /// Moves `count` pages, the oldest first, from the per-CPU lists back to the buddy
  /// lists: list `pindex` first, each list until it is empty or the count is met, then
  /// the next one round-robin. A pageblock-order page counts 512 pages, so one can take
  /// the whole count.
  /// Kernel: `free_pcppages_bulk()`.
  @usableFromInline
  func freePCPPagesBulk(zone: Int, count: Int, from pindex: Int) {
    var toFree = min(count, zoneCounters[zone].pcpCount)
    var pindex = pindex
    while toFree > 0 {
      let order = ZoneLists.pcpOrder(pindex)
      while toFree > 0, let (page, pcp) = lastListed(zone, ZoneLists.pcp(order)) {
        listDel(page, pcp)
        zoneCounters[zone].pcpCount -= 1 << order
        toFree -= 1 << order
        freeOneBlock(memmap.pfn(ofPageAt: page), order: order, zone: zone)
      }
      pindex = pindex == ZoneLists.pcpLists - 1 ? 0 : pindex + 1
    }
  }

  /// Empties every per-CPU list into the buddy lists. Kernel: `drain_all_pages(NULL)`.
  public func drainAllPages() {
    for zone in zones.indices where zoneCounters[zone].pcpCount > 0 {
      freePCPPagesBulk(zone: zone, count: zoneCounters[zone].pcpCount, from: 0)
    }
  }
}
