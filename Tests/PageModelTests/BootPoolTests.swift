import Testing
@testable import PageModel

/// Boot-time HugeTLB pools, the PMD-mapped vmemmap and the alignment warning (issue 15,
/// boot side).
@Suite struct BootPoolTests {
  func config(_ era: Era, ram: UInt64, nodes: Int = 1, pools: [BootHugepages], hvo: BootHVO? = nil) throws -> MachineConfig {
    var c = MachineConfig(layout: try .flat(ramBytes: ram, nodes: nodes), era: era)
    c.bootHugepages = pools
    c.bootHVO = hvo
    return c
  }

  /// Each era's counters for 4 boot-time 1 GiB pages on 8 GiB (32768 frames of 64-byte
  /// memmap in full): early keeps one boot frame a page, late moves the new head frame
  /// to nr_memmap_pages, off keeps everything.
  @Test(arguments: [
    (Era.mask, BootHVO.early, 32768 - 4 * 4095, 0, 32768 - 4 * 4095),
    (.mask, .late, 32768 - 4 * 4096, 4, 32768),
    (.classic, .early, 32768 - 4 * 4095, 0, 32768 - 4 * 4095),
    (.classic, .late, 32768 - 4 * 4096, 4, 32768),
    (.classic, .off, 32768, 0, 32768),
  ])
  func counters(era: Era, hvo: BootHVO, boot: Int, ordinary: Int, populated: Int) throws {
    let m = try bootModel(config(era, ram: 8 << 30, pools: [BootHugepages(order: 18, count: 4)], hvo: hvo))
    let c = m.census()
    #expect(c.nrMemmapBootPages == boot)
    #expect(c.nrMemmapPages == ordinary)
    #expect(c.populatedMemmapBootPages == populated)
    #expect(c.populatedMemmapPages == 0)
    #expect(c.bootPools == [MachineCensus.Pool(order: 18, requested: 4, count: 4, optimized: hvo == .off ? 0 : 4)])
    // Managed pages cover all RAM but the boot frames (memmap and PTE tables).
    let managed = c.zones.reduce(0) { $0 + $1.managedPages }
    #expect(managed == c.ramPages - c.nrMemmapBootPages - (hvo == .late ? 0 : c.vmemmapPTETables))
  }

  /// Gigantic pages come from the top of each node, nodes in turn, before the memmap.
  @Test func nodeInterleavedTopDown() throws {
    let m = try Page64Model<MaskEncoding>(config(.mask, ram: 8 << 30, nodes: 2, pools: [BootHugepages(order: 18, count: 4)]))
    let pfns = m.hugetlbFolios(order: 18).map { $0.folio.pfn.rawValue }.sorted()
    // Node 0 is 0-4 GiB (the 0-1 GiB block spans DMA and DMA32: not taken), node 1 4-8 GiB.
    #expect(pfns == [0x80000, 0xc0000, 0x180000, 0x1c0000])
    // The memmap lies below each node's pages.
    #expect(m.machine.memmapFrameRanges.allSatisfy { $0.upperBound.rawValue <= 0x180000 })
  }

  /// 2 MiB boot pools come from the buddy allocator and are optimised like runtime ones.
  @Test func hugePagesFromBuddy() throws {
    let m = try bootModel(config(.classic, ram: 2 << 30, pools: [BootHugepages(order: 9, count: 100)]))
    let c = m.census()
    #expect(c.bootPools == [MachineCensus.Pool(order: 9, requested: 100, count: 100, optimized: 100)])
    #expect(c.nrMemmapBootPages == 8192 - 800)
    #expect(c.nrMemmapPages == 100)
    #expect(c.populatedMemmapBootPages == 8192)
  }

  /// The vmemmap is one PMD per 64-byte section; memdesc32 needs 2 present sections a
  /// PMD and memdesc8 8, else a PTE table, whose frame is boot RAM. Sections 0 and 2
  /// are two PMDs of memdesc32 but one of memdesc8.
  @Test(arguments: [(Era.mask, 2, 0), (.memdesc32, 0, 2), (.memdesc8, 0, 1)])
  func pmdGranularity(era: Era, pmds: Int, tables: Int) throws {
    let layout = try PhysicalLayout(ram: [PFN(0)..<PFN(0x8000), PFN(0x10000)..<PFN(0x18000)])
    let m = try bootModel(MachineConfig(layout: layout, era: era))
    let c = m.census()
    #expect(c.vmemmapPMDMappings == pmds)
    #expect(c.vmemmapPTETables == tables)
    #expect(c.freePages + c.pcpPages + c.memmapFrames + c.vmemmapPTETables == c.ramPages)
    let full = try bootModel(MachineConfig(layout: try .flat(ramBytes: 4 << 30), era: era)).census()
    #expect(full.vmemmapPMDMappings == 32 * era.structPageBytes / 64)
    #expect(full.vmemmapPTETables == 0)
  }

  /// HVO on a PMD-mapped range splits the PMD into a PTE table: one page-table frame
  /// from the allocator, once per PMD; the vmstat counters see only the memmap.
  @Test func hvoSplitsOncePerPMD() throws {
    let m = try Page64Model<MaskEncoding>(MachineConfig(layout: try .flat(ramBytes: 1 << 30), era: .mask))
    let table = m.vmemmapPageTable
    #expect(table.pmdMappings == 8 && table.pteTables == 0)
    m.setHugetlbOptimizeVmemmap(true)
    m.setNrHugePages(order: 9, count: 1)
    #expect(table.pmdSplits == 1 && table.pteTables == 1 && table.pmdMappings == 7)
    let frame = table.pteTableFrames[0]
    let free = try m.checkBuddyInvariants()
    let blocks = (free.buddyBlocks + free.pcpBlocks).joined()
    #expect(!blocks.contains { frame >= $0.pfn && frame < $0.pfn + (1 << $0.order) })
    m.setNrHugePages(order: 9, count: 2)  // the next page's vmemmap is in the same PMD
    #expect(table.pmdSplits == 1)
    #expect(m.memmapFrames == 4096 - 14)
  }

  /// The mask series' check warns and boots: the warning is a value, heads are wrong.
  @Test func misalignedBaseBootsWithWrongHeads() throws {
    var c = MachineConfig(layout: try .flat(ramBytes: 256 << 20), era: .mask)
    c.vmemmapBase = Kernel.vmemmapBaseL4 + 0x1000
    let m = try Page64Model<MaskEncoding>(c)
    #expect(m.census().alignmentWarning == .vmemmapBaseMisaligned(base: Kernel.vmemmapBaseL4 + 0x1000, required: 0x1000_0000))
    let f = try #require(m.allocFolio(order: 9))
    #expect(m.compoundHead(f.pfn + 511) != f.pfn)
    c.strictAlignment = true
    #expect(throws: MachineError.vmemmapBaseMisaligned(base: Kernel.vmemmapBaseL4 + 0x1000, required: 0x1000_0000)) { try c.validate() }
  }

  @Test func poolsLargerThanRAMAreRefused() throws {
    let c = try config(.mask, ram: 4 << 30, pools: [BootHugepages(order: 18, count: 5)])
    #expect(throws: MachineError.bootHugepagesExceedRAM(pages: 5 << 18, ramPages: 1 << 20)) { try c.validate() }
  }

  /// The fixtures' machine without pools: vmstat's 98304 memmap frames, one PMD each
  /// 128 MiB section, no PTE table.
  @Test func fixtureMachine() throws {
    let c = try bootModel(MachineConfig(layout: try .pc(ramBytes: 24 << 30), era: .mask)).census()
    #expect(c.memmapFrames == 98304)
    #expect(c.nrMemmapBootPages == 98304 && c.nrMemmapPages == 0)
    #expect(c.vmemmapPMDMappings == 192 && c.vmemmapPTETables == 0)
    #expect(c.pfns == 0x640000 && c.maxPFN == 0x640000)
  }
}

/// The arithmetic projection of the two counters agrees with the booted model.
@Suite struct BootPoolProjectionTests {
  @Test(arguments: Era.allCases)
  func projectionMatchesModel(era: Era) throws {
    let pools = [BootHugepages(order: 18, count: 3), BootHugepages(order: 9, count: 70)]
    for hvo in BootHVO.allCases {
      var c = MachineConfig(layout: try .flat(ramBytes: 8 << 30), era: era)
      c.bootHugepages = pools
      c.bootHVO = hvo
      let census = try bootModel(c).census()
      let p = MemmapCounters.project(layout: c.layout, era: era, pools: pools, hvo: hvo)
      #expect(p == MemmapCounters(bootPages: census.nrMemmapBootPages, pages: census.nrMemmapPages), "\(era) \(hvo)")
    }
  }

  /// Acceptance figures by arithmetic: 64 GiB with 32 gigantic pages.
  @Test func acceptanceFigures() throws {
    let layout = try PhysicalLayout.flat(ramBytes: 64 << 30)
    let pools = [BootHugepages(order: 18, count: 32)]
    #expect(MemmapCounters.project(layout: layout, era: .mask, pools: pools, hvo: .early) == MemmapCounters(bootPages: 131_104, pages: 0))
    #expect(MemmapCounters.project(layout: layout, era: .classic, pools: pools, hvo: .late) == MemmapCounters(bootPages: 131_072, pages: 32))
    #expect(MemmapCounters.project(layout: layout, era: .classic, pools: pools, hvo: .off) == MemmapCounters(bootPages: 262_144, pages: 0))
  }
}
