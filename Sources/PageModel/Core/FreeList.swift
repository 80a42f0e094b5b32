/// The kernel's intrusive doubly linked lists of free pages, threaded through the memmap
/// itself (`buddy_list` / `pcp_list`, or the era's equivalent).
///
/// A list head lives outside the memmap (in the zone). It records its first and last
/// pages; the pages record their neighbours through the era's ``PageFormat`` hooks, with
/// the head's own address standing for the head, so the bytes in the memmap are what the
/// kernel would have there.
///
/// A format whose links are narrower than a PFN (``PageFormat/linkArenaShift``) gets one
/// list per arena of 2^shift frames for each free area and per-CPU list, so that a link
/// only ever names a page of its own arena: buddies never cross an arena (it is aligned
/// far above MAX_PAGE_ORDER), and taking a block looks at the arenas from the lowest up.
/// The kernel keeps several lists per order too (one per migrate type); every other
/// format has one arena.
extension Machine {
  /// The arena of a listed page. Constant 0 for formats with full-width links.
  @inlinable @inline(__always)
  func arena(of page: UInt64) -> Int {
    Format.linkArenaShift >= 64 ? 0 : Int(truncatingIfNeeded: memmap.pfn(ofPageAt: page).rawValue >> UInt64(Format.linkArenaShift))
  }

  /// Whether the machine has more than one arena; false at compile time for formats
  /// with full-width links, so their allocator is what it was without arenas.
  @inlinable @inline(__always)
  var hasArenas: Bool { Format.linkArenaShift < 64 && arenaCount > 1 }

  /// The list head of `index` (``ZoneLists``) in `zone` for pages of `arena`. The lists
  /// are arena-major, so arena 0's are where a machine without arenas has its own.
  @inlinable @inline(__always)
  func list(_ zone: Int, _ index: Int, arena: Int) -> UnsafeMutablePointer<ListHead> {
    lists + (zone &* ZoneLists.perZone &+ index &+ arena &* listsPerArena)
  }

  /// The list head that `page` goes on (or is on).
  @inlinable @inline(__always)
  func list(_ zone: Int, _ index: Int, for page: UInt64) -> UnsafeMutablePointer<ListHead> {
    hasArenas ? list(zone, index, arena: arena(of: page)) : lists + (zone &* ZoneLists.perZone &+ index)
  }

  /// The first page listed in any arena's list of `index`, lowest arena first, and its
  /// list head. Kernel: `list_first_entry_or_null()` (over the migrate types' lists).
  @inlinable @inline(__always)
  func firstListed(_ zone: Int, _ index: Int) -> (page: UInt64, head: UnsafeMutablePointer<ListHead>)? {
    let first = lists + (zone &* ZoneLists.perZone &+ index)
    if let page = listFirst(first) { return (page, first) }
    guard hasArenas else { return nil }
    for a in 1..<arenaCount {
      let head = list(zone, index, arena: a)
      if let page = listFirst(head) { return (page, head) }
    }
    return nil
  }

  /// The last page listed in any arena's list of `index`, highest arena first.
  @inlinable @inline(__always)
  func lastListed(_ zone: Int, _ index: Int) -> (page: UInt64, head: UnsafeMutablePointer<ListHead>)? {
    var a = hasArenas ? arenaCount : 1
    while a > 0 {
      a -= 1
      let head = list(zone, index, arena: a)
      if let page = listLast(head) { return (page, head) }
    }
    return nil
  }

  /// Blocks on the lists of `index` in all arenas. Kernel: `free_area->nr_free`.
  func listedCount(_ zone: Int, _ index: Int) -> Int {
    (0..<arenaCount).reduce(0) { $0 + list(zone, index, arena: $1).pointee.count }
  }

  /// Kernel: `list_add()` at the head.
  @inlinable @inline(__always)
  func listAdd(_ page: UInt64, _ head: UnsafeMutablePointer<ListHead>) { listInsert(page, head, atTail: false) }

  /// Kernel: `list_add_tail()`.
  @inlinable @inline(__always)
  func listAddTail(_ page: UInt64, _ head: UnsafeMutablePointer<ListHead>) { listInsert(page, head, atTail: true) }

  /// Links `page` in at either end; `atTail` is a constant at every call, so each caller
  /// compiles to one straight path.
  @inlinable @inline(__always)
  func listInsert(_ page: UInt64, _ head: UnsafeMutablePointer<ListHead>, atTail: Bool) {
    let sentinel = head.pointee.address
    if atTail {
      let prev = head.pointee.prev
      Format.setListLinks(memmap, page, next: sentinel, prev: prev, sentinel: sentinel)
      if prev == sentinel { head.pointee.next = page } else { Format.setListNext(memmap, prev, page, sentinel: sentinel) }
      head.pointee.prev = page
    } else {
      let next = head.pointee.next
      Format.setListLinks(memmap, page, next: next, prev: sentinel, sentinel: sentinel)
      if next == sentinel { head.pointee.prev = page } else { Format.setListPrev(memmap, next, page, sentinel: sentinel) }
      head.pointee.next = page
    }
    head.pointee.count &+= 1
  }

  /// Kernel: `list_del()`: unlinks and poisons the entry.
  @inlinable @inline(__always)
  func listDel(_ page: UInt64, _ head: UnsafeMutablePointer<ListHead>) {
    let sentinel = head.pointee.address
    let (next, prev) = Format.listLinks(memmap, page, sentinel: sentinel)
    if prev == sentinel { head.pointee.next = next } else { Format.setListNext(memmap, prev, next, sentinel: sentinel) }
    if next == sentinel { head.pointee.prev = prev } else { Format.setListPrev(memmap, next, prev, sentinel: sentinel) }
    Format.poisonListLinks(memmap, page)
    head.pointee.count &-= 1
  }

  /// The first page on the list, or nil when it is empty.
  /// Kernel: `list_first_entry_or_null()`.
  @inlinable @inline(__always)
  func listFirst(_ head: UnsafeMutablePointer<ListHead>) -> UInt64? {
    let next = head.pointee.next
    return next == head.pointee.address ? nil : next
  }

  /// The last page on the list. Kernel: `list_last_entry()`.
  @inlinable @inline(__always)
  func listLast(_ head: UnsafeMutablePointer<ListHead>) -> UInt64? {
    let prev = head.pointee.prev
    return prev == head.pointee.address ? nil : prev
  }
}
