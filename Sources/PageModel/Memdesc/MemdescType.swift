/// The type in the low 4 bits of a memdesc word.
///
/// Numbering of Wilcox's Memdescs page, revision B (the newest table): the word is the
/// whole 8-byte `struct page` of the end state. In the 32-byte step the same word sits at
/// offset 8, where a free page's `buddy_list.next` (a pointer, low bits 00) also lives.
public enum MemdescType: UInt64, CaseIterable, Sendable {
  case misc = 0, buddy, file, anon, ksm, slab, movable, pageTable, netPool, hwPoison, perCPU

  /// Mask of the type bits.
  public static let mask: UInt64 = 0xf
}

/// Subtypes of the Misc memdesc type (bits 4-10), from the Memdescs page (rev B).
public enum MiscSubtype: UInt64, CaseIterable, Sendable {
  case reserved = 0, zeroPage, unknown, vmalloc, guardPage, offline, kmallocLarge, exact, brd
}

/// Field positions of the Misc word (rev B): subtype bits 4-10, "mappable" bit 11, order
/// bits 12-17, node and zone in the high bits where `page->flags` keeps them today.
public enum MiscWord {
  public static let subtypeShift: UInt64 = 4
  public static let mappable: UInt64 = 1 << 11
  public static let orderShift: UInt64 = 12

  /// A Misc word for a page of an allocation of `order`; `tag` is the era's tag for Misc.
  @inlinable public static func make(_ subtype: MiscSubtype, order: Int, zone: ZoneType, node: Int, tag: UInt64) -> UInt64 {
    tag | subtype.rawValue << subtypeShift | UInt64(order) << orderShift
      | PageFlagsLayout.links(zone: zone, node: node)
  }
}
