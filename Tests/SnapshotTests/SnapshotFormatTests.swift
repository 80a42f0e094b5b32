import Foundation
import MemdescTestSupport
import Snapshot
import Testing

/// Reads every word of an array in PFN order.
func allWords(_ a: KPageArray) throws -> [UInt64] {
  var out: [UInt64] = []
  out.reserveCapacity(a.count)
  try a.forEachChunk { _, words in out.append(contentsOf: words) }
  return out
}

@Suite struct SnapshotFormatTests {
  /// A snapshot file holds exactly the source's words, texts and metadata, and is far
  /// smaller than the raw arrays.
  @Test(arguments: Fixture.scenarios)
  func roundTripFixture(scenario: String) throws {
    let source = try PageSnapshot.open(Fixture.dir(scenario))
    let (bytes, sections) = try SnapshotFormat.encode(source)
    let back = try SnapshotFormat.parse(bytes, path: "\(scenario).mdsnap")
    #expect(back.origin == .snapshotFile("\(scenario).mdsnap"))
    #expect(back.pfnCount == 6_553_600)
    for (a, b) in zip(source.arrays, back.arrays) {
      #expect(a.file == b.file)
      #expect(try allWords(a) == allWords(b))
    }
    #expect(back.texts == source.texts)
    #expect(back.metadata.kernelRelease == "6.18.44-fc-v595")
    #expect(back.metadata.pageSize == 4096)
    let stored = Dictionary(uniqueKeysWithValues: sections.map { ($0.name, $0.storedBytes) })
    print("\(scenario): snapshot \(bytes.count) bytes; kpageflags \(stored["kpageflags"]!), kpagecount \(stored["kpagecount"]!), kpagecgroup \(stored["kpagecgroup"]!)")
    // The fixtures' three .gz files together are about 500 KB.
    #expect(bytes.count < 500_000)
  }

  /// Small blocks, several threads, odd lengths: still exact.
  @Test func smallBlocksAndOddLength() throws {
    var words: [UInt64] = []
    var rng = SplitMix64(seed: 42)
    for _ in 0..<1000 {
      let v = rng.next() % 5 == 0 ? rng.next() : UInt64(rng.next() % 4) << 10
      words += Array(repeating: v, count: Int(rng.next() % 40) + 1)
    }
    let flags = KPageArray(file: .kpageflags, words: words)
    let count = KPageArray(file: .kpagecount, words: words.map { $0 & 3 })
    let snap = try PageSnapshot(origin: .live, kpageflags: flags, kpagecount: count, texts: ["meminfo": "MemTotal: 1 kB\n"])
    // Any 64-bit word, named by page-types or not: this is about the coding.
    snap.acceptsUnknownFlags = true
    for blockWords in [1, 64, 4096, 1 << 20] {
      let (bytes, _) = try SnapshotFormat.encode(snap, threads: 3, blockWords: blockWords)
      let back = try SnapshotFormat.parse(bytes, path: "x")
      back.acceptsUnknownFlags = true
      #expect(try allWords(back.kpageflags) == words)
      #expect(try allWords(back.kpagecount!) == words.map { $0 & 3 })
      #expect(back.kpagecgroup == nil)
      // Unaligned range reads across blocks.
      var buf = [UInt64](repeating: 0, count: 100)
      try buf.withUnsafeMutableBufferPointer { try back.kpageflags.read(37..<137, into: $0.baseAddress!) }
      #expect(buf == Array(words[37..<137]))
    }
  }

  @Test func writeIsAtomicAndLeavesNothingOnFailure() throws {
    let scratch = try ScratchDirectory("atomic")
    defer { scratch.remove() }
    let dir = scratch.path
    // A raw directory whose kpagecount shrinks after it was opened: the capture fails
    // half-way through reading.
    let raw = dir + "/raw"
    try FileManager.default.createDirectory(atPath: raw, withIntermediateDirectories: true)
    let words = (0..<(3 << 20)).map { UInt64($0 % 7) }
    let data = words.withUnsafeBytes { Data($0) }
    try data.write(to: URL(fileURLWithPath: raw + "/kpageflags"))
    try data.write(to: URL(fileURLWithPath: raw + "/kpagecount"))
    let snap = try PageSnapshot.open(raw)
    truncate(raw + "/kpagecount", 8 << 20)
    let target = dir + "/out.mdsnap"
    try Fixture.write(Array("old".utf8), to: target)
    expectSnapshotError(.badSize, ["kpagecount", "ended early"]) { _ = try SnapshotFormat.write(snap, to: target) }
    // The old file is untouched and no temporary file is left behind.
    #expect(try Fixture.bytes(target) == Array("old".utf8))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["out.mdsnap", "raw"])
    // A good write replaces it.
    let good = try PageSnapshot.open(Fixture.dir("idle"))
    let report = try SnapshotFormat.write(good, to: target)
    #expect(report.fileBytes == (try Fixture.bytes(target)).count)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["out.mdsnap", "raw"])
    #expect(try PageSnapshot.open(target).pfnCount == 6_553_600)
  }

  @Test func hugepagesParse() throws {
    let info = try #require(try PageSnapshot.open(Fixture.dir("thp-anon")).hugepages())
    #expect(info.hstates.map(\.name) == ["1048576kB", "2048kB"])
    #expect(info.hstates.map(\.sizeKB) == [1_048_576, 2048])
    #expect(info.optimizeVmemmap == 0)
    expectSnapshotError(.badText, ["hugepages", "line 1"]) { _ = try HugepagesInfo.parse("hugepages-2048kB nr_hugepages=x\n", path: "hugepages") }
  }
}
