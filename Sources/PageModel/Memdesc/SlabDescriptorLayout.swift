/// The model's `struct slab` of the memdesc eras, a descriptor of its own:
///
/// ```
///  0  flags        zone/node, as the slab page's were
///  8  slab_cache   the cache (the model stores the descriptor kind's index)
/// 16  slab_list    16 (union rcu_head)
/// 32  freelist     address of the first free object, 0 when full
/// 40  counters     inuse (bits 0-15), objects (bits 16-30), frozen (31); the model
///                  keeps the order of a workload's slab in bits 48-55
/// 48  obj_exts     the object-extension vector (memcg, allocation tags)
/// 56  (padding)    to 64: memdescs are 16-byte aligned
/// ```
///
/// Derived from Linux 6.18's `struct slab` (mm/slab.h, SLUB, 64-bit,
/// `CONFIG_SLAB_OBJ_EXT`): its fields less `__page_type` and `__page_refcount`, which
/// exist only because a slab overlays its struct page today. `obj_exts` is what takes
/// it past 48 bytes; `freelist` and `counters` stay one 16-byte aligned pair for
/// SLUB's double-word cmpxchg.
///
/// A free object's first word is the address of the next free object (0 ends the
/// list), as SLUB keeps its free pointer inside objects.
public enum SlabDescriptorLayout: StructLayout {
  public static let name = "struct slab"
  public static let size = 64
  /// Kernel: the version of `struct slab` the field set follows.
  public static let kernelVersion = "6.18"
  public static let flags = 0
  public static let cache = 8
  public static let list = 16
  public static let freelist = 32
  public static let counters = 40
  public static let objExts = 48
  public static let fields: [LayoutField] = [
    LayoutField("flags", flags, 8), LayoutField("slab_cache", cache, 8), LayoutField("slab_list", list, 16),
    LayoutField("freelist", freelist, 8), LayoutField("counters", counters, 8), LayoutField("obj_exts", objExts, 8),
  ]
}

/// The model's `struct ptdesc` of the memdesc eras:
///
/// ```
///  0  pt_flags       zone/node
///  8  pt_list        16 (union pt_rcu_head, {_pt_pad_1, pmd_huge_pte})
/// 24  pt_mm          union pt_index, pt_frag_refcount, pt_share_count
/// 32  ptl            the split page-table lock (or a pointer to it)
/// 40  pt_memcg_data
/// ```
///
/// Derived from Linux 6.18's `struct ptdesc` (include/linux/mm_types.h, 64-bit,
/// `CONFIG_MEMCG`) less `__page_mapping`, `__page_type` and `__page_refcount`, the
/// words that only keep the struct page's fields out of the way. A page table is one
/// page on x86-64, so the descriptor needs no order. Only `pt_flags` is written by the
/// model; the rest is zero.
public enum PtdescLayout: StructLayout {
  public static let name = "struct ptdesc"
  public static let size = 48
  /// Kernel: the version of `struct ptdesc` the field set follows.
  public static let kernelVersion = "6.18"
  public static let flags = 0
  public static let list = 8
  public static let mm = 24
  public static let ptl = 32
  public static let memcg = 40
  public static let fields: [LayoutField] = [
    LayoutField("pt_flags", flags, 8), LayoutField("pt_list", list, 16), LayoutField("pt_mm", mm, 8),
    LayoutField("ptl", ptl, 8), LayoutField("pt_memcg_data", memcg, 8),
  ]
}

/// The model's `struct hwpoison` (memdesc8): the memdesc of a page that memory failure
/// has retyped to HWPoison.
///
/// ```
///  0  memdesc   the page's memdesc word before the poison (its folio, slab, ...)
///  8  pfn       the poisoned page
/// ```
///
/// Kernel (plan): Memdescs rev B, type 9 "pointer to struct hwpoison (TBD)". The plan
/// gives no fields; the model keeps what unpoisoning needs to put the page back and
/// what `page_folio()` needs to find the folio a poisoned page still belongs to.
public enum HWPoisonLayout: StructLayout {
  public static let name = "struct hwpoison"
  public static let size = 16
  public static let memdesc = 0
  public static let pfn = 8
  public static let fields: [LayoutField] = [LayoutField("memdesc", memdesc, 8), LayoutField("pfn", pfn, 8)]
}
