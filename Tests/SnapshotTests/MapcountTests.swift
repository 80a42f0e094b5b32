import Foundation
import MemdescTestSupport
import PageModel
import Snapshot
import Testing

/// Mapcounts from kpagecount: exact on a built snapshot, and on a real one the same as a
/// plain count over the two arrays.
@Suite struct MapcountTests {
  @Test func countsByClass() throws {
    let anon = KPF.anon.mask | KPF.lru.mask, file = KPF.lru.mask | KPF.uptodate.mask
    let flags: [UInt64] = [0, anon, anon, anon, file, file, KPF.buddy.mask, KPF.slab.mask]
    let counts: [UInt64] = [0, 1, 3, 0, 7, 1, 0, 0]
    let snap = try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: flags), kpagecount: KPageArray(file: .kpagecount, words: counts))
    let m = try #require(try MapcountCensus.of(snap))
    #expect(m.byClass["anon"] == .init(mappedPages: 2, unmappedPages: 1, sharedPages: 1, mappings: 4, maxCount: 3))
    #expect(m.byClass["file"]?.sharedPages == 1 && m.byClass["file"]?.mappings == 8 && m.byClass["file"]?.maxCount == 7)
    #expect(m.byClass["free"]?.unmappedPages == 1 && m.byClass["slab"]?.mappedPages == 0 && m.byClass["no_flag"]?.unmappedPages == 1)
    #expect(m.largest.map(\.count) == [7, 3, 1] && m.largest.map(\.pfn) == [4, 2, 1])
    #expect(m.largest[0].pageClass == .file)
    #expect(m.total.mappedPages + m.total.unmappedPages == flags.count)
    // The analysis carries the same census; without kpagecount there is none.
    #expect(try SnapshotAnalysis.of(snap).mapcounts == m)
    let bare = try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: flags))
    #expect(try SnapshotAnalysis.of(bare).mapcounts == nil)
  }

  @Test func aRealMachineMatchesAPlainCount() throws {
    // 4 GiB of the fixture's Normal zone (anonymous THPs and order-0 pages, page cache,
    // kernel pages), kept small so that the plain count below stays quick in a debug build.
    let whole = try PageSnapshot.open(Fixture.dir("thp-anon"))
    let n = 1 << 20
    var flags = [UInt64](repeating: 0, count: n), counts = [UInt64](repeating: 0, count: n)
    try flags.withUnsafeMutableBufferPointer { try whole.kpageflags.read(n..<(2 * n), into: $0.baseAddress!) }
    try counts.withUnsafeMutableBufferPointer { try whole.kpagecount!.read(n..<(2 * n), into: $0.baseAddress!) }
    let snap = try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: flags), kpagecount: KPageArray(file: .kpagecount, words: counts))
    let m = try #require(try MapcountCensus.of(snap))
    var mapped = 0, shared = 0, mappings = 0, top = 0
    for c in counts {
      if c > 0 { mapped += 1 }
      if c > 1 { shared += 1 }
      mappings += Int(c)
      top = max(top, Int(c))
    }
    #expect(mapped > 10_000 && shared > 0, "mapped \(mapped), shared \(shared)")
    let t = m.total
    #expect(t.mappedPages == mapped && t.sharedPages == shared && t.mappings == mappings && t.maxCount == top)
    #expect(t.mappedPages + t.unmappedPages == snap.pfnCount)
    #expect(m.largest.first?.count == top)
    #expect(zip(m.largest, m.largest.dropFirst()).allSatisfy { $0.count > $1.count })
    #expect(m.largest.count == min(MapcountCensus.largestKept, Set(m.largest.map(\.count)).count))
  }
}
