import CZlib
import Synchronization

/// A gzip decoder that hands out its output in pieces: the one decoder loop behind
/// `Gzip.decompress` and the streamed gzip kpage arrays (`GzipWords`).
///
/// Compressed bytes come from `source(buffer, offset)`, a `pread`: it fills `buffer` with
/// the bytes at `offset` of the compressed file and returns how many, 0 at its end. Errors
/// are `Gzip`'s: `.badGzip` naming the compressed offset and the bytes decoded by then.
final class GzipReader {
  typealias Source = (_ buffer: UnsafeMutableRawBufferPointer, _ offset: UInt64) throws -> Int

  let path: String
  let maxOutput: Int
  let source: Source
  private(set) var stream: InflateStream
  private let input: UnsafeMutableRawBufferPointer
  /// Bytes the last refill put in `input`.
  private var available = 0
  /// Compressed bytes before `input`.
  private var consumed: UInt64 = 0
  private var eof = false
  private var started = false
  /// Members finished, and the decoded offset where the current one began.
  private var member = 0
  private var memberStart = 0
  /// Decoded bytes handed out so far.
  private(set) var produced = 0
  /// True after the last member's end (a clean end of the file).
  private(set) var finished = false

  init(path: String, maxOutput: Int = 1 << 40, source: @escaping Source) throws {
    self.path = path
    self.maxOutput = maxOutput
    self.source = source
    stream = try InflateStream(path: path)
    input = GzipReader.allocateInput()
  }

  /// A reader resuming where `checkpoint` was taken.
  init(resuming c: Checkpoint, path: String, maxOutput: Int, source: @escaping Source) throws {
    self.path = path
    self.maxOutput = maxOutput
    self.source = source
    stream = try InflateStream(copying: c.stream, path: path)
    input = GzipReader.allocateInput()
    consumed = c.compressedOffset
    started = true
    member = c.member
    memberStart = c.memberStart
    produced = c.decoded
  }

  deinit { input.deallocate() }

  /// A buffer for compressed input or inflated output, 256 KiB: large enough that reads
  /// are few, small enough to stay in the L2 cache.
  static func allocateInput() -> UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(start: FileIO.allocateReadBuffer(bytes: 1 << 18), count: 1 << 18)
  }

  /// The decoder's state at one decoded offset, to resume from without decoding what
  /// comes before it again.
  struct Checkpoint {
    let decoded: Int
    let compressedOffset: UInt64
    let stream: InflateStream
    let member: Int
    let memberStart: Int
  }

  /// The state now (between two `read`s).
  func checkpoint() throws -> Checkpoint {
    Checkpoint(
      decoded: produced, compressedOffset: offset(),
      stream: try InflateStream(copying: stream, path: path), member: member,
      memberStart: memberStart)
  }

  /// The compressed offset of the next byte zlib will consume.
  private func offset() -> UInt64 { consumed + UInt64(available - stream.availableIn) }

  private func refill() throws {
    guard !eof else { return }
    let n = try source(input, consumed)
    eof = n == 0
    available = n
    stream.setInput(input.baseAddress!, count: n)
  }

  /// Decodes up to `count` bytes into `dst`; fewer only at the end of the file.
  func read(into dst: UnsafeMutableRawPointer, count: Int) throws -> Int {
    if !started {
      started = true
      try refill()
      guard available > 0 else {
        throw SnapshotError(.badGzip, path: path, "empty file, not gzip data")
      }
      guard available >= 2, input[0] == 0x1f, input[1] == 0x8b else {
        throw SnapshotError(.badGzip, path: path, offset: 0, "not a gzip file (no 1f 8b magic)")
      }
    }
    var filled = 0
    while filled < count && !finished {
      if stream.availableIn == 0 && !eof {
        consumed += UInt64(available)
        available = 0
        try refill()
      }
      if stream.atMemberStart {
        if stream.availableIn == 0 {  // a clean end after a whole member
          finished = true
          break
        }
        let next = UnsafeRawBufferPointer(start: stream.nextIn, count: stream.availableIn)
        // Another member, or garbage after the last one (gzip -d says the same).
        guard member == 0 || (next[0] == 0x1f && (next.count < 2 || next[1] == 0x8b)) else {
          throw SnapshotError(
            .badGzip, path: path, offset: offset(), "trailing garbage after gzip member \(member)")
        }
        if next.count >= 4 { try Gzip.checkHeader(next, path: path, offset: offset()) }
        memberStart = produced
      }
      let room = min(count - filled, maxOutput - produced)
      let (status, n) = stream.inflate(into: dst + filled, count: room)
      filled += n
      produced += n
      switch status {
      case Z_OK: continue
      case Z_STREAM_END:
        member += 1
        stream.reset()
      case Z_BUF_ERROR where room == 0:
        throw SnapshotError(
          .badGzip, path: path, offset: offset(),
          "decompressed data larger than the \(maxOutput)-byte limit (compressed offset; \(produced) bytes decompressed)"
        )
      case Z_BUF_ERROR where stream.availableIn == 0 && eof:
        throw SnapshotError(
          .badGzip, path: path, offset: offset(),
          "unexpected end of compressed data in gzip member \(member + 1) (truncated file?; compressed offset, \(produced) bytes decompressed)"
        )
      case Z_BUF_ERROR: continue
      default:
        throw stream.error(
          status, path: path, offset: offset(), member: member + 1, decompressed: produced,
          memberBytes: produced - memberStart)
      }
    }
    return filled
  }

  /// Decodes and drops `count` bytes; returns how many there were (fewer at the end).
  func skip(_ count: Int, scratch: UnsafeMutableRawBufferPointer) throws -> Int {
    var left = count
    while left > 0 {
      let want = min(left, scratch.count)
      let n = try read(into: scratch.baseAddress!, count: want)
      left -= n
      if n < want { break }
    }
    return count - left
  }
}

/// A gzip-compressed kpage file read as a stream: never decompressed into memory.
///
/// Opening it decodes the whole file once, to learn its decoded size and to check every
/// member's CRC-32 and ISIZE (errors come at open, as for the other sources), and keeps a
/// checkpoint of the decoder every `spacing` decoded bytes (at most `maxCheckpoints`, about
/// 40 KiB each: the spacing doubles when they would be more). A read continues the
/// decoder when it starts at or after the decoder's position (the scans read in PFN
/// order) and otherwise resumes from the nearest checkpoint before it (explain's look-ups),
/// so memory stays at one decoder, the checkpoints and a scratch buffer, whatever the size.
final class GzipWords: @unchecked Sendable {
  let path: String
  let fd: FileIO.Descriptor
  /// Decoded bytes.
  let size: Int
  static let maxCheckpoints = 256
  private(set) var spacing: Int
  private var checkpoints: [GzipReader.Checkpoint] = []
  private let lock = Mutex<Void>(())
  private var reader: GzipReader?
  private let scratch: UnsafeMutableRawBufferPointer

  init(fd: FileIO.Descriptor, path: String, maxOutput: Int = 1 << 40, spacing: Int = 64 << 20)
    throws
  {
    let scratch = GzipReader.allocateInput()
    var ok = false
    defer { if !ok { scratch.deallocate() } }
    let counter = try GzipReader(
      path: path, maxOutput: maxOutput, source: Self.source(fd: fd, path: path))
    var spacing = spacing
    var next = spacing
    var checkpoints: [GzipReader.Checkpoint] = []
    while true {
      // Up to the next checkpoint, so that checkpoints land `spacing` apart exactly.
      let want = min(scratch.count, next - counter.produced)
      let n = try counter.read(into: scratch.baseAddress!, count: want)
      if n < want { break }
      if counter.produced >= next {
        checkpoints.append(try counter.checkpoint())
        next += spacing
        if checkpoints.count > Self.maxCheckpoints {
          // Every other one: those at multiples of the doubled spacing.
          checkpoints = checkpoints.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
          spacing *= 2
        }
      }
    }
    self.path = path
    self.fd = fd
    self.spacing = spacing
    self.scratch = scratch
    size = counter.produced
    self.checkpoints = checkpoints
    ok = true
  }

  deinit {
    scratch.deallocate()
    try? fd.close()
  }

  static func source(fd: FileIO.Descriptor, path: String) -> GzipReader.Source {
    { buffer, offset in
      try FileIO.pread(
        fd, path: path, into: buffer.baseAddress!, count: buffer.count, offset: offset)
    }
  }

  /// Checkpoints kept (for tests: memory stays bounded).
  var checkpointCount: Int { lock.withLock { _ in checkpoints.count } }

  /// Decodes `count` bytes from decoded offset `offset` into `dst`.
  func read(offset: Int, count: Int, into dst: UnsafeMutableRawPointer) throws {
    precondition(offset >= 0 && count >= 0 && offset + count <= size, "gzip read out of bounds")
    try lock.withLock { _ throws(SnapshotError) in
      do {
        try locked(offset: offset, count: count, into: dst)
      } catch let e as SnapshotError {
        reader = nil
        throw e
      } catch {
        reader = nil
        throw SnapshotError(.io, path: path, "\(error)")
      }
    }
  }

  private func locked(offset: Int, count: Int, into dst: UnsafeMutableRawPointer) throws {
    // The nearest checkpoint at or before `offset`, if it is nearer than the decoder.
    let best = checkpoints.last { $0.decoded <= offset }
    if let r = reader, r.produced <= offset, r.produced >= (best?.decoded ?? 0) {
      // Continue.
    } else if let best {
      reader = try GzipReader(
        resuming: best, path: path, maxOutput: size, source: Self.source(fd: fd, path: path))
    } else {
      reader = try GzipReader(path: path, maxOutput: size, source: Self.source(fd: fd, path: path))
    }
    let r = reader!
    let gap = offset - r.produced
    let n = try r.skip(gap, scratch: scratch) == gap ? try r.read(into: dst, count: count) : 0
    guard n == count else {
      throw SnapshotError(
        .badGzip, path: path,
        "decodes to fewer bytes than when it was opened (\(r.produced) of \(size)): did it change while being read?"
      )
    }
  }
}
