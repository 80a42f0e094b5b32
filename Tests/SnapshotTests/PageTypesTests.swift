import Foundation
import Render
import Snapshot
import Testing

@Suite struct PageTypesTests {
  /// Acceptance: the summary of each fixture's kpageflags is exactly the page-types output
  /// stored with it, default and raw, rows in page-types' own order.
  @Test(arguments: Fixture.scenarios)
  func summaryEqualsPageTypes(scenario: String) throws {
    let snapshot = try PageSnapshot.open(Fixture.dir(scenario))
    let summary = try PageTypesSummary.of(snapshot.kpageflags, mode: .wellKnown)
    #expect(summary.rendered() == (try Fixture.text(scenario, "page-types.txt")))
    let raw = try PageTypesSummary.of(snapshot.kpageflags, mode: .raw)
    #expect(raw.rendered() == (try Fixture.text(scenario, "page-types-raw.txt")))
  }

  @Test func overloadedBitsInRawMode() {
    func bits(_ b: [Int]) -> UInt64 { b.reduce(0) { $0 | 1 << UInt64($1) } }
    #expect(PageTypesSummary.transform(bits([12, 34]), mode: .raw) == bits([12, 47]))
    #expect(PageTypesSummary.transform(bits([7, 6, 1]), mode: .raw) == bits([7, 50, 51]))
    #expect(PageTypesSummary.transform(bits([9]), mode: .raw) == bits([48]))
    #expect(PageTypesSummary.transform(bits([9, 8]), mode: .raw) == bits([9, 8]))
    // Default mode: hacker bits hidden, compound bits only with HUGE.
    #expect(PageTypesSummary.transform(bits([15, 22, 32, 34]), mode: .wellKnown) == bits([22]))
    #expect(PageTypesSummary.transform(bits([15, 17]), mode: .wellKnown) == bits([15, 17]))
    #expect(PageTypesSummary.symbolic(0).count == 44)
  }

  @Test func unknownBitIsAnErrorNamingThePFN() throws {
    let array = KPageArray(file: .kpageflags, words: [0, 0, 1 << 27, 0], path: "dump")
    expectSnapshotError(.unknownFlagBit, ["dump", "PFN 2", "bit 27"]) { _ = try PageTypesSummary.of(array, mode: .raw) }
  }

  /// Parallel chunked scans give the same table as a sequential one.
  @Test func concurrentScanMatchesSequential() throws {
    let snapshot = try PageSnapshot.open(Fixture.dir("thp-anon"))
    let one = try PageTypesSummary.of(snapshot.kpageflags, mode: .raw, threads: 1)
    let many = try PageTypesSummary.of(snapshot.kpageflags, mode: .raw, threads: 4)
    #expect(one == many)
  }
}
