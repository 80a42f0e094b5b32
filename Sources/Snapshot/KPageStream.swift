import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A bare kpageflags dump read once, front to back: standard input (`-`) or a FIFO.
///
/// A pipe has no size and cannot be read twice, so nothing about the dump is known before
/// its pass: the PFN count is the number of words when the stream ends, and whatever a
/// file source learns by a first look (the length, gzip's decoded size, the RAM from the
/// non-zero sections) is gathered by the one pass instead. The pass's workers take turns
/// at reading the next chunk from the pipe (inflating it for gzip) into their own buffer,
/// and check and classify it there while the next worker reads; the memory is one chunk
/// per worker whatever the stream's length. Errors name the stream (`standard
/// input` or the FIFO's path) and the byte offset, in decoded bytes for gzip.
final class KPageStream: @unchecked Sendable {
  /// How errors and reports name the stream.
  let path: String
  let isGzip: Bool
  /// Words per chunk: 2 MiB by default. A stream's chunk costs a turn at the read lock that
  /// the next worker may sleep on, and the pipe hands over at most its 1 MiB per `read`;
  /// measured on a 16 TiB host's dump (32 GiB through a pipe), 256 KiB chunks (which kept
  /// the copy and the scan in half of L2) took 8.88 s, 512 KiB 7.14 s and 2 MiB 6.72 s
  /// against `cat`'s 5.16 s: fewer turns win over the cache. Two workers' chunks are 4 MiB.
  let chunkWords: Int
  /// PFNs read: the whole stream's once a pass has ended.
  private(set) var count = 0
  /// The most words a stream may carry: one per PFN of a 52-bit physical address space.
  static let maxPFNs = 1 << 40

  private let fd: Int32
  private let ownsFD: Bool
  /// The bytes read at open to tell the kind of data, handed out first.
  private var prefix: [UInt8]
  private var prefixUsed = 0
  private var gzip: GzipReader?
  private var passed = false

  /// `F_SETPIPE_SZ` (Linux): Glibc's headers hide it behind `_GNU_SOURCE`.
  private static let setPipeSize: Int32 = 1031

  /// A stream over `fd` (read with `read`: a pipe, a FIFO, also a regular file), named
  /// `path` in errors; `ownsFD`: closed with the stream.
  init(fd: Int32, ownsFD: Bool, path: String, chunkWords: Int) throws {
    self.fd = fd
    self.ownsFD = ownsFD
    self.path = path
    self.chunkWords = chunkWords
    // A 1 MiB pipe (the unprivileged limit) lets the writer run ahead of the workers and a
    // chunk come in one read; where it cannot be had, the default works as well, only slower.
    _ = fcntl(fd, Self.setPipeSize, Int32(1 << 20))
    var head = [UInt8](repeating: 0, count: SnapshotFormat.magic.count)
    var n = 0
    while n < head.count {
      let got = try head.withUnsafeMutableBytes { try Self.readSome(fd, path: path, into: $0.baseAddress! + n, count: $0.count - n) }
      if got == 0 { break }
      n += got
    }
    head.removeSubrange(n...)
    guard n > 0 else {
      throw SnapshotError(.badSize, path: path, "empty stream: a kpageflags dump holds one 8-byte word per PFN")
    }
    if head == SnapshotFormat.magic {
      throw SnapshotError(.wrongFileType, path: path, "is a Memdesc snapshot file, which is read by sections, not front to back: give its path instead of a stream")
    }
    prefix = head
    isGzip = n >= 2 && head[0] == 0x1f && head[1] == 0x8b
    if isGzip {
      gzip = try GzipReader(path: path, maxOutput: Self.maxPFNs * 8) { [unowned self] buffer, _ in
        try self.readRaw(into: buffer.baseAddress!, count: buffer.count)
      }
    }
  }

  deinit { if ownsFD { _ = close(fd) } }

  /// Opens standard input (`-`) or a FIFO as a stream; the FIFO's open waits for a
  /// writer, as reading a FIFO does. Reads the first bytes, to refuse an empty stream or a
  /// snapshot file and to tell gzip by its magic.
  static func open(_ path: String, chunkWords: Int = 1 << 18) throws -> KPageStream {
    if path == "-" {
      return try KPageStream(fd: STDIN_FILENO, ownsFD: false, path: "standard input", chunkWords: chunkWords)
    }
    let fd = try FileIO.openForReading(path).rawValue
    var st = stat()
    guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFIFO else {
      _ = close(fd)
      throw SnapshotError(.wrongFileType, path: path, "is not a FIFO (it changed after it was looked at)")
    }
    do {
      return try KPageStream(fd: fd, ownsFD: true, path: path, chunkWords: chunkWords)
    } catch {
      _ = close(fd)
      throw error
    }
  }

  /// One `read`, retried on EINTR and waited for on a non-blocking descriptor; 0 at EOF.
  private static func readSome(_ fd: Int32, path: String, into p: UnsafeMutableRawPointer, count: Int) throws -> Int {
    while true {
      let n = read(fd, p, count)
      if n >= 0 { return n }
      let e = errno
      if e == EINTR { continue }
      if e == EAGAIN || e == EWOULDBLOCK {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&poller, 1, -1)
        continue
      }
      throw SnapshotError.system("read", path: path, errno: e)
    }
  }

  /// Undecoded bytes: the prefix first, then the descriptor's; 0 at EOF.
  private func readRaw(into p: UnsafeMutableRawPointer, count: Int) throws -> Int {
    if prefixUsed < prefix.count {
      let n = min(count, prefix.count - prefixUsed)
      prefix.withUnsafeBytes { p.copyMemory(from: $0.baseAddress! + prefixUsed, byteCount: n) }
      prefixUsed += n
      return n
    }
    return try Self.readSome(fd, path: path, into: p, count: count)
  }

  /// Fills `count` bytes of decoded data into `p`; fewer only at the end of the stream.
  private func fill(_ p: UnsafeMutableRawPointer, count: Int) throws -> Int {
    if let gzip { return try gzip.read(into: p, count: count) }
    var done = 0
    while done < count {
      let n = try readRaw(into: p + done, count: count - done)
      if n == 0 { break }
      done += n
    }
    return done
  }

  /// The pass: every chunk once, checked against `refused` (`KPageArray.refusedBits`),
  /// handed to `body` on `workers` threads (the caller's among them), taken in the
  /// stream's order but finishing in any order. `body` gets the worker (0..<workers), the
  /// chunk's index and first PFN, and its words, valid until `body` returns. The first
  /// failure (a read, a check, `body`) stops the pass after calling `onFailure` (so that
  /// workers waiting for one another let go), and the failure of the lowest chunk is
  /// rethrown, as a pass on one thread would have met it.
  ///
  /// Each worker reads its own chunk from the pipe (one at a time, under a lock, so that
  /// chunks come in order) into its own buffer and classifies it there while the other
  /// workers read and classify theirs: the bytes are scanned while they are still in the
  /// cache of the core that copied them, and no thread is only a reader.
  func pass(
    workers: Int, refused: UInt64, onFailure: (@Sendable () -> Void)? = nil,
    _ body: @Sendable (_ worker: Int, _ chunk: Int, _ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) throws -> Void
  ) throws {
    guard !passed else {
      throw SnapshotError(.io, path: path, "a stream can be read only once")
    }
    passed = true
    let order = StreamOrder()
    withoutActuallyEscaping(body) { body in
      let work: @Sendable (Int) -> Void = { worker in
        let buffer = FileIO.allocateReadBuffer(words: self.chunkWords)
        defer { buffer.deallocate() }
        while true {
          // The next chunk, read under the lock; nil: the stream has ended or failed.
          let next: (chunk: Int, start: Int, words: Int)? = order.locked {
            guard !order.ended else { return nil }
            let chunk = order.chunks, start = order.pfns
            do {
              let words = try self.readChunk(into: buffer, startPFN: start)
              if words < self.chunkWords { order.ended = true }
              guard words > 0 else { return nil }
              order.chunks += 1
              order.pfns += words
              return (chunk, start, words)
            } catch {
              order.ended = true
              order.failed(chunk, error)
              return nil
            }
          }
          guard let next else { return }
          do {
            let words = UnsafeBufferPointer(start: buffer, count: next.words)
            try KPageArray.check(words, start: next.start, refused: refused, path: self.path)
            try body(worker, next.chunk, next.start, words)
          } catch {
            order.locked {
              order.ended = true
              order.failed(next.chunk, error)
            }
            onFailure?()
            return
          }
        }
      }
      if workers == 1 {
        work(0)
      } else {
        DispatchQueue.concurrentPerform(iterations: workers, execute: work)
      }
    }
    if let failure = order.locked({ order.failure?.error }) { throw failure }
    count = order.pfns
  }

  /// Reads the chunk at PFN `startPFN` into `buffer`: its word count, fewer than
  /// `chunkWords` only at the stream's end (0: nothing was left).
  private func readChunk(into buffer: UnsafeMutablePointer<UInt64>, startPFN pfn: Int) throws -> Int {
    let n = try fill(UnsafeMutableRawPointer(buffer), count: chunkWords * 8)
    let offset = UInt64(pfn) * 8 + UInt64(n)
    guard n % 8 == 0 else {
      throw SnapshotError(
        .badSize, path: path, offset: offset - offset % 8,
        "stream ended after \(offset) \(isGzip ? "decoded " : "")bytes, not a multiple of 8 (one u64 per PFN)")
    }
    guard pfn + n / 8 <= Self.maxPFNs else {
      throw SnapshotError(.badSize, path: path, offset: UInt64(Self.maxPFNs) * 8, "stream longer than \(Self.maxPFNs) PFNs (a 52-bit physical address space)")
    }
    if n == 0 && pfn == 0 {
      throw SnapshotError(.badSize, path: path, "decompresses to nothing: a kpageflags dump holds one 8-byte word per PFN")
    }
    return n / 8
  }
}

/// Where a stream's pass is (the next chunk's index and PFN), whether it has ended, and
/// the lowest failed chunk: touched only under the lock, by the workers in turn.
private final class StreamOrder: @unchecked Sendable {
  private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  var chunks = 0
  var pfns = 0
  var ended = false
  var failure: (chunk: Int, error: any Error)?

  init() { pthread_mutex_init(lock, nil) }

  deinit {
    pthread_mutex_destroy(lock)
    lock.deallocate()
  }

  func locked<R>(_ body: () -> R) -> R {
    pthread_mutex_lock(lock)
    defer { pthread_mutex_unlock(lock) }
    return body()
  }

  /// Keeps the failure of the lowest chunk (call under the lock).
  func failed(_ chunk: Int, _ error: any Error) {
    if failure == nil || chunk < failure!.chunk { failure = (chunk, error) }
  }
}
