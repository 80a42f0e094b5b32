/// A `struct page` of the memdesc eras: it holds a tagged memdesc word that names the
/// descriptor a page belongs to, or inline data for Misc and Buddy pages.
public protocol MemdescFormat: PageFormat {
  /// The struct page's bytes.
  associatedtype Layout: StructLayout
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
  public typealias Layout = Memdesc32PageLayout
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
  public typealias Layout = Memdesc8PageLayout
  public static var memdescOffset: Int { 0 }
  public static var hasPageFlags: Bool { false }
  @inlinable public static func tag(_ type: MemdescType) -> UInt64 { type.rawValue }
  @inlinable public static func type(of word: UInt64) -> MemdescType { MemdescType(rawValue: word & MemdescType.mask) ?? .misc }
}
