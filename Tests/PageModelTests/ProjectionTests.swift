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
    let built = try Simulator.run(pop.trace(), on: bootModel(MachineConfig(layout: layout, era: era)))
    let projected = EraCost.project(pop, era: era, layout: layout)
    #expect(projected == built, "\(era): projected \(projected), built \(built)")
    // The 1 GiB page was really allocated and optimised (memdesc8 saves only on it).
    #expect(built.hvoSavedFrames >= 510)
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
