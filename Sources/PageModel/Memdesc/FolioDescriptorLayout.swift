/// The model's `struct folio` of the memdesc eras, in three sizes: 80 bytes for an
/// order-0 folio, 128 for a larger one, 160 for a HugeTLB folio.
///
/// Derived field by field from Linux 6.18's `struct folio` (include/linux/mm_types.h,
/// 64-bit, `CONFIG_MEMCG`, `CONFIG_PAGE_MAPCOUNT`): every field that is the folio's own
/// is kept, and every word that exists only because the folio overlays struct pages
/// goes (`_flags_1..3`, `_head_1..3`, `_mapcount_1`, `_refcount_1`: they keep the tails
/// decodable as tails, and a separate descriptor has no tails). The order-0 part is the
/// 80-byte folio of Wilcox's Path page (rev 3), which also moves `_pincount` there and
/// adds `order` and `pfn`:
///
/// ```
///   0  flags            folio flags, zone/node copied from the pages     page[0] @0
///   8  lru              16                                               page[0] @8
///  24  mapping                                                           page[0] @24
///  32  index                                                             page[0] @32
///  40  private          a HugeTLB folio's HPG_* flags live here, as today page[0] @40
///  48  _refcount        u32                                              page[0] @52
///  52  _mapcount        u32, -1 = unmapped; page_type of a HugeTLB folio page[0] @48
///  56  _pincount        u32                                              page[1] @92
///  60  order            u8 (the low byte of today's _flags_1), 3 bytes spare
///  64  pfn              new: a separate descriptor has to name its pages
///  72  memcg_data                                                        page[0] @56
/// -- order >= 1 --
///  80  _large_mapcount  u32                                              page[1] @80
///  84  _nr_pages_mapped u32                                              page[1] @84
///  88  _entire_mapcount u32                                              page[1] @88
///  92  _mm_id_mapcount  2 x u32                                          page[1] @96
/// 100  (padding)
/// 104  _mm_ids          the two mm ids, lock and "maybe shared" bits     page[1] @104
/// 112  _deferred_list   16                                               page[2] @144
/// -- HugeTLB --
/// 128  _hugetlb_subpool                                                  page[3] @208
/// 136  _hugetlb_cgroup                                                   page[3] @216
/// 144  _hugetlb_cgroup_rsvd                                              page[3] @224
/// 152  _hugetlb_hwpoison  list of raw poisoned pages                     page[3] @232
/// ```
///
/// `_nr_pages` (page[1] @120) is left out: it caches `1 << order`, which the descriptor
/// holds in `order`. The order of `_refcount` and `_mapcount` is the Path page's.
public enum MemdescFolioLayout: StructLayout {
  public static let name = "struct folio"
  /// The whole struct, a HugeTLB folio's descriptor: the large folio and today's
  /// page[3] HugeTLB words.
  public static let size = 160
  /// Kernel (plan): the 80-byte folio of the Path page, an order-0 folio's descriptor.
  public static let smallSize = 80
  /// A large (non-HugeTLB) folio's descriptor.
  public static let largeSize = 128
  /// Kernel: the version of `struct folio` the field set follows.
  public static let kernelVersion = "6.18"
  // The offsets of the diagram above.
  public static let flags = 0, lru = 8, mapping = 24, index = 32, `private` = 40
  public static let refcount = 48, mapcount = 52, pincount = 56, order = 60, pfn = 64, memcg = 72
  public static let largeMapcount = 80, nrPagesMapped = 84, entireMapcount = 88, mmIdMapcount = 92, mmIds = 104, deferredList = 112
  public static let hugetlbSubpool = 128, hugetlbCgroup = 136, hugetlbCgroupRsvd = 144, hugetlbHwpoison = 152

  /// The descriptors a field is in: all folios, order >= 1, HugeTLB only.
  public enum Part: Int, Sendable, CaseIterable { case small, large, hugetlb }

  public static let fields: [LayoutField] = [
    LayoutField("flags", flags, 8), LayoutField("lru", lru, 16), LayoutField("mapping", mapping, 8),
    LayoutField("index", index, 8), LayoutField("private", `private`, 8), LayoutField("_refcount", refcount, 4),
    LayoutField("_mapcount", mapcount, 4), LayoutField("_pincount", pincount, 4), LayoutField("order", order, 1),
    LayoutField("pfn", pfn, 8), LayoutField("memcg_data", memcg, 8),
    LayoutField("_large_mapcount", largeMapcount, 4), LayoutField("_nr_pages_mapped", nrPagesMapped, 4),
    LayoutField("_entire_mapcount", entireMapcount, 4), LayoutField("_mm_id_mapcount[0]", mmIdMapcount, 4),
    LayoutField("_mm_id_mapcount[1]", mmIdMapcount + 4, 4), LayoutField("_mm_ids", mmIds, 8),
    LayoutField("_deferred_list", deferredList, 16),
    LayoutField("_hugetlb_subpool", hugetlbSubpool, 8), LayoutField("_hugetlb_cgroup", hugetlbCgroup, 8),
    LayoutField("_hugetlb_cgroup_rsvd", hugetlbCgroupRsvd, 8), LayoutField("_hugetlb_hwpoison", hugetlbHwpoison, 8),
  ]

  /// The descriptor size that holds a part's fields.
  public static func size(of part: Part) -> Int {
    switch part {
    case .small: smallSize
    case .large: largeSize
    case .hugetlb: size
    }
  }
}
