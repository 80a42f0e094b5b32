/// The buddy allocator: per-zone free lists of naturally aligned blocks of 2^order pages,
/// split on allocation and merged with their buddy (`pfn ^ (1 << order)`) on free.
///
/// State lives where the kernel keeps it: the first page of a free block has page type
/// buddy and its order in `private`, and is linked into `free_area[order]` through
/// `buddy_list`. Migrate types are not modelled: one free list per order.
extension Machine {
  // MARK: struct page state of free blocks

  /// Kernel: `PageBuddy()`.
  @inlinable @inline(__always)
  func isBuddy(_ page: UInt64) -> Bool { Format.buddyOrder(memmap, page) != nil }

  /// Kernel: `buddy_order()`.
  @inlinable @inline(__always)
  func buddyOrder(_ page: UInt64) -> Int { Format.buddyOrder(memmap, page) ?? -1 }

  /// Kernel: `set_buddy_order()`.
  @inlinable @inline(__always)
  func setBuddyOrder(_ page: UInt64, _ order: Int) { Format.setBuddy(memmap, page, order: order) }

  /// Kernel: `__ClearPageBuddy()`.
  @inlinable @inline(__always)
  func clearBuddy(_ page: UInt64) { Format.clearBuddy(memmap, page) }

  /// Whether `buddy` is the free buddy of order `order` in the same zone.
  /// Kernel: `page_is_buddy()`.
  @inlinable @inline(__always)
  func pageIsBuddy(_ buddy: UInt64, order: Int, zone: Int) -> Bool {
    Format.buddyOrder(memmap, buddy) == order && zoneIndex(ofPage: buddy) == zone
  }

  // MARK: free

  /// Puts a block of 2^order pages that starts at `pfn` into the free lists, merging it
  /// with its buddies as far as they are free.
  ///
  /// Kernel: `__free_one_page()`.
  @inlinable
  func freeOneBlock(_ start: PFN, order startOrder: Int, zone: Int) {
    var pfn = start.rawValue
    var order = startOrder
    vmBugOn(pfn & ((1 << UInt64(order)) - 1) != 0, "free of a misaligned block")
    let pages = 1 << order
    while order < Kernel.maxPageOrder {
      let buddyPFN = pfn ^ (1 << UInt64(order))
      let buddy = memmap.address(of: PFN(buddyPFN))
      guard pageIsBuddy(buddy, order: order, zone: zone) else { break }
      listDel(buddy, list(zone, ZoneLists.freeArea(order), for: buddy))
      clearBuddy(buddy)
      pfn &= buddyPFN
      order += 1
    }
    let head = memmap.address(of: PFN(pfn))
    setBuddyOrder(head, order)
    listAdd(head, list(zone, ZoneLists.freeArea(order), for: head))
    zoneCounters[zone].freePages &+= pages
  }

  // MARK: allocate

  /// Takes the smallest free block of at least `order` from a zone and splits it down.
  ///
  /// Kernel: `__rmqueue_smallest()` with `page_del_and_expand()`.
  @inlinable
  func rmqueueSmallest(zone: Int, order: Int) -> PFN? {
    var current = order
    while current <= Kernel.maxPageOrder {
      if let (page, area) = firstListed(zone, ZoneLists.freeArea(current)) {
        listDel(page, area)
        clearBuddy(page)
        let pfn = memmap.pfn(ofPageAt: page)
        expand(pfn, low: order, high: current, zone: zone)
        zoneCounters[zone].freePages &-= 1 << order
        return pfn
      }
      current += 1
    }
    return nil
  }

  /// Returns the upper halves of a split block to the free lists.
  /// Kernel: `expand()`.
  @inlinable
  func expand(_ pfn: PFN, low: Int, high: Int, zone: Int) {
    var high = high
    var size = 1 << high
    while high > low {
      high -= 1
      size >>= 1
      let half = memmap.address(of: pfn + size)
      setBuddyOrder(half, high)
      listAdd(half, list(zone, ZoneLists.freeArea(high), for: half))
    }
  }

  /// Takes a specific free block out of the buddy allocator, splitting the free block that
  /// holds it. Returns false if any page of it is not buddy-free.
  ///
  /// Kernel: what `alloc_contig_range()` achieves by isolation and `__isolate_free_page()`;
  /// the model takes the pages straight from the free lists.
  func takeFreeRange(_ range: PFNRange, zone: Int) -> Bool {
    // Check first, so that a failure changes nothing.
    var pfn = range.lowerBound
    while pfn < range.upperBound {
      guard let (head, order) = freeBlock(containing: pfn), zoneIndex(ofPage: memmap.address(of: head)) == zone else { return false }
      pfn = head + (1 << order)
    }
    pfn = range.lowerBound
    while pfn < range.upperBound {
      let (head, order) = freeBlock(containing: pfn)!
      let headPage = memmap.address(of: head)
      listDel(headPage, list(zone, ZoneLists.freeArea(order), for: headPage))
      clearBuddy(headPage)
      zoneCounters[zone].freePages -= 1 << order
      // Give back what lies outside the range, in aligned pieces.
      let blockEnd = head + (1 << order)
      for piece in PFN.alignedBlocks(head..<max(head, range.lowerBound)) + PFN.alignedBlocks(min(blockEnd, range.upperBound)..<blockEnd) {
        freeOneBlock(piece.pfn, order: piece.order, zone: zone)
      }
      pfn = blockEnd
    }
    return true
  }

  /// The free block that contains `pfn`, if it is buddy-free.
  /// Kernel: the walk of `is_free_buddy_page()`.
  @inlinable
  public func freeBlock(containing pfn: PFN) -> (head: PFN, order: Int)? {
    guard pfnValid(pfn) else { return nil }
    for order in 0...Kernel.maxPageOrder {
      let head = PFN(pfn.rawValue & ~((1 << UInt64(order)) - 1))
      let page = memmap.address(of: head)
      if let o = Format.buddyOrder(memmap, page), o >= order { return (head, o) }
    }
    return nil
  }
}

extension PFN {
  /// Splits a range into the largest naturally aligned blocks of at most MAX_PAGE_ORDER.
  static func alignedBlocks(_ range: PFNRange) -> [(pfn: PFN, order: Int)] {
    var out: [(PFN, Int)] = []
    var start = range.lowerBound.rawValue
    let end = range.upperBound.rawValue
    while start < end {
      var order = Swift.min(Kernel.maxPageOrder, start == 0 ? Kernel.maxPageOrder : start.trailingZeroBitCount)
      while start + (1 << UInt64(order)) > end { order -= 1 }
      out.append((PFN(start), order))
      start += 1 << UInt64(order)
    }
    return out
  }
}
