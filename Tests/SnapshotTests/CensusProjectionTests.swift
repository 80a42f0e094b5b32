@testable import PageModel
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
    let model = try bootModel(config)
    let built = try Simulator.run(population.trace(), on: model)
    // The model puts the huge pages where its allocator does, the real machine had them
    // elsewhere: the projection of the same population at the model's sections equals
    // the model, and the analysis's (at the snapshot's) differs only in the PMD splits.
    var atModel = population
    atModel.hugetlbOptimizedSections = model.hugetlbOptimizedSections()
    #expect(EraCost.project(atModel, era: era, layout: a.layout) == built, "\(era): built \(built)")
    var projected = try #require(a.eras.first { $0.era == era })
    let splits = projected.hvoPTETableFrames
    #expect(splits == Self.hvoFixtureSplits[era], "\(era): \(splits) PMD splits")
    projected.hvoSavedFrames += splits - built.hvoPTETableFrames
    projected.hvoPTETableFrames = built.hvoPTETableFrames
    #expect(projected == built, "\(era): projected \(projected), built \(built)")
  }

  /// The HVO capture's vmemmap PMDs that HVO splits, counted apart from the census (the
  /// report's map of the capture, its 2 MiB cells of class hugetlb): huge pages in 49
  /// sections (33-95, the two 1 GiB pages in 72-79 and 88-95), all present; a PMD covers
  /// 1, 2 or 8 sections with a 64-, 32- or 8-byte struct page (49, 29 and 8 blocks), and
  /// memdesc8 splits only the 1 GiB pages' 2 blocks (its 2 MiB pages free nothing).
  static let hvoFixtureSplits: [Era: Int] = [.classic: 49, .mask: 49, .memdesc32: 29, .memdesc8: 2]

  /// All HugeTLB pages optimised costs less than none, by exactly the frames HVO frees
  /// in each era (7 per 2 MiB page and 4095 per 1 GiB page with the 64-byte struct page,
  /// less the mask era's shared tails), and never more than as found.
  @Test func allHVOIsNoWorse() {
    let a = Analysed.hvo.analysis
    var none = a.population
    none.hugetlbOptimized = [:]
    for era in Era.allCases {
      let off = EraCost.project(none, era: era, layout: a.layout)
      let on = EraCost.project(a.census.population(allHVO: true), era: era, layout: a.layout)
      let asFound = EraCost.project(a.population, era: era, layout: a.layout)
      let freed = [Hstate(order: 9), Hstate(order: 18)].reduce(0) { $0 + $1.optimizablePages(era) * (none.hugetlb[$1.order] ?? 0) }
      // The mask era keeps one shared tail frame per zone and order in use (the capture's
      // huge pages are all in ZONE_NORMAL, of two orders).
      let tails = era == .mask ? none.hugetlb.filter { $0.value > 0 }.count : 0
      #expect(off.memmapFrames - on.memmapFrames == freed - tails, "\(era)")
      #expect(on.totalOverheadBytes <= asFound.totalOverheadBytes && asFound.totalOverheadBytes <= off.totalOverheadBytes, "\(era)")
    }
    #expect(Hstate(order: 9).optimizablePages(.classic) == 7 && Hstate(order: 18).optimizablePages(.classic) == 4095)
  }

}
