/// How an era lays out `struct page`: its size, the state the boot code writes, and
/// where the buddy allocator keeps a free block's order and list links.
///
/// The machine, the buddy allocator and the per-CPU lists are written once against this
/// protocol and specialised per era at compile time. Every hook takes the ``Memmap``
/// handle, never the machine: a format knows bytes, the machine knows zones and lists.
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
  /// log2 of the frames a list link can reach: a listed page's neighbours are pages of
  /// its own arena of 2^shift frames, and the machine keeps one list per arena. 64 (one
  /// arena) where a link is a full pointer.
  static var linkArenaShift: Int { get }

  /// Whether a page is reserved (memblock memory, such as the boot memmap).
  /// Kernel: `PageReserved()`.
  static func isReserved(_ m: Memmap<Self>, _ page: UInt64) -> Bool
  /// Kernel: `ClearPageReserved()`, as `free_reserved_page()` does before freeing.
  static func clearReserved(_ m: Memmap<Self>, _ page: UInt64)

  /// Checks pages leaving the allocator and prepares them for their user; `zone` and
  /// `node` are the block's (the 8-byte era writes them into each page's word).
  /// Kernel: `prep_new_page()`.
  static func prepNewPage(_ m: Memmap<Self>, _ pfn: PFN, order: Int, gfp: GFP, zone: ZoneType, node: Int)
  /// Undoes what allocation and use did, before a block goes back to the allocator.
  /// Kernel: `free_pages_prepare()`.
  static func freePagesPrepare(_ m: Memmap<Self>, _ head: UInt64, order: Int)
  /// Drops a reference on an allocated block's first page; true when it was the last.
  /// Kernel: `put_page_testzero()`.
  static func putPageTestZero(_ m: Memmap<Self>, _ page: UInt64) -> Bool
}

extension PageFormat {
  @inlinable public static var linkArenaShift: Int { 64 }
  /// Kernel: `sizeof(struct page)`.
  @inlinable public static var structPageSize: Int { 1 << structPageShift }
  /// struct pages in one 4 KiB vmemmap page.
  @inlinable public static var structPagesPerVmemmapPage: Int { Kernel.pageSize >> structPageShift }
  /// vmemmap pages (frames) that hold one 128 MiB section's struct pages.
  @inlinable public static var vmemmapPagesPerSection: Int { (Kernel.pagesPerSection << structPageShift) >> Kernel.pageShift }
}

/// A struct page whose free-list links are a `list_head` at offset 8 (`lru` in the
/// 64-byte page, `buddy_list` in the 32-byte one), so a list entry is `page + 8` and the
/// list head is a `list_head` in the zone.
public protocol ListHeadAtOffset8: PageFormat {}

extension ListHeadAtOffset8 {
  @inlinable static var nextOffset: Int { 8 }
  @inlinable static var prevOffset: Int { 16 }
  @inlinable
  static func entry(_ page: UInt64, _ sentinel: UInt64) -> UInt64 { page == sentinel ? sentinel : page &+ 8 }
  @inlinable
  static func pageOf(_ entry: UInt64, _ sentinel: UInt64) -> UInt64 { entry == sentinel ? sentinel : entry &- 8 }

  @inlinable
  public static func listLinks(_ m: Memmap<Self>, _ page: UInt64, sentinel: UInt64) -> (next: UInt64, prev: UInt64) {
    (pageOf(m.load(page, nextOffset), sentinel), pageOf(m.load(page, prevOffset), sentinel))
  }
  @inlinable
  public static func setListLinks(_ m: Memmap<Self>, _ page: UInt64, next: UInt64, prev: UInt64, sentinel: UInt64) {
    m.set(page, nextOffset, entry(next, sentinel))
    m.set(page, prevOffset, entry(prev, sentinel))
  }
  @inlinable
  public static func setListNext(_ m: Memmap<Self>, _ page: UInt64, _ next: UInt64, sentinel: UInt64) {
    m.set(page, nextOffset, entry(next, sentinel))
  }
  @inlinable
  public static func setListPrev(_ m: Memmap<Self>, _ page: UInt64, _ prev: UInt64, sentinel: UInt64) {
    m.set(page, prevOffset, entry(prev, sentinel))
  }
  /// Kernel: `list_del()` poisons the entry.
  @inlinable
  public static func poisonListLinks(_ m: Memmap<Self>, _ page: UInt64) {
    m.set(page, nextOffset, Kernel.listPoison1)
    m.set(page, prevOffset, Kernel.listPoison2)
  }
}
