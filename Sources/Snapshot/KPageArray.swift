import Dispatch
import Synchronization
import PageModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Which of the three per-PFN files an array is.
///
/// Kernel: fs/proc/page.c (`kpageflags_read()`, `kpagecount_read()`, `kpagecgroup_read()`).
public enum KPageFile: String, CaseIterable, Sendable {
  case kpageflags, kpagecount, kpagecgroup
}

/// One kpage array: a little-endian u64 per PFN, from PFN 0.
///
/// The words may be in memory (tests, the demonstration), in a raw file or /proc file read
/// with `pread` on demand, in a `.gz` file decoded as a stream, or in a snapshot file's
/// compressed blocks read and decoded on demand, so that a machine's arrays are never all
/// in memory at once (a 16 TiB host has 32 GiB of kpageflags). Read them in chunks with
/// `forEachChunk` (sequential, in PFN order) or `forEachChunkConcurrently`.
///
/// A kpageflags array refuses, by default, every word with a bit that page-types has no
/// name for (`refusedBits`): whatever reads its words (a scan, a look-up, a conversion)
/// gets a `SnapshotError` `.unknownFlagBit` naming the file, the PFN and the bit. Random
/// bytes taken for a kpageflags dump are refused this way at their first word.
public final class KPageArray: @unchecked Sendable {
  public let file: KPageFile
  /// Where the words come from, for errors and reports.
  public let path: String
  /// Number of PFNs (words). A stream's is known only after its pass (0 before).
  public private(set) var count: Int
  /// The chunk length that reads are cheapest at (a snapshot block, or 1 Mi words).
  public let chunkWords: Int

  enum Backing {
    case memory(ByteStore)
    case file(fd: FileIO.Descriptor)
    case gzip(GzipWords)
    case blocks(EncodedBlocks)
    case stream(KPageStream)
  }

  let backing: Backing

  /// Bits whose presence in a word makes a read fail with `.unknownFlagBit`: the bits
  /// page-types has no name for on a kpageflags array (`PageTypesSummary.unnamedBits`),
  /// none on the others. Set it to 0 to accept every word (the CLI's
  /// `--accept-unknown-flags`); set it before reading, not while reads are in flight.
  public var refusedBits: UInt64

  /// Whether a word of this array is 0 wherever the kpageflags word of the same PFN has
  /// no KPF_MMAP, so that a reader that holds the flags may leave those PFNs unread
  /// (`read(_:into:mappedBy:)`). True of /proc/kpagecount: KPF_MMAP is set when the page's
  /// folio is in some page table (`folio_mapped()`, `page_mapped()` before folios), and a
  /// page whose folio no page table holds has no mapping to count. Where a kernel reads
  /// non-zero there, it is a page type's negative marker sign-extended into the count
  /// (free, page-table and other typed pages before 5.3, and order-0 typed pages with
  /// 6.15's CONFIG_NO_PAGE_MAPCOUNT), which 0 reports better. Each PFN read costs the
  /// kernel about what its kpageflags word did, and on most machines few pages are
  /// mapped (0.1 % of this one's). Only the live source sets it: a file's counts are
  /// cheap to read and are kept as they are.
  public internal(set) var zeroUnlessMapped = false

  /// Unmapped PFNs between two mapped ones that are still read with them: a system call
  /// costs the kernel about as much as its work for a dozen PFNs.
  static let mappedGapWords = 16

  init(file: KPageFile, path: String, count: Int, chunkWords: Int = 1 << 20, backing: Backing) {
    self.file = file
    self.path = path
    self.count = count
    self.chunkWords = chunkWords
    self.backing = backing
    refusedBits = file == .kpageflags ? PageTypesSummary.unnamedBits : 0
  }

  /// Whether reads are cheapest in PFN order (a gzip stream): concurrent chunk reads then
  /// run on one thread, so that the decoder never has to go back.
  public var isSequential: Bool {
    if case .gzip = backing { return true }
    return false
  }

  /// Whether the words come from a stream (standard input, a FIFO): read once, front to
  /// back, by `forEachChunk` or `forEachChunkConcurrently`; `count` is known after that
  /// pass, and `read` of a range is refused.
  public var isStream: Bool {
    if case .stream = backing { return true }
    return false
  }

  /// Whether reading a block in pieces costs no more than reading it whole (a raw or
  /// /proc file: `pread` at any offset), so that a reader may read `pieceWords` at a time.
  var readsInPieces: Bool {
    if case .file = backing { return true }
    return false
  }

  /// The piece a reader of a file takes at a time: 16 Ki words (128 KiB) stay in L2.
  static let pieceWords = 1 << 14

  /// Throws `.unknownFlagBit` for the first word of `words` (PFN `start` onwards) with a
  /// refused bit. One OR over the chunk first: a chunk without one costs a vector pass.
  @inline(__always)
  func check(_ words: UnsafeBufferPointer<UInt64>, start: Int) throws {
    try Self.check(words, start: start, refused: refusedBits, path: path)
  }

  @inline(__always)
  static func check(_ words: UnsafeBufferPointer<UInt64>, start: Int, refused: UInt64, path: String) throws {
    guard refused != 0, let p = words.baseAddress else { return }
    var any: UInt64 = 0
    for i in 0..<words.count { any |= p[i] }
    if any & refused != 0 { try refuse(words, start: start, refused: refused, path: path) }
  }

  @inline(never)
  static func refuse(_ words: UnsafeBufferPointer<UInt64>, start: Int, refused: UInt64, path: String) throws {
    guard let i = words.firstIndex(where: { $0 & refused != 0 }) else { return }
    throw PageTypesSummary.unknownBitError(
      path: path, pfn: start + i, word: words[i], bit: (words[i] & refused).trailingZeroBitCount
    )
  }

  /// An array over a stream (`PageSnapshot.openStream`).
  convenience init(stream: KPageStream) {
    self.init(file: .kpageflags, path: stream.path, count: 0, chunkWords: stream.chunkWords, backing: .stream(stream))
  }

  /// The stream's one pass, on `threads` workers; `count` is the stream's PFNs after it.
  func streamPass(
    _ stream: KPageStream, threads: Int, onFailure: (@Sendable () -> Void)? = nil,
    _ body: @Sendable (_ worker: Int, _ chunk: Int, _ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) throws -> Void
  ) throws {
    defer { count = stream.count }
    try stream.pass(workers: max(1, threads), refused: refusedBits, onFailure: onFailure, body)
  }

  /// Reads every word once, only to check them (`refusedBits`): for the commands that
  /// read a source without scanning it (`info`, `explain`).
  public func checkAllWords(threads: Int = Parallel.defaultThreads) throws {
    guard refusedBits != 0 else { return }
    try forEachChunkConcurrently(threads: threads) { _, _, _ in }
  }

  deinit {
    if case .file(let fd) = backing { try? fd.close() }
  }

  /// An array over words already in memory (for tests and tools).
  public convenience init(file: KPageFile, words: [UInt64], path: String = "<memory>", chunkWords: Int = 1 << 20) {
    let store = ByteStore(capacity: words.count * 8)
    words.withUnsafeBytes {
      store.base.copyMemory(
        from: $0.baseAddress ?? UnsafeRawPointer(store.base), byteCount: $0.count)
    }
    store.count = words.count * 8
    self.init(file: file, path: path, count: words.count, chunkWords: max(1, chunkWords), backing: .memory(store))
  }

  /// Reads the words of `pfns` into `dst`, checked against `refusedBits`.
  public func read(_ pfns: Range<Int>, into dst: UnsafeMutablePointer<UInt64>) throws {
    try fill(pfns, into: dst)
    try check(UnsafeBufferPointer(start: dst, count: pfns.count), start: pfns.lowerBound)
  }

  /// Reads the words of `pfns` as `read(_:into:)` does, except that with
  /// `zeroUnlessMapped` only the spans whose kpageflags words (`flags`, one per PFN of
  /// `pfns`) have KPF_MMAP are read, and every word without KPF_MMAP is 0 (also one
  /// read with its neighbours across a short gap: the result does not depend on the gap).
  ///
  /// Kernel: fs/proc/page.c `kpagecount_read()` (and `stable_page_flags()`'s KPF_MMAP).
  public func read(_ pfns: Range<Int>, into dst: UnsafeMutablePointer<UInt64>, mappedBy flags: UnsafePointer<UInt64>) throws {
    guard zeroUnlessMapped else { return try read(pfns, into: dst) }
    let mapped = KPF.mmap.mask, n = pfns.count
    var i = 0
    while i < n {
      while i < n && flags[i] & mapped == 0 {
        dst[i] = 0
        i += 1
      }
      guard i < n else { return }
      // The span ends at its last mapped PFN before a gap of `mappedGapWords`.
      var end = i + 1, j = end
      while j < n && j - end < Self.mappedGapWords {
        if flags[j] & mapped != 0 { end = j + 1 }
        j += 1
      }
      try read((pfns.lowerBound + i)..<(pfns.lowerBound + end), into: dst + i)
      for k in i..<end where flags[k] & mapped == 0 { dst[k] = 0 }
      i = end
    }
  }

  /// The words of `pfns` into `dst`, unchecked.
  func fill(_ pfns: Range<Int>, into dst: UnsafeMutablePointer<UInt64>) throws {
    precondition(pfns.lowerBound >= 0 && pfns.upperBound <= count, "PFN range out of bounds")
    switch backing {
    case .memory(let store):
      dst.update(from: store.words.baseAddress! + pfns.lowerBound, count: pfns.count)
    case .file(let fd):
      let bytes = pfns.count * 8
      let n = try FileIO.pread(
        fd, path: path, into: UnsafeMutableRawPointer(dst), count: bytes,
        offset: UInt64(pfns.lowerBound) * 8)
      guard n == bytes else {
        throw SnapshotError(
          .badSize, path: path, offset: UInt64(pfns.lowerBound) * 8 + UInt64(n),
          "file ended early: expected \(count) PFNs (\(count * 8) bytes); did it shrink while being read?"
        )
      }
    case .gzip(let gz):
      try gz.read(
        offset: pfns.lowerBound * 8, count: pfns.count * 8, into: UnsafeMutableRawPointer(dst))
    case .blocks(let blocks):
      try blocks.read(pfns, into: dst, file: file)
    case .stream:
      throw SnapshotError(.io, path: path, "a stream is read once, front to back: PFNs \(pfns.lowerBound)-\(pfns.upperBound - 1) cannot be looked up in it")
    }
  }

  /// Number of chunks of `chunkWords`.
  public var chunkCount: Int { (count + chunkWords - 1) / chunkWords }

  /// The PFNs of chunk `i`.
  public func chunkRange(_ i: Int) -> Range<Int> {
    i * chunkWords..<min(count, (i + 1) * chunkWords)
  }

  /// Calls `body` on each chunk in PFN order with the chunk's first PFN and its words.
  /// Words in memory are handed over without a copy.
  public func forEachChunk(
    _ body: (_ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) throws -> Void
  ) throws {
    if case .memory(let store) = backing {
      let all = store.words
      for i in 0..<chunkCount {
        let r = chunkRange(i)
        let words = UnsafeBufferPointer(rebasing: all[r])
        try check(words, start: r.lowerBound)
        try body(r.lowerBound, words)
      }
      return
    }
    if case .stream(let stream) = backing {
      // One worker: this thread, in stream order; the reader thread reads ahead.
      try withoutActuallyEscaping(body) { body in
        let unchecked = UncheckedSendable(body)
        try streamPass(stream, threads: 1) { _, _, start, words in try unchecked.value(start, words) }
      }
      return
    }
    if chunkCount > 1 && Parallel.defaultThreads > 1 {
      try ReadAhead.run(self, body)
      return
    }
    let buffer = FileIO.allocateReadBuffer(words: chunkWords)
    defer { buffer.deallocate() }
    for i in 0..<chunkCount {
      let r = chunkRange(i)
      try read(r, into: buffer)
      try body(r.lowerBound, UnsafeBufferPointer(start: buffer, count: r.count))
    }
  }

  /// Calls `body` on every chunk, from `threads` threads at once, in no fixed order.
  /// `worker` (0..<threads) lets the caller keep per-thread state without locks. The
  /// first error thrown (by a read or by `body`) stops the other workers and is rethrown.
  public func forEachChunkConcurrently(
    threads: Int,
    _ body:
      @Sendable (_ worker: Int, _ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) throws ->
      Void
  ) throws {
    if case .stream(let stream) = backing {
      try streamPass(stream, threads: threads) { worker, _, start, words in try body(worker, start, words) }
      return
    }
    try Parallel.forEach(
      count: chunkCount, threads: isSequential ? 1 : threads, bufferWords: chunkWords
    ) { worker, i, buffer in
      try body(worker, chunkRange(i).lowerBound, chunk(i, scratch: buffer))
    }
  }

  /// The checked words of chunk `i`: in place for words in memory, else read into
  /// `scratch` (`chunkWords` long).
  func chunk(_ i: Int, scratch: UnsafeMutablePointer<UInt64>) throws -> UnsafeBufferPointer<UInt64> {
    let r = chunkRange(i)
    if case .memory(let store) = backing {
      let words = UnsafeBufferPointer(rebasing: store.words[r])
      try check(words, start: r.lowerBound)
      return words
    }
    try read(r, into: scratch)
    return UnsafeBufferPointer(start: scratch, count: r.count)
  }
}

/// A value handed to a @Sendable closure that runs on one thread at a time only.
struct UncheckedSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

/// Running work items on several threads, for reading and coding kpage chunks.
public enum Parallel {
  /// A sensible thread count: the online CPUs, at least 1, at most 16.
  public static var defaultThreads: Int {
    max(1, min(16, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
  }

  /// Runs `body(worker, item, buffer)` for every item in `0..<count` on `threads`
  /// threads. Items are handed out in increasing order from a shared counter; each worker
  /// has its own scratch buffer of `bufferWords` words. After an error no worker takes a
  /// new item, and the error of the lowest failed item is rethrown: the one a pass on one
  /// thread would have met first (the items before it were all handed out already).
  public static func forEach(
    count: Int, threads: Int, bufferWords: Int = 1 << 20,
    _ body:
      @Sendable (_ worker: Int, _ item: Int, _ buffer: UnsafeMutablePointer<UInt64>) throws -> Void
  ) throws {
    let shared = ParallelState()
    let workers = max(1, min(threads, count))
    withoutActuallyEscaping(body) { body in
      let run: @Sendable (Int) -> Void = { worker in
        let buffer = FileIO.allocateReadBuffer(words: bufferWords)
        defer { buffer.deallocate() }
        while true {
          let item = shared.next.add(1, ordering: .relaxed).oldValue
          if item >= count || shared.failed.load(ordering: .relaxed) { return }
          do {
            try body(worker, item, buffer)
          } catch {
            shared.failure.withLock { if $0 == nil || item < $0!.item { $0 = (item, error) } }
            shared.failed.store(true, ordering: .relaxed)
            return
          }
        }
      }
      if workers == 1 {
        run(0)
      } else {
        DispatchQueue.concurrentPerform(iterations: workers, execute: run)
      }
    }
    if let failure = shared.failure.withLock({ $0 }) { throw failure.error }
  }
}

final class ParallelState: Sendable {
  let next = Atomic<Int>(0)
  let failed = Atomic<Bool>(false)
  let failure = Mutex<(item: Int, error: any Error)?>(nil)
}

/// The read-ahead behind `forEachChunk`: one thread reads (and checks) chunks into a ring
/// of `depth` buffers while the caller's thread scans them in PFN order, so that a scan
/// costs about the larger of the read (a `pread` copy, an inflate, a block decode) and the
/// scan, not their sum. Two semaphores hand buffers back and forth; the memory is
/// `depth` chunks whatever the array's size. The reader is a thread of its own (pthread),
/// not a task on a shared pool: a scan called from pool threads that all wait for their
/// readers must not be able to starve them.
enum ReadAhead {
  static let depth = 4

  /// Buffers and the reader's outcome, shared with the reading thread.
  final class Ring: @unchecked Sendable {
    let array: KPageArray
    let buffers: [UnsafeMutablePointer<UInt64>]
    /// Created at 0 and signalled `depth` times: libdispatch traps when a semaphore goes
    /// below the value it was created with at its end, as `free` does after a stop.
    let free = DispatchSemaphore(value: 0)
    let full = DispatchSemaphore(value: 0)
    let stop = Atomic<Bool>(false)
    /// The chunk the reader failed on (Int.max: none) and why.
    let failedChunk = Atomic<Int>(.max)
    var failure: (any Error)?

    init(_ array: KPageArray) {
      self.array = array
      buffers = (0..<ReadAhead.depth).map { _ in FileIO.allocateReadBuffer(words: array.chunkWords) }
      for _ in 0..<ReadAhead.depth { free.signal() }
    }
    deinit { for b in buffers { b.deallocate() } }

    func read() {
      for i in 0..<array.chunkCount {
        free.wait()
        if stop.load(ordering: .acquiring) { return }
        do {
          try array.read(array.chunkRange(i), into: buffers[i % ReadAhead.depth])
        } catch {
          failure = error
          failedChunk.store(i, ordering: .releasing)
          full.signal()
          return
        }
        full.signal()
      }
    }
  }

  static func run(_ array: KPageArray, _ body: (_ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) throws -> Void) throws {
    let ring = Ring(array)
    var thread = pthread_t()
    let arg = Unmanaged.passRetained(ring).toOpaque()
    let started = pthread_create(&thread, nil, { arg in
      Unmanaged<Ring>.fromOpaque(arg!).takeRetainedValue().read()
      return nil
    }, arg)
    guard started == 0 else {
      // No thread to be had: read on this one.
      Unmanaged<Ring>.fromOpaque(arg).release()
      for i in 0..<array.chunkCount {
        let r = array.chunkRange(i)
        try array.read(r, into: ring.buffers[0])
        try body(r.lowerBound, UnsafeBufferPointer(start: ring.buffers[0], count: r.count))
      }
      return
    }
    defer {
      // Stop the reader (it may wait for a buffer) and wait for it before the ring goes.
      ring.stop.store(true, ordering: .releasing)
      ring.free.signal()
      pthread_join(thread, nil)
    }
    for i in 0..<array.chunkCount {
      ring.full.wait()
      if ring.failedChunk.load(ordering: .acquiring) == i, let e = ring.failure { throw e }
      let r = array.chunkRange(i)
      try body(r.lowerBound, UnsafeBufferPointer(start: ring.buffers[i % depth], count: r.count))
      ring.free.signal()
    }
  }
}
