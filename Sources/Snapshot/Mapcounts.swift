/// How often the pages of each class are mapped, from /proc/kpagecount: mapped and
/// unmapped pages, pages mapped more than once (shared), and the largest counts.
///
/// kpagecount holds per PFN the number of times the page is mapped into user page tables
/// (0 for pages no process maps: free, slab, page tables, page cache not mmapped); pages
/// of a large folio read the folio's per-page count as the kernel keeps or estimates it.
/// Kernel: fs/proc/page.c `kpagecount_read()`.
public struct MapcountCensus: Sendable, Equatable {
  public struct ClassCounts: Sendable, Equatable {
    /// Pages with a count above 0.
    public var mappedPages = 0
    /// Pages with a count of 0.
    public var unmappedPages = 0
    /// Pages with a count above 1 (mapped by more than one page table entry).
    public var sharedPages = 0
    /// The sum of the counts: page table mappings of the class's pages.
    public var mappings = 0
    /// The largest count.
    public var maxCount = 0

    public init(mappedPages: Int = 0, unmappedPages: Int = 0, sharedPages: Int = 0, mappings: Int = 0, maxCount: Int = 0) {
      self.mappedPages = mappedPages
      self.unmappedPages = unmappedPages
      self.sharedPages = sharedPages
      self.mappings = mappings
      self.maxCount = maxCount
    }
  }

  /// One of the largest counts: the first PFN that has it and its class.
  public struct Largest: Sendable, Equatable {
    public var pfn: Int
    public var count: Int
    public var pageClass: PageClass
  }

  /// Counts by class (`PageClass.censusName`): only classes with pages.
  public var byClass: [String: ClassCounts] = [:]
  /// The `largestKept` largest distinct counts, largest first.
  public var largest: [Largest] = []
  public static let largestKept = 10

  public init() {}

  /// All classes together.
  public var total: ClassCounts {
    var t = ClassCounts()
    for c in byClass.values {
      t.mappedPages += c.mappedPages
      t.unmappedPages += c.unmappedPages
      t.sharedPages += c.sharedPages
      t.mappings += c.mappings
      t.maxCount = max(t.maxCount, c.maxCount)
    }
    return t
  }

  /// The census of a snapshot's kpagecount, nil without one (one pass in lock-step with
  /// kpageflags, a chunk at a time).
  public static func of(_ snapshot: PageSnapshot) throws -> MapcountCensus? {
    guard snapshot.kpagecount != nil else { return nil }
    let builder = try Builder(snapshot)
    try snapshot.kpageflags.forEachChunk { start, words in try builder?.add(startPFN: start, words) }
    return builder?.finish()
  }

  /// Accumulates the census from kpageflags chunks as another pass hands them over (the
  /// analysis's census pass), reading kpagecount for the same PFNs. One builder per
  /// thread (`PerThread`) lets the census's workers read kpagecount each for its own
  /// chunks; `absorb` adds them up.
  public final class Builder {
    let counts: KPageArray
    let buffer: UnsafeMutablePointer<UInt64>
    let capacity: Int
    // Flat per class: mapped, unmapped, shared, mappings, max.
    var perClass = [Int](repeating: 0, count: PageClass.allCases.count * 5)
    var largest: [Largest] = []

    /// nil when the snapshot has no kpagecount.
    public init?(_ snapshot: PageSnapshot) throws {
      guard let counts = snapshot.kpagecount else { return nil }
      self.counts = counts
      capacity = max(1, snapshot.kpageflags.chunkWords)
      buffer = FileIO.allocateReadBuffer(words: capacity)
    }

    deinit { buffer.deallocate() }

    /// Adds the flags words of PFNs `startPFN...`; chunks may come in any order.
    public func add(startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) throws {
      guard let f = words.baseAddress else { return }
      var done = 0
      while done < words.count {
        let n = min(capacity, words.count - done)
        try counts.read((startPFN + done)..<(startPFN + done + n), into: buffer, mappedBy: f + done)
        var i = 0
        while i < n {
          let w = f[done + i], c = buffer[i]
          var j = i + 1
          while j < n && f[done + j] == w && buffer[j] == c { j += 1 }
          run(w, Int(truncatingIfNeeded: min(c, UInt64(Int.max))), startPFN + done + i, j - i)
          i = j
        }
        done += n
      }
    }

    func run(_ w: UInt64, _ count: Int, _ pfn: Int, _ n: Int) {
      let cls = PageClassifier.classify(w)
      let b = Int(cls.rawValue) * 5
      if count > 0 {
        perClass[b] += n
        if count > 1 { perClass[b + 2] += n }
        perClass[b + 3] = perClass[b + 3].addingReportingOverflow(count.multipliedReportingOverflow(by: n).partialValue).partialValue
        perClass[b + 4] = max(perClass[b + 4], count)
        // `>=`: a count equal to the last one kept may come with a lower PFN when chunks
        // arrive out of order.
        if largest.count < MapcountCensus.largestKept || count >= largest[largest.count - 1].count { keep(count, pfn, cls) }
      } else {
        perClass[b + 1] += n
      }
    }

    func keep(_ count: Int, _ pfn: Int, _ cls: PageClass) {
      if let k = largest.firstIndex(where: { $0.count == count }) {
        if pfn < largest[k].pfn { largest[k] = Largest(pfn: pfn, count: count, pageClass: cls) }
        return
      }
      largest.append(Largest(pfn: pfn, count: count, pageClass: cls))
      largest.sort { $0.count > $1.count }
      if largest.count > MapcountCensus.largestKept { largest.removeLast() }
    }

    /// Adds what `other` counted, over other PFNs (another thread's chunks): the census
    /// is then the one of both, whatever order the chunks came in.
    public func absorb(_ other: Builder) {
      for k in 0..<perClass.count {
        // Flat per class: mapped, unmapped, shared, mappings (wrapping, as `run`), max.
        switch k % 5 {
        case 3: perClass[k] = perClass[k].addingReportingOverflow(other.perClass[k]).partialValue
        case 4: perClass[k] = max(perClass[k], other.perClass[k])
        default: perClass[k] += other.perClass[k]
        }
      }
      for l in other.largest where largest.count < MapcountCensus.largestKept || l.count >= largest[largest.count - 1].count {
        keep(l.count, l.pfn, l.pageClass)
      }
    }

    public func finish() -> MapcountCensus {
      var m = MapcountCensus()
      for cls in PageClass.allCases {
        let b = Int(cls.rawValue) * 5
        guard perClass[b] + perClass[b + 1] > 0 else { continue }
        var c = ClassCounts()
        c.mappedPages = perClass[b]
        c.unmappedPages = perClass[b + 1]
        c.sharedPages = perClass[b + 2]
        c.mappings = perClass[b + 3]
        c.maxCount = perClass[b + 4]
        m.byClass[cls.censusName, default: ClassCounts()] = c
      }
      m.largest = largest
      return m
    }
  }
}

extension MapcountCensus {
  /// A builder per worker of a census pass (`Census.WorkerObserver`), made when a worker
  /// first hands over a chunk, and their sum at the end.
  public final class PerThread: @unchecked Sendable {
    let snapshot: PageSnapshot
    let builders: UnsafeMutableBufferPointer<Builder?>

    /// nil when the snapshot has no kpagecount. `threads`: the census pass's threads.
    public init?(_ snapshot: PageSnapshot, threads: Int) {
      guard snapshot.kpagecount != nil else { return nil }
      self.snapshot = snapshot
      builders = .allocate(capacity: max(1, threads))
      builders.initialize(repeating: nil)
    }

    deinit {
      _ = builders.deinitialize()
      builders.deallocate()
    }

    /// The `alongside` observer of `Census.of`: worker `worker` only touches its own slot.
    public func add(worker: Int, startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) throws {
      if builders[worker] == nil { builders[worker] = try Builder(snapshot) }
      try builders[worker]!.add(startPFN: startPFN, words)
    }

    /// The census of every chunk handed over (a census of no chunk when none was).
    public func finish() throws -> MapcountCensus {
      let made = builders.compactMap { $0 }
      guard let first = try made.first ?? Builder(snapshot) else { return MapcountCensus() }
      for b in made.dropFirst() { first.absorb(b) }
      return first.finish()
    }
  }
}

extension PageClass {
  /// The class as the census's JSON names it (`no_flag` for words that read 0).
  public var censusName: String {
    switch self {
    case .zero: "no_flag"
    case .hugetlb: "hugetlb"
    case .free: "free"
    case .slab: "slab"
    case .pageTable: "pgtable"
    case .zeroPage: "zero_page"
    case .offline: "offline"
    case .reserved: "reserved"
    case .anon: "anon"
    case .shmem: "shmem"
    case .file: "file"
    case .other: "other"
    }
  }
}
