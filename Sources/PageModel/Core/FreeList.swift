/// The kernel's intrusive doubly linked lists of free pages, threaded through the memmap
/// itself (`buddy_list` / `pcp_list`, or the era's equivalent).
///
/// A list head lives outside the memmap (in the zone). It records its first and last
/// pages; the pages record their neighbours through the era's ``PageFormat`` hooks, with
/// the head's own address standing for the head, so the bytes in the memmap are what the
/// kernel would have there.
extension Machine {
  @inlinable @inline(__always)
  func list(_ zone: Int, _ index: Int) -> UnsafeMutablePointer<ListHead> {
    lists + (zone &* ZoneLists.perZone &+ index)
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
