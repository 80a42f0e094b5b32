import PageModel
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The census pass on several threads, with exactly the counts of the one-thread pass.
///
/// Each worker scans whole chunks into its own ``CensusScanner`` (counts only add up, so
/// the workers' totals are summed at the end). What does not split is the state carried
/// from run to run: a compound folio whose tails run on into the next chunk, an orphan
/// tail that is one only because no head was in flight, a stretch of HVO fake-head runs.
/// So a worker starts its chunk at the chunk's first *seam*, a PFN where that state is
/// empty whatever came before (`CensusScanner.seam`), and hands back the words before it
/// (as runs) with whatever it left in flight at the chunk's end. A merger takes the chunks
/// in PFN order: it feeds a chunk's leading runs to the state carried from the chunk
/// before, closes that state at the seam and carries the chunk's own in-flight state on.
/// A chunk without a seam (inside a 1 GiB HVO page, say) is all leading runs and is
/// scanned by the merger. Memory: one scanner per worker, and the leading runs of the
/// chunks finished out of order (a few, as workers take chunks in increasing order).
enum ParallelCensus {
  typealias Observer = (_ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) -> Void
  typealias WorkerObserver = Census.WorkerObserver

  /// The number of threads `scan` uses for `flags` when given `threads`.
  static func workers(_ flags: KPageArray, threads: Int) -> Int {
    flags.isSequential ? 1 : max(1, min(threads, flags.chunkCount))
  }

  /// The scan of all of `flags` by `threads` threads, from the empty scanner `proto`:
  /// a scanner ready for `finish`, holding what the one-thread pass would.
  ///
  /// Three kinds of work may ride on the pass. `side` works on every chunk on the worker
  /// that scanned it and gets the results in PFN order through the merger
  /// (``CensusSidePass``: the report's map). `alongside` gets every chunk on the thread
  /// that scanned it, in no order and without waiting (kpagecount read beside the census:
  /// its kernel reads then run on every core); its errors do not stop the census: the one
  /// of the lowest chunk is thrown after it, so a damaged kpageflags is reported first, as
  /// when it was an ordered observer. `observer` gets every chunk in PFN order, one call
  /// at a time: a worker that has scanned its chunk waits for the chunk before it to be
  /// observed, so the census of one chunk overlaps the observer's work on the one before,
  /// but the observer's own work runs on one thread.
  static func scan(_ flags: KPageArray, _ proto: CensusScanner, threads: Int, side: (any CensusSidePass)? = nil, observer: Observer? = nil, alongside: WorkerObserver? = nil) throws -> CensusScanner {
    let beside = alongside.map { Alongside($0) }
    func opened<S: CensusSidePass>(_ side: S) throws -> CensusScanner {
      try scan(flags, proto, threads: threads, pass: side as S?, observer: observer, alongside: beside)
    }
    if let side { return try opened(side) }
    return try scan(flags, proto, threads: threads, pass: NoSidePass?.none, observer: observer, alongside: beside)
  }

  static func scan<S: CensusSidePass>(_ flags: KPageArray, _ proto: CensusScanner, threads: Int, pass side: S?, observer: Observer?, alongside: Alongside?) throws -> CensusScanner {
    if flags.isStream { return try scanStream(flags, proto, threads: threads, pass: side, observer: observer, alongside: alongside) }
    let workers = workers(flags, threads: threads)
    guard workers > 1 else { return try scanInOrder(flags, proto, pass: side, observer: observer, alongside: alongside) }
    let pass = Pass<S>(proto, workers: workers, side: side, observer: observer, alongside: alongside)
    defer { pass.turns?.abort() }
    try Parallel.forEach(count: flags.chunkCount, threads: workers, bufferWords: flags.chunkWords) { worker, chunk, buffer in
      let words: UnsafeBufferPointer<UInt64>
      do {
        words = try flags.chunk(chunk, scratch: buffer)
      } catch {
        pass.turns?.abort()  // no later chunk may wait for this one
        throw error
      }
      pass.scan(worker: worker, chunk: chunk, startPFN: flags.chunkRange(chunk).lowerBound, words)
    }
    return try pass.finish()
  }

  /// A stream's scan: the workers take turns at reading the next chunk from the pipe and
  /// each scans the chunk it read (`KPageStream.pass`) as a file's is; the chunk count is
  /// known at the stream's end, and so is the PFN count (the scanners' section bits grow
  /// as they go).
  static func scanStream<S: CensusSidePass>(_ flags: KPageArray, _ proto: CensusScanner, threads: Int, pass side: S?, observer: Observer?, alongside: Alongside?) throws -> CensusScanner {
    guard threads > 1, case .stream(let stream) = flags.backing else {
      return try scanInOrder(flags, proto, pass: side, observer: observer, alongside: alongside)
    }
    let pass = Pass<S>(proto, workers: threads, side: side, observer: observer, alongside: alongside)
    defer { pass.turns?.abort() }
    try flags.streamPass(stream, threads: threads, onFailure: { pass.turns?.abort() }) { worker, chunk, start, words in
      pass.scan(worker: worker, chunk: chunk, startPFN: start, words)
    }
    return try pass.finish()
  }

  /// The one-thread scan (with the read-ahead): the reference the others must equal.
  static func scanInOrder<S: CensusSidePass>(_ flags: KPageArray, _ proto: CensusScanner, pass side: S?, observer: Observer?, alongside: Alongside?) throws -> CensusScanner {
    var one = proto
    var chunk = 0
    let scratch = side?.makeScratch()
    try flags.forEachChunk { start, words in
      if let side, let scratch {
        side.merge(side.part(scratch, startPFN: start, count: words.count) { one.add(words, startPFN: start, runs: &$0) })
      } else {
        one.add(words, startPFN: start)
      }
      observer?(start, words)
      alongside?.observe(0, chunk, start, words)
      chunk += 1
    }
    try alongside?.error.rethrow()
    return one
  }

  /// One parallel pass: the workers' scanners and side-pass scratch, the merger, the
  /// observer's turns and the alongside observer.
  final class Pass<S: CensusSidePass>: @unchecked Sendable {
    let merge: Merger<S>
    let parts: PerWorker<CensusScanner?>
    let side: S?
    let scratch: PerWorker<S.Scratch?>?
    let turns: Turns?
    let alongside: Alongside?

    init(_ proto: CensusScanner, workers: Int, side: S?, observer: Observer?, alongside: Alongside?) {
      merge = Merger<S>(proto, side: side)
      // Each worker moves its scanner onto its own stack for a chunk and back: scanners side
      // by side in one array would share cache lines that both workers write on every run.
      parts = PerWorker<CensusScanner?>(count: workers) { proto.empty() }
      self.side = side
      scratch = side.map { side in PerWorker<S.Scratch?>(count: workers) { side.makeScratch() } }
      turns = observer.map { Turns($0) }
      self.alongside = alongside
    }

    /// Scans chunk `chunk` on worker `worker`: from its seam into the worker's scanner,
    /// the words before it and the side pass's part to the merger, then the observers.
    func scan(worker: Int, chunk: Int, startPFN start: Int, _ words: UnsafeBufferPointer<UInt64>) {
      var lead = ChunkLead<S.Part>(chunk: chunk)
      parts.update(worker) { slot in
        var scanner = slot!
        slot = nil  // the only reference left: no copy on write
        // Every run of the chunk goes to `runs` once: the ones before the seam as they are
        // recorded for the merger, the rest as the scanner finds them.
        func census<R: CensusRunSink>(_ runs: inout R) {
          let seam = CensusScanner.seam(words, startPFN: start)
          lead.record(words, startPFN: start, upTo: seam, runs: &runs)
          if seam < words.count {
            lead.hasSeam = true
            scanner.add(UnsafeBufferPointer(rebasing: words[seam...]), startPFN: start + seam, runs: &runs)
            lead.open = scanner.takeOpen()
          }
        }
        if let side, let scratch {
          scratch.update(worker) { lead.side = side.part($0!, startPFN: start, count: words.count) { census(&$0) } }
        } else {
          var none = NoCensusRuns()
          census(&none)
        }
        slot = scanner
      }
      merge.add(lead)
      alongside?.observe(worker, chunk, start, words)
      turns?.observe(chunk, start, words)
    }

    func finish() throws -> CensusScanner {
      var total = merge.finish()
      for case let part? in parts.all { total.absorb(part) }
      try alongside?.error.rethrow()
      return total
    }
  }

  /// The `alongside` observer of a scan, called from every worker, with its errors.
  final class Alongside: @unchecked Sendable {
    let body: WorkerObserver
    let error = LowestError()

    init(_ body: @escaping WorkerObserver) { self.body = body }

    func observe(_ worker: Int, _ chunk: Int, _ start: Int, _ words: UnsafeBufferPointer<UInt64>) {
      guard !error.failed(before: chunk) else { return }
      do { try body(worker, start, words) } catch { self.error.record(chunk, error) }
    }
  }

  /// The error of the lowest chunk that failed, recorded from any thread.
  final class LowestError: Sendable {
    let first = Mutex<(chunk: Int, error: any Error)?>(nil)
    let lowest = Atomic<Int>(.max)

    /// Whether a chunk before `chunk` failed: then `chunk`'s error could not be the one
    /// thrown, and it need not be read.
    func failed(before chunk: Int) -> Bool { lowest.load(ordering: .relaxed) < chunk }

    func record(_ chunk: Int, _ error: any Error) {
      first.withLock {
        if $0 == nil || chunk < $0!.chunk { $0 = (chunk, error) }
        lowest.store($0!.chunk, ordering: .relaxed)
      }
    }

    func rethrow() throws {
      if let f = first.withLock({ $0 }) { throw f.error }
    }
  }

  /// Hands chunks to an observer in chunk order from several threads: `observe(i, ...)`
  /// waits until chunk i - 1 was observed. After `abort` nobody waits (a chunk failed).
  final class Turns: @unchecked Sendable {
    let observer: Observer
    let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    var next = 0
    var aborted = false

    init(_ observer: @escaping Observer) {
      self.observer = observer
      pthread_mutex_init(lock, nil)
      pthread_cond_init(changed, nil)
    }

    deinit {
      pthread_cond_destroy(changed)
      pthread_mutex_destroy(lock)
      lock.deallocate()
      changed.deallocate()
    }

    func observe(_ chunk: Int, _ start: Int, _ words: UnsafeBufferPointer<UInt64>) {
      pthread_mutex_lock(lock)
      while next != chunk && !aborted { pthread_cond_wait(changed, lock) }
      let go = !aborted
      pthread_mutex_unlock(lock)
      guard go else { return }
      observer(start, words)
      pthread_mutex_lock(lock)
      next = chunk + 1
      pthread_cond_broadcast(changed)
      pthread_mutex_unlock(lock)
    }

    func abort() {
      pthread_mutex_lock(lock)
      aborted = true
      pthread_cond_broadcast(changed)
      pthread_mutex_unlock(lock)
    }
  }

  /// What a worker hands the merger for one chunk: the runs before its seam, the
  /// state its scanner left in flight at the chunk's end, and the side pass's part.
  struct ChunkLead<Side: Sendable>: Sendable {
    let chunk: Int
    var words: [UInt64] = []
    var pfns: [Int] = []
    var lengths: [Int] = []
    var hasSeam = false
    var open = CensusOpenState()
    var side: Side?

    init(chunk: Int) { self.chunk = chunk }

    mutating func record<R: CensusRunSink>(_ w: UnsafeBufferPointer<UInt64>, startPFN: Int, upTo end: Int, runs: inout R) {
      guard let p = w.baseAddress else { return }
      var i = 0
      while i < end {
        let j = min(end, KPageRuns.end(p, from: i, count: end))
        words.append(p[i])
        pfns.append(startPFN + i)
        lengths.append(j - i)
        runs.run(p[i], startPFN + i, j - i)
        i = j
      }
    }
  }

  /// The scanner that carries in-flight state from chunk to chunk, fed in chunk order,
  /// and hands the side pass its parts in the same order.
  final class Merger<S: CensusSidePass>: @unchecked Sendable {
    /// Only touched under the lock.
    struct State: @unchecked Sendable {
      var carry: CensusScanner
      var next = 0
      var waiting: [Int: ChunkLead<S.Part>] = [:]
    }
    let state: Mutex<State>
    let side: S?

    init(_ proto: CensusScanner, side: S?) {
      state = Mutex(State(carry: proto.empty()))
      self.side = side
    }

    func add(_ lead: ChunkLead<S.Part>) {
      state.withLock { s in
        s.waiting[lead.chunk] = lead
        while let l = s.waiting.removeValue(forKey: s.next) {
          for k in 0..<l.words.count { s.carry.run(l.words[k], l.pfns[k], l.lengths[k]) }
          if l.hasSeam {
            s.carry.closeOpen()
            s.carry.adopt(l.open)
          }
          if let side, let part = l.side { side.merge(part) }
          s.next += 1
        }
      }
    }

    func finish() -> CensusScanner {
      state.withLock { s in
        precondition(s.waiting.isEmpty, "census chunks missing before \(s.next)")
        return s.carry
      }
    }
  }
}

/// Work on the census pass's chunks beside the census (the report's map): `part` runs on
/// the thread that scanned the chunk, chunks in any order and several at once, each
/// thread with its own `Scratch`; `merge` gets the parts in PFN order, one at a time.
/// Unlike an observer, which runs in PFN order on one thread at a time, the per-word work
/// is spread over the workers and only the merge is in order. The side pass sees the
/// chunk as the census's runs, not its words: `part` calls `census` once with its sink,
/// and the census hands every run of the chunk to it (one run search for both).
protocol CensusSidePass: AnyObject, Sendable {
  associatedtype Part: Sendable
  associatedtype Scratch
  associatedtype Runs: CensusRunSink
  func makeScratch() -> Scratch
  /// The part of the chunk of `count` words from PFN `startPFN`, whose runs `census`
  /// hands to the sink it is given. `part` must call `census` exactly once, since the
  /// census itself runs inside it; only a chunk of no words, which has nothing to count,
  /// may be skipped.
  func part(_ scratch: Scratch, startPFN: Int, count: Int, census: (inout Runs) -> Void) -> Part
  func merge(_ part: Part)
}

/// The census without a side pass.
final class NoSidePass: CensusSidePass {
  func makeScratch() {}
  func part(_ scratch: Void, startPFN: Int, count: Int, census: (inout NoCensusRuns) -> Void) {
    var none = NoCensusRuns()
    census(&none)
  }
  func merge(_ part: Void) {}
}

extension CensusScanner {
  /// A scanner with the same parameters, nothing counted and its own cache.
  func empty() -> CensusScanner {
    CensusScanner(pfns: c.pfns, ram: ram, hugeOrders: hugeOrders, pmdOrder: pmdOrder, decode: c.kernel, offlineSections: offlineSections)
  }

  /// The index of the first word of `words` (PFN `startPFN` onwards) at which the scan's
  /// in-flight state is closed whatever came before, or `words.count` if there is none.
  /// Such a word has no TAIL bit (so it extends no compound and is no orphan) and, if it
  /// is a HugeTLB head, cannot continue an HVO stretch: it is not 64-aligned, or the word
  /// 64 PFNs before it, the head of the stretch's last run, differs from it.
  static func seam(_ words: UnsafeBufferPointer<UInt64>, startPFN: Int) -> Int {
    guard let p = words.baseAddress else { return 0 }
    let stride = PageClassifier.hvoFakeHeadStride
    for i in 0..<words.count {
      let w = p[i]
      if w & Self.tail != 0 { continue }
      if w & Self.head == 0 || w & KPF.huge.mask == 0 || (startPFN + i) & (stride - 1) != 0 { return i }
      if i >= stride && p[i - stride] != w { return i }
    }
    return words.count
  }

  /// Hands over the in-flight state and forgets it (the scanner's counts stay).
  mutating func takeOpen() -> Open {
    defer { open = Open() }
    return open
  }

  /// Takes over in-flight state handed over by `takeOpen`; nothing may be in flight.
  mutating func adopt(_ o: Open) { open = o }

  /// Counts the compound folio and the HVO stretch in flight, as a seam would.
  mutating func closeOpen() {
    if open.headPFN >= 0 {
      compound(open.headWord, open.headPFN, open.headLength)
      open.headPFN = -1
    }
    closeStretch()
  }

  /// Adds the counts of `o`, a scanner of other PFNs with nothing in flight.
  mutating func absorb(_ o: CensusScanner) {
    precondition(o.open.headPFN < 0 && o.open.hvoStart < 0, "absorbing a scanner with a folio in flight")
    growSections(words: o.nonzeroSections.count)
    c.zeroPFNs += o.c.zeroPFNs
    c.zeroRAMPFNs += o.c.zeroRAMPFNs
    c.buddyPages += o.c.buddyPages
    c.slabPages += o.c.slabPages
    c.slabSpuriousAnonPages += o.c.slabSpuriousAnonPages
    c.slabSpuriousKSMPages += o.c.slabSpuriousKSMPages
    c.pgtablePages += o.c.pgtablePages
    c.reservedPages += o.c.reservedPages
    c.zeroPagePages += o.c.zeroPagePages
    c.offlinePages += o.c.offlinePages
    c.hugetlbHeadPFNs += o.c.hugetlbHeadPFNs
    c.hugetlbAmbiguousBlocks += o.c.hugetlbAmbiguousBlocks
    c.irregularCompoundPages += o.c.irregularCompoundPages
    c.orphanTailPages += o.c.orphanTailPages
    c.noPagePFNs += o.c.noPagePFNs
    // A stream's scanners grow their bitmaps apart: `o`'s are at most as long as these now.
    for k in 0..<o.nonzeroSections.count { nonzeroSections[k] |= o.nonzeroSections[k] }
    for k in 0..<o.noPageSections.count { noPageSections[k] |= o.noPageSections[k] }
    for k in 0..<folioCounts.count { folioCounts[k] &+= o.folioCounts[k] }
    for k in 0..<slabCounts.count { slabCounts[k] &+= o.slabCounts[k] }
    for k in 0..<PageClass.allCases.count { singles.counts[k] &+= o.singles.counts[k] }
    for (order, n) in o.hugeFolios { hugeFolios[order, default: 0] += n }
    for (order, n) in o.hugeOptimized { hugeOptimized[order, default: 0] += n }
    for (order, bits) in o.hugeZoneBits { hugeZoneBits[order, default: 0] |= bits }
    ambiguousZoneBits |= o.ambiguousZoneBits
    for (order, s) in o.hugeSections { hugeSections[order, default: []].formUnion(s) }
    for (order, s) in o.hugeOptimizedSections { hugeOptimizedSections[order, default: []].formUnion(s) }
    ambiguousSections.formUnion(o.ambiguousSections)
  }
}
