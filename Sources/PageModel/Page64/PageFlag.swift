/// A bit of `page->flags`.
///
/// Kernel: `enum pageflags` (include/linux/page-flags.h), numbered as on an x86-64
/// config with MMU, MEMORY_FAILURE and PAGE_IDLE_FLAG (young/idle) on.
/// Each case is the kernel's `PG_*` name in Swift case (`ownerPriv1` is
/// `PG_owner_priv_1`); the numbers run on from the first of each line.
public enum PageFlag: Int, CaseIterable, Sendable {
  case locked = 0, writeback, referenced, uptodate, dirty, lru
  /// Kernel: `PG_head` ("must be in bit 6").
  case head = 6
  case waiters = 7
  /// Kernel: `PG_active`; on the first tail, `PG_has_hwpoisoned`.
  case active = 8
  /// Kernel: `PG_workingset`; on the first tail, `PG_large_rmappable`.
  case workingset = 9
  /// Kernel: `PG_owner_priv_1` (also `PG_swapcache`, `PG_checked`).
  case ownerPriv1 = 10
  /// Kernel: `PG_owner_2` (also `PG_anon_exclusive`, `PG_mappedtodisk`).
  case owner2 = 11
  case arch1 = 12, reserved, `private`, private2
  /// Kernel: `PG_reclaim` (also `PG_readahead`); on the first tail, `PG_partially_mapped`.
  case reclaim = 16
  case swapbacked = 17, unevictable, dropbehind, mlocked, hwPoison, young, idle

  /// The flag's bit in the flags word.
  @inlinable public var mask: UInt64 { 1 << UInt64(rawValue) }

  /// First-tail alias. Kernel: `PG_has_hwpoisoned`.
  public static let hasHWPoisoned = PageFlag.active
  /// First-tail alias. Kernel: `PG_large_rmappable`.
  public static let largeRmappable = PageFlag.workingset
  /// First-tail alias. Kernel: `PG_partially_mapped`.
  public static let partiallyMapped = PageFlag.reclaim
  /// Alias. Kernel: `PG_swapcache` (meaningful only with `PG_swapbacked`).
  public static let swapcache = PageFlag.ownerPriv1
  /// Alias. Kernel: `PG_anon_exclusive`.
  public static let anonExclusive = PageFlag.owner2

  /// Kernel: `__NR_PAGEFLAGS` for the modelled config.
  @inlinable public static var count: Int { 24 }
}

/// The high fields of `page->flags` that say where a page lives.
///
/// Kernel: include/linux/page-flags-layout.h. With SPARSEMEM_VMEMMAP the section is not
/// stored; the node (`NODES_SHIFT` 10, a distribution config) sits in the top bits and
/// the zone (3 bits, for five zones with ZONE_DEVICE) just below.
public enum PageFlagsLayout {
  /// Kernel: `NODES_WIDTH`.
  @inlinable public static var nodesWidth: Int { 10 }
  /// Kernel: `ZONES_WIDTH`.
  @inlinable public static var zonesWidth: Int { 3 }
  /// Kernel: `NODES_PGSHIFT`.
  @inlinable public static var nodesShift: Int { 64 - nodesWidth }
  /// Kernel: `ZONES_PGSHIFT`.
  @inlinable public static var zonesShift: Int { nodesShift - zonesWidth }
  /// The low bits that hold page flags proper.
  @inlinable public static var flagsMask: UInt64 { (1 << UInt64(PageFlag.count)) - 1 }

  /// Kernel: `set_page_links()` without the section part.
  @inlinable public static func links(zone: ZoneType, node: Int) -> UInt64 {
    UInt64(node) << UInt64(nodesShift) | UInt64(zone.rawValue) << UInt64(zonesShift)
  }
  /// Kernel: `page_zonenum()`.
  @inlinable public static func zone(of flags: UInt64) -> Int {
    Int((flags >> UInt64(zonesShift)) & ((1 << UInt64(zonesWidth)) - 1))
  }
  /// Kernel: `page_to_nid()`.
  @inlinable public static func node(of flags: UInt64) -> Int { Int(flags >> UInt64(nodesShift)) }
}

/// The type byte in the top of `page->page_type` (which shares its word with
/// `_mapcount`).
///
/// Kernel: `enum pagetype` (include/linux/page-flags.h); `PGTY_*` values.
/// Each case is `PGTY_*` in Swift case: `buddy` first page of a free block, `table`
/// page-table pages, `hugetlb` and `slab` on the head of a hugetlb folio or slab,
/// `netpp` on page_pool pages (Byungchul Park's "mm, page_pool: introduce a new page type
/// for page pool in page type", in linux-next from 2025 and reverted once since, so a
/// given kernel may lack it; the model names the value and sets it nowhere).
public enum PageType: UInt8, CaseIterable, Sendable {
  case buddy = 0xf0, offline, table, guardPage, hugetlb, slab, zsmalloc, unaccepted, largeKmalloc, netpp
  /// Kernel: `PGTY_mapcount_underflow`.
  case mapcountUnderflow = 0xff

  /// The value of the 32-bit `page_type` word with this type and no owner data.
  /// Kernel: `page->page_type = (unsigned int)PGTY_x << 24`.
  @inlinable public var word: UInt32 { UInt32(rawValue) << 24 }

  /// `page_type` with no type: the `_mapcount` of -1. Kernel: `UINT_MAX`.
  public static let noType: UInt32 = .max
  /// The type stored in a `page_type` word, if it holds one. A word whose top byte is a
  /// `PGTY_*` value (below the underflow sentinel) is a type; -1 means "no type", and small
  /// non-negative values are mapcounts. Kernel: `page_type_has_type()`, `page_get_type()`.
  @inlinable public static func of(_ word: UInt32) -> PageType? {
    let top = UInt8(word >> 24)
    guard top >= 0xf0, top < 0xff else { return nil }
    return PageType(rawValue: top)
  }
}
