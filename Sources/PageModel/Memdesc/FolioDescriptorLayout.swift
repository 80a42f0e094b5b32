/// The model's `struct folio` of the memdesc eras: the 80-byte descriptor of Wilcox's Path
/// page (rev 3), and 48 more bytes for a large folio.
///
/// ```
///  0  flags            folio flags, with zone/node copied from the pages
///  8  lru              16
/// 24  mapping
/// 32  index
/// 40  private
/// 48  _refcount        u32
/// 52  _mapcount        u32, -1 = unmapped (order-0 folios)
/// 56  _pincount        u32
/// 60  order            u8
/// 64  pfn
/// 72  memcg_data
/// -- large folios --
/// 80  _large_mapcount  u32
/// 84  _nr_pages_mapped u32
/// 88  _entire_mapcount u32
/// 96  _deferred_list   16
/// 112 _mm_ids
/// 120 hugetlb private (hstate flags such as HPG_vmemmap_optimized)
/// ```
public enum MemdescFolioLayout: StructLayout {
  public static let name = "struct folio"
  /// A large folio's descriptor; an order-0 folio's is the first `smallSize` bytes.
  public static let size = 128
  /// Kernel (plan): the 80-byte folio of the Path page.
  public static let smallSize = 80
  // The offsets of the diagram above, small folio first, then the large-folio words.
  public static let flags = 0, lru = 8, mapping = 24, index = 32, `private` = 40
  public static let refcount = 48, mapcount = 52, pincount = 56, order = 60, pfn = 64, memcg = 72
  public static let largeMapcount = 80, nrPagesMapped = 84, entireMapcount = 88, deferredList = 96
  public static let mmIds = 112, hugetlbPrivate = 120
  /// The model's mark of a hugetlb folio in `hugetlbPrivate` (bit 63), beside the HPG
  /// flags in the low bits.
  public static let hugetlbFolio: UInt64 = 1 << 63

  public static let fields: [LayoutField] = [
    LayoutField("flags", flags, 8), LayoutField("lru", lru, 16), LayoutField("mapping", mapping, 8),
    LayoutField("index", index, 8), LayoutField("private", `private`, 8), LayoutField("_refcount", refcount, 4),
    LayoutField("_mapcount", mapcount, 4), LayoutField("_pincount", pincount, 4), LayoutField("order", order, 1),
    LayoutField("pfn", pfn, 8), LayoutField("memcg_data", memcg, 8),
    LayoutField("_large_mapcount", largeMapcount, 4), LayoutField("_nr_pages_mapped", nrPagesMapped, 4),
    LayoutField("_entire_mapcount", entireMapcount, 4), LayoutField("_deferred_list", deferredList, 16),
    LayoutField("_mm_ids", mmIds, 8), LayoutField("hugetlb private", hugetlbPrivate, 8),
  ]
}
