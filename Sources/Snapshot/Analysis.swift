import PageModel

extension Census {
  /// The census as the model's population: anonymous folios (THP, mTHP, order 0) as
  /// `anon`, page cache, shmem and untyped compound pages as `file` (the cost does not
  /// depend on the kind), slabs by order, page tables, and HugeTLB folios per order with
  /// how many were HVO-optimised. With `allHVO`, every HugeTLB folio is optimised (as
  /// the machine could have it).
  public func population(allHVO: Bool = false) -> Population {
    var p = Population()
    for (kind, orders) in folios {
      for (order, n) in orders where n > 0 { p.folios[kind.modelKind, default: [:]][order, default: 0] += n }
    }
    p.slabs = slabs.filter { $0.value > 0 }
    p.pageTables = pgtablePages
    for h in hugetlb where h.folios > 0 {
      p.hugetlb[h.order, default: 0] += h.folios
      p.hugetlbOptimized[h.order, default: 0] += allHVO ? h.folios : h.optimized
      p.hugetlbZones[h.order] = max(1, hugetlbZones[h.order] ?? 1)
      p.hugetlbOptimizedSections[h.order] = (allHVO ? hugetlbSections : hugetlbOptimizedSections)[h.order]
    }
    return p
  }

  /// The RAM the census found (iomem, or the non-zero sections).
  public var ram: SnapshotRAM { SnapshotRAM(ranges: ramRanges, known: ramKnown) }
}

/// A snapshot analysed: the census, its projection in each era, the real machine's own
/// memmap figure, and the cross-checks against the kernel's counters.
public struct SnapshotAnalysis: Sendable {
  public var source: String
  public var kernelRelease: String?
  public var census: Census
  public var layout: PhysicalLayout
  public var population: Population
  /// The page_ext clients the projection assumes.
  public var pageExt: PageExt
  /// Each era's cost with HVO as the snapshot had it.
  public var eras: [EraCost]
  /// Each era's cost with every HugeTLB page optimised.
  public var erasAllHVO: [EraCost]
  /// `nr_memmap_boot_pages + nr_memmap_pages` from vmstat: the real machine's memmap.
  public var vmstatMemmapPages: Int?
  public var crosschecks: [Crosscheck]
  public var pageSize: Int
  /// How often each class's pages are mapped (kpagecount), nil without kpagecount.
  public var mapcounts: MapcountCensus?
  /// Free memory by the census, buddyinfo and MemFree, with the RAM that reads zero.
  public var free: FreeMemory

  /// Analyses `snapshot`, costing `eras` (every era by default) with the page_ext tables
  /// of `pageExt` (a kpageflags snapshot does not tell which clients the kernel runs).
  /// `observer` sees the census pass's chunks (see `Census.of`).
  public static func of(_ snapshot: PageSnapshot, eras: [Era] = Era.allCases, pageExt: PageExt = .none, threads: Int = Parallel.defaultThreads, observer: ((_ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) -> Void)? = nil) throws -> SnapshotAnalysis {
    try of(snapshot, eras: eras, pageExt: pageExt, systemRAM: SnapshotRAM.systemRAM(snapshot), threads: threads, observer: observer)
  }

  /// The analysis with iomem's System RAM already read (see `Census.of`).
  public static func of(_ snapshot: PageSnapshot, eras: [Era] = Era.allCases, pageExt: PageExt = .none, systemRAM: [PFNRange]?, threads: Int = Parallel.defaultThreads, observer: ((_ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) -> Void)? = nil) throws -> SnapshotAnalysis {
    try of(snapshot, eras: eras, pageExt: pageExt, systemRAM: systemRAM, threads: threads, side: nil, observer: observer)
  }

  /// The analysis with a side pass on the census's chunks (the report's map).
  static func of(_ snapshot: PageSnapshot, eras: [Era] = Era.allCases, pageExt: PageExt = .none, systemRAM: [PFNRange]?, threads: Int = Parallel.defaultThreads, side: (any CensusSidePass)?, observer: ((_ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) -> Void)? = nil) throws -> SnapshotAnalysis {
    // kpagecount is read in the census's pass, chunk by chunk beside kpageflags, by the
    // worker that scanned the chunk: on a live machine both reads are kernel work, so this
    // puts them on every core. A gzip kpagecount decodes in PFN order only: it is read by
    // the ordered observer instead.
    let ordered = snapshot.kpagecount?.isSequential == true
    let perThread = ordered ? nil : MapcountCensus.PerThread(snapshot, threads: threads)
    let inOrder = ordered ? try MapcountCensus.Builder(snapshot) : nil
    var mapcountError: (any Error)?
    // Without anything else to feed, the census passes no observer (no ordered hand-off).
    let census = try Census.of(snapshot, systemRAM: systemRAM, threads: threads, side: side, observer: observer == nil && inOrder == nil ? nil : { start, words in
      observer?(start, words)
      guard let inOrder, mapcountError == nil else { return }
      do { try inOrder.add(startPFN: start, words) } catch { mapcountError = error }
    }, alongside: perThread.map { p in { worker, start, words in try p.add(worker: worker, startPFN: start, words) } })
    if let mapcountError { throw mapcountError }
    let mapcounts: MapcountCensus? = if let inOrder { inOrder.finish() } else { try perThread?.finish() }
    let layout = try census.ram.layout(path: snapshot.kpageflags.path)
    let population = census.population()
    let all = census.population(allHVO: true)
    let classic = EraCost.project(population, era: .classic, layout: layout)
    let (vmstat, vmstatMemmap) = try snapshot.vmstatMemmap()
    let free = FreeMemory(census: census, memFreePages: try snapshot.memFreePages())
    return SnapshotAnalysis(
      source: snapshot.origin.description, kernelRelease: snapshot.metadata.kernelRelease, census: census, layout: layout, population: population,
      pageExt: pageExt,
      eras: eras.map { EraCost.project(population, era: $0, layout: layout, pageExt: pageExt) },
      erasAllHVO: eras.map { EraCost.project(all, era: $0, layout: layout, pageExt: pageExt) },
      vmstatMemmapPages: vmstatMemmap,
      crosschecks: try Crosscheck.all(census: census, snapshot: snapshot, vmstat: vmstat, modelMemmapFrames: classic.memmapFrames, free: free),
      pageSize: snapshot.metadata.pageSize, mapcounts: mapcounts, free: free)
  }

  /// Notes the report must carry: the HVO correction, RAM unknown, all-zero sections,
  /// irregular runs.
  public var notes: [String] {
    var n: [String] = []
    let c = census
    if c.hvoFakeHeadsCorrected > 0 {
      n.append("HVO fake heads corrected: \(c.hugetlbHeadPFNs) HugeTLB PFNs read COMPOUND_HEAD, \(c.hvoFakeHeadsCorrected) of them fake (every 64th PFN of an optimised huge page, docs/kpageflags.md point 3); huge pages counted by natural alignment to the pool sizes")
    }
    if let note = c.hugetlbNote { n.append(note) }
    if c.hvoFromSysctl {
      n.append("HVO taken from vm.hugetlb_optimize_vmemmap=1: kernel \(c.kernel) shows no fake heads, so kpageflags cannot tell optimised huge pages; all \(c.hugetlb.reduce(0) { $0 + $1.folios }) counted as optimised (one allocated before the sysctl was set is not)")
    }
    if !c.ramKnown {
      n.append("RAM unknown (no iomem System RAM ranges): taken to be the \(c.ramSections) sections with a non-zero word; holes and all-zero sections are not told apart")
    }
    if c.zeroRAMSections > 0 {
      for (cause, z) in ZeroSectionCause.allCases.compactMap({ k in c.zeroSectionCauses[k].map { (k, $0) } }) {
        let why: String
        switch cause {
        case .offline: why = "in memory blocks that were offline (the snapshot's memory-blocks, or KPF_NOPAGE on a kernel up to 6.15)"
        case .deferredInit: why = "memory whose struct pages were not initialised yet (deferred init: kernel \(c.kernel) defers it past boot, docs/kpageflags.md point 2)"
        case .unknown: why = "reads zero, cause unknown (kernel \(c.kernel) initialises struct pages at boot, and no memory block was offline or the snapshot does not record them)"
        }
        n.append("\(z.sections) RAM section(s) (\(z.ramPFNs) PFNs) read all zero: \(why)")
      }
      n.append("\(c.zeroRAMSections) all-zero RAM section(s) in all: their pages are in no count"
        + (free.zeroSectionsExplainOffList ? ", but MemFree counts \(free.offListPages ?? 0) pages of it as free" : ""))
    }
    if c.slabSpuriousAnonPages > 0 || c.slabSpuriousKSMPages > 0 {
      n.append("\(c.slabSpuriousAnonPages) slab pages showed ANON (\(c.slabSpuriousKSMPages) also KSM): struct slab overlays the mapping word (docs/kpageflags.md point 6); counted as slab only")
    }
    if c.irregularCompoundPages > 0 || c.orphanTailPages > 0 {
      n.append("\(c.irregularCompoundPages) pages in compound runs that are not aligned powers of two and \(c.orphanTailPages) tail pages without their head: folios that changed while the file was read (docs/kpageflags.md point 8); not counted as folios")
    }
    return n
  }
}
