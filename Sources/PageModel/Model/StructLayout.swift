/// One field of a byte layout: where it is, how wide, what the kernel calls it.
public struct LayoutField: Sendable, Equatable {
  public var name: String
  public var offset: Int
  public var size: Int
  /// Fields of one union share bytes on purpose (`lru` and `buddy_list` and
  /// `compound_info`); fields of different unions must not.
  public var union: String?

  public init(_ name: String, _ offset: Int, _ size: Int, union: String? = nil) {
    self.name = name
    self.offset = offset
    self.size = size
    self.union = union
  }

  public var end: Int { offset + size }
}

/// A struct the model lays out in bytes (a struct page or a descriptor): its size and
/// its fields, written down once so that code, hex dumps and the layout tests read the
/// same table.
///
/// The tests check what the kernel's `FOLIO_MATCH` and `static_assert(sizeof(...))`
/// check: every field inside the object, no two fields overlapping outside a union, and
/// offsets equal where one struct overlays another.
public protocol StructLayout {
  /// The kernel's name of the struct.
  static var name: String { get }
  /// `sizeof`, in bytes.
  static var size: Int { get }
  static var fields: [LayoutField] { get }
}

extension StructLayout {
  /// The field that starts at `offset`, for hex dumps.
  public static func field(at offset: Int) -> LayoutField? { fields.first { $0.offset == offset } }
}
