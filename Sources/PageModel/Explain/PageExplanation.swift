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

  /// The explanation as text lines (the CLI prints them).
  public var text: String {
    var out = ""
    func line(_ s: String = "") { out += s + "\n" }
    line("era \(era.rawValue) (\(bytes.count)-byte struct page), PFN \(hex(pfn.rawValue))")
    line("  struct page at vmemmap \(hex(structPageAddress)): PTE frame \(frame.rawValue) (\(hex(frame.rawValue))), \(writable ? "writable" : "read-only"), mapped by \(frameMappedBy) vmemmap page\(frameMappedBy == 1 ? "" : "s"): \(frameRole)")
    line("  bytes:")
    for f in fields {
      let slice = bytes[f.offset..<min(bytes.count, f.offset + f.size)]
      let dump = slice.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined(separator: " ")
      line("    +\(String(f.offset).leftPad(2))  \(dump.rightPad(23))  \(f.name.rightPad(38)) = \(hex(f.value))")
    }
    line("  decode:")
    for d in decode { line("    \(d)") }
    line("  head:  \(head.map { hex($0.rawValue) } ?? "none (compound_head() is a BUG for an owned page in this era)")")
    if let folio {
      line("  folio: \(hex(folio.rawValue)), order \(folioOrder ?? 0) (\(1 << (folioOrder ?? 0)) pages)" + (folioFlags.isEmpty ? "" : ", flags " + folioFlags.joined(separator: " ")))
    } else {
      line("  folio: none (the page is in no folio)")
    }
    return out
  }
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

extension String {
  func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
  func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

extension PageExplanation {
  /// A little-endian field of a struct page's bytes.
  static func word(_ bytes: [UInt8], _ offset: Int, _ size: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<size { v |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
    return v
  }

  /// Each field of a layout with its value in `bytes`.
  static func fields(_ layout: [LayoutField], _ bytes: [UInt8]) -> [Field] {
    layout.map { Field(offset: $0.offset, size: $0.size, name: $0.name, value: word(bytes, $0.offset, $0.size)) }
  }
}
