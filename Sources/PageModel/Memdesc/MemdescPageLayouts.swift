/// The 32-byte `struct page` of the memdesc path (layout "C" of Wilcox's Path page):
///
/// ```
///  0  flags                       zone/node, and the per-page flags that stay
///  8  memdesc | buddy_list.next   tagged descriptor pointer, or a free-list link
/// 16  private | _mapcount         | buddy_list.prev
/// 24  _refcount (u32)             0 for folio pages: their count is in the folio
/// 28  padding
/// ```
///
/// A free page's `buddy_list.next` is a pointer whose low bits are 00, which is why the
/// transitional type table reads tags 0, 4, 8 and 12 as "buddy". The plan leaves no slot
/// for a free block's order (today's `page->private` is now inside `buddy_list`); the
/// model keeps it in the `_refcount` slot, which is 0 on free pages, as
/// `0xf0000000 | order` (the `PGTY_buddy` byte of today's `page_type`).
public enum Memdesc32PageLayout: StructLayout {
  public static let name = "struct page (memdesc32)"
  public static let size = 32
  public static let flags = 0
  public static let memdesc = 8
  public static let `private` = 16
  public static let refcount = 24
  public static let fields: [LayoutField] = [
    LayoutField("flags", flags, 8), LayoutField("memdesc / buddy_list.next", memdesc, 8, union: "buddy_list"),
    LayoutField("private / _mapcount / buddy_list.prev", `private`, 8, union: "buddy_list"),
    LayoutField("_refcount", refcount, 4), LayoutField("(padding)", 28, 4),
  ]
}

/// The 8-byte `struct page` of the memdesc end state: one typed word.
///
/// Misc pages keep their data in the word (subtype, order, node and zone). Free pages use
/// type Buddy, which the plan leaves open ("one or two words"); the model packs a free
/// block's first word as
///
/// ```
/// bits 0-3  type Buddy (1)
/// bits 4-7  order (15 marks a page inside a free block, not its first)
/// bits 8-35 the next free block on the list: the low 28 bits of its PFN
/// bits 36-63 the previous one
/// ```
///
/// so a free list needs no memory outside the memmap. 28 bits reach the page's own
/// arena of 2^28 frames (1 TiB): the machine keeps one list per arena for each order
/// (as the kernel keeps one per migrate type), so a list never links across arenas, and
/// a link equal to the page's own PFN is the list head. Any machine size fits, with the
/// word as the plan sizes it; the cost is a look at up to one list head per TiB when the
/// lowest arena's list is empty. (Wider links cannot fit: an order-0 free page has one
/// word, and two links to 2^34 frames, for 64 TiB, need 68 bits.) Pages inside a free
/// block carry the order-15 mark, so whether a page is free is one load, not a walk.
public enum Memdesc8PageLayout: StructLayout {
  public static let name = "struct page (memdesc8)"
  public static let size = 8
  public static let memdesc = 0
  public static let fields: [LayoutField] = [LayoutField("memdesc", memdesc, 8)]
}
