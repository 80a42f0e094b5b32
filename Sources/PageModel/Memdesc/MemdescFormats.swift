/// The 32-byte `struct page` of the memdesc path; its bytes are `Memdesc32PageLayout`.
public enum Memdesc32Format: ListHeadAtOffset8 {
  public static let era = Era.memdesc32
  public static let structPageShift = 5

  public static let flags = Memdesc32PageLayout.flags
  public static let memdesc = Memdesc32PageLayout.memdesc
  public static let `private` = Memdesc32PageLayout.private
  public static let refcount = Memdesc32PageLayout.refcount

  @inlinable
  public static func initPage(_ p: UnsafeMutableRawPointer, address: UInt64, zone: ZoneType, node: Int, reserved: Bool) {
    let links = PageFlagsLayout.links(zone: zone, node: node)
    p.storeBytes(of: reserved ? links | PageFlag.reserved.mask : links, toByteOffset: flags, as: UInt64.self)
    p.storeBytes(of: reserved ? MiscWord.make(.reserved, order: 0, zone: zone, node: node, tag: tag(.misc)) : 0, toByteOffset: memdesc, as: UInt64.self)
    p.storeBytes(of: UInt64(0), toByteOffset: `private`, as: UInt64.self)
    p.storeBytes(of: UInt64(reserved ? 1 : 0), toByteOffset: refcount, as: UInt64.self)
  }

  @inlinable
  public static func isReserved(_ m: Memmap<Self>, _ page: UInt64) -> Bool {
    m.load(page, flags, as: UInt64.self) & PageFlag.reserved.mask != 0
  }
  @inlinable
  public static func clearReserved(_ m: Memmap<Self>, _ page: UInt64) {
    m.set(page, flags, m.load(page, flags, as: UInt64.self) & ~PageFlag.reserved.mask)
    let word: UInt64 = m.load(page, memdesc)
    m.set(page, memdesc, word & ~(UInt64(0x7f) << MiscWord.subtypeShift) | MiscSubtype.unknown.rawValue << MiscWord.subtypeShift)
  }

  @inlinable
  public static func buddyOrder(_ m: Memmap<Self>, _ page: UInt64) -> Int? {
    let word: UInt32 = m.load(page, refcount)
    return word >> 24 == UInt32(PageType.buddy.rawValue) ? Int(word & 0xff) : nil
  }
  @inlinable
  public static func setBuddy(_ m: Memmap<Self>, _ page: UInt64, order: Int) {
    m.set(page, refcount, PageType.buddy.word | UInt32(order))
  }
  @inlinable
  public static func clearBuddy(_ m: Memmap<Self>, _ page: UInt64) { m.set(page, refcount, UInt32(0)) }

  /// A bare allocation (no descriptor): every page gets a Misc word with the order, and
  /// the first page a reference, as `alloc_pages()` gives one today.
  @inlinable
  public static func prepNewPage(_ m: Memmap<Self>, _ pfn: PFN, order: Int, gfp: GFP, zone: ZoneType, node: Int) {
    let word = MiscWord.make(.unknown, order: order, zone: zone, node: node, tag: tag(.misc))
    for i in 0..<(1 << order) {
      let p = m.address(of: pfn + i)
      m.set(p, memdesc, word)
      m.set(p, `private`, UInt64(0))
    }
    m.set(m.address(of: pfn), refcount, UInt32(1))
  }

  /// Kernel: `free_pages_prepare()`: per-page flags other than HWPoison are cleared.
  @inlinable
  public static func freePagesPrepare(_ m: Memmap<Self>, _ head: UInt64, order: Int) {
    let keep = ~(PageFlagsLayout.flagsMask & ~PageFlag.hwPoison.mask)
    for i in 0..<(1 << order) {
      let p = head &+ UInt64(i << structPageShift)
      let flags: UInt64 = m.load(p, Memdesc32Format.flags)
      m.set(p, Memdesc32Format.flags, flags & keep)
      m.set(p, memdesc, UInt64(0))
      m.set(p, `private`, UInt64(0))
      m.set(p, refcount, UInt32(0))
    }
  }

  @inlinable
  public static func putPageTestZero(_ m: Memmap<Self>, _ page: UInt64) -> Bool {
    let ref: UInt32 = m.load(page, refcount)
    vmBugOn(ref == 0, "put_page on a page with refcount 0")
    m.set(page, refcount, ref &- 1)
    return ref == 1
  }
}

/// The 8-byte `struct page` of the memdesc end state; its word is `Memdesc8PageLayout`.
public enum Memdesc8Format: PageFormat {
  public static let era = Era.memdesc8
  public static let structPageShift = 3

  /// A link is the low 28 bits of a PFN in the listed page's own arena of 2^28 frames
  /// (1 TiB); the machine keeps one list per arena (`linkArenaShift`), so any machine
  /// size fits the word. A link to the list head is the page's own PFN (no page is its
  /// own neighbour), so all 2^28 values name pages.
  public static let linkArenaShift = 28
  public static let linkMask: UInt64 = (1 << 28) - 1
  public static let insideFreeBlock: UInt64 = MemdescType.buddy.rawValue | 0xf << 4

  @inlinable
  public static func initPage(_ p: UnsafeMutableRawPointer, address: UInt64, zone: ZoneType, node: Int, reserved: Bool) {
    p.storeBytes(of: reserved ? MiscWord.make(.reserved, order: 0, zone: zone, node: node, tag: tag(.misc)) : insideFreeBlock, as: UInt64.self)
  }

  /// A Misc word of subtype PageReserved.
  @inlinable
  public static func isReserved(_ m: Memmap<Self>, _ page: UInt64) -> Bool {
    let word: UInt64 = m.load(page, 0)
    return word & MemdescType.mask == MemdescType.misc.rawValue && (word >> MiscWord.subtypeShift) & 0x7f == MiscSubtype.reserved.rawValue
  }
  @inlinable
  public static func clearReserved(_ m: Memmap<Self>, _ page: UInt64) {
    let word: UInt64 = m.load(page, 0)
    m.set(page, 0, word & ~(UInt64(0x7f) << MiscWord.subtypeShift) | MiscSubtype.unknown.rawValue << MiscWord.subtypeShift)
  }

  @inlinable
  public static func buddyOrder(_ m: Memmap<Self>, _ page: UInt64) -> Int? {
    let word: UInt64 = m.load(page, 0)
    guard word & MemdescType.mask == MemdescType.buddy.rawValue else { return nil }
    let order = Int((word >> 4) & 0xf)
    return order == 0xf ? nil : order
  }
  @inlinable
  public static func setBuddy(_ m: Memmap<Self>, _ page: UInt64, order: Int) {
    let word: UInt64 = m.load(page, 0)
    // Keep the links when the page is already listed (they are written around this).
    m.set(page, 0, (word & ~UInt64(0xff)) | MemdescType.buddy.rawValue | UInt64(order) << 4)
  }
  @inlinable
  public static func clearBuddy(_ m: Memmap<Self>, _ page: UInt64) { m.set(page, 0, insideFreeBlock) }

  /// The link from `page` to `target` (a listed page of the same arena, or the head).
  @inlinable
  static func encode(_ m: Memmap<Self>, _ page: UInt64, _ target: UInt64, _ sentinel: UInt64) -> UInt64 {
    let own = m.pfn(ofPageAt: page).rawValue
    guard target != sentinel else { return own & linkMask }
    let pfn = m.pfn(ofPageAt: target).rawValue
    vmBugOn(pfn >> UInt64(linkArenaShift) != own >> UInt64(linkArenaShift), "free-list link from PFN \(own) to PFN \(pfn) in another arena")
    return pfn & linkMask
  }
  /// The page (or the head) a link of `page` names.
  @inlinable
  static func decode(_ m: Memmap<Self>, _ page: UInt64, _ field: UInt64, _ sentinel: UInt64) -> UInt64 {
    let own = m.pfn(ofPageAt: page).rawValue
    return field == own & linkMask ? sentinel : m.address(of: PFN(own & ~linkMask | field))
  }
  @inlinable
  public static func listLinks(_ m: Memmap<Self>, _ page: UInt64, sentinel: UInt64) -> (next: UInt64, prev: UInt64) {
    let word: UInt64 = m.load(page, 0)
    return (decode(m, page, (word >> 8) & linkMask, sentinel), decode(m, page, word >> 36, sentinel))
  }
  @inlinable
  public static func setListLinks(_ m: Memmap<Self>, _ page: UInt64, next: UInt64, prev: UInt64, sentinel: UInt64) {
    let word: UInt64 = m.load(page, 0)
    m.set(page, 0, (word & 0xff) | encode(m, page, next, sentinel) << 8 | encode(m, page, prev, sentinel) << 36)
  }
  @inlinable
  public static func setListNext(_ m: Memmap<Self>, _ page: UInt64, _ next: UInt64, sentinel: UInt64) {
    let word: UInt64 = m.load(page, 0)
    m.set(page, 0, (word & ~(linkMask << 8)) | encode(m, page, next, sentinel) << 8)
  }
  @inlinable
  public static func setListPrev(_ m: Memmap<Self>, _ page: UInt64, _ prev: UInt64, sentinel: UInt64) {
    let word: UInt64 = m.load(page, 0)
    m.set(page, 0, (word & ~(linkMask << 36)) | encode(m, page, prev, sentinel) << 36)
  }
  @inlinable
  public static func poisonListLinks(_ m: Memmap<Self>, _ page: UInt64) {
    let word: UInt64 = m.load(page, 0)
    m.set(page, 0, word & 0xff)
  }

  /// A bare allocation: every page gets a Misc word. Misc memory has no refcount.
  @inlinable
  public static func prepNewPage(_ m: Memmap<Self>, _ pfn: PFN, order: Int, gfp: GFP, zone: ZoneType, node: Int) {
    let word = MiscWord.make(.unknown, order: order, zone: zone, node: node, tag: tag(.misc))
    for i in 0..<(1 << order) { m.set(m.address(of: pfn + i), 0, word) }
  }

  @inlinable
  public static func freePagesPrepare(_ m: Memmap<Self>, _ head: UInt64, order: Int) {
    for i in 0..<(1 << order) { m.set(head &+ UInt64(i << structPageShift), 0, insideFreeBlock) }
  }

  /// Misc memory has no refcount: freeing returns it straight to the allocator.
  @inlinable
  public static func putPageTestZero(_ m: Memmap<Self>, _ page: UInt64) -> Bool { true }
}
