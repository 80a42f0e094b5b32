/// The model's `struct slab` of the memdesc eras, a descriptor of its own:
///
/// ```
///  0  flags        zone/node, as the slab page's were
///  8  slab_cache   the cache (the model stores the descriptor kind's index)
/// 16  slab_list    16
/// 32  freelist     address of the first free object, 0 when full
/// 40  counters     inuse (bits 0-15), objects (bits 16-30); the order of a
///                  workload's slab in bits 48-55
/// ```
///
/// A free object's first word is the address of the next free object (0 ends the
/// list), as SLUB keeps its free pointer inside objects.
///
/// Kernel: `struct slab` (mm/slab.h) less the words it shares with `struct page`.
public enum SlabDescriptorLayout: StructLayout {
  public static let name = "struct slab"
  public static let size = 48
  public static let flags = 0
  public static let cache = 8
  public static let list = 16
  public static let freelist = 32
  public static let counters = 40
  public static let fields: [LayoutField] = [
    LayoutField("flags", flags, 8), LayoutField("slab_cache", cache, 8), LayoutField("slab_list", list, 16),
    LayoutField("freelist", freelist, 8), LayoutField("counters", counters, 8),
  ]
}

/// The model's `struct ptdesc` of the memdesc eras: the page table's flags, and its
/// order where a slab keeps `counters`.
///
/// ```
///  0  pt_flags     zone/node
///  8  ..40         pt_list, pt_mm and the lock words (not modelled, zero)
/// 40  order        bits 48-55, as for slabs
/// ```
///
/// Kernel: `struct ptdesc` (include/linux/mm_types.h).
public enum PtdescLayout: StructLayout {
  public static let name = "struct ptdesc"
  public static let size = 48
  public static let flags = 0
  public static let order = SlabDescriptorLayout.counters
  public static let fields: [LayoutField] = [
    LayoutField("pt_flags", flags, 8), LayoutField("pt_list", 8, 16), LayoutField("pt_mm", 24, 8),
    LayoutField("ptl", 32, 8), LayoutField("order word", order, 8),
  ]
}
