import Foundation
import MemdescTestSupport
import PageModel
@testable import Snapshot
import Testing

/// Issue 10 points 3 and 4: kpageflags words with bits page-types cannot name are refused
/// by every reader; gzip and snapshot-file sources are read as streams.
@Suite struct StreamingTests {
  /// page-types names bits 0-26, 32-41, 47, 48, 50, 51 and 61-63; the rest are refused.
  @Test func unnamedBitsArePageTypesGaps() {
    #expect(PageTypesSummary.unnamedBits == 0x1ff2_7c00_f800_0000)
    for bit in [27, 31, 42, 46, 49, 52, 60] { #expect(PageTypesSummary.unnamedBits >> UInt64(bit) & 1 == 1, "bit \(bit)") }
    for bit in [0, 26, 32, 41, 47, 48, 50, 51, 61, 63] { #expect(PageTypesSummary.unnamedBits >> UInt64(bit) & 1 == 0, "bit \(bit)") }
  }

  /// A dump of zeros and LRU pages with one word carrying `bit` at `pfn`.
  static func dump(bit: Int, pfn: Int, pfns: Int = 1 << 16) -> [UInt64] {
    var words = [UInt64](repeating: KPF.lru.mask | KPF.uptodate.mask, count: pfns)
    words[pfn] |= 1 << UInt64(bit)
    return words
  }

  @Test(arguments: [27, 42, 49, 52, 60])
  func everyReaderRefusesAnUnknownBit(bit: Int) throws {
    let pfn = 40_000
    let array = KPageArray(file: .kpageflags, words: Self.dump(bit: bit, pfn: pfn), path: "dump")
    let snapshot = try PageSnapshot(origin: .kpageflagsDump("dump"), kpageflags: array)
    let fragments = ["dump at offset \(pfn * 8)", "PFN \(pfn)", "bit \(bit)", "page-types has no name for"]
    expectSnapshotError(.unknownFlagBit, fragments) { try array.forEachChunk { _, _ in } }
    expectSnapshotError(.unknownFlagBit, fragments) { try array.forEachChunkConcurrently(threads: 2) { _, _, _ in } }
    expectSnapshotError(.unknownFlagBit, fragments) { try array.checkAllWords() }
    expectSnapshotError(.unknownFlagBit, fragments) {
      var w = [UInt64](repeating: 0, count: 16)
      try w.withUnsafeMutableBufferPointer { try array.read((pfn - 3)..<(pfn + 13), into: $0.baseAddress!) }
    }
    expectSnapshotError(.unknownFlagBit, fragments) { _ = try SnapshotAnalysis.of(snapshot) }
    expectSnapshotError(.unknownFlagBit, fragments) { _ = try SnapshotRAM.of(snapshot) }
    expectSnapshotError(.unknownFlagBit, fragments) { _ = try PageClassifier.extent(of: pfn, in: snapshot) }
    expectSnapshotError(.unknownFlagBit, fragments) { _ = try SnapshotFormat.encode(snapshot, threads: 2) }
    expectSnapshotError(.unknownFlagBit, fragments) { _ = try PageTypesSummary.of(array, mode: .raw) }
    // Words elsewhere read fine: only the words read are checked.
    _ = try PageClassifier.extent(of: 10, in: snapshot)

    // With the override every reader takes the word as it is.
    snapshot.acceptsUnknownFlags = true
    #expect(array.refusedBits == 0)
    let a = try SnapshotAnalysis.of(snapshot)
    #expect(a.census.pfns == 1 << 16)
    #expect(a.census.folios[.file]?[0] == 1 << 16)
    let summary = try PageTypesSummary.of(array, mode: .raw)
    #expect(summary.totalPages == 1 << 16)
    #expect(summary.rows.contains { $0.flags >> UInt64(bit) & 1 == 1 })
    snapshot.acceptsUnknownFlags = false
    #expect(array.refusedBits == PageTypesSummary.unnamedBits)
  }

  /// page-types' default mode hides bits 32-47, so `summary` without `-r` accepts bit 42
  /// (as page-types does) while every other reader refuses it.
  @Test func summaryJudgesAfterItsTransformation() throws {
    let array = KPageArray(file: .kpageflags, words: Self.dump(bit: 42, pfn: 7), path: "dump")
    let wellKnown = try PageTypesSummary.of(array, mode: .wellKnown)
    #expect(wellKnown.totalPages == 1 << 16)
    #expect(array.refusedBits == PageTypesSummary.unnamedBits, "restored after the scan")
    expectSnapshotError(.unknownFlagBit, ["PFN 7", "bit 42"]) { _ = try PageTypesSummary.of(array, mode: .raw) }
    // The lowest PFN is the one named, as page-types meets it first.
    var words = Self.dump(bit: 52, pfn: 9000)
    words[20] |= 1 << 55
    let two = KPageArray(file: .kpageflags, words: words, path: "dump")
    expectSnapshotError(.unknownFlagBit, ["PFN 20 ", "bit 55"]) { _ = try PageTypesSummary.of(two, mode: .wellKnown) }
  }

  /// A file's chunks are read ahead on another thread: the chunks still come in order,
  /// an unknown bit is reported at its own chunk after the ones before it, and a body that
  /// throws stops the reader.
  @Test func readAheadKeepsOrderAndErrors() throws {
    try withScratchDirectory("read-ahead") { dir in
      let pfns = 40 * (1 << 14) + 123
      let words = Self.dump(bit: 57, pfn: 30 * (1 << 14) + 5, pfns: pfns)
      try words.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: dir.file("d"))) }
      let array = try PageSnapshot.openKPageFile(.kpageflags, path: dir.file("d"))
      var seen: [Int] = []
      expectSnapshotError(.unknownFlagBit, ["PFN \(30 * (1 << 14) + 5)", "bit 57"]) {
        try array.forEachChunk { start, _ in seen.append(start) }
      }
      #expect(seen == (0..<30).map { $0 << 14 })
      struct Stop: Error {}
      var calls = 0
      #expect(throws: Stop.self) {
        try array.forEachChunk { _, _ in
          calls += 1
          if calls == 3 { throw Stop() }
        }
      }
      #expect(calls == 3)
      array.refusedBits = 0
      var total = 0
      try array.forEachChunk { start, chunk in
        #expect(start == total)
        total += chunk.count
      }
      #expect(total == pfns)
    }
  }

  /// kpagecount and kpagecgroup hold counts and inode numbers: no bit is refused there.
  @Test func onlyKPageflagsIsChecked() throws {
    let count = KPageArray(file: .kpagecount, words: [UInt64.max, 1 << 60], path: "c")
    #expect(count.refusedBits == 0)
    try count.forEachChunk { _, _ in }
  }

  /// The real kernels' words of the fixtures are all named (so nothing real is refused).
  @Test(arguments: Fixture.scenarios)
  func fixturesHaveNoUnknownBits(scenario: String) throws {
    let s = try PageSnapshot.open(Fixture.dir(scenario))
    try s.kpageflags.checkAllWords()
    let hvo = try PageSnapshot.open(Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("hvo-hugetlb.mdsnap").path)
    try hvo.kpageflags.checkAllWords()
  }

  /// A streamed gzip array reads the same words as the whole decompression, in order
  /// and at random PFNs (resuming from checkpoints), with the checkpoints bounded.
  @Test func gzipStreamReadsAnyRangeWithBoundedCheckpoints() throws {
    let path = Fixture.file("idle", "kpageflags.gz")
    let whole = try Gzip.decompress(Fixture.bytes(path), path: path)
    let expected = whole.words
    // Checkpoints every 64 KiB of a 50 MiB stream would be 800: the spacing doubles instead.
    let gz = try GzipWords(fd: FileIO.openForReading(path), path: path, spacing: 64 << 10)
    #expect(gz.size == whole.count)
    #expect(gz.checkpointCount <= GzipWords.maxCheckpoints && gz.checkpointCount >= GzipWords.maxCheckpoints / 2)
    #expect(gz.spacing == 256 << 10)
    let array = KPageArray(file: .kpageflags, path: path, count: gz.size / 8, chunkWords: 1 << 14, backing: .gzip(gz))
    #expect(array.isSequential)
    var same = true
    try array.forEachChunk { start, words in
      if memcmp(words.baseAddress!, expected.baseAddress! + start, words.count * 8) != 0 { same = false }
    }
    #expect(same)
    var rng = SplitMix64(seed: TestSeed.seed("gzipStreamReadsAnyRange"))
    var buffer = [UInt64](repeating: 0, count: 4096)
    for _ in 0..<40 {
      let n = Int(rng.next() % 4096) + 1
      let lo = Int(rng.next() % UInt64(array.count - n))
      try buffer.withUnsafeMutableBufferPointer { try array.read(lo..<(lo + n), into: $0.baseAddress!) }
      #expect(memcmp(buffer, expected.baseAddress! + lo, n * 8) == 0, "PFNs \(lo)..<\(lo + n)")
    }
  }

  /// Concatenated members stream as one, and a damaged stream fails at open with the
  /// same error as the whole decompression.
  @Test func gzipStreamMembersAndErrors() throws {
    try withScratchDirectory("gzip-stream") { dir in
      let two = GzipTests.stored + GzipTests.fixed
      try Fixture.write(two, to: dir.file("two.gz"))
      let gz = try GzipWords(fd: FileIO.openForReading(dir.file("two.gz")), path: "two.gz")
      var out = [UInt8](repeating: 0, count: gz.size)
      try out.withUnsafeMutableBytes { try gz.read(offset: 0, count: gz.size, into: $0.baseAddress!) }
      #expect(String(decoding: out, as: UTF8.self) == "hello, kpageflags\nabcabcabcabcabcabc hello hello hello")
      try out.withUnsafeMutableBytes { try gz.read(offset: 20, count: 5, into: $0.baseAddress!) }
      #expect(String(decoding: out[0..<5], as: UTF8.self) == "cabca")
      let full = try Fixture.bytes(Fixture.file("idle", "kpagecount.gz"))
      try Fixture.write(Array(full.dropLast(full.count / 3)), to: dir.file("cut.gz"))
      expectSnapshotError(.badGzip, ["cut.gz at offset", "unexpected end of compressed data"]) {
        _ = try PageSnapshot.openKPageFile(.kpagecount, path: dir.file("cut.gz"))
      }
    }
  }

  /// A snapshot file read with `pread` (`SnapshotFormat.read`) gives the words and texts
  /// of the same file parsed from memory.
  @Test func snapshotFileStreamsLikeBytes() throws {
    try withScratchDirectory("mdsnap-stream") { dir in
      let source = try PageSnapshot.open(Fixture.dir("thp-anon"))
      let (bytes, _) = try SnapshotFormat.encode(source, threads: 2, blockWords: 1 << 16)
      try Fixture.write(bytes, to: dir.file("t.mdsnap"))
      let file = try SnapshotFormat.read(dir.file("t.mdsnap"))
      let memory = try SnapshotFormat.parse(bytes, path: dir.file("t.mdsnap"))
      #expect(file.texts == memory.texts && file.metadata == memory.metadata)
      for (a, b) in zip(file.arrays, memory.arrays) {
        #expect(a.count == b.count && a.chunkWords == 1 << 16)
        var wa: [UInt64] = [], wb: [UInt64] = []
        try a.forEachChunk { start, words in if start == 1 << 20 { wa = Array(words) } }
        try b.forEachChunk { start, words in if start == 1 << 20 { wb = Array(words) } }
        #expect(wa == wb && wa.count == 1 << 16)
        var x = [UInt64](repeating: 0, count: 100), y = x
        try x.withUnsafeMutableBufferPointer { try a.read(65_500..<65_600, into: $0.baseAddress!) }
        try y.withUnsafeMutableBufferPointer { try b.read(65_500..<65_600, into: $0.baseAddress!) }
        #expect(x == y)
      }
      #expect(try SnapshotFormat.sections(dir.file("t.mdsnap")).contains { $0.name == "kpageflags" && $0.decodedBytes == 6_553_600 * 8 })
    }
  }

  /// A block longer than the raw coding of its words (which the writer never exceeds) is
  /// refused at open: a reader holds one stored block at a time, so this bounds memory.
  @Test func oversizedBlockIsRefused() throws {
    let one = try PageSnapshot(origin: .kpageflagsDump("one"), kpageflags: KPageArray(file: .kpageflags, words: [1 << 63]))
    var b = try SnapshotFormat.encode(one, threads: 1, blockWords: 1).bytes
    func le(_ o: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(b[o + $1]) << (8 * $1) } }
    func put(_ o: Int, _ n: Int, _ v: Int) { for k in 0..<n { b[o + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }
    let count = le(12, 4)
    let entry = SnapshotFormat.headerSize + (count - 1) * SnapshotFormat.entrySize
    #expect(String(decoding: b[entry..<(entry + 10)], as: UTF8.self) == "kpageflags")
    let offset = le(entry + 40, 8)
    #expect(le(offset + 16, 4) == 9 && b[offset + 20] == 0, "one raw block of one word")
    // The same word as one run with a 10-byte literal: 12 bytes, a valid token stream.
    b.replaceSubrange((offset + 20)..<(offset + 29), with: [3, 0x07] + [UInt8](repeating: 0xff, count: 9) + [0x01])
    put(offset + 16, 4, 12)
    put(entry + 48, 8, le(entry + 48, 8) + 3)
    put(16, 8, b.count)
    b = SnapshotFormat.recomputingChecksums(b)
    expectSnapshotError(.badSnapshot, ["block 0 of 12 bytes is larger than a raw block of 1 words (9 bytes)"]) { _ = try SnapshotFormat.parse(b, path: "big") }
  }
}
