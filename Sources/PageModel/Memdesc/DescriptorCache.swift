/// The kinds of separately allocated descriptors of the memdesc eras.
public enum DescriptorKind: String, CaseIterable, Sendable {
  /// `struct folio` for order-0 folios (FolioAlloc v2's `folio_small_slab`).
  case folio
  /// `struct folio` with the large-folio fields (`folio_large_slab`).
  case largeFolio = "large_folio"
  /// `struct folio` with the HugeTLB words as well.
  case hugetlbFolio = "hugetlb_folio"
  /// `struct slab`.
  case slab
  /// `struct ptdesc`.
  case ptdesc
  /// `struct hwpoison` (memdesc8: a poisoned page's own memdesc).
  case hwpoison

  /// Object size in bytes: multiples of 16, as memdescs must be (their low 4 bits carry
  /// the type). The layouts say where each size comes from.
  public var objectSize: Int {
    switch self {
    case .folio: MemdescFolioLayout.smallSize
    case .largeFolio: MemdescFolioLayout.largeSize
    case .hugetlbFolio: MemdescFolioLayout.size
    case .slab: SlabDescriptorLayout.size
    case .ptdesc: PtdescLayout.size
    case .hwpoison: HWPoisonLayout.size
    }
  }
}

/// A slab-like cache of descriptors: order-0 pages of the same machine cut into
/// 16-byte-aligned objects, with a free list threaded through the free objects (as SLUB
/// keeps its free pointer inside the object).
///
/// The cache's pages are slab pages of the machine: their memdesc words point at a
/// `struct slab` from the slab-descriptor cache, which hosts its own first descriptor.
/// Kernel: `kmem_cache`, `struct slab`, `slab_alloc()` / `slab_free()` (mm/slub.c).
public struct DescriptorCacheStats: Sendable, Equatable {
  public var kind: DescriptorKind
  /// Objects in use.
  public var objects: Int
  /// Pages that back the cache.
  public var pages: Int
}

final class DescriptorCache {
  let kind: DescriptorKind
  let objectSize: Int
  let objectsPerSlab: Int
  /// Slab pages with free objects, newest last. Entries of slabs that filled up or were
  /// freed are dropped when met.
  var partial: [PFN] = []
  /// Objects handed out (the self-hosted descriptors of the slab cache included).
  var objects = 0
  /// Pages that back the cache.
  var slabPages = 0
  /// One slab page kept when it empties, so that a cache going between 0 and 1 objects
  /// does not free and rebuild a page each time (SLUB's `min_partial`, at 1).
  var emptySlab: PFN? = nil

  init(kind: DescriptorKind) {
    self.kind = kind
    objectSize = kind.objectSize
    objectsPerSlab = Kernel.pageSize / kind.objectSize
  }
}

/// Direct-map addresses of descriptors: the kernel address of a byte of a frame.
public enum DirectMap {
  /// Kernel: `__va(PFN_PHYS(pfn)) + offset`.
  @inlinable public static func address(_ pfn: PFN, offset: Int = 0) -> UInt64 {
    Kernel.pageOffsetL4 &+ (pfn.rawValue << UInt64(Kernel.pageShift)) &+ UInt64(offset)
  }
  /// Kernel: `virt_to_pfn()` and the offset in the frame.
  @inlinable public static func location(_ address: UInt64) -> (pfn: PFN, offset: Int) {
    let phys = address &- Kernel.pageOffsetL4
    return (PFN(phys >> UInt64(Kernel.pageShift)), Int(phys & UInt64(Kernel.pageSize - 1)))
  }
}
