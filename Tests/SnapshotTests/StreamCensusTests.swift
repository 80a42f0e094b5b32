import Foundation
import MemdescTestSupport
import PageModel
@testable import Snapshot
import Testing

/// Issue 16: a bare kpageflags dump read once from a pipe (`KPageStream`) gives the census
/// a file gives, however it is cut into chunks and on however many workers, and refuses
/// bad data with the offset a file's reader names.
@Suite struct StreamCensusTests {
  /// A stream over a pipe that a thread of this process fills with `bytes`, then closes.
  /// The writer runs beside the stream's reader (a pipe holds little); a stream closed
  /// before its end makes the write fail with EPIPE, which ends the writer (SIGPIPE is
  /// ignored, or it would end the test process).
  static func stream(_ bytes: [UInt8], chunk: Int) throws -> KPageStream {
    signal(SIGPIPE, SIG_IGN)
    let pipe = Pipe()
    let writer = pipe.fileHandleForWriting
    let data = Data(bytes)
    DispatchQueue.global().async {
      try? writer.write(contentsOf: data)
      try? writer.close()
    }
    let fd = dup(pipe.fileHandleForReading.fileDescriptor)
    try? pipe.fileHandleForReading.close()
    return try KPageStream(fd: fd, ownsFD: true, path: "pipe", chunkWords: chunk)
  }

  static func bytes(_ words: [UInt64]) -> [UInt8] { words.withUnsafeBytes { Array($0) } }

  static func streamed(_ bytes: [UInt8], chunk: Int, threads: Int) throws -> (Census, PageSnapshot) {
    let s = try PageSnapshot(origin: .kpageflagsStream("pipe"), kpageflags: KPageArray(stream: stream(bytes, chunk: chunk)), texts: ["hugepages": ParallelCensusTests.pools])
    return (try Census.of(s, threads: threads), s)
  }

  @Test func streamedCensusEqualsTheFile() throws {
    var rng = SplitMix64(seed: testSeed("streamedCensusEqualsTheFile"))
    for round in 0..<3 {
      let words = ParallelCensusTests.dump(&rng, words: 200_000 + Int(rng.next() % 300_000))
      let file = try ParallelCensusTests.census(words, chunk: 1 << 20, threads: 1)
      let raw = Self.bytes(words)
      for chunk in [7, 64, 4096, Int(rng.next() % 100_000) + 1] {
        let threads = Int(rng.next() % 3) + 1
        let (census, snapshot) = try Self.streamed(raw, chunk: chunk, threads: threads)
        #expect(census == file, "round \(round), \(words.count) words, chunks of \(chunk), \(threads) threads")
        #expect(snapshot.pfnCount == words.count, "the PFN count is known once the stream has ended")
      }
      // Gzip on the pipe: inflated by the reader thread, the same census.
      let gz = try gzip(raw)
      let (census, _) = try Self.streamed(gz, chunk: 1000, threads: 2)
      #expect(census == file, "round \(round): gzip stream")
    }
  }

  /// A refused bit in several chunks: the lowest PFN's is reported, as on one thread.
  @Test func firstRefusedWordWins() throws {
    var words = [UInt64](repeating: ParallelCensusTests.anon, count: 50_000)
    for pfn in [41_000, 30_001, 12_345, 49_999] { words[pfn] |= 1 << 58 }
    for threads in [1, 2, 4] {
      expectSnapshotError(.unknownFlagBit, ["pipe at offset \(12_345 * 8)", "PFN 12345", "bit 58"]) {
        _ = try Self.streamed(Self.bytes(words), chunk: 1000, threads: threads)
      }
    }
  }

  @Test func badLengthsAndEmptyStreams() throws {
    let words = [UInt64](repeating: ParallelCensusTests.anon, count: 3000)
    // A length that is not a multiple of 8, in the middle of a chunk and at its end.
    for extra in [1, 5, 7] {
      for chunk in [1000, 3000] {
        let raw = Self.bytes(words) + [UInt8](repeating: 0, count: extra)
        expectSnapshotError(.badSize, ["pipe at offset 24000", "stream ended after \(24_000 + extra) bytes, not a multiple of 8"]) {
          _ = try Self.streamed(raw, chunk: chunk, threads: 2)
        }
      }
    }
    expectSnapshotError(.badSize, ["pipe: empty stream"]) { _ = try Self.stream([], chunk: 64) }
    expectSnapshotError(.badSize, ["decompresses to nothing"]) { _ = try Self.streamed(try gzip([]), chunk: 64, threads: 2) }
    expectSnapshotError(.wrongFileType, ["is a Memdesc snapshot file"]) { _ = try Self.stream(SnapshotFormat.magic + [0, 0, 0], chunk: 64) }
    // EOF inside a gzip member: named, nothing counted.
    let gz = try gzip(Self.bytes(words))
    expectSnapshotError(.badGzip, ["unexpected end of compressed data in gzip member 1"]) {
      _ = try Self.streamed(Array(gz.dropLast(9)), chunk: 512, threads: 2)
    }
  }

  /// A stream is read once: a second pass, and a look-up by PFN, are refused.
  @Test func readOnce() throws {
    let words = [UInt64](repeating: ParallelCensusTests.anon, count: 5000)
    let (_, snapshot) = try Self.streamed(Self.bytes(words), chunk: 1000, threads: 2)
    expectSnapshotError(.io, ["pipe: a stream can be read only once"]) { try snapshot.kpageflags.forEachChunk { _, _ in } }
    expectSnapshotError(.io, ["cannot be looked up"]) {
      var w = [UInt64](repeating: 0, count: 4)
      try w.withUnsafeMutableBufferPointer { try snapshot.kpageflags.read(0..<4, into: $0.baseAddress!) }
    }
  }

  /// The page-types table of a stream is the file's.
  @Test func summaryOfAStream() throws {
    var rng = SplitMix64(seed: testSeed("summaryOfAStream"))
    let words = ParallelCensusTests.dump(&rng, words: 100_000)
    let file = try PageTypesSummary.of(KPageArray(file: .kpageflags, words: words), mode: .raw)
    let s = try PageSnapshot(origin: .kpageflagsStream("pipe"), kpageflags: KPageArray(stream: Self.stream(Self.bytes(words), chunk: 999)))
    #expect(try PageTypesSummary.of(s.kpageflags, mode: .raw, threads: 2) == file)
  }

  /// `gzip -c` of `bytes`, through the system's gzip.
  func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
    try withScratchDirectory("stream-gzip") { dir in
      try Data(bytes).write(to: URL(fileURLWithPath: dir.file("d")))
      let r = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "gzip -1 -c \(dir.file("d")) > \(dir.file("d.gz"))"])
      #expect(r.status == 0, "gzip: \(r.stderr)")
      return Array(try Data(contentsOf: URL(fileURLWithPath: dir.file("d.gz"))))
    }
  }
}
