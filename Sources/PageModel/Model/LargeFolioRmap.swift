/// The id rmap gives an mm for the per-mm mapcounts of large folios. Kernel: `mm_id_t`,
/// `mm->mm_id` (CONFIG_MM_ID, Linux 6.15 and later).
public struct MMID: RawRepresentable, Hashable, Sendable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  public init(_ id: UInt32) { rawValue = id }

  /// Kernel: `MM_ID_DUMMY`: a free slot.
  public static let dummy = MMID(0)
  /// Kernel: `MM_ID_MIN`: the first id an mm gets.
  public static let first = MMID(1)
  /// Kernel: `MM_ID_BITS`: the top bit of each `_mm_id[]` word is a flag.
  public static let bits = 31
  /// Kernel: `MM_ID_MASK` = `MM_ID_MAX`.
  public static let mask: UInt32 = (1 << 31) - 1
  /// Kernel: `FOLIO_MM_IDS_LOCK_BIT` of `_mm_ids`: the bit spinlock, clear between calls.
  public static let lockBit: UInt64 = 1 << 31
  /// Kernel: `FOLIO_MM_IDS_SHARED_BIT` of `_mm_ids` (bit 2 * MM_ID_BITS + 1 = 63): the
  /// folio may be mapped by more than one mm.
  public static let sharedBit: UInt64 = 1 << 63
}

/// The mapcount words of a large folio, over the host bytes that hold them in an era
/// (page[1] of today's struct pages, or the memdesc eras' folio descriptor), written as
/// Linux 6.18's rmap writes them with CONFIG_PAGE_MAPCOUNT and CONFIG_MM_ID.
///
/// All words are signed counts that start at -1, except `_nr_pages_mapped` (0, plus
/// ``entirelyMapped`` while an entry maps the whole folio) and `_mm_ids` (two 31-bit
/// ids, the lock bit and the shared bit).
@usableFromInline
struct LargeFolioRmap {
  /// Kernel: `ENTIRELY_MAPPED` (mm/internal.h).
  static let entirelyMapped: Int32 = 0x80_0000
  /// Kernel: `FOLIO_PAGES_MAPPED` = `ENTIRELY_MAPPED - 1`.
  static let pagesMappedMask: Int32 = entirelyMapped - 1

  let base: UnsafeMutableRawPointer
  let largeMapcount, nrPagesMapped, entireMapcount, mmIdMapcount, mmIds: Int
  /// False where the era keeps no per-page mapcount (memdesc8): like a kernel with
  /// CONFIG_NO_PAGE_MAPCOUNT, rmap then leaves `_nr_pages_mapped` alone.
  var tracksPagesMapped = true

  func load(_ offset: Int) -> Int32 { base.load(fromByteOffset: offset, as: Int32.self) }
  func store(_ offset: Int, _ v: Int32) { base.storeBytes(of: v, toByteOffset: offset, as: Int32.self) }
  func add(_ offset: Int, _ d: Int32) { store(offset, load(offset) &+ d) }

  var ids: UInt64 {
    get { base.load(fromByteOffset: mmIds, as: UInt64.self) }
    nonmutating set { base.storeBytes(of: newValue, toByteOffset: mmIds, as: UInt64.self) }
  }

  /// Kernel: `folio_mm_id()`.
  func mmID(_ slot: Int) -> MMID { MMID(UInt32(truncatingIfNeeded: ids >> UInt64(32 * slot)) & MMID.mask) }

  /// Kernel: `folio_set_mm_id()`: the slot's id, keeping its flag bit.
  func setMMID(_ slot: Int, _ id: MMID) {
    let shift = UInt64(32 * slot)
    ids = (ids & ~(UInt64(MMID.mask) << shift)) | (UInt64(id.rawValue) << shift)
  }

  func slotCount(_ slot: Int) -> Int32 { load(mmIdMapcount + 4 * slot) }
  func setSlotCount(_ slot: Int, _ v: Int32) { store(mmIdMapcount + 4 * slot, v) }

  /// Kernel: `folio_add_return_large_mapcount()`: `diff` more mappings by `mm`; the mm
  /// takes a free slot if it has none, and a second mm marks the folio shared.
  func addLargeMapcount(_ diff: Int32, mm: MMID) {
    let new = load(largeMapcount) &+ diff
    store(largeMapcount, new)
    if mmID(0) == mm {
      setSlotCount(0, slotCount(0) &+ diff)
    } else if mmID(1) == mm {
      setSlotCount(1, slotCount(1) &+ diff)
    } else if mmID(0) == .dummy {
      setMMID(0, mm)
      setSlotCount(0, diff - 1)
      // Other mappings already there (by mms without a slot).
      if new != diff - 1 { ids |= MMID.sharedBit }
    } else if mmID(1) == .dummy {
      setMMID(1, mm)
      setSlotCount(1, diff - 1)
      ids |= MMID.sharedBit
    }
  }

  /// Kernel: `folio_sub_return_large_mapcount()`: a slot whose count goes negative is
  /// freed, and when one slot holds every mapping the folio is exclusive again.
  func subLargeMapcount(_ diff: Int32, mm: MMID) {
    let new = load(largeMapcount) &- diff
    store(largeMapcount, new)
    // An mm without a slot (its mappings were added while both slots were taken) changes
    // only the total: the kernel leaves the shared bit alone then.
    guard let slot = (0..<2).first(where: { mmID($0) == mm }) else { return }
    setSlotCount(slot, slotCount(slot) &- diff)
    if slotCount(slot) >= 0 { return }
    setSlotCount(slot, -1)
    setMMID(slot, .dummy)
    if slotCount(0) == new || slotCount(1) == new { ids &= ~MMID.sharedBit }
  }

  /// `_nr_pages_mapped` after `pages` pages got their first PTE mapping (or, negative,
  /// lost their last). Kernel: the `atomic_add_return_relaxed(first, mapped)` of
  /// `__folio_add_rmap()` / `atomic_sub_return_relaxed(last, mapped)` of
  /// `__folio_remove_rmap()`.
  func addPagesMapped(_ pages: Int32) { if tracksPagesMapped { add(nrPagesMapped, pages) } }

  /// One entry (PMD or PUD) more or less that maps the whole folio: the first adds
  /// ENTIRELY_MAPPED to `_nr_pages_mapped`, the last takes it away.
  /// Kernel: the RMAP_LEVEL_PMD cases of `__folio_add_rmap()` (`folio_inc_large_mapcount()`)
  /// and `__folio_remove_rmap()` (`folio_dec_large_mapcount()`).
  func mapEntire(_ delta: Int, mm: MMID) {
    for _ in 0..<abs(delta) {
      if delta > 0 {
        add(entireMapcount, 1)
        if load(entireMapcount) == 0 { addPagesMapped(Self.entirelyMapped) }
        addLargeMapcount(1, mm: mm)
      } else {
        subLargeMapcount(1, mm: mm)
        add(entireMapcount, -1)
        if load(entireMapcount) < 0 { addPagesMapped(-Self.entirelyMapped) }
      }
    }
  }

  /// PTE mappings of `pages` pages, `delta` times each (negative: unmapped), of which
  /// `firstOrLast` pages crossed between unmapped and mapped.
  func mapPages(pages: Int, delta: Int, firstOrLast: Int, mm: MMID) {
    addPagesMapped(Int32(firstOrLast))
    let diff = Int32(pages * abs(delta))
    if delta > 0 { addLargeMapcount(diff, mm: mm) } else if delta < 0 { subLargeMapcount(diff, mm: mm) }
  }
}
