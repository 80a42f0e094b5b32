/// One page of a model machine explained: its struct page bytes with field names, the
/// decode of `compound_info` or the memdesc word, its head and folio, and the vmemmap
/// mapping behind it (virtual address, frame, writable, shared).
public struct PageExplanation: Sendable {
  public struct Field: Sendable, Equatable {
    public var offset: Int
    public var size: Int
    public var name: String
    public var value: UInt64
  }

  public var era: Era
  public var pfn: PFN
  /// Kernel: `pfn_to_page(pfn)`, the struct page's vmemmap virtual address.
  public var structPageAddress: UInt64
  /// The struct page as read through the vmemmap.
  public var bytes: [UInt8]
  public var fields: [Field]
  /// The decode, step by step, as the kernel does it.
  public var decode: [String]
  /// `compound_head()` (64-byte eras and bare memdesc pages); nil when it is a BUG.
  public var head: PFN?
  public var folio: PFN?
  public var folioOrder: Int?
  public var folioFlags: [String]
  /// The vmemmap PTE that maps the struct page.
  public var frame: PFN
  public var writable: Bool
  /// Vmemmap pages (PTEs) that map the same frame.
  public var frameMappedBy: Int
  /// What the frame is: the page's own, the head's (aliased), a shared tail frame, ...
  public var frameRole: String

  /// The `size`-byte little-endian field at `offset` of a struct page's bytes.
  static func littleEndian(_ bytes: [UInt8], _ offset: Int, _ size: Int) -> UInt64 {
    (0..<size).reduce(0) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }
  }
}

extension PageExplanation {
  /// Each field of a layout with its value in `bytes`.
  static func fields(_ layout: [LayoutField], _ bytes: [UInt8]) -> [Field] {
    layout.map { Field(offset: $0.offset, size: $0.size, name: $0.name, value: littleEndian(bytes, $0.offset, $0.size)) }
  }
}
