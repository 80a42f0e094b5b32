import MemdescTestSupport
import Testing
@testable import PageModel

@Suite struct ProjectionTests {
  /// The arithmetic projection equals what a model machine counts when it holds the
  /// same population, in every era.
  @Test(arguments: Era.allCases)
  func projectionEqualsBuilding(era: Era) throws {
    var pop = Population()
    pop.folios[.anon] = [0: 20_000, 2: 300, 4: 200, 9: 40]
    pop.folios[.file] = [0: 9_000, 3: 500, 5: 100, 9: 20]
    pop.slabs = [0: 3_000, 1: 400, 3: 100]
    pop.pageTables = 2_500
    pop.hugetlb = [9: 60, 18: 1]
    pop.hugetlbOptimized = [9: 40, 18: 1]
    pop.hugetlbZones = [9: 1, 18: 1]
    let layout = try PhysicalLayout.flat(ramBytes: 4 << 30)
    let model = try bootModel(MachineConfig(layout: layout, era: era))
    let built = try Simulator.run(pop.trace(), on: model)
    // Where the huge pages are is the model's choice; the projection takes it as given.
    let packed = EraCost.project(pop, era: era, layout: layout)
    pop.hugetlbOptimizedSections = model.hugetlbOptimizedSections()
    let projected = EraCost.project(pop, era: era, layout: layout)
    #expect(projected == built, "\(era): projected \(projected), built \(built)")
    // The 1 GiB page was really allocated and optimised (memdesc8 saves only on it), and
    // its vmemmap PMDs split: 8 with a 64-byte struct page, 4 with 32, 1 with 8.
    #expect(built.hvoSavedFrames >= 509)
    #expect(built.hvoPTETableFrames >= [.classic: 9, .mask: 9, .memdesc32: 5, .memdesc8: 1][era]!, "\(era): \(built.hvoPTETableFrames)")
    // Without the sections, the fewest PMDs the pages can touch.
    #expect(packed.hvoPTETableFrames <= built.hvoPTETableFrames && packed.hvoPTETableFrames > 0)
  }

  /// `memdesc hvo --ram 2G --era mask --hugepages 2M:100 --optimize`: 2 PMDs split into
  /// PTE tables, so HVO saves 700 frames less the shared tail and the two tables.
  @Test func hvoExampleSplitsTwoPMDs() throws {
    let layout = try PhysicalLayout.flat(ramBytes: 2 << 30)
    var pop = Population()
    pop.hugetlb = [9: 100]
    pop.hugetlbOptimized = [9: 100]
    pop.hugetlbZones = [9: 1]
    let model = try bootModel(MachineConfig(layout: layout, era: .mask))
    let built = try Simulator.run(pop.trace(), on: model)
    pop.hugetlbOptimizedSections = model.hugetlbOptimizedSections()
    let projected = EraCost.project(pop, era: .mask, layout: layout)
    #expect(built.hvoPTETableFrames == 2 && projected.hvoPTETableFrames == 2)
    #expect(projected.hvoSavedFrames == 700 - 1 - 2 && projected == built)
    #expect(model.vmemmapPageTable.pmdSplits == 2)
  }

  /// Random populations of HugeTLB pages (2 MiB and 1 GiB, some optimised) with folios
  /// between them, on RAM with and without a hole that leaves PMD blocks partly
  /// present: the projection equals the model's count in every era.
  @Test(arguments: Era.allCases)
  func randomPopulationsProjectAsBuilt(era: Era) throws {
    let seed = testSeed("randomPopulationsProjectAsBuilt/\(era.rawValue)")
    var rng = SplitMix64(seed: seed)
    func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    for round in 0..<3 {
      // 4 GiB of RAM, with a hole of 1-5 sections ending at or below 2 GiB every other
      // round, so that 2-3 GiB stays whole for a 1 GiB page (the memmap sits at the top
      // of RAM and the kernel at the bottom; a hole reaching past 2 GiB left no block).
      let sections = 32
      let holeStart = 9 + below(4)
      let hole = round % 2 == 0 ? 0 : 1 + below(min(5, 16 - holeStart))
      let ranges: [PFNRange] = hole == 0
        ? [PFN(0)..<PFN(UInt64(sections) << 15)]
        : [PFN(0)..<PFN(UInt64(holeStart) << 15), PFN(UInt64(holeStart + hole) << 15)..<PFN(UInt64(sections) << 15)]
      let layout = try PhysicalLayout(ram: ranges)
      var pop = Population()
      pop.folios[.anon] = [0: below(20_000), 9: below(30)]
      pop.folios[.file] = [0: below(5_000), 4: below(200)]
      pop.slabs = [0: below(2_000)]
      pop.pageTables = below(500)
      let small = below(300), big = below(2)
      pop.hugetlb = [9: small, 18: big].filter { $0.value > 0 }
      pop.hugetlbOptimized = [9: small == 0 ? 0 : below(small + 1), 18: big == 0 ? 0 : below(big + 1)].filter { $0.value > 0 }
      pop.hugetlbZones = pop.hugetlb.mapValues { _ in 1 }
      let model = try bootModel(MachineConfig(layout: layout, era: era))
      let built = try Simulator.run(pop.trace(), on: model)
      #expect(pop.hugetlb.allSatisfy { model.hugetlbFolios(order: $0.key).count == $0.value }, "seed 0x\(String(seed, radix: 16)) round \(round): pool not filled (hole \(hole) at \(holeStart)): asked \(pop.hugetlb), got \(Dictionary(uniqueKeysWithValues: pop.hugetlb.keys.map { ($0, model.hugetlbFolios(order: $0).count) }))")
      pop.hugetlbOptimizedSections = model.hugetlbOptimizedSections()
      let projected = EraCost.project(pop, era: era, layout: layout)
      #expect(projected == built, "seed 0x\(String(seed, radix: 16)) round \(round) \(era): hole \(hole) at \(holeStart), \(pop.hugetlbOptimized); projected \(projected), built \(built)")
    }
  }

  /// A 1 TiB population projects in constant memory and time.
  @Test func projectsHugeMachines() throws {
    var pop = Population()
    pop.folios[.anon] = [0: 100_000_000, 9: 100_000]
    pop.hugetlb = [18: 256]
    pop.hugetlbOptimized = [18: 256]
    let layout = try PhysicalLayout.flat(ramBytes: 1 << 40)
    let c = EraCost.project(pop, era: .memdesc8, layout: layout)
    #expect(c.memmapFrames == (1 << 40) / 4096 * 8 / 4096 - 256 * 510)  // 2 of 512 kept per 1 GiB page
    #expect(c.descriptorFrames[.folio] == (100_000_000 + 50) / 51)
    #expect(c.descriptorFrames[.hugetlbFolio] == (256 + 24) / 25)  // 160-byte HugeTLB folios
  }
}
