import Foundation
import MemdescTestSupport
import PageModel
@testable import Snapshot
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

  /// The analysis reads kpagecount on every census worker, for the chunks each scanned,
  /// in no order; the counts must be those of the one ordered pass, ties in `largest`
  /// (the lowest PFN of a count) included.
  @Test func concurrentReadsEqualTheOrderedPass() throws {
    var rng = SplitMix64(seed: testSeed("concurrentReadsEqualTheOrderedPass"))
    let anon = KPF.anon.mask | KPF.lru.mask | KPF.mmap.mask, file = KPF.lru.mask | KPF.uptodate.mask | KPF.mmap.mask
    let kinds: [UInt64] = [0, anon, file, KPF.buddy.mask, KPF.slab.mask, anon | KPF.thp.mask]
    for round in 0..<4 {
      let n = 50_000 + Int(rng.next() % 150_000)
      var flags = [UInt64](), counts = [UInt64]()
      while flags.count < n {
        let w = kinds[Int(rng.next() % UInt64(kinds.count))], len = Int(rng.next() % 300) + 1
        // Few distinct counts, so that equal counts turn up far apart (ties for `largest`).
        let c: UInt64 = w & KPF.mmap.mask == 0 ? 0 : (rng.next() % 4 == 0 ? rng.next() % 24 : 1)
        flags.append(contentsOf: repeatElement(w, count: len))
        for _ in 0..<len { counts.append(rng.next() % 8 == 0 ? c + rng.next() % 3 : c) }
      }
      for chunk in [1 << 20, 4096, Int(rng.next() % 5000) + 1] {
        let snap = try PageSnapshot(
          origin: .live, kpageflags: KPageArray(file: .kpageflags, words: flags, chunkWords: chunk),
          kpagecount: KPageArray(file: .kpagecount, words: counts, chunkWords: chunk))
        let ordered = try #require(try MapcountCensus.of(snap))
        #expect(ordered.largest.count == MapcountCensus.largestKept, "round \(round): \(ordered.largest.count) distinct counts")
        #expect(try SnapshotAnalysis.of(snap).mapcounts == ordered, "round \(round), \(flags.count) PFNs, chunks of \(chunk)")
        for threads in [2, 3] {
          let each = try #require(MapcountCensus.PerThread(snap, threads: threads))
          _ = try Census.of(snap, systemRAM: nil, threads: threads, alongside: { w, start, words in try each.add(worker: w, startPFN: start, words) })
          #expect(try each.finish() == ordered, "round \(round), chunks of \(chunk), \(threads) threads")
        }
      }
    }
  }

  @Test func concurrentReadsOnASnapshotFile() throws {
    // A snapshot file decodes kpagecount blocks on each worker (not a gzip: that stays ordered).
    let snap = try PageSnapshot.open(Fixture.dir("hvo-hugetlb.mdsnap"))
    #expect(snap.kpagecount?.isSequential == false)
    let ordered = try #require(try MapcountCensus.of(snap))
    #expect(ordered.total.mappedPages > 0)
    #expect(try SnapshotAnalysis.of(snap).mapcounts == ordered)
  }

  @Test func theLowestDamagedKPageCountBlockIsReported() throws {
    // Two damaged kpagecount blocks (2 and 5) of a snapshot file: the concurrent readers
    // may meet block 5 first, but the error is block 2's, as in the ordered pass.
    let n = 8 * 4096
    let mapped: UInt64 = KPF.anon.mask | KPF.mmap.mask
    let flags: [UInt64] = (0..<n).map { (i: Int) -> UInt64 in i % 3 == 0 ? KPF.buddy.mask : mapped }
    let counts: [UInt64] = (0..<n).map { (i: Int) -> UInt64 in i % 3 == 0 ? 0 : UInt64(i % 5 + 1) }
    let source = try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: flags), kpagecount: KPageArray(file: .kpagecount, words: counts))
    var bytes = try SnapshotFormat.encode(source, blockWords: 4096).bytes
    let section = try #require(try SnapshotFormat.parseTable(SnapshotBytes(bytes), path: "t").0.first { $0.name == "kpagecount" })
    func le32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
    let blocks = le32(section.offset + 12)
    var at = section.offset + 16 + 4 * blocks
    for b in 0..<blocks {
      if b == 2 || b == 5 { bytes[at] = 7 }  // an unknown block mode
      at += le32(section.offset + 16 + 4 * b)
    }
    let snap = try SnapshotFormat.parse(SnapshotFormat.recomputingChecksums(bytes), path: "damaged.mdsnap")
    let ordered = expectSnapshotError(.badSnapshot, ["kpagecount", "block 2:"]) { _ = try MapcountCensus.of(snap) }
    for _ in 0..<5 {
      let concurrent = expectSnapshotError(.badSnapshot, ["kpagecount", "block 2:"]) { _ = try SnapshotAnalysis.of(snap) }
      #expect(concurrent?.description == ordered?.description)
    }
  }
}
