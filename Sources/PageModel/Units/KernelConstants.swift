/// Numbers the model shares with an x86-64 Linux kernel built with 4 KiB pages,
/// SPARSEMEM_VMEMMAP, MEMCG and HugeTLB vmemmap optimisation (a distribution config).
///
/// Tests pin every one of these to its value, so a change here is a deliberate act.
public enum Kernel {
  /// Kernel: `PAGE_SHIFT` (arch/x86/include/asm/page_types.h).
  public static let pageShift = 12
  /// Kernel: `PAGE_SIZE`.
  public static let pageSize = 1 << pageShift
  /// Size of the 64-byte `struct page` of the classic and mask eras.
  /// Kernel: `sizeof(struct page)` with MEMCG on x86-64.
  public static let structPageSize = 64
  /// Kernel: `STRUCT_PAGE_MAX_SHIFT` = `order_base_2(sizeof(struct page))`.
  public static let structPageShift = 6
  /// struct pages that fit in one 4 KiB vmemmap page.
  public static let structPagesPerVmemmapPage = pageSize / structPageSize
  /// Kernel: `MAX_PAGE_ORDER` (include/linux/mmzone.h): the largest buddy block is 4 MiB.
  public static let maxPageOrder = 10
  /// Kernel: `NR_PAGE_ORDERS`.
  public static let nrPageOrders = maxPageOrder + 1
  /// Kernel: `MAX_FOLIO_ORDER` on x86-64 with gigantic folios: 16 GiB.
  public static let maxFolioOrder = 22
  /// Kernel: `MAX_FOLIO_NR_PAGES`.
  public static let maxFolioNrPages = 1 << maxFolioOrder
  /// Kernel: `MAX_FOLIO_VMEMMAP_ALIGN` = `MAX_FOLIO_NR_PAGES * sizeof(struct page)`
  /// (256 MiB). The mask encoding needs the memmap base aligned to it.
  public static let maxFolioVmemmapAlign: UInt64 = UInt64(maxFolioNrPages * structPageSize)
  /// Kernel: `SECTION_SIZE_BITS` on x86-64: 128 MiB memory sections.
  public static let sectionSizeBits = 27
  /// Kernel: `PFN_SECTION_SHIFT`.
  public static let pfnSectionShift = sectionSizeBits - pageShift
  /// Kernel: `PAGES_PER_SECTION`.
  public static let pagesPerSection = 1 << pfnSectionShift
  /// vmemmap pages (4 KiB frames) that back one section's struct pages: 512.
  public static let vmemmapPagesPerSection = pagesPerSection * structPageSize / pageSize
  /// Kernel: `__VMEMMAP_BASE_L4` (arch/x86/include/asm/pgtable_64_types.h).
  public static let vmemmapBaseL4: UInt64 = 0xffff_ea00_0000_0000
  /// Kernel: `TAIL_MAPPING` = `0x400 + POISON_POINTER_DELTA` (include/linux/poison.h),
  /// with x86-64's `CONFIG_ILLEGAL_POINTER_VALUE` of 0xdead000000000000.
  public static let tailMapping: UInt64 = 0xdead_0000_0000_0400
  /// Kernel: `LIST_POISON1` (include/linux/poison.h).
  public static let listPoison1: UInt64 = 0xdead_0000_0000_0100
  /// Kernel: `LIST_POISON2`.
  public static let listPoison2: UInt64 = 0xdead_0000_0000_0122
  /// Kernel: `PAGE_OFFSET` of the 4-level direct map (`__PAGE_OFFSET_BASE_L4`). Model
  /// kernel objects that are not struct pages (zones' free-list heads) get addresses here.
  public static let pageOffsetL4: UInt64 = 0xffff_8880_0000_0000
  /// Kernel: `__START_KERNEL_map`, where the kernel image (and with it the zones of a
  /// non-NUMA machine, in `contig_page_data`) is mapped. Model list heads get addresses
  /// here.
  public static let startKernelMap: UInt64 = 0xffff_ffff_8000_0000
  /// Kernel: `PAGE_ALLOC_COSTLY_ORDER`: orders up to this one use the per-CPU lists.
  public static let pageAllocCostlyOrder = 3
  /// Kernel: `pageblock_order` on x86-64 (= `HPAGE_PMD_ORDER`).
  public static let pageblockOrder = 9
  /// Kernel: `MIGRATE_PCPTYPES` (unmovable, movable, reclaimable): the migratetypes with
  /// per-CPU lists of their own.
  public static let migratePcpTypes = 3
  /// Kernel: `NR_PCP_THP` with CONFIG_TRANSPARENT_HUGEPAGE (include/linux/mmzone.h):
  /// one pageblock-order list for MIGRATE_MOVABLE, one for the other two types.
  public static let nrPcpThp = 2
  /// Kernel: `NR_PCP_LISTS` = `NR_LOWORDER_PCP_LISTS` + `NR_PCP_THP`: 14 per zone and CPU.
  public static let nrPcpLists = migratePcpTypes * (pageAllocCostlyOrder + 1) + nrPcpThp
}
