import Foundation
import MemdescTestSupport
import Snapshot
import Testing

/// Deterministic fuzzing: mutate valid inputs (flip, overwrite, truncate, insert, splice)
/// and read them; every outcome must be a value or a `SnapshotError`, never a trap.
/// The seed is printed; replay with `MEMDESC_SEED=0x... swift test --filter MutationTests`.
@Suite struct MutationTests {
  static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var b = input
    for _ in 0..<(1 + Int(rng.next() % 3)) {
      guard !b.isEmpty else { break }
      let at = Int(rng.next() % UInt64(b.count))
      switch rng.next() % 6 {
      case 0: b[at] ^= UInt8(1 << (rng.next() % 8))
      case 1: b[at] = UInt8(truncatingIfNeeded: rng.next())
      case 2: b.removeSubrange(at...)
      case 3: b.insert(contentsOf: (0..<Int(rng.next() % 9)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
      case 4:
        // Overwrite a little-endian u32 with an interesting value.
        let values: [UInt32] = [0, 1, 7, 0xff, 0xffff, 0x7fff_ffff, 0xffff_ffff, UInt32(truncatingIfNeeded: rng.next())]
        let v = values[Int(rng.next() % UInt64(values.count))]
        for k in 0..<4 where at + k < b.count { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
      default:
        let len = Int(rng.next() % 16)
        let from = Int(rng.next() % UInt64(b.count))
        let chunk = Array(b[from..<min(b.count, from + len)])
        b.replaceSubrange(at..<min(b.count, at + chunk.count), with: chunk)
      }
    }
    return b
  }

  /// Parses, then decodes every word and summarises: all errors allowed, no trap.
  static func readFully(_ bytes: [UInt8]) -> Bool {
    do {
      let s = try SnapshotFormat.parse(bytes, path: "mutant")
      for a in s.arrays { try a.forEachChunk { _, _ in } }
      _ = try PageTypesSummary.of(s.kpageflags, mode: .raw, threads: 1)
      _ = try? s.hugepages()
      return true
    } catch is SnapshotError {
      return false
    } catch {
      Issue.record("unexpected error type \(error)")
      return false
    }
  }

  @Test func mutatedSnapshotsNeverTrap() throws {
    var rng = SplitMix64(seed: testSeed("mutatedSnapshotsNeverTrap"))
    // A small multi-block snapshot from the fixture's varied region.
    let store = try Gzip.decompress(Fixture.bytes(Fixture.file("fuzz", "kpageflags-32k.gz")), path: "seed")
    let words = Array(store.words)
    let snap = try PageSnapshot(
      origin: .live, kpageflags: KPageArray(file: .kpageflags, words: words),
      kpagecount: KPageArray(file: .kpagecount, words: words.map { $0 >> 20 & 3 }),
      texts: ["hugepages": "hugepages-2048kB nr_hugepages=1 free_hugepages=0 resv_hugepages=0 surplus_hugepages=0 nr_overcommit_hugepages=0\nvm.hugetlb_optimize_vmemmap=1\n"])
    let (valid, _) = try SnapshotFormat.encode(snap, threads: 1, blockWords: 2048)
    #expect(Self.readFully(valid))
    var accepted = 0
    let iterations = 3000
    for i in 0..<iterations {
      var m = Self.mutate(valid, &rng)
      if i % 2 == 0 { m = SnapshotFormat.recomputingChecksums(m) }
      if Self.readFully(m) { accepted += 1 }
    }
    print("mutatedSnapshotsNeverTrap: \(iterations) mutants, \(accepted) read without error")
  }

  @Test func mutatedGzipNeverTraps() throws {
    var rng = SplitMix64(seed: testSeed("mutatedGzipNeverTraps"))
    let valid = try Fixture.bytes(Fixture.file("fuzz", "kpageflags-32k.gz"))
    var accepted = 0
    let iterations = 1500
    for _ in 0..<iterations {
      let m = Self.mutate(valid, &rng)
      do {
        _ = try Gzip.decompress(m, path: "mutant.gz", maxOutput: 1 << 22)
        accepted += 1
      } catch let e as SnapshotError {
        #expect(e.kind == .badGzip)
      }
    }
    print("mutatedGzipNeverTraps: \(iterations) mutants, \(accepted) decoded without error")
  }
}
