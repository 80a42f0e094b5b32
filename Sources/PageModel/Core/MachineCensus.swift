/// What a booted machine holds, counted from its state: the numbers `memdesc boot`
/// prints.
public struct MachineCensus: Sendable, Equatable {
  public struct Zone: Sendable, Equatable {
    public var node: Int
    public var name: String
    public var startPFN: PFN
    public var endPFN: PFN
    public var presentPages: Int
    public var managedPages: Int
    public var freePages: Int
    public var pcpPages: Int
    /// Free blocks per order 0-10: a `/proc/buddyinfo` row.
    public var freeBlocks: [Int]
  }

  /// A HugeTLB pool as boot left it.
  public struct Pool: Sendable, Equatable {
    public var order: Int
    /// Pages asked for on the command line (`hugepages=`); 0 for none.
    public var requested: Int
    public var count: Int
    /// Pages whose vmemmap is optimised.
    public var optimized: Int
  }

  public var era: Era
  public var ramBytes: UInt64
  /// Entries of /proc/kpageflags: `max_pfn` rounded up to a whole section, as far as
  /// the last section's memmap reaches. Kernel: `get_max_dump_pfn()` (SPARSEMEM).
  public var pfns: UInt64
  /// One past the highest PFN of RAM. Kernel: `max_pfn`.
  public var maxPFN: UInt64
  public var ramPages: Int
  public var nodes: Int
  public var presentSections: Int
  public var structPageBytes: Int
  public var vmemmapBase: UInt64
  /// Frames mapped into the vmemmap, counted from the frame counters.
  public var memmapFrames: Int
  public var memmapBytes: UInt64 { UInt64(memmapFrames) * UInt64(Kernel.pageSize) }
  /// Kernel: vmstat `nr_memmap_boot_pages` and `nr_memmap_pages` now.
  public var nrMemmapBootPages: Int
  public var nrMemmapPages: Int
  /// The same two right after the memmap was populated, before any late optimisation
  /// of the boot-time pools.
  public var populatedMemmapBootPages: Int
  public var populatedMemmapPages: Int
  /// How the boot-time pools' vmemmap was optimised.
  public var bootHVO: BootHVO
  /// Pools that boot filled (empty without `--boot-hugepages`).
  public var bootPools: [Pool]
  /// 2 MiB vmemmap blocks mapped by one PMD, and PTE tables (frames) of the vmemmap.
  public var vmemmapPMDMappings: Int
  public var vmemmapPTETables: Int
  /// The page_ext clients, and the frames of their per-section tables.
  public var pageExt: PageExt
  public var pageExtFrames: Int
  public var pageExtBytes: UInt64 { UInt64(pageExtFrames) * UInt64(Kernel.pageSize) }
  public var freePages: Int
  public var pcpPages: Int
  public var zones: [Zone]
  /// The mask era's misaligned vmemmap base, as the kernel's `VM_WARN_ON_ONCE` reports
  /// it; nil where heads decode right.
  public var alignmentWarning: MachineError?
  /// Whether boot wrote the struct pages or left them to their first touch, and why.
  public var memmapInit: MemmapInit

  /// The memmap as a share of RAM, in percent.
  public var memmapPercentOfRAM: Double { ramBytes == 0 ? 0 : Double(memmapBytes) * 100 / Double(ramBytes) }
  /// The page_ext tables as a share of RAM, in percent.
  public var pageExtPercentOfRAM: Double { ramBytes == 0 ? 0 : Double(pageExtBytes) * 100 / Double(ramBytes) }
}

extension Machine {
  /// Counts the machine's state.
  public func census() -> MachineCensus {
    let section = UInt64(Kernel.pagesPerSection)
    let maxPFN = layout.endPFN.rawValue
    return MachineCensus(
      era: era, ramBytes: layout.ramBytes, pfns: (maxPFN + section - 1) / section * section, maxPFN: maxPFN,
      ramPages: layout.ramPages, nodes: layout.nodes.count, presentSections: layout.presentSections.count,
      structPageBytes: Format.structPageSize, vmemmapBase: memmap.base,
      memmapFrames: memmapFrames, nrMemmapBootPages: memmapBootPages, nrMemmapPages: memmapPages,
      populatedMemmapBootPages: populatedMemmap.bootPages, populatedMemmapPages: populatedMemmap.pages,
      bootHVO: config.effectiveBootHVO,
      bootPools: hugetlb.hstates.compactMap { h in
        let requested = hugetlb.bootRequested[h.order] ?? 0
        guard requested > 0 || h.nrHugePages > 0 else { return nil }
        return MachineCensus.Pool(order: h.order, requested: requested, count: h.nrHugePages,
                                  optimized: h.folios.filter { hugetlb.optimized.contains($0.pfn) }.count)
      },
      vmemmapPMDMappings: vmemmapTable.pmdMappings, vmemmapPTETables: vmemmapTable.pteTables,
      pageExt: config.pageExt, pageExtFrames: pageExtFrames, freePages: freePages, pcpPages: pcpPages,
      zones: zones.map { z in
        MachineCensus.Zone(
          node: z.node, name: z.name, startPFN: z.span.lowerBound, endPFN: z.span.upperBound,
          presentPages: z.presentPages, managedPages: managedPages(zone: z.index),
          freePages: freePages(zone: z.index), pcpPages: pcpState(zone: z.index).count,
          freeBlocks: freeBlocks(zone: z.index))
      },
      alignmentWarning: config.vmemmapAlignmentWarning, memmapInit: memmapInit)
  }
}
