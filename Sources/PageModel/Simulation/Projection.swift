/// A machine's page population, as a census of a real machine finds it: what the
/// projection costs in each era.
public struct Population: Sendable, Equatable {
  /// Folios by kind and order (orders 0-10; hugetlb pages are counted apart).
  public var folios: [FolioKind: [Int: Int]] = [:]
  /// Slabs by order.
  public var slabs: [Int: Int] = [:]
  /// Page-table pages.
  public var pageTables = 0
  /// HugeTLB folios by order (9, 18), and how many of them are HVO-optimised.
  public var hugetlb: [Int: Int] = [:]
  public var hugetlbOptimized: [Int: Int] = [:]
  /// Zones that hold HugeTLB pages of each order (the mask era keeps one shared tail
  /// frame per zone and order).
  public var hugetlbZones: [Int: Int] = [:]
  /// The 128 MiB sections that the optimised HugeTLB folios of each order lie in, where
  /// known (a census knows; a population made by hand, or an order left out, does not).
  /// HVO splits the vmemmap PMD over each such section's struct pages, so the era's
  /// page-table cost depends on where the pages are, not only on how many there are.
  public var hugetlbOptimizedSections: [Int: Set<Int>] = [:]

  public init() {}

  /// The population as an allocation trace (folios, slabs, page tables, then HugeTLB),
  /// for building it in a model machine.
  public func trace(name: String = "population") -> Trace {
    var ops: [TraceOp] = []
    var id = 0
    for order in hugetlb.keys.sorted(by: >) {
      let optimized = hugetlbOptimized[order] ?? 0
      if optimized > 0 { ops.append(.hvo(true)); ops.append(.hugepages(order: order, count: optimized)) }
      if (hugetlb[order] ?? 0) > optimized {
        ops.append(.hvo(false))
        ops.append(.hugepages(order: order, count: hugetlb[order]!))
      }
    }
    for kind in FolioKind.allCases {
      for (order, n) in (folios[kind] ?? [:]).sorted(by: { $0.key > $1.key }) {
        for _ in 0..<n { ops.append(.allocFolio(id: id, order: order, kind: kind)); id += 1 }
      }
    }
    for (order, n) in slabs.sorted(by: { $0.key > $1.key }) {
      for _ in 0..<n { ops.append(.allocSlab(id: id, order: order)); id += 1 }
    }
    for _ in 0..<pageTables { ops.append(.allocPageTable(id: id)); id += 1 }
    return Trace(name: name, ops: ops)
  }
}

extension EraCost {
  /// What a population costs in an era on a machine of `layout`, by arithmetic: the
  /// numbers a model machine counts when it holds that population, without building it
  /// (so it runs for any machine size in constant memory).
  ///
  /// - memmap: 512, 256 or 64 frames per present section, less what HVO frees
  ///   (`Hstate.optimizablePages`: per huge page 7 or 4095 frames in the 64-byte eras,
  ///   2 or 2046 in memdesc32, 0 or 510 in memdesc8), plus the mask era's shared tail
  ///   frame per zone and order;
  /// - descriptors (memdesc eras), by the layouts' sizes: one 80-byte descriptor per
  ///   order-0 folio (51 a page), one 128-byte descriptor per larger folio (32 a page),
  ///   one 160-byte one per HugeTLB folio (25 a page), one 48-byte `struct ptdesc` per
  ///   page table (85 a page), and one 64-byte `struct slab` per slab page of every
  ///   cache and per kernel slab, in slab-cache pages that each hold their own
  ///   descriptor and 63 more;
  /// - page_ext: ``PageExt/framesPerSection`` per present section, whatever the era.
  public static func project(_ population: Population, era: Era, layout: PhysicalLayout, pageExt: PageExt = .none) -> EraCost {
    let full = MachineConfig(layout: layout, era: era).memmapFrames
    var saved = 0
    var sharedTails = 0
    for (order, n) in population.hugetlbOptimized where n > 0 {
      let freed = Hstate(order: order).optimizablePages(era)
      guard freed > 0 else { continue }
      saved += n * freed
      if era == .mask { sharedTails += population.hugetlbZones[order] ?? 1 }
    }
    var descriptors: [DescriptorKind: Int] = [:]
    if era == .memdesc32 || era == .memdesc8 {
      func pages(_ n: Int, _ kind: DescriptorKind) -> Int {
        let per = Kernel.pageSize / kind.objectSize
        return (n + per - 1) / per
      }
      var small = 0, large = 0
      for kind in FolioKind.allCases {
        for (order, n) in population.folios[kind] ?? [:] { if order == 0 { small += n } else { large += n } }
      }
      let kernelSlabs = population.slabs.values.reduce(0, +)
      descriptors[.folio] = pages(small, .folio)
      descriptors[.largeFolio] = pages(large, .largeFolio)
      descriptors[.hugetlbFolio] = pages(population.hugetlb.values.reduce(0, +), .hugetlbFolio)
      descriptors[.hwpoison] = 0
      descriptors[.ptdesc] = pages(population.pageTables, .ptdesc)
      let others = descriptors.values.reduce(0, +)
      let perSlabPage = Kernel.pageSize / DescriptorKind.slab.objectSize - 1
      descriptors[.slab] = (kernelSlabs + others + perSlabPage - 1) / perSlabPage
    } else {
      for kind in DescriptorKind.allCases { descriptors[kind] = 0 }
    }
    let splits = hvoSplitPMDs(population, era: era, layout: layout)
    return EraCost(era: era, structPageBytes: era.structPageBytes, memmapFrames: full - saved + sharedTails,
                   descriptorFrames: descriptors, hvoSavedFrames: saved - sharedTails - splits, ramBytes: layout.ramBytes,
                   pageExtFrames: pageExt.frames(presentSections: layout.presentSections.count), hvoPTETableFrames: splits)
  }

  /// The vmemmap PMDs HVO splits for a population's optimised HugeTLB folios, one
  /// page-table frame each. Boot maps a 2 MiB block of vmemmap with one PMD where every
  /// section it covers is present (one section with a 64-byte struct page, two with
  /// 32 bytes, eight with 8); HVO remaps single vmemmap pages, so each such block under
  /// an optimised folio becomes a PTE table. Blocks that boot already mapped with a PTE
  /// table cost nothing more, and an era whose HVO frees nothing for an order (memdesc8's
  /// 2 MiB pages) splits nothing for it.
  ///
  /// With the folios' sections known (``Population/hugetlbOptimizedSections``) this is
  /// exactly what a model machine holding them there counts; without, the fewest blocks
  /// the folios can touch (packed from a block's start).
  ///
  /// Kernel: `vmemmap_remap_range()` -> `vmemmap_split_pmd()`, after
  /// `vmemmap_populate_hugepages()` mapped the block.
  public static func hvoSplitPMDs(_ population: Population, era: Era, layout: PhysicalLayout) -> Int {
    let perSection = (Kernel.pagesPerSection * era.structPageBytes) >> Kernel.pageShift
    let sectionsPerPMD = max(VmemmapTable.pagesPerPMD / perSection, 1)
    let present = Set(layout.presentSections)
    var blocks = Set<Int>()
    var packed = 0
    for (order, n) in population.hugetlbOptimized where n > 0 && Hstate.optimizablePages(order: order, era) > 0 {
      guard let sections = population.hugetlbOptimizedSections[order], !sections.isEmpty else {
        let vmemmap = Hstate(order: order).vmemmapPages(era)
        packed += (n * vmemmap + VmemmapTable.pagesPerPMD - 1) / VmemmapTable.pagesPerPMD
        continue
      }
      for s in sections { blocks.insert(s / sectionsPerPMD) }
    }
    let leaves = blocks.filter { b in (b * sectionsPerPMD..<(b + 1) * sectionsPerPMD).allSatisfy { present.contains($0) } }
    return leaves.count + packed
  }
}

/// vmstat's two memmap counters for a machine whose pools were made at boot, by
/// arithmetic: what `boot` counts, without booting (docs/boot.md).
public struct MemmapCounters: Sendable, Equatable {
  /// Kernel: `nr_memmap_boot_pages`, `nr_memmap_pages`.
  public var bootPages: Int
  public var pages: Int

  public init(bootPages: Int, pages: Int) { (self.bootPages, self.pages) = (bootPages, pages) }

  /// The counters once boot-time pools of `pools` are gathered with the boot-time
  /// optimisation `hvo`: an early-optimised gigantic page keeps its frames in the boot
  /// count and never has the rest; a late-optimised one (and every 2 MiB page, which
  /// comes from the buddy allocator) frees all its boot frames and takes the frames HVO
  /// keeps from the page allocator. The mask era's shared tail frames are in neither.
  public static func project(layout: PhysicalLayout, era: Era, pools: [BootHugepages], hvo: BootHVO) -> MemmapCounters {
    var c = MemmapCounters(bootPages: MachineConfig(layout: layout, era: era).memmapFrames, pages: 0)
    guard hvo != .off else { return c }
    for pool in pools where Hstate.optimizablePages(order: pool.order, era) > 0 {
      let vmemmap = Hstate(order: pool.order).vmemmapPages(era), kept = Hstate.hvoKeptPages(era)
      if hvo == .early && pool.order > Kernel.maxPageOrder {
        c.bootPages -= pool.count * (vmemmap - kept)
      } else {
        c.bootPages -= pool.count * vmemmap
        c.pages += pool.count * kept
      }
    }
    return c
  }
}

extension MemoryModel {
  /// The 128 MiB sections the model's HVO-optimised HugeTLB folios lie in, by order: a
  /// population's ``Population/hugetlbOptimizedSections`` as the model placed it.
  public func hugetlbOptimizedSections() -> [Int: Set<Int>] {
    var out: [Int: Set<Int>] = [:]
    for order in [Hstate.pmd, Hstate.pud] {
      for (folio, optimized) in hugetlbFolios(order: order) where optimized {
        let first = Int(folio.pfn.rawValue) >> Kernel.pfnSectionShift
        let last = (Int(folio.pfn.rawValue) + (1 << order) - 1) >> Kernel.pfnSectionShift
        out[order, default: []].formUnion(first...last)
      }
    }
    return out
  }
}
