import Foundation
import MemdescTestSupport
import PageModel
import Snapshot
import Testing

/// The census by memory cgroup: exact counts on a built snapshot, and on a real one the
/// rows add up to the whole-machine census.
@Suite struct CgroupCensusTests {
  static func mask(_ bits: KPF...) -> UInt64 { bits.reduce(0) { $0 | $1.mask } }

  /// 2048 PFNs: a 2 MiB anonymous THP charged to 5, then 100 order-0 anonymous pages
  /// charged to 6, an order-2 page-cache folio charged to 5, 8 free pages, the rest 0.
  static func built(map: Bool) throws -> PageSnapshot {
    var flags = [UInt64](repeating: 0, count: 2048)
    var cg = [UInt64](repeating: 0, count: 2048)
    let anon = mask(.anon, .lru, .mmap, .uptodate, .swapbacked)
    flags[0] = anon | mask(.compoundHead, .thp)
    for i in 1..<512 { flags[i] = anon | mask(.compoundTail, .thp) }
    for i in 0..<512 { cg[i] = 5 }
    for i in 512..<612 { flags[i] = anon; cg[i] = 6 }
    let file = mask(.lru, .uptodate)
    flags[616] = file | mask(.compoundHead, .thp)
    for i in 617..<620 { flags[i] = file | mask(.compoundTail, .thp) }
    for i in 616..<620 { cg[i] = 5 }
    for i in 1024..<1032 { flags[i] = mask(.buddy) }
    var texts: [String: String] = [:]
    if map { texts["cgroups"] = CgroupMap([.init(inode: 5, hierarchy: "v2", path: "/big"), .init(inode: 6, hierarchy: "v2", path: "/small")]).text }
    return try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: flags), kpagecgroup: KPageArray(file: .kpagecgroup, words: cg), texts: texts)
  }

  @Test func countsEachCgroupsFolios() throws {
    let snap = try Self.built(map: true)
    let census = try Census.of(snap)
    let g = try CgroupCensus.of(snap, census: census)
    #expect(g.hasMap && g.mappedCgroups == 2)
    #expect(g.usages.map(\.name) == ["/big", "/small", "(none)"])
    let big = g.usages[0], small = g.usages[1], none = g.usages[2]
    #expect(big.inode == 5 && big.pages == 516 && big.anonPages == 512 && big.classPages["file"] == 4)
    #expect(big.folios[.anonTHP] == [9: 1] && big.folios[.fileLarge] == [2: 1])
    #expect(small.pages == 100 && small.folios[.anon] == [0: 100])
    #expect(none.pages == 2048 - 616 && none.classPages["free"] == 8 && none.classPages["no_flag"] == 2048 - 624)
    // The era costs: 64-byte struct pages; memdesc32 adds a 128-byte descriptor per large folio.
    #expect(big.cost(.classic) == CgroupCost(population: big.population, pages: 516, era: .classic))
    #expect(big.cost(.classic).totalBytes == 516 * 64)
    #expect(big.cost(.memdesc32).memmapBytes == 516 * 32 && big.cost(.memdesc32).descriptorBytes == 2 * 128)
    #expect(small.cost(.memdesc8).totalBytes == 100 * 8 + 100 * 80)
    // Top 1: the rest is one "other" row; uncharged stays apart.
    let (rows, other, uncharged) = g.top(1)
    #expect(rows.map(\.name) == ["/big"] && other?.name == "other" && other?.cgroups == 1 && other?.pages == 100)
    #expect(other?.cost(.memdesc8) == small.cost(.memdesc8))
    #expect(uncharged?.inode == 0)
    #expect(g.top(5).other == nil)
  }

  @Test func withoutAMapCgroupsAreNamedByInode() throws {
    let snap = try Self.built(map: false)
    let g = try CgroupCensus.of(snap, census: try Census.of(snap))
    #expect(!g.hasMap && g.usages.map(\.name) == ["inode 5", "inode 6", "(none)"])
  }

  @Test func noKpagecgroupIsAnErrorNamingTheSource() throws {
    let snap = try PageSnapshot(origin: .kpageflagsDump("d.bin"), kpageflags: KPageArray(file: .kpageflags, words: [0, 0]))
    expectSnapshotError(.notFound, ["kpageflags dump d.bin", "has no kpagecgroup"]) { _ = try CgroupCensus.of(snap, census: try Census.of(snap)) }
  }

  @Test func rowsAddUpToTheCensusOfARealMachine() throws {
    let snap = try PageSnapshot.open(Fixture.dir("thp-anon"))
    let census = try Census.of(snap)
    let g = try CgroupCensus.of(snap, census: census)
    #expect(g.usages.reduce(0) { $0 + $1.pages } == census.pfns)
    #expect(g.usages.reduce(0) { $0 + $1.anonPages } == census.folioPages(.anon) + census.folioPages(.anonMTHP) + census.folioPages(.anonTHP))
    for kind in CensusFolioKind.allCases {
      var sum: [Int: Int] = [:]
      for u in g.usages { sum.merge(u.folios[kind] ?? [:], uniquingKeysWith: +) }
      #expect(sum == (census.folios[kind] ?? [:]), "\(kind)")
    }
    #expect(g.usages.reduce(0) { $0 + ($1.classPages["slab"] ?? 0) } == census.slabPages)
    // The fixture's 1024 THPs belong to one cgroup.
    #expect(g.usages.contains { ($0.folios[.anonTHP]?[9] ?? 0) >= 1024 })
    let (rows, other, uncharged) = g.top(2)
    let charged = g.usages.filter { $0.inode != 0 }
    #expect(rows.count == 2 && other?.cgroups == charged.count - 2)
    #expect(rows.reduce(0) { $0 + $1.pages } + (other?.pages ?? 0) + (uncharged?.pages ?? 0) == census.pfns)
  }
}
