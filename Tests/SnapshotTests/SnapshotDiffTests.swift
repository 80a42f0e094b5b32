import Foundation
import MemdescTestSupport
import PageModel
import Snapshot
import Testing

/// `diff` of the fixture pair made on this VM (the same 512 x 2 MiB pool, HVO off then
/// on) and of a snapshot with itself.
@Suite struct SnapshotDiffTests {
  static func open(_ name: String) throws -> PageSnapshot { try PageSnapshot.open(Fixture.file("", name)) }

  /// Net vmemmap pages HVO frees per 2 MiB page with 64-byte struct pages.
  static let freedPer2M = 7

  @Test func hvoOnShowsTheMemmapDifferenceVmstatShows() throws {
    let d = try SnapshotDiff.of(try Self.open("hvo-off.mdsnap"), try Self.open("hvo-on.mdsnap"), eras: [.classic, .memdesc8])
    #expect(Hstate.optimizablePages(order: Hstate.pmd, .classic) == Self.freedPer2M)
    let vmstat = try #require(d.vmstatMemmapPages)
    let census = try #require(d.classicMemmapFrames)
    #expect(vmstat.delta == -512 * Self.freedPer2M)
    #expect(census.delta == vmstat.delta)
    #expect(census.a == vmstat.a && census.b == vmstat.b)
    let pool = try #require(d.pools.first { $0.name == "2048kB" })
    #expect(pool.folios == .init(512, 512) && pool.optimized == .init(0, 512) && pool.poolPages.a == 512 && pool.poolPages.b == 512)
    #expect(d.hvoSysctl.a == 0 && d.hvoSysctl.b == 1)
    #expect(d.classes.first { $0.name == "hugetlb" }?.pages == .init(512 << 9, 512 << 9))
    // memdesc8's 8-byte struct pages fill one vmemmap page per 2 MiB: HVO frees nothing.
    let e8 = try #require(d.eras.first { $0.a.era == .memdesc8 })
    #expect(e8.a.memmapFrames == e8.b.memmapFrames)
    // The change map: runs cover every cell once, and the changed runs hold the changed cells.
    let (map, changed, before) = d.changeMap()
    #expect(map.runs.reduce(0) { $0 + $1.cells } == map.cells && changed.count == map.runs.count && before.count == map.runs.count)
    #expect(zip(map.runs, map.runs.dropFirst()).allSatisfy { $0.firstCell + $0.cells == $1.firstCell })
    #expect(zip(map.runs, changed).filter { $1 }.reduce(0) { $0 + $1.0.cells } == d.changedCells.changed)
  }

  @Test func aSnapshotAgainstItselfIsAllZero() throws {
    let s = try Self.open("hvo-on.mdsnap")
    let d = try SnapshotDiff.of(s, s)
    #expect(d.classes.allSatisfy { $0.pages.delta == 0 })
    #expect(d.folios.allSatisfy { $0.folios.delta == 0 } && !d.folios.isEmpty)
    #expect(d.eras.count == Era.allCases.count && d.eras.allSatisfy { $0.a == $0.b })
    #expect(d.pools.allSatisfy { $0.folios.delta == 0 && $0.optimized.delta == 0 })
    #expect(d.vmstatMemmapPages?.delta == 0 && d.classicMemmapFrames?.delta == 0)
    #expect(d.changedCells.changed == 0 && d.changedCells.cells == d.a.map.cells)
    #expect(d.changeMap().changed.allSatisfy { !$0 })
  }
}
