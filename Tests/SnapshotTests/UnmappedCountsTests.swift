import Foundation
import Synchronization
import MemdescTestSupport
import PageModel
@testable import Snapshot
import Testing

/// The live source leaves kpagecount unread where kpageflags shows no mapped page
/// (`KPageArray.zeroUnlessMapped`): which PFNs it still reads, and that the analysis and a
/// capture come out as if every count had been read.
@Suite struct UnmappedCountsTests {
  /// A /proc stand-in in `dir` holding `flags`, `counts` and `cgroups` as the three kpage
  /// files (and an empty mountinfo: no cgroup hierarchy to name), opened as the live source.
  static func liveSource(_ dir: String, flags: [UInt64], counts: [UInt64], cgroups: [UInt64]) throws -> PageSnapshot {
    for (name, words) in [("kpageflags", flags), ("kpagecount", counts), ("kpagecgroup", cgroups)] {
      try Data(words.withUnsafeBytes { Array($0) }).write(to: URL(fileURLWithPath: dir + "/" + name))
    }
    try FileManager.default.createDirectory(atPath: dir + "/self", withIntermediateDirectories: true)
    try Data().write(to: URL(fileURLWithPath: dir + "/self/mountinfo"))
    return try PageSnapshot.liveKPageFiles(proc: dir)
  }

  /// Random runs of mapped and unmapped pages; mapped pages count 0-3, unmapped ones
  /// `unmappedCount(pfn)`.
  static func pages(_ rng: inout SplitMix64, count n: Int, unmappedCount: (Int) -> UInt64) -> (flags: [UInt64], counts: [UInt64]) {
    let mapped = KPF.mmap.mask | KPF.lru.mask | KPF.anon.mask
    let unmapped: [UInt64] = [0, KPF.buddy.mask, KPF.lru.mask | KPF.uptodate.mask, KPF.slab.mask]
    var flags: [UInt64] = [], counts: [UInt64] = []
    while flags.count < n {
      let isMapped = rng.next() % 3 == 0
      // Gaps around the 16-PFN limit, and long ones.
      let len = min(n - flags.count, Int(rng.next() % (rng.next() % 4 == 0 ? 400 : 40)) + 1)
      for _ in 0..<len {
        let pfn = flags.count
        flags.append(isMapped ? mapped : unmapped[Int(rng.next() % UInt64(unmapped.count))])
        counts.append(isMapped ? rng.next() % 4 : unmappedCount(pfn))
      }
    }
    return (flags, counts)
  }

  @Test func onlyUnmappedSpansAreLeftUnread() throws {
    var rng = SplitMix64(seed: testSeed("onlyUnmappedSpansAreLeftUnread"))
    try withScratchDirectory("unmapped") { scratch in
      let n = 20_000
      // Unmapped counts that no kernel gives, so that a word read shows.
      let (flags, counts) = Self.pages(&rng, count: n) { 1_000_000 + UInt64($0) }
      let snap = try Self.liveSource(scratch.path, flags: flags, counts: counts, cgroups: [UInt64](repeating: 0, count: n))
      let kpagecount = try #require(snap.kpagecount)
      #expect(kpagecount.zeroUnlessMapped && snap.kpagecgroup?.zeroUnlessMapped == false && !snap.kpageflags.zeroUnlessMapped)
      #expect(KPageArray.mappedGapWords == 16)
      var dst = [UInt64](repeating: 0xdead, count: n)
      for _ in 0..<200 {
        let a = Int(rng.next() % UInt64(n)), b = a + 1 + Int(rng.next() % UInt64(n - a))
        try flags.withUnsafeBufferPointer { f in
          try dst.withUnsafeMutableBufferPointer { try kpagecount.read(a..<b, into: $0.baseAddress!, mappedBy: f.baseAddress! + a) }
        }
        // Every mapped PFN reads its count, every other one 0, whatever the file holds
        // there (also one read across a short gap between mapped PFNs).
        for i in a..<b {
          let isMapped = flags[i] & KPF.mmap.mask != 0
          #expect(dst[i - a] == (isMapped ? counts[i] : 0), "PFN \(i) of \(a)..<\(b): mapped \(isMapped), read \(dst[i - a])")
          if dst[i - a] != (isMapped ? counts[i] : 0) { return }
        }
      }
    }
  }

  @Test func analysisAndCaptureEqualACompleteRead() throws {
    var rng = SplitMix64(seed: testSeed("analysisAndCaptureEqualACompleteRead"))
    try withScratchDirectory("unmapped") { scratch in
      // Three blocks of 4096 and a part, chunks of the census as the live source's.
      let n = 3 * 4096 + Int(rng.next() % 4096) + 1
      // As the kernel: a page no page table maps counts 0.
      let (flags, counts) = Self.pages(&rng, count: n) { _ in 0 }
      let cgroups = (0..<n).map { _ in rng.next() % 5 == 0 ? 1000 + rng.next() % 3 : 0 }
      let live = try Self.liveSource(scratch.path, flags: flags, counts: counts, cgroups: cgroups)
      let complete = try PageSnapshot(
        origin: .live, kpageflags: KPageArray(file: .kpageflags, words: flags), kpagecount: KPageArray(file: .kpagecount, words: counts),
        kpagecgroup: KPageArray(file: .kpagecgroup, words: cgroups), texts: live.texts, metadata: live.metadata)
      #expect(try SnapshotAnalysis.of(live).mapcounts == SnapshotAnalysis.of(complete).mapcounts)
      // The capture's encoding: byte for byte the one of every word read.
      let encoded = try SnapshotFormat.encode(live, blockWords: 4096).bytes
      #expect(encoded == (try SnapshotFormat.encode(complete, blockWords: 4096).bytes))
    }
  }

  @Test func aCaptureStoresZeroWhereNothingIsMapped() throws {
    var rng = SplitMix64(seed: testSeed("aCaptureStoresZeroWhereNothingIsMapped"))
    try withScratchDirectory("unmapped") { scratch in
      // Blocks of 2^15 words, read in pieces of 2^14 (`KPageArray.pieceWords`) as a capture's
      // 2^20-word blocks are: each block's kpageflags item reads kpagecount twice.
      let block = 1 << 15
      #expect(KPageArray.pieceWords == 1 << 14)
      let n = 2 * block + Int(rng.next() % UInt64(block)) + 1
      let (flags, counts) = Self.pages(&rng, count: n) { 1_000_000 + UInt64($0) }
      let cgroups = (0..<n).map { UInt64($0 % 7) }
      let live = try Self.liveSource(scratch.path, flags: flags, counts: counts, cgroups: cgroups)
      // Progress counts the words of all three arrays, the ones left unread included.
      let done = Mutex(0)
      let bytes = try SnapshotFormat.encode(live, progress: { d, total in
        #expect(d <= total && total == 3 * n)
        done.withLock { $0 = d }
      }, blockWords: block).bytes
      #expect(done.withLock { $0 } == 3 * n)
      let back = try SnapshotFormat.parse(bytes, path: "t.mdsnap")
      func words(_ a: KPageArray?) throws -> [UInt64] {
        let a = try #require(a)
        var w = [UInt64](repeating: 0, count: a.count)
        try w.withUnsafeMutableBufferPointer { try a.read(0..<a.count, into: $0.baseAddress!) }
        return w
      }
      #expect(try words(back.kpageflags) == flags && words(back.kpagecgroup) == cgroups)
      let stored = try words(back.kpagecount)
      #expect(stored.count == n)
      let expected = (0..<n).map { flags[$0] & KPF.mmap.mask != 0 ? counts[$0] : 0 }
      let wrong = (0..<n).first { stored[$0] != expected[$0] }
      #expect(wrong == nil, "PFN \(wrong ?? 0): stored \(stored[wrong ?? 0]), expected \(expected[wrong ?? 0])")
    }
  }
}
