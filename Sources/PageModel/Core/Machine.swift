/// Machine-wide counters, kept in raw memory so that hot paths update them without
/// class-property exclusivity checks.
@usableFromInline
struct MachineCounters {
  /// Kernel: vmstat `nr_memmap_boot_pages`: memmap frames from memblock at boot.
  @usableFromInline var memmapBootPages = 0
  /// Kernel: vmstat `nr_memmap_pages`: memmap frames from the page allocator later.
  @usableFromInline var memmapPages = 0
  /// Kernel: the count behind the static key `hugetlb_optimize_vmemmap_key`: the number
  /// of HVO-optimised folios. While it is 0, `compound_head()` skips the fake-head fix-up.
  @usableFromInline var hugetlbOptimizeVmemmapKey = 0
}

/// The byte-level core of a model machine of one era: physical memory, the vmemmap
/// page table and the memmap behind it, the zones, the buddy allocator and the per-CPU
/// lists.
///
/// `Machine` is generic over the era's ``PageFormat``, so the allocator is compiled once
/// per era with no era test inside. It knows where a format keeps a free block's order
/// and links, never what a folio is: that is the era family's (``Page64Model``,
/// ``MemdescModel``), which owns a `Machine`. Use ``bootModel(_:)`` to pick the era at
/// run time.
public final class Machine<Format: PageFormat> {
  public let config: MachineConfig
  @usableFromInline let memory: PhysicalMemory
  @usableFromInline let vmemmapTable: VmemmapTable
  /// The handle every struct page access goes through. It does not own the memory it
  /// points into: outside the module it is lent only for the length of a closure
  /// (``withMemmap(_:)``).
  @usableFromInline let memmap: Memmap<Format>
  /// Zones of all nodes, node by node, low zone first.
  public let zones: [ZoneDescriptor]
  /// HugeTLB pools and the vmemmap optimisation switch.
  public let hugetlb = HugetlbState()

  @usableFromInline let lists: UnsafeMutablePointer<ListHead>
  /// Lists per free area and per-CPU list: one per arena of the format's links (1 for
  /// every format but memdesc8; see `FreeList.swift`).
  @usableFromInline let arenaCount: Int
  /// List heads of one arena: every zone's free areas and per-CPU lists.
  @usableFromInline let listsPerArena: Int
  @usableFromInline let zoneCounters: UnsafeMutablePointer<ZoneCounters>
  @usableFromInline let counters: UnsafeMutablePointer<MachineCounters>
  /// One byte per section of the PFN span: the section's node, or 0xff where the section
  /// is not present (no memmap).
  @usableFromInline let sectionNode: UnsafeMutablePointer<UInt8>
  @usableFromInline let sectionCount: Int
  /// Zone index by `node * 3 + zone type`, -1 where the node lacks the zone.
  @usableFromInline let zoneIndexTable: [Int]
  /// Fallback order per (node, highest zone): kernel `node_zonelists[ZONELIST_FALLBACK]`.
  /// Flat, for the allocator's hot path: list `i` is `zonelistTable[i * stride]` (its
  /// length) followed by that many zone indexes.
  @usableFromInline let zonelistTable: UnsafeMutablePointer<Int>
  @usableFromInline let zonelistStride: Int
  /// Frames that hold the boot memmap, for the census and reports.
  public private(set) var memmapFrameRanges: [PFNRange] = []
  /// Gigantic pages memblock reserved at boot for the boot-time pools, which the era
  /// family turns into pool pages once the allocator runs (``HugetlbFamily/gatherBootmemPrealloc()``).
  public private(set) var bootGiganticPages: [(pfn: PFN, order: Int)] = []
  /// vmstat's two memmap counters once the boot memmap is populated (with the early
  /// optimisation of boot-time pools), before any late optimisation. Kernel: what
  /// `nr_memmap_boot_pages` / `nr_memmap_pages` read right after `sparse_init()`.
  public internal(set) var populatedMemmap: (bootPages: Int, pages: Int) = (0, 0)
  /// Whether boot wrote the struct pages or left them to the first touch, and why.
  public private(set) var memmapInit: MemmapInit = .eager(reason: "not booted")
  /// Memmap frames counted as boot memmap though the model's allocator gave them
  /// (``adoptAsBootFrames(_:memmap:)``).
  var bootAdoptedFrames = Set<PFN>()
  /// Boot-time gigantic pages not yet gathered into their pool: reserved, in no free
  /// list.
  var pendingBootGigantic: [(pfn: PFN, order: Int)] = []

  public var layout: PhysicalLayout { config.layout }
  public var era: Era { Format.era }

  /// Boots a machine: populates the memmap of every present section from the machine's
  /// own RAM (top-down, as memblock does), initialises every struct page, and frees the
  /// rest of RAM to the buddy allocator.
  ///
  /// Kernel: `sparse_init()`, `memmap_init()`, `memblock_free_all()`.
  public init(_ config: MachineConfig) throws(MachineError) {
    try config.validate()
    guard config.era == Format.era else { throw .eraMismatch(config: config.era, machine: Format.era) }
    self.config = config
    let layout = config.layout
    sectionCount = Int((layout.endPFN.rawValue + UInt64(Kernel.pagesPerSection) - 1) >> UInt64(Kernel.pfnSectionShift))
    memory = try PhysicalMemory(frames: UInt64(sectionCount) << UInt64(Kernel.pfnSectionShift))
    vmemmapTable = VmemmapTable(base: config.vmemmapBase, pages: sectionCount * Format.vmemmapPagesPerSection)
    memmap = Memmap(base: config.vmemmapBase, table: vmemmapTable, memory: memory)

    sectionNode = .allocate(capacity: max(sectionCount, 1))
    sectionNode.initialize(repeating: 0xff, count: max(sectionCount, 1))
    for s in layout.presentSections { sectionNode[s] = UInt8(layout.node(ofSection: s)) }

    var zones: [ZoneDescriptor] = []
    var table = [Int](repeating: -1, count: layout.nodes.count * 3)
    for node in layout.nodes.indices {
      for (type, span) in layout.zoneSpans(node: node) {
        table[node * 3 + type.rawValue] = zones.count
        zones.append(ZoneDescriptor(index: zones.count, node: node, type: type, span: span,
                                    presentPages: layout.presentPages(in: span)))
      }
    }
    self.zones = zones
    zoneIndexTable = table
    let zonelists = Machine.buildZonelists(zones: zones, nodeCount: layout.nodes.count)
    zonelistStride = zones.count + 1
    zonelistTable = .allocate(capacity: zonelists.count * zonelistStride)
    zonelistTable.initialize(repeating: 0, count: zonelists.count * zonelistStride)
    for (i, list) in zonelists.enumerated() {
      zonelistTable[i * zonelistStride] = list.count
      for (j, z) in list.enumerated() { zonelistTable[i * zonelistStride + 1 + j] = z }
    }

    let arenaFrames = Format.linkArenaShift >= 64 ? UInt64.max : UInt64(1) << UInt64(Format.linkArenaShift)
    arenaCount = arenaFrames == .max ? 1 : Int((layout.endPFN.rawValue + arenaFrames - 1) / arenaFrames)
    listsPerArena = max(zones.count, 1) * ZoneLists.perZone
    lists = .allocate(capacity: max(zones.count, 1) * ZoneLists.perZone * arenaCount)
    for i in 0..<(max(zones.count, 1) * ZoneLists.perZone * arenaCount) {
      // Addresses in the kernel image's data for the list heads inside each `struct zone`.
      (lists + i).initialize(to: ListHead(address: Kernel.startKernelMap + 0x0200_0000 + UInt64(i) * 16))
    }
    zoneCounters = .allocate(capacity: max(zones.count, 1))
    zoneCounters.initialize(repeating: ZoneCounters(), count: max(zones.count, 1))
    for z in zones {
      zoneCounters[z.index].type = z.type
      zoneCounters[z.index].node = z.node
    }
    counters = .allocate(capacity: 1)
    counters.initialize(to: MachineCounters())
    bootGiganticPages = reserveBootGiganticPages()
    pendingBootGigantic = bootGiganticPages
    memmapFrameRanges = try populateMemmap(excluding: PFNRange.merged(bootGiganticPages.map { $0.pfn..<($0.pfn + (1 << $0.order)) }))
    memmapInit = startLazyMemmap()
    if !memmapInit.isLazy {
      if config.lazyMemmap { try config.checkHostMemory(lazy: false) }
      for r in memmapFrameRanges { memory.populate(r) }
      initStructPagesAndFreeRAM()
    }
    populatedMemmap = (counters.pointee.memmapBootPages, counters.pointee.memmapPages)
    pageExtFrames = try allocatePageExt(config.pageExt)
  }

  deinit {
    lists.deallocate()
    zoneCounters.deallocate()
    counters.deallocate()
    sectionNode.deallocate()
    zonelistTable.deallocate()
  }

  private static func buildZonelists(zones: [ZoneDescriptor], nodeCount: Int) -> [[Int]] {
    var result: [[Int]] = []
    for node in 0..<nodeCount {
      // Nodes by distance (|a - b| stands in for the SLIT), ties to the lower node.
      let order = (0..<nodeCount).sorted { (abs($0 - node), $0) < (abs($1 - node), $1) }
      for highest in [ZoneType.dma, .dma32, .normal] {
        var list: [Int] = []
        for n in order {
          for z in zones.filter({ $0.node == n && $0.type <= highest }).sorted(by: { $0.type > $1.type }) {
            list.append(z.index)
          }
        }
        result.append(list)
      }
    }
    return result
  }

  /// Lends the memmap handle for the length of `body`, which must not keep it: the
  /// frames and page table behind it live as long as the machine.
  @inlinable
  public func withMemmap<R>(_ body: (Memmap<Format>) throws -> R) rethrows -> R { try body(memmap) }

  // MARK: - Lookups

  /// Whether `pfn` has a struct page (its section's memmap is populated).
  /// Kernel: `pfn_valid()` for SPARSEMEM_VMEMMAP.
  @inlinable @inline(__always)
  public func pfnValid(_ pfn: PFN) -> Bool {
    let s = pfn.rawValue >> UInt64(Kernel.pfnSectionShift)
    return s < UInt64(sectionCount) && sectionNode[Int(s)] != 0xff
  }

  /// Kernel: `pfn_to_page()`.
  @inlinable @inline(__always)
  public func page(_ pfn: PFN) -> UInt64 { memmap.address(of: pfn) }

  /// The zone a valid PFN belongs to: its section's node, and the zone whose fixed PFN
  /// limits hold it. (The kernel reads the same answer from the page's flags, which the
  /// 8-byte era no longer has for free pages.) Kernel: `page_zone()`.
  @inlinable @inline(__always)
  func zoneIndex(of pfn: PFN) -> Int {
    let node = Int(sectionNode[Int(pfn.rawValue >> UInt64(Kernel.pfnSectionShift))])
    return zoneIndexTable[node &* 3 &+ ZoneType.of(pfn).rawValue]
  }

  /// The zone of the struct page at `page`.
  @inlinable @inline(__always)
  func zoneIndex(ofPage page: UInt64) -> Int { zoneIndex(of: memmap.pfn(ofPageAt: page)) }

  /// The zone descriptor of a PFN's page.
  public func zone(of pfn: PFN) throws(MachineError) -> ZoneDescriptor {
    guard pfnValid(pfn) else { throw .invalidPFN(pfn) }
    let i = zoneIndex(ofPage: page(pfn))
    guard i >= 0 else { throw .invalidPFN(pfn) }
    return zones[i]
  }

  // MARK: - Counters

  /// Frames that back the vmemmap now. Kernel: vmstat
  /// `nr_memmap_boot_pages + nr_memmap_pages`.
  public var memmapFrames: Int { counters.pointee.memmapBootPages + counters.pointee.memmapPages }
  /// Frames of the page_ext tables (``MachineConfig/pageExt``), allocated once at boot.
  public private(set) var pageExtFrames = 0
  /// Kernel: vmstat `nr_memmap_boot_pages`.
  public var memmapBootPages: Int { counters.pointee.memmapBootPages }
  /// Kernel: vmstat `nr_memmap_pages`.
  public var memmapPages: Int { counters.pointee.memmapPages }
  /// Pages in the buddy free lists of all zones. Kernel: `NR_FREE_PAGES`.
  public var freePages: Int { (0..<zones.count).reduce(0) { $0 + zoneCounters[$1].freePages } }
  /// Pages on the per-CPU lists of all zones.
  public var pcpPages: Int { (0..<zones.count).reduce(0) { $0 + zoneCounters[$1].pcpCount } }

  /// Buddy-free pages of one zone. Kernel: zone `NR_FREE_PAGES`.
  public func freePages(zone: Int) -> Int { zoneCounters[zone].freePages }
  /// Pages handed to the buddy allocator at boot. Kernel: `zone_managed_pages()`.
  public func managedPages(zone: Int) -> Int { zoneCounters[zone].managedPages }
  /// Pages on one zone's per-CPU lists, and its `high` and `batch`.
  public func pcpState(zone: Int) -> (count: Int, high: Int, batch: Int) {
    let c = zoneCounters[zone]
    return (c.pcpCount, c.pcpHigh, c.pcpBatch)
  }
  /// Free blocks per order of one zone. Kernel: `/proc/buddyinfo`.
  public func freeBlocks(zone: Int) -> [Int] {
    (0..<Kernel.nrPageOrders).map { listedCount(zone, ZoneLists.freeArea($0)) }
  }
}
