/// A `struct page` of the memdesc eras: it holds a tagged memdesc word that names the
/// descriptor a page belongs to, or inline data for Misc and Buddy pages.
public protocol MemdescFormat: PageFormat {
  /// Byte offset of the memdesc word in the struct page.
  static var memdescOffset: Int { get }
  /// Whether the struct page keeps a per-page flags word (memdesc32) or not (memdesc8).
  static var hasPageFlags: Bool { get }
  /// The tag of a type in this era's table.
  static func tag(_ type: MemdescType) -> UInt64
  /// The type of a memdesc word in this era's table.
  static func type(of word: UInt64) -> MemdescType
}

extension Memdesc32Format: MemdescFormat {
  public static var memdescOffset: Int { memdesc }
  public static var hasPageFlags: Bool { true }

  /// The transitional table of the Path page: tags whose low two bits are 00 (0, 4, 8,
  /// 12) are a free page's `buddy_list.next` pointer; 1 Misc, 2 File, 3 Anon. The rest
  /// of that table is lost; the model continues with the odd-or-2-mod-4 tags in rev B's
  /// order: 5 Slab, 6 PageTable, 7 KSM, 9 Movable, 10 NetPool, 11 HWPoison, 13 PerCPU.
  @inlinable public static func tag(_ type: MemdescType) -> UInt64 {
    switch type {
    case .buddy: 0
    case .misc: 1
    case .file: 2
    case .anon: 3
    case .slab: 5
    case .pageTable: 6
    case .ksm: 7
    case .movable: 9
    case .netPool: 10
    case .hwPoison: 11
    case .perCPU: 13
    }
  }

  @inlinable public static func type(of word: UInt64) -> MemdescType {
    switch word & MemdescType.mask {
    case 0, 4, 8, 12: .buddy
    case 1: .misc
    case 2: .file
    case 3: .anon
    case 5: .slab
    case 6: .pageTable
    case 7: .ksm
    case 9: .movable
    case 10: .netPool
    case 11: .hwPoison
    default: .perCPU
    }
  }
}

extension Memdesc8Format: MemdescFormat {
  public static var memdescOffset: Int { 0 }
  public static var hasPageFlags: Bool { false }
  @inlinable public static func tag(_ type: MemdescType) -> UInt64 { type.rawValue }
  @inlinable public static func type(of word: UInt64) -> MemdescType { MemdescType(rawValue: word & MemdescType.mask) ?? .misc }
}

/// The model's `struct folio` of the memdesc eras: the 80-byte descriptor of Wilcox's Path
/// page (rev 3), and 48 more bytes for a large folio.
///
/// ```
///  0  flags            folio flags, with zone/node copied from the pages
///  8  lru              16
/// 24  mapping
/// 32  index
/// 40  private
/// 48  _refcount        u32
/// 52  _mapcount        u32, -1 = unmapped (order-0 folios)
/// 56  _pincount        u32
/// 60  order            u8
/// 64  pfn
/// 72  memcg_data
/// -- large folios --
/// 80  _large_mapcount  u32
/// 84  _nr_pages_mapped u32
/// 88  _entire_mapcount u32
/// 96  _deferred_list   16
/// 112 _mm_ids
/// 120 hugetlb private (hstate flags such as HPG_vmemmap_optimized)
/// ```
public enum MemdescFolioLayout {
  public static let flags = 0
  public static let lru = 8
  public static let mapping = 24
  public static let index = 32
  public static let `private` = 40
  public static let refcount = 48
  public static let mapcount = 52
  public static let pincount = 56
  public static let order = 60
  public static let pfn = 64
  public static let memcg = 72
  public static let largeMapcount = 80
  public static let nrPagesMapped = 84
  public static let entireMapcount = 88
  public static let deferredList = 96
  public static let mmIds = 112
  public static let hugetlbPrivate = 120
  /// The model's mark of a hugetlb folio in `hugetlbPrivate` (bit 63), beside the HPG
  /// flags in the low bits.
  public static let hugetlbFolio: UInt64 = 1 << 63
}
