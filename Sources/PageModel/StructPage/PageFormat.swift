/// How an era lays out `struct page`: its size, the state the boot code writes, and
/// where the buddy allocator keeps a free block's order and list links.
///
/// The machine, the buddy allocator and the per-CPU lists are written once against this
/// protocol and specialised per era at compile time.
public protocol PageFormat {
  static var era: Era { get }
  /// log2 of `sizeof(struct page)`: 6 (64 bytes), 5 (32 bytes) or 3 (8 bytes).
  static var structPageShift: Int { get }

  /// Writes one struct page as boot leaves it: zone and node, and either reserved or
  /// free (refcount 0, ready for the buddy allocator).
  ///
  /// Kernel: `__init_single_page()`, then `__free_pages_core()` for free pages.
  static func initPage(_ page: UnsafeMutableRawPointer, address: UInt64, zone: ZoneType, node: Int, reserved: Bool)

  /// The order of the free block that starts at `page`, or nil if it does not start one.
  /// Kernel: `PageBuddy()` and `buddy_order()`.
  static func buddyOrder(_ m: Memmap<Self>, _ page: UInt64) -> Int?
  /// Marks `page` as the first page of a free block of `order`. Kernel: `set_buddy_order()`.
  static func setBuddy(_ m: Memmap<Self>, _ page: UInt64, order: Int)
  /// Clears the free-block mark. Kernel: `__ClearPageBuddy()`, `set_page_private(page, 0)`.
  static func clearBuddy(_ m: Memmap<Self>, _ page: UInt64)

  /// The neighbours of a listed page: page addresses, or `sentinel` for the list head.
  static func listLinks(_ m: Memmap<Self>, _ page: UInt64, sentinel: UInt64) -> (next: UInt64, prev: UInt64)
  /// Stores a listed page's neighbours (page addresses, or `sentinel` for the list head).
  static func setListLinks(_ m: Memmap<Self>, _ page: UInt64, next: UInt64, prev: UInt64, sentinel: UInt64)
  static func setListNext(_ m: Memmap<Self>, _ page: UInt64, _ next: UInt64, sentinel: UInt64)
  static func setListPrev(_ m: Memmap<Self>, _ page: UInt64, _ prev: UInt64, sentinel: UInt64)
  /// Unlinked: the kernel poisons `list_del()`ed entries.
  static func poisonListLinks(_ m: Memmap<Self>, _ page: UInt64)

  /// Whether a page is reserved (memblock memory, such as the boot memmap).
  /// Kernel: `PageReserved()`.
  static func isReserved(_ m: Memmap<Self>, _ page: UInt64) -> Bool
  /// Kernel: `ClearPageReserved()`, as `free_reserved_page()` does before freeing.
  static func clearReserved(_ m: Memmap<Self>, _ page: UInt64)

  /// Checks pages leaving the allocator and prepares them for their user.
  /// Kernel: `prep_new_page()`.
  static func prepNewPage(_ m: Machine<Self>, _ pfn: PFN, order: Int, gfp: GFP)
  /// Undoes what allocation and use did, before a block goes back to the allocator.
  /// Kernel: `free_pages_prepare()`.
  static func freePagesPrepare(_ m: Machine<Self>, _ head: UInt64, order: Int)
  /// Drops a reference on an allocated block's first page; true when it was the last.
  /// Kernel: `put_page_testzero()`.
  static func putPageTestZero(_ m: Machine<Self>, _ page: UInt64) -> Bool
}

extension PageFormat {
  /// Kernel: `sizeof(struct page)`.
  @inlinable public static var structPageSize: Int { 1 << structPageShift }
  /// struct pages in one 4 KiB vmemmap page.
  @inlinable public static var structPagesPerVmemmapPage: Int { Kernel.pageSize >> structPageShift }
  /// vmemmap pages (frames) that hold one 128 MiB section's struct pages.
  @inlinable public static var vmemmapPagesPerSection: Int { (Kernel.pagesPerSection << structPageShift) >> Kernel.pageShift }
}

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

  // A list entry is `&page->lru` (page + 8); the list head is a `list_head` in the zone.
  @inlinable
  static func entry(_ page: UInt64, _ sentinel: UInt64) -> UInt64 { page == sentinel ? sentinel : page &+ 8 }
  @inlinable
  static func pageOf(_ entry: UInt64, _ sentinel: UInt64) -> UInt64 { entry == sentinel ? sentinel : entry &- 8 }

  @inlinable
  public static func listLinks(_ m: Memmap<Self>, _ page: UInt64, sentinel: UInt64) -> (next: UInt64, prev: UInt64) {
    (pageOf(m.load(page, StructPageLayout.lruNext), sentinel), pageOf(m.load(page, StructPageLayout.lruPrev), sentinel))
  }
  @inlinable
  public static func setListLinks(_ m: Memmap<Self>, _ page: UInt64, next: UInt64, prev: UInt64, sentinel: UInt64) {
    m.set(page, StructPageLayout.lruNext, entry(next, sentinel))
    m.set(page, StructPageLayout.lruPrev, entry(prev, sentinel))
  }
  @inlinable
  public static func setListNext(_ m: Memmap<Self>, _ page: UInt64, _ next: UInt64, sentinel: UInt64) {
    m.set(page, StructPageLayout.lruNext, entry(next, sentinel))
  }
  @inlinable
  public static func setListPrev(_ m: Memmap<Self>, _ page: UInt64, _ prev: UInt64, sentinel: UInt64) {
    m.set(page, StructPageLayout.lruPrev, entry(prev, sentinel))
  }
  @inlinable
  public static func poisonListLinks(_ m: Memmap<Self>, _ page: UInt64) {
    m.set(page, StructPageLayout.lruNext, Kernel.listPoison1)
    m.set(page, StructPageLayout.lruPrev, Kernel.listPoison2)
  }
}
