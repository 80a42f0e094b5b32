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
    }
    return p
  }

  /// The machine's RAM as a model layout (one node: the cost does not depend on nodes).
  public func layout(path: String) throws -> PhysicalLayout {
    do {
      return try PhysicalLayout(ram: ramRanges, nodeCount: 1)
    } catch {
      throw SnapshotError(.badText, path: path, "cannot model this machine's RAM: \(error) (kpageflags reads all zero and there is no iomem?)")
    }
  }
}

/// A snapshot analysed: the census, its projection in each era, the real machine's own
/// memmap figure, and the cross-checks against the kernel's counters.
public struct SnapshotAnalysis: Sendable {
  public var source: String
  public var kernelRelease: String?
  public var census: Census
  public var layout: PhysicalLayout
  public var population: Population
  /// Each era's cost with HVO as the snapshot had it.
  public var eras: [EraCost]
  /// Each era's cost with every HugeTLB page optimised.
  public var erasAllHVO: [EraCost]
  /// `nr_memmap_boot_pages + nr_memmap_pages` from vmstat: the real machine's memmap.
  public var vmstatMemmapPages: Int?
  public var crosschecks: [Crosscheck]
  public var pageSize: Int

  /// Analyses `snapshot`, costing `eras` (every era by default).
  /// `observer` sees the census pass's chunks (see `Census.of`).
  public static func of(_ snapshot: PageSnapshot, eras: [Era] = Era.allCases, observer: ((_ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) -> Void)? = nil) throws -> SnapshotAnalysis {
    let census = try Census.of(snapshot, observer: observer)
    let layout = try census.layout(path: snapshot.kpageflags.path)
    let population = census.population()
    let all = census.population(allHVO: true)
    let classic = EraCost.project(population, era: .classic, layout: layout)
    var vmstatMemmap: Int?
    if let v = snapshot.texts["vmstat"].map(ProcText.counters), let a = v["nr_memmap_boot_pages"], let b = v["nr_memmap_pages"] { vmstatMemmap = a + b }
    return SnapshotAnalysis(
      source: snapshot.origin.description, kernelRelease: snapshot.metadata.kernelRelease, census: census, layout: layout, population: population,
      eras: eras.map { EraCost.project(population, era: $0, layout: layout) },
      erasAllHVO: eras.map { EraCost.project(all, era: $0, layout: layout) },
      vmstatMemmapPages: vmstatMemmap,
      crosschecks: Crosscheck.all(census: census, snapshot: snapshot, modelMemmapFrames: classic.memmapFrames),
      pageSize: snapshot.metadata.pageSize)
  }

  /// Notes the report must carry: the HVO correction, RAM unknown, all-zero sections,
  /// irregular runs.
  public var notes: [String] {
    var n: [String] = []
    let c = census
    if c.hvoFakeHeadsCorrected > 0 {
      n.append("HVO fake heads corrected: \(c.hugetlbHeadPFNs) HugeTLB PFNs read COMPOUND_HEAD, \(c.hvoFakeHeadsCorrected) of them fake (every 64th PFN of an optimised huge page, kpageflags.md point 3); huge pages counted by natural alignment to the pool sizes")
    }
    if let note = c.hugetlbNote { n.append(note) }
    if !c.ramKnown {
      n.append("RAM unknown (no iomem System RAM ranges): taken to be the \(c.ramSections) sections with a non-zero word; holes and all-zero sections are not told apart")
    }
    if c.zeroRAMSections > 0 {
      n.append("\(c.zeroRAMSections) RAM section(s) (\(c.zeroSectionRAMPFNs) PFNs) read all zero: memory whose struct pages were not initialised yet (deferred init, kpageflags.md point 2); its pages are in no count")
    }
    if c.slabSpuriousAnonPages > 0 || c.slabSpuriousKSMPages > 0 {
      n.append("\(c.slabSpuriousAnonPages) slab pages showed ANON (\(c.slabSpuriousKSMPages) also KSM): struct slab overlays the mapping word (kpageflags.md point 6); counted as slab only")
    }
    if c.irregularCompoundPages > 0 || c.orphanTailPages > 0 {
      n.append("\(c.irregularCompoundPages) pages in compound runs that are not aligned powers of two and \(c.orphanTailPages) tail pages without their head: folios that changed while the file was read (point 8); not counted as folios")
    }
    return n
  }

  public var json: JSON {
    let c = census
    func orders(_ d: [Int: Int]) -> JSON { .object(d.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { (String($0.key), .int($0.value)) }) }
    let censusJSON: JSON = .object([
      ("pfns", .int(c.pfns)),
      ("ram_known", .bool(c.ramKnown)),
      ("ram_pfns", .int(c.ramPFNs)),
      ("hole_pfns", .int(c.holePFNs)),
      ("ram_ranges", .array(c.ramRanges.map { .string("0x\(String($0.lowerBound.rawValue, radix: 16))-0x\(String($0.upperBound.rawValue - 1, radix: 16))") })),
      ("ram_sections", .int(c.ramSections)),
      ("zero_pfns", .int(c.zeroPFNs)),
      ("zero_ram_pfns", .int(c.zeroRAMPFNs)),
      ("zero_ram_sections", .int(c.zeroRAMSections)),
      ("zero_section_ram_pfns", .int(c.zeroSectionRAMPFNs)),
      ("no_flag_ram_pfns", .int(c.noFlagRAMPFNs)),
      ("buddy_pages", .int(c.buddyPages)),
      ("buddy_blocks", c.buddyBlocks.map { .array($0.map { .int($0) }) } ?? .null),
      ("slab_pages", .int(c.slabPages)),
      ("slabs", orders(c.slabs)),
      ("slab_spurious_anon_pages", .int(c.slabSpuriousAnonPages)),
      ("slab_spurious_ksm_pages", .int(c.slabSpuriousKSMPages)),
      ("pgtable_pages", .int(c.pgtablePages)),
      ("reserved_pages", .int(c.reservedPages)),
      ("zero_page_pages", .int(c.zeroPagePages)),
      ("offline_pages", .int(c.offlinePages)),
      ("hugetlb_pages", .object(c.hugetlb.map { ($0.name, .int($0.folios)) })),
      ("hugetlb_hvo_optimized", .object(c.hugetlb.map { ($0.name, .int($0.optimized)) })),
      ("hugetlb_pool_pages", .object(c.hugetlb.map { ($0.name, $0.poolPages.map { .int($0) } ?? .null) })),
      ("hugetlb_head_pfns", .int(c.hugetlbHeadPFNs)),
      ("hvo_fake_heads_corrected", .int(c.hvoFakeHeadsCorrected)),
      ("hugetlb_note", c.hugetlbNote.map { .string($0) } ?? .null),
      ("folios", .object(CensusFolioKind.allCases.map { ($0.rawValue, orders(c.folios[$0] ?? [:])) })),
      ("irregular_compound_pages", .int(c.irregularCompoundPages)),
      ("orphan_tail_pages", .int(c.orphanTailPages)),
    ])
    return .object([
      ("source", .string(source)),
      ("kernel_release", kernelRelease.map { .string($0) } ?? .null),
      ("ram_bytes", .int(Int(layout.ramBytes))),
      ("present_sections", .int(layout.presentSections.count)),
      ("census", censusJSON),
      ("vmstat_memmap_pages", vmstatMemmapPages.map { .int($0) } ?? .null),
      ("vmstat_memmap_bytes", vmstatMemmapPages.map { .int($0 * pageSize) } ?? .null),
      ("eras", .array(eras.map(\.json))),
      ("eras_all_hvo", .array(erasAllHVO.map(\.json))),
      ("crosschecks", .array(crosschecks.map(\.json))),
      ("notes", .array(notes.map { .string($0) })),
    ])
  }
}
