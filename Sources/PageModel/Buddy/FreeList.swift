/// The kernel's intrusive doubly linked lists, threaded through `page->lru` (alias
/// `buddy_list`, `pcp_list`) in the memmap itself.
///
/// A list head lives outside the memmap (in the zone); its `address` is what the first
/// and last struct pages point back to, so the bytes in the memmap are the kernel's.
extension Machine {
  @inlinable @inline(__always)
  func list(_ zone: Int, _ index: Int) -> UnsafeMutablePointer<ListHead> {
    lists + (zone &* ZoneLists.perZone &+ index)
  }

  /// Kernel: `list_add()` of `&page->lru` at the head of `head`.
  @inlinable @inline(__always)
  func listAdd(_ page: UInt64, _ head: UnsafeMutablePointer<ListHead>) {
    let entry = page &+ 8
    let next = head.pointee.next
    memmap.set(page, StructPageLayout.lruNext, next)
    memmap.set(page, StructPageLayout.lruPrev, head.pointee.address)
    if next == head.pointee.address { head.pointee.prev = entry } else { memmap.set(next, 8, entry) }
    head.pointee.next = entry
    head.pointee.count &+= 1
  }

  /// Kernel: `list_add_tail()`.
  @inlinable @inline(__always)
  func listAddTail(_ page: UInt64, _ head: UnsafeMutablePointer<ListHead>) {
    let entry = page &+ 8
    let prev = head.pointee.prev
    memmap.set(page, StructPageLayout.lruNext, head.pointee.address)
    memmap.set(page, StructPageLayout.lruPrev, prev)
    if prev == head.pointee.address { head.pointee.next = entry } else { memmap.set(prev, 0, entry) }
    head.pointee.prev = entry
    head.pointee.count &+= 1
  }

  /// Kernel: `list_del()`: unlinks and poisons the entry.
  @inlinable @inline(__always)
  func listDel(_ page: UInt64, _ head: UnsafeMutablePointer<ListHead>) {
    let next: UInt64 = memmap.load(page, StructPageLayout.lruNext)
    let prev: UInt64 = memmap.load(page, StructPageLayout.lruPrev)
    vmBugOn(next == Kernel.listPoison1, "list_del of an entry that is not on a list")
    if prev == head.pointee.address { head.pointee.next = next } else { memmap.set(prev, 0, next) }
    if next == head.pointee.address { head.pointee.prev = prev } else { memmap.set(next, 8, prev) }
    memmap.set(page, StructPageLayout.lruNext, Kernel.listPoison1)
    memmap.set(page, StructPageLayout.lruPrev, Kernel.listPoison2)
    head.pointee.count &-= 1
  }

  /// The struct page at the head of the list, or nil when it is empty.
  /// Kernel: `list_first_entry_or_null(head, struct page, lru)`.
  @inlinable @inline(__always)
  func listFirst(_ head: UnsafeMutablePointer<ListHead>) -> UInt64? {
    let next = head.pointee.next
    return next == head.pointee.address ? nil : next &- 8
  }

  /// The struct page at the tail of the list. Kernel: `list_last_entry()`.
  @inlinable @inline(__always)
  func listLast(_ head: UnsafeMutablePointer<ListHead>) -> UInt64? {
    let prev = head.pointee.prev
    return prev == head.pointee.address ? nil : prev &- 8
  }
}
