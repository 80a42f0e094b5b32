/// Byte offsets in the 64-byte x86-64 `struct page` and in the `struct folio` that
/// overlays the first four of them.
///
/// ```
///  0  flags                          (memdesc_flags_t)
///  8  lru.next | buddy_list.next | compound_info (tail, bit 0 set)
/// 16  lru.prev | buddy_list.prev
/// 24  mapping                         (TAIL_MAPPING on tails)
/// 32  index (__folio_index)
/// 40  private                         (buddy order on a free block's first page)
/// 48  _mapcount | page_type           (u32, -1 = none)
/// 52  _refcount                       (u32)
/// 56  memcg_data
/// ```
///
/// Folio fields on the first tail (page 1, +64) and following tails, from the head:
/// `_flags_1` 64 (order in its low byte), `_head_1` 72, `_large_mapcount` 80,
/// `_nr_pages_mapped` 84, `_entire_mapcount` 88, `_pincount` 92, `_mm_id_mapcount[2]`
/// 96, `_mm_ids` 104, `_mapcount_1` 112, `_refcount_1` 116, `_nr_pages` 120;
/// `_flags_2` 128, `_head_2` 136, `_deferred_list` 144; `_flags_3` 192, `_head_3` 200,
/// `_hugetlb_subpool` 208, `_hugetlb_cgroup` 216, `_hugetlb_cgroup_rsvd` 224,
/// `_hugetlb_hwpoison` 232.
///
/// Kernel: `struct page`, `struct folio` (include/linux/mm_types.h).
public enum StructPageLayout: StructLayout {
  public static let name = "struct page"
  public static let size = Kernel.structPageSize
  public static let flags = 0
  /// Kernel: `page->compound_info` (was `compound_head`), which overlays `lru.next`.
  public static let compoundInfo = 8
  public static let lruNext = 8
  public static let lruPrev = 16
  public static let mapping = 24
  public static let index = 32
  public static let `private` = 40
  /// Kernel: `page->_mapcount` / `page->page_type`.
  public static let mapcount = 48
  public static let refcount = 52
  public static let memcgData = 56

  // Folio fields, as offsets from the head struct page.
  /// Kernel: `folio->_flags_1`; its low byte is the folio order.
  public static let folioFlags1 = 64
  public static let folioHead1 = 72
  public static let folioLargeMapcount = 80
  public static let folioNrPagesMapped = 84
  public static let folioEntireMapcount = 88
  public static let folioPincount = 92
  public static let folioMMIdMapcount = 96
  public static let folioMMIds = 104
  public static let folioMapcount1 = 112
  public static let folioRefcount1 = 116
  /// Kernel: `folio->_nr_pages` (NR_PAGES_IN_LARGE_FOLIO, with MEMCG).
  public static let folioNrPages = 120
  public static let folioFlags2 = 128
  public static let folioHead2 = 136
  public static let folioDeferredList = 144
  public static let folioFlags3 = 192
  public static let folioHead3 = 200
  public static let folioHugetlbSubpool = 208

  /// Kernel: `PAGE_MAPPING_ANON` (bit 0 of `mapping`).
  public static let mappingAnon: UInt64 = 1
  /// Kernel: `PAGE_MAPPING_KSM` (bits 0 and 1 of `mapping`).
  public static let mappingKSM: UInt64 = 2

  public static let fields: [LayoutField] = [
    LayoutField("flags", flags, 8), LayoutField("compound_info/lru.next", lruNext, 8, union: "lru"),
    LayoutField("lru.prev", lruPrev, 8, union: "lru"), LayoutField("mapping", mapping, 8),
    LayoutField("index", index, 8), LayoutField("private", `private`, 8),
    LayoutField("_mapcount/page_type", mapcount, 4), LayoutField("_refcount", refcount, 4),
    LayoutField("memcg_data", memcgData, 8),
  ]
}

/// The large folio of the 64-byte eras: `struct folio` over the head and the first three
/// tails (256 bytes), each tail keeping its own `flags` and `compound_info` words.
///
/// Kernel: `struct folio` (include/linux/mm_types.h), checked there by `FOLIO_MATCH`,
/// `FOLIO_MATCH2` and `FOLIO_MATCH3`.
public enum FolioOverlayLayout: StructLayout {
  public static let name = "struct folio (64-byte eras)"
  public static let size = 4 * Kernel.structPageSize
  public static let fields: [LayoutField] = StructPageLayout.fields + [
    LayoutField("_flags_1", StructPageLayout.folioFlags1, 8), LayoutField("_head_1", StructPageLayout.folioHead1, 8),
    LayoutField("_large_mapcount", StructPageLayout.folioLargeMapcount, 4),
    LayoutField("_nr_pages_mapped", StructPageLayout.folioNrPagesMapped, 4),
    LayoutField("_entire_mapcount", StructPageLayout.folioEntireMapcount, 4),
    LayoutField("_pincount", StructPageLayout.folioPincount, 4),
    LayoutField("_mm_id_mapcount", StructPageLayout.folioMMIdMapcount, 8),
    LayoutField("_mm_ids", StructPageLayout.folioMMIds, 8),
    LayoutField("_mapcount_1", StructPageLayout.folioMapcount1, 4), LayoutField("_refcount_1", StructPageLayout.folioRefcount1, 4),
    LayoutField("_nr_pages", StructPageLayout.folioNrPages, 8),
    LayoutField("_flags_2", StructPageLayout.folioFlags2, 8), LayoutField("_head_2", StructPageLayout.folioHead2, 8),
    LayoutField("_deferred_list", StructPageLayout.folioDeferredList, 16),
    LayoutField("_flags_3", StructPageLayout.folioFlags3, 8), LayoutField("_head_3", StructPageLayout.folioHead3, 8),
    LayoutField("_hugetlb_subpool", StructPageLayout.folioHugetlbSubpool, 8),
  ]
}
