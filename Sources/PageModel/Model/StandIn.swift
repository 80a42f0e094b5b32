/// Kernel pointers the model stores in struct pages and descriptors where the kernel
/// would store the address of an object the model does not build: addresses in the
/// kernel image, so that they read like the real thing in a hex dump.
public enum StandIn {
  /// An `anon_vma` with `PAGE_MAPPING_ANON`, for anonymous folios.
  public static var anonMapping: UInt64 { Kernel.startKernelMap + 0x0400_0000 | StructPageLayout.mappingAnon }
  /// An `address_space`, for page-cache folios.
  public static var fileMapping: UInt64 { Kernel.startKernelMap + 0x0400_1000 }
  /// A `struct kmem_cache`, for the slabs workloads allocate.
  public static var kmallocCache: UInt64 { Kernel.startKernelMap + 0x0400_2000 }
  /// The first `raw_hwp_page` of a poisoned HugeTLB folio's list (memdesc8 keeps the
  /// raw pages in `HugetlbState`).
  public static var rawHWPoisonList: UInt64 { Kernel.startKernelMap + 0x0400_3000 }
}
