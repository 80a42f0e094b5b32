import PageModel
import Testing

@testable import Snapshot

@Suite struct CensusProjectionTests {
  /// The projection of a real snapshot's census equals building that population in a
  /// model machine of the snapshot's RAM layout (24 GiB, the fixtures' holes), in every
  /// era: the HVO capture, with its 2 MiB and 1 GiB HugeTLB pages optimised.
  @Test(arguments: Era.allCases)
  func projectionEqualsBuilding(era: Era) throws {
    let a = Analysed.hvo.analysis
    let population = a.population
    #expect(population.hugetlb == [9: 100, 18: 2] && population.hugetlbOptimized == [9: 100, 18: 2])
    var config = MachineConfig(layout: a.layout, era: era)
    config.hostMemoryLimit = HostMemory.availableBytes().map { $0 / 2 }
    let built = try Simulator.run(population.trace(), on: bootModel(config))
    let projected = try #require(a.eras.first { $0.era == era })
    #expect(projected == built, "\(era): projected \(projected), built \(built)")
  }

  /// All HugeTLB pages optimised: never more than as found.
  @Test func allHVOIsNoWorse() {
    let a = Analysed.thpAnon.analysis
    for (had, all) in zip(a.eras, a.erasAllHVO) { #expect(all.totalOverheadBytes <= had.totalOverheadBytes) }
    let h = Analysed.hvo.analysis
    #expect(h.population.hugetlbOptimized == h.census.population(allHVO: true).hugetlbOptimized)
  }
}
