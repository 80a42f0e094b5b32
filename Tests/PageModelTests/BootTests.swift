import Testing
@testable import PageModel

@Suite struct BootTests {
  /// Acceptance: a 4 GiB machine has 1048576 PFNs and a 64 MiB memmap (1.5625 %),
  /// counted from the frames mapped into the vmemmap, in both 64-byte eras.
  @Test(arguments: [Era.classic, .mask])
  func fourGigabytes(era: Era) throws {
    var config = MachineConfig(layout: try .flat(ramBytes: 4 << 30), era: era)
    config.hostMemoryLimit = nil
    let census = try bootModel(config).census()
    #expect(census.pfns == 1_048_576)
    #expect(census.memmapFrames == 16384)
    #expect(census.memmapBytes == 67_108_864)
    #expect(census.memmapPercentOfRAM == 1.5625)
    // Every RAM page is either memmap (reserved) or free.
    #expect(census.freePages + census.memmapFrames == census.ramPages)
  }

  /// The memdesc eras' memmap is a half and an eighth of the 64-byte one, counted the
  /// same way (frames mapped by the vmemmap).
  @Test(arguments: [(Era.memdesc32, 32, 8192), (.memdesc8, 8, 2048)])
  func memdescMemmap(era: Era, bytes: Int, frames: Int) throws {
    let census = try bootModel(MachineConfig(layout: try .flat(ramBytes: 4 << 30), era: era)).census()
    #expect(census.structPageBytes == bytes)
    #expect(census.memmapFrames == frames)
    #expect(census.freePages + census.memmapFrames == census.ramPages)
    let pc = try bootModel(MachineConfig(layout: try .pc(ramBytes: 24 << 30), era: era)).census()
    #expect(pc.memmapFrames == 98304 * bytes / 64)
  }

  /// Acceptance: the fixtures' 24 GiB layout needs 98304 memmap frames, as its vmstat
  /// says (`nr_memmap_boot_pages` 80872 + `nr_memmap_pages` 17432).
  @Test func fixtureMachineMemmap() throws {
    let m = try Page64Model<MaskEncoding>(MachineConfig(layout: try .pc(ramBytes: 24 << 30), era: .mask))
    #expect(m.memmapFrames == 98304)
    #expect(m.memmapFrames == 80872 + 17432)
    // The memmap frames are mapped: count the present PTEs directly.
    var mapped = 0
    for i in 0..<m.machine.vmemmapTable.count where m.machine.vmemmapTable.entries[i].isPresent { mapped += 1 }
    #expect(mapped == 98304)
    // Holes inside present sections have struct pages (reserved); the PCI hole has none.
    #expect(m.pfnValid(0xa0))
    #expect(!m.pfnValid(0xc0000))
    #expect(m.kpageflags(0xa0) == KPF.reserved.mask)
    #expect(m.kpageflags(0) == KPF.reserved.mask)
    #expect(m.kpageflags(0xc0000) == 0)
    #expect(m.kpageflags(0x63ffff) == KPF.reserved.mask)  // the top of RAM holds the memmap
  }

  @Test func memmapFramesAreReservedRAM() throws {
    let m = try flatMachine(ClassicEncoding.self, ram: 512 << 20)
    for r in m.machine.memmapFrameRanges {
      for pfn in r.lowerBound..<r.upperBound {
        #expect(m.kpageflags(pfn) == KPF.reserved.mask)
      }
    }
    // Every vmemmap PTE maps one of those frames, writable.
    var frames = Set<PFN>()
    for i in 0..<m.machine.vmemmapTable.count {
      let pte = m.machine.vmemmapTable.entries[i]
      #expect(pte.isPresent && pte.isWritable)
      frames.insert(pte.frame)
    }
    #expect(frames.count == m.memmapFrames)
    #expect(m.machine.memmapFrameRanges.reduce(0) { $0 + $1.pageCount } == m.memmapFrames)
  }

  @Test func freshBootSatisfiesInvariants() throws {
    let m = try Page64Model<ClassicEncoding>(MachineConfig(layout: try .pc(ramBytes: 1 << 30), era: .classic))
    _ = try m.checkBuddyInvariants()
    // The DMA zone's odd-shaped RAM (PFN 1-0x9e, 0x100-0xfff) is split into aligned blocks.
    #expect(m.machine.freePages(zone: 0) == 3998)
  }

  @Test func validationErrors() throws {
    let layout = try PhysicalLayout.flat(ramBytes: 4 << 30)
    var c = MachineConfig(layout: layout, era: .mask)
    c.vmemmapBase = 0xffff_ea00_0020_0000
    c.strictAlignment = true
    #expect(throws: MachineError.vmemmapBaseMisaligned(base: 0xffff_ea00_0020_0000, required: 0x1000_0000)) { try c.validate() }
    #expect(MachineError.vmemmapBaseMisaligned(base: 0xffff_ea00_0020_0000, required: 0x1000_0000).description.contains("256 MiB"))
    c.strictAlignment = false
    try c.validate()  // the kernel warns and boots
    #expect(c.vmemmapAlignmentWarning == .vmemmapBaseMisaligned(base: 0xffff_ea00_0020_0000, required: 0x1000_0000))
    c.era = .classic
    c.strictAlignment = true
    #expect(c.vmemmapAlignmentWarning == nil)
    try c.validate()  // the classic encoding stores pointers: any page-aligned base works
    c.vmemmapBase = 0xffff_ea00_0000_0100
    #expect(throws: MachineError.vmemmapBaseNotPageAligned(0xffff_ea00_0000_0100)) { try c.validate() }
    c.vmemmapBase = 0x1000
    #expect(throws: MachineError.vmemmapBaseOutsideKernelHalf(0x1000)) { try c.validate() }
    c.vmemmapBase = Kernel.vmemmapBaseL4
    c.hostMemoryLimit = 1 << 20
    #expect(throws: MachineError.memmapDoesNotFitHost(memmapBytes: 64 << 20, availableBytes: 1 << 20)) { try c.validate() }
    c.hostMemoryLimit = nil
    c.era = .memdesc8
    try c.validate()
    // memdesc8's free-list links reach any machine size (one list per 1 TiB arena).
    c.layout = try .flat(ramBytes: 64 << 40)
    try c.validate()
  }

  /// Issue 14: memdesc8 past 1 TiB. RAM in three places of a 64 TiB physical address
  /// space: low memory, a range across the 1 TiB arena boundary (PFN 2^28) and the last
  /// 64 MiB below 64 TiB. Every page can be taken and given back, free lists link only
  /// within an arena, and blocks on both sides of 2^28 merge back to what boot made.
  @Test func memdesc8PastOneTebibyte() throws {
    let arena: UInt64 = 1 << 28
    let top: UInt64 = 1 << 34  // 64 TiB in frames
    let ram = [PFN(0)..<PFN(0x8000), PFN(arena - 0x2000)..<PFN(arena + 0x2000), PFN(top - 0x4000)..<PFN(top)]
    let m = try MemdescModel<Memdesc8Format>(MachineConfig(layout: PhysicalLayout(ram: ram), era: .memdesc8))
    #expect(m.machine.arenaCount == 64)
    let boot = try m.checkBuddyInvariants()
    var taken: [PFN] = []
    while let p = m.allocPages(order: 0) { taken.append(p) }
    #expect(taken.contains { $0.rawValue >= top - 0x4000 } && taken.contains { $0.rawValue >= arena && $0.rawValue < top / 2 }
      && taken.contains { $0.rawValue < arena && $0.rawValue >= arena - 0x2000 })
    for p in taken.reversed() { m.freePages(p, order: 0) }
    m.drainAllPages()
    #expect(try m.checkBuddyInvariants() == boot)
    // A block on each side of the boundary: the two halves never merge across it.
    let below = try #require(m.machine.freeBlock(containing: PFN(arena - 1)))
    let above = try #require(m.machine.freeBlock(containing: PFN(arena)))
    #expect(below.head.rawValue + (1 << below.order) == arena && above.head == PFN(arena))
  }
}
