import PageModel

/// The kinds of folio a census tells apart by their kpageflags.
///
/// Facts (docs/kpageflags.md): KPF_THP is set on every large rmappable folio
/// (point 5), so size decides THP against mTHP; shmem folios are SWAPBACKED without ANON;
/// SLAB pages that also show ANON or KSM are slabs (point 6).
public enum CensusFolioKind: String, CaseIterable, Sendable {
  /// Anonymous folios of PMD order (2 MiB with 4 KiB pages): what AnonHugePages counts.
  case anonTHP = "anon_thp"
  /// Anonymous large folios of the other orders (mTHP).
  case anonMTHP = "anon_mthp"
  /// Anonymous order-0 folios (KSM pages included).
  case anon
  /// Large page-cache folios (not shmem).
  case fileLarge = "file_large"
  /// Order-0 page-cache folios (not shmem).
  case file
  /// Shmem/tmpfs folios of every order: SWAPBACKED, not ANON.
  case shmem
  /// Pages with flags but no type the census knows (order 0), and compound pages
  /// without a type bit (kmalloc_large, docs/kpageflags.md point 11).
  case other

  /// The kind's position in `allCases`, for flat counters.
  @inline(__always)
  var index: Int {
    switch self {
    case .anonTHP: 0
    case .anonMTHP: 1
    case .anon: 2
    case .fileLarge: 3
    case .file: 4
    case .shmem: 5
    case .other: 6
    }
  }

  /// The model's folio kind for the projection: anonymous or not (the cost does not
  /// depend on it).
  public var modelKind: FolioKind {
    switch self {
    case .anonTHP, .anonMTHP, .anon: .anon
    case .fileLarge, .file, .shmem, .other: .file
    }
  }
}

/// One HugeTLB pool as the census finds it.
public struct HugetlbCensus: Sendable, Equatable {
  /// The hstate name as sysfs spells it: `2048kB`, `1048576kB`.
  public var name: String
  public var order: Int
  /// Huge pages (folios) found.
  public var folios: Int
  /// Of those, how many had their vmemmap optimised (HVO): their fake heads showed.
  public var optimized: Int
  /// The pool's `nr_hugepages` from the snapshot's `hugepages` file, when recorded.
  public var poolPages: Int?

  public static func name(order: Int, pageSize: Int) -> String { "\((pageSize << order) >> 10)kB" }
}

/// What one pass over a snapshot's kpageflags finds, with the /proc text files that
/// complete it (iomem, buddyinfo, hugepages).
public struct Census: Sendable {
  /// PFNs in the snapshot (the length of kpageflags).
  public var pfns = 0
  /// Whether RAM is known from iomem's "System RAM" ranges; without them the RAM is
  /// taken to be the sections with at least one non-zero word.
  public var ramKnown = false
  /// RAM ranges (from iomem, or the non-zero sections), clipped to the snapshot's PFNs.
  public var ramRanges: [PFNRange] = []
  public var ramPFNs = 0
  /// PFNs that are not RAM.
  public var holePFNs: Int { pfns - ramPFNs }
  /// PFNs that read 0 (holes, uninitialised memory, and allocated pages with no flag).
  public var zeroPFNs = 0
  /// RAM PFNs that read 0.
  public var zeroRAMPFNs = 0
  /// 128 MiB sections holding RAM.
  public var ramSections = 0
  /// RAM sections that read all zero (or KPF_NOPAGE), whatever the cause.
  public var zeroRAMSections = 0
  /// RAM PFNs inside those sections.
  public var zeroSectionRAMPFNs = 0
  /// The all-zero RAM sections by cause, with an entry exactly where there are some.
  public var zeroSectionCauses: [ZeroSectionCause: ZeroSections] = [:]
  /// PFNs that read KPF_NOPAGE alone (a kernel up to 6.15: no online struct page). They
  /// are counted in `zeroPFNs`: no page the kernel can use.
  public var noPagePFNs = 0
  /// The decode the census read kpageflags with.
  public var kernel = KernelDecode.assumed
  /// Whether the HugeTLB pages' HVO (`HugetlbCensus.optimized`) was taken from
  /// `vm.hugetlb_optimize_vmemmap=1` because this kernel's kpageflags cannot show it.
  public var hvoFromSysctl = false
  /// RAM PFNs that read 0 outside all-zero sections: kernel allocations without a flag
  /// (vmalloc, kernel stacks, ...) and free pages on per-CPU lists (point 7).
  public var noFlagRAMPFNs: Int { zeroRAMPFNs - zeroSectionRAMPFNs }

  /// Free pages: BUDDY is on every page of a free block (point 7).
  public var buddyPages = 0
  /// Free blocks per order (0-10) from buddyinfo, summed over nodes and zones.
  public var buddyBlocks: [Int]?
  public var buddyinfoPages: Int? { buddyBlocks.map { $0.enumerated().reduce(0) { $0 + ($1.element << $1.offset) } } }

  /// Slab pages, and slabs by order (a compound slab is one slab of its order).
  public var slabPages = 0
  public var slabs: [Int: Int] = [:]
  /// Slab pages that also showed ANON or KSM (point 6); counted as slab only.
  public var slabSpuriousAnonPages = 0
  public var slabSpuriousKSMPages = 0
  public var pgtablePages = 0
  /// RESERVED pages that are nothing else.
  public var reservedPages = 0
  public var zeroPagePages = 0
  public var offlinePages = 0

  /// HugeTLB pools found, by ascending order.
  public var hugetlb: [HugetlbCensus] = []
  /// Base pages inside HugeTLB folios.
  public var hugetlbPages: Int { hugetlb.reduce(0) { $0 + ($1.folios << $1.order) } }
  /// PFNs of HugeTLB folios that read COMPOUND_HEAD, fake heads included.
  public var hugetlbHeadPFNs = 0
  /// Fake heads (point 3) that the census recognised and did not count as folios; 0 on
  /// a kernel that cannot show them (`KernelDecode.showsFakeHeads`), where runs that look
  /// like them are irregular instead.
  public var hvoFakeHeadsCorrected = 0
  /// HVO blocks that could be one huge page of the largest pool or many of the next
  /// (the kpageflags look the same); how they were split is in `hugetlbNote`.
  public var hugetlbAmbiguousBlocks = 0
  /// How the ambiguous blocks were assigned, when there were any.
  public var hugetlbNote: String?
  /// Zones (DMA, DMA32, Normal) holding HugeTLB folios of each order.
  public var hugetlbZones: [Int: Int] = [:]
  /// The 128 MiB sections holding HugeTLB folios of each order, and those holding
  /// HVO-optimised ones: where HVO splits the vmemmap's PMDs.
  public var hugetlbSections: [Int: Set<Int>] = [:]
  public var hugetlbOptimizedSections: [Int: Set<Int>] = [:]

  /// Folios by kind and order.
  public var folios: [CensusFolioKind: [Int: Int]] = [:]
  /// Compound runs whose length is not a power of two or whose head is misaligned
  /// (a folio changing while it was read, point 8), in pages.
  public var irregularCompoundPages = 0
  /// TAIL pages with no head before them with the same flags (races), in pages.
  public var orphanTailPages = 0

  /// Folio count of one kind (all orders).
  public func folioCount(_ kind: CensusFolioKind) -> Int { (folios[kind] ?? [:]).values.reduce(0, +) }
  /// Base pages in folios of one kind.
  public func folioPages(_ kind: CensusFolioKind) -> Int { (folios[kind] ?? [:]).reduce(0) { $0 + ($1.value << $1.key) } }
  /// HugeTLB folios of the pool named `name` (`2048kB`).
  public func hugetlbFolios(_ name: String) -> Int? { hugetlb.first { $0.name == name }?.folios }

  public init() {}

  /// The census of a snapshot: one sequential pass over kpageflags with counters, plus
  /// iomem, buddyinfo and hugepages when the snapshot has them. Memory use does not grow
  /// with the snapshot beyond one bit per 128 MiB section. `observer`, when given, sees
  /// the same chunks in the same pass (the report's per-2 MiB map accumulates there).
  public static func of(_ snapshot: PageSnapshot, threads: Int = Parallel.defaultThreads, observer: ((_ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) -> Void)? = nil) throws -> Census {
    try of(snapshot, systemRAM: SnapshotRAM.systemRAM(snapshot), threads: threads, observer: observer)
  }

  /// What sees the census pass's chunks on the thread that scanned each, in no order:
  /// `worker` (below the pass's `threads`) names that thread, for state kept per thread.
  public typealias WorkerObserver = (_ worker: Int, _ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) throws -> Void

  /// The census with iomem's System RAM already read (`SnapshotRAM.systemRAM`), so that
  /// a caller that needs it too reads it once. The chunks are classified on `threads`
  /// threads (see `ParallelCensus`), with the result of one; the observer still sees them
  /// in PFN order, one call at a time. `alongside` sees them on every thread at once, in
  /// no order; the first error it throws (by PFN) is thrown after the census.
  public static func of(_ snapshot: PageSnapshot, systemRAM ram: [PFNRange]?, threads: Int = Parallel.defaultThreads, observer: ((_ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) -> Void)? = nil, alongside: WorkerObserver? = nil) throws -> Census {
    try of(snapshot, systemRAM: ram, threads: threads, side: nil, observer: observer, alongside: alongside)
  }

  /// The census with a side pass on its chunks (``CensusSidePass``: the report's map).
  static func of(_ snapshot: PageSnapshot, systemRAM ram: [PFNRange]?, threads: Int = Parallel.defaultThreads, side: (any CensusSidePass)?, observer: ((_ startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) -> Void)? = nil, alongside: WorkerObserver? = nil) throws -> Census {
    let pageSize = snapshot.metadata.pageSize
    let pools = try snapshot.hugepages()
    var hugeOrders: [(name: String, order: Int, pool: Int?)] = []
    for h in pools?.hstates ?? [] {
      let pages = h.sizeKB * 1024 / pageSize
      guard pages > 1, pages & (pages - 1) == 0 else {
        throw SnapshotError(.badText, path: snapshot.describePath("hugepages"), "hstate \(h.name) is not a power-of-two number of \(pageSize)-byte pages")
      }
      hugeOrders.append((h.name, pages.trailingZeroBitCount, h.nrHugepages))
    }
    if hugeOrders.isEmpty {
      // x86-64's two hstates, when the snapshot does not say.
      let pmd = (2 << 20) / pageSize, pud = (1 << 30) / pageSize
      hugeOrders = [(HugetlbCensus.name(order: pmd.trailingZeroBitCount, pageSize: pageSize), pmd.trailingZeroBitCount, nil),
                    (HugetlbCensus.name(order: pud.trailingZeroBitCount, pageSize: pageSize), pud.trailingZeroBitCount, nil)]
    }
    hugeOrders.sort { $0.order < $1.order }
    let decode = snapshot.kernelDecode
    let sections = (snapshot.pfnCount + (1 << CensusScanner.sectionShift) - 1) >> CensusScanner.sectionShift
    let scanner = CensusScanner(
      pfns: snapshot.pfnCount, ram: ram, hugeOrders: hugeOrders.map(\.order), pmdOrder: ((2 << 20) / pageSize).trailingZeroBitCount,
      decode: decode, offlineSections: try snapshot.memoryBlocks()?.offlineSections(sectionCount: sections))
    var all = try ParallelCensus.scan(snapshot.kpageflags, scanner, threads: threads, side: side, observer: observer, alongside: alongside)
    // A stream's length is known only now (a file's was before the pass).
    all.c.pfns = snapshot.pfnCount
    var census = all.finish(hugeOrders: hugeOrders, pageSize: pageSize)
    // Where the kernel cannot show HVO in kpageflags, the sysctl is the only witness: with
    // it on, every huge page is taken as optimised (one allocated before it was set is not).
    if !decode.showsFakeHeads, pools?.optimizeVmemmap == 1 {
      for i in census.hugetlb.indices { census.hugetlb[i].optimized = census.hugetlb[i].folios }
      census.hugetlbOptimizedSections = census.hugetlbSections
      census.hvoFromSysctl = census.hugetlbPages > 0
    }
    if let b = snapshot.texts["buddyinfo"] { census.buddyBlocks = try ProcText.buddyinfo(b, path: snapshot.describePath("buddyinfo")) }
    return census
  }
}

/// The state the census scan carries from one run to the next.
struct CensusOpenState: Sendable {
  // The compound folio in flight.
  var headPFN = -1
  var headWord: UInt64 = 0
  var tailWord: UInt64 = 0
  var headLength = 0
  // The HVO stretch in flight: consecutive 64-PFN (head + 63 tails) runs of one word.
  var hvoStart = -1
  var hvoEnd = -1
  var hvoWord: UInt64 = 0
}

/// The single pass behind `Census.of`: runs of equal words, one compound folio in
/// flight (a head and the tails that follow with its flags), and one stretch of HVO
/// fake-head runs in flight.
struct CensusScanner {
  static let head = KPF.compoundHead.mask, tail = KPF.compoundTail.mask
  static let sectionShift = Kernel.pfnSectionShift
  static let noPage = KPF.noPage.mask
  typealias Open = CensusOpenState

  var c = Census()
  let ram: [PFNRange]?
  /// hstate orders, ascending; the PMD order (9 with 4 KiB pages).
  let hugeOrders: [Int]
  let pmdOrder: Int
  /// Sections with a non-zero word, one bit each.
  var nonzeroSections: [UInt64]
  var ramIndex = 0

  /// The compound folio and the HVO stretch in flight.
  var open = Open()
  // HugeTLB folios by order: all, HVO-optimised; zone bits by order; ambiguous blocks' zone bits.
  var hugeFolios: [Int: Int] = [:]
  var hugeOptimized: [Int: Int] = [:]
  var hugeZoneBits: [Int: Int] = [:]
  var ambiguousZoneBits = 0
  // Sections of HugeTLB folios by order: all, HVO-optimised; of ambiguous blocks.
  var hugeSections: [Int: Set<Int>] = [:]
  var hugeOptimizedSections: [Int: Set<Int>] = [:]
  var ambiguousSections = Set<Int>()

  // Counted once per run, so flat arrays indexed by small integers (kind x order, order),
  // not dictionaries: hashing an enum's String raw value per run was half of a scan.
  // Orders are the trailing zeros of a run length, below 64. `finish` fills `Census`'s
  // dictionaries from them, with an entry exactly where a count is not zero.
  static let orders = 64
  var folioCounts = [Int](repeating: 0, count: CensusFolioKind.allCases.count * CensusScanner.orders)
  var slabCounts = [Int](repeating: 0, count: CensusScanner.orders)
  let singles = SingleClassCache()

  /// Whether the kernel can show HVO fake heads (`KernelDecode.showsFakeHeads`).
  let fakeHeads: Bool
  /// Sections with a KPF_NOPAGE word; sections in offline memory blocks (nil: unknown).
  var noPageSections: [UInt64]
  let offlineSections: [UInt64]?

  init(pfns: Int, ram: [PFNRange]?, hugeOrders: [Int], pmdOrder: Int, decode: KernelDecode = .assumed, offlineSections: [UInt64]? = nil) {
    c.pfns = pfns
    c.kernel = decode
    self.ram = ram
    self.hugeOrders = hugeOrders
    self.pmdOrder = pmdOrder
    fakeHeads = decode.showsFakeHeads
    self.offlineSections = offlineSections
    nonzeroSections = [UInt64](repeating: 0, count: ((pfns >> Self.sectionShift) + 64) / 64)
    noPageSections = nonzeroSections
  }

  /// Scans the words of one chunk; chunks must come in PFN order.
  mutating func add(_ words: UnsafeBufferPointer<UInt64>, startPFN: Int) {
    var none = NoCensusRuns()
    add(words, startPFN: startPFN, runs: &none)
  }

  /// Scans the words of one chunk and hands each run it finds to `runs` as well, so that
  /// a side pass (the report's map) needs no run search of its own.
  @inline(__always)
  mutating func add<R: CensusRunSink>(_ words: UnsafeBufferPointer<UInt64>, startPFN: Int, runs: inout R) {
    guard let p = words.baseAddress else { return }
    let n = words.count
    let t = singles
    var i = 0
    while i < n {
      // Runs of one single already classed, with no compound in flight, in the section
      // marked last (every word of a dump without runs): all `run` would do is count
      // them, since the cache holds no no-page, head or tail word (and 0 only in slots
      // that are empty). Counted here with the state in registers.
      if open.headPFN < 0 {
        let marked = markedSection, cached = t.words, slots = t.slots, counts = t.counts
        var k = i
        while k &+ 1 < n {
          let w = p[k], h = SingleClassCache.slot(w)
          guard w != 0 && p[k &+ 1] != w && cached[h] == w && (startPFN &+ k) >> Self.sectionShift == marked else { break }
          counts[Int(slots[h])] &+= 1
          runs.run(w, startPFN &+ k, 1)
          k &+= 1
        }
        if k > i {
          i = k
          continue
        }
      }
      let v = p[i]
      // A run of one needs no run search.
      let j = i &+ 1 < n && p[i &+ 1] != v ? i &+ 1 : KPageRuns.end(p, from: i, count: n)
      run(v, startPFN &+ i, j &- i)
      runs.run(v, startPFN &+ i, j &- i)
      i = j
    }
  }

  @inline(__always)
  mutating func run(_ w: UInt64, _ pfn: Int, _ n: Int) {
    if open.headPFN >= 0 {
      if w == open.tailWord && pfn == open.headPFN &+ open.headLength {
        // Tails can run into later sections (a 1 GiB page spans 8): they are non-zero too.
        markNonzero(pfn, n)
        open.headLength &+= n
        return
      }
      compound(open.headWord, open.headPFN, open.headLength)
      open.headPFN = -1
    }
    if w == 0 {
      zero(pfn, n)
      return
    }
    if w == Self.noPage {
      noPage(pfn, n)
      return
    }
    markNonzero(pfn, n)
    if w & Self.head != 0 {
      // Heads never repeat in a well-formed array; each but the last has no tails.
      for k in 0..<(n - 1) { compound(w, pfn + k, 1) }
      open.headPFN = pfn + n - 1
      open.headWord = w
      open.tailWord = PageClassifier.tailWord(ofHead: w)
      open.headLength = 1
      return
    }
    if w & Self.tail != 0 {
      c.orphanTailPages += n
      return
    }
    single(w, n)
  }

  /// The last section marked: runs mostly stay in one section, and a dump without long
  /// runs has one run per word, so the common case is one compare.
  var markedSection = -1

  @inline(__always)
  mutating func markNonzero(_ pfn: Int, _ n: Int) {
    let first = pfn >> Self.sectionShift, last = (pfn &+ n &- 1) >> Self.sectionShift
    if first == markedSection && last == first { return }
    if last >> 6 >= nonzeroSections.count { growSections(words: (last >> 6) + 1) }
    for s in first...last { nonzeroSections[s >> 6] |= 1 << UInt64(s & 63) }
    markedSection = last
  }

  /// Makes both section bitmaps at least `words` long: a stream's scanner starts with
  /// none (its PFN count is known at its end), a file's is sized for it at the start.
  @inline(never)
  mutating func growSections(words: Int) {
    if nonzeroSections.count < words { nonzeroSections += [UInt64](repeating: 0, count: words - nonzeroSections.count) }
    if noPageSections.count < words { noPageSections += [UInt64](repeating: 0, count: words - noPageSections.count) }
  }

  /// KPF_NOPAGE alone: no online struct page (kernels up to 6.15). Counted as a zero word
  /// (it is no page the kernel can use) and its section remembered: inside System RAM
  /// that is an offline memory block.
  mutating func noPage(_ pfn: Int, _ n: Int) {
    c.noPagePFNs += n
    let last = (pfn &+ n &- 1) >> Self.sectionShift
    if last >> 6 >= noPageSections.count { growSections(words: (last >> 6) + 1) }
    for s in (pfn >> Self.sectionShift)...((pfn &+ n &- 1) >> Self.sectionShift) { noPageSections[s >> 6] |= 1 << UInt64(s & 63) }
    zero(pfn, n)
  }

  mutating func zero(_ pfn: Int, _ n: Int) {
    c.zeroPFNs += n
    guard let ram else { return }
    let end = pfn + n
    while ramIndex < ram.count && Int(ram[ramIndex].upperBound.rawValue) <= pfn { ramIndex += 1 }
    var k = ramIndex
    while k < ram.count && Int(ram[k].lowerBound.rawValue) < end {
      let a = max(pfn, Int(ram[k].lowerBound.rawValue)), b = min(end, Int(ram[k].upperBound.rawValue))
      if a < b { c.zeroRAMPFNs += b - a }
      k += 1
    }
  }

  /// Order-0 pages (runs of `n` with one word), by ``PageClassifier``'s class. HUGE
  /// without a compound bit is no HugeTLB page: counted as irregular.
  ///
  /// A dump without long runs has a run per word drawn from a few distinct words, so the
  /// class of recent words is cached (64 slots by a hash of the word): a hit is one
  /// compare and one add into `singles.counts`, which `finish` folds into the census.
  @inline(__always)
  mutating func single(_ w: UInt64, _ n: Int) {
    let h = SingleClassCache.slot(w)
    let t = singles
    if t.words[h] == w {
      t.counts[Int(t.slots[h])] &+= n
      return
    }
    singleMiss(w, n, h)
  }

  @inline(never)
  mutating func singleMiss(_ w: UInt64, _ n: Int, _ h: Int) {
    let cls = PageClassifier.classify(w)
    // Slabs also count their spurious ANON and KSM bits: not cached.
    if cls == .slab {
      slab(w, order: 0, pages: n, count: n)
      return
    }
    singles.words[h] = w
    singles.slots[h] = cls.rawValue
    singles.counts[Int(cls.rawValue)] &+= n
  }

  /// Folds the cached singles' counts into the census, by class as `singleMiss` stored them.
  mutating func foldSingles() {
    for cls in PageClass.allCases {
      let n = singles.counts[Int(cls.rawValue)]
      guard n != 0 else { continue }
      switch cls {
      case .free: c.buddyPages += n
      case .slab: break
      case .pageTable: c.pgtablePages += n
      case .zeroPage: c.zeroPagePages += n
      case .hugetlb: c.irregularCompoundPages += n
      case .offline: c.offlinePages += n
      case .reserved: c.reservedPages += n
      case .anon: folio(.anon, order: 0, n)
      case .shmem: folio(.shmem, order: 0, n)
      case .file: folio(.file, order: 0, n)
      case .other, .zero: folio(.other, order: 0, n)
      }
    }
  }

  @inline(__always)
  mutating func folio(_ kind: CensusFolioKind, order: Int, _ n: Int) {
    folioCounts[kind.index &* Self.orders &+ order] &+= n
  }

  mutating func slab(_ w: UInt64, order: Int, pages: Int, count: Int) {
    c.slabPages += pages
    slabCounts[order] &+= count
    if w & KPF.anon.mask != 0 { c.slabSpuriousAnonPages += pages }
    if w & KPF.ksm.mask != 0 { c.slabSpuriousKSMPages += pages }
  }

  /// One compound run: a head at `pfn` and the tails after it, `length` PFNs in all.
  /// Slabs and page tables keep their class; any other class that is not a folio of
  /// user memory (reserved, zero page, no type) is a folio of kind `.other`.
  mutating func compound(_ w: UInt64, _ pfn: Int, _ length: Int) {
    let cls = PageClassifier.classify(w)
    if cls == .hugetlb {
      hugetlbRun(w, pfn, length)
      return
    }
    guard length > 1, length & (length - 1) == 0, pfn & (length - 1) == 0 else {
      c.irregularCompoundPages += length
      return
    }
    let order = length.trailingZeroBitCount
    let kind: CensusFolioKind
    switch cls {
    case .slab:
      slab(w, order: order, pages: length, count: 1)
      return
    case .pageTable:
      c.pgtablePages += length
      return
    case .anon: kind = order == pmdOrder ? .anonTHP : .anonMTHP
    case .shmem: kind = .shmem
    case .file: kind = .fileLarge
    default: kind = .other
    }
    folio(kind, order: order, 1)
  }

  static func zoneBit(_ pfn: Int) -> Int {
    1 << ZoneType.of(PFN(pfn)).rawValue
  }

  /// The sections a huge page of `length` PFNs at `pfn` lies in.
  static func sections(_ pfn: Int, _ length: Int) -> ClosedRange<Int> {
    (pfn >> sectionShift)...((pfn + length - 1) >> sectionShift)
  }

  /// A HugeTLB run. With HVO (docs/kpageflags.md point 3) a huge page reads as runs of one
  /// head and 63 tails, the heads after the first fake: those runs are gathered into a
  /// stretch and split into huge pages at `closeStretch`. Without HVO the run is the
  /// whole huge page.
  mutating func hugetlbRun(_ w: UInt64, _ pfn: Int, _ length: Int) {
    c.hugetlbHeadPFNs += 1
    let fake = PageClassifier.hvoFakeHeadStride
    if fakeHeads && length == fake && pfn & (fake - 1) == 0 && (hugeOrders.first ?? 0) > 6 {
      if open.hvoStart >= 0 && pfn == open.hvoEnd && w == open.hvoWord {
        open.hvoEnd += fake
        return
      }
      closeStretch()
      open.hvoStart = pfn
      open.hvoEnd = pfn + fake
      open.hvoWord = w
      return
    }
    closeStretch()
    let order = length.trailingZeroBitCount
    if length & (length - 1) == 0 && pfn & (length - 1) == 0 && hugeOrders.contains(order) {
      hugeFolios[order, default: 0] += 1
      hugeZoneBits[order, default: 0] |= Self.zoneBit(pfn)
      hugeSections[order, default: []].formUnion(Self.sections(pfn, length))
    } else {
      c.irregularCompoundPages += length
    }
  }

  /// Splits the HVO stretch in flight into naturally aligned huge pages, largest first.
  /// A block of the largest order could also be huge pages of the next order (their
  /// kpageflags look the same); such blocks are counted apart and split by the pools'
  /// counts at the end.
  mutating func closeStretch() {
    guard open.hvoStart >= 0 else { return }
    var x = open.hvoStart
    let end = open.hvoEnd
    open.hvoStart = -1
    let largest = hugeOrders.last!
    while x < end {
      var placed = false
      for order in hugeOrders.reversed() where order > 6 {
        let size = 1 << order
        guard x & (size - 1) == 0, x + size <= end else { continue }
        if order == largest && hugeOrders.count > 1 {
          c.hugetlbAmbiguousBlocks += 1
          ambiguousZoneBits |= Self.zoneBit(x)
          ambiguousSections.formUnion(Self.sections(x, size))
        } else {
          hugeFolios[order, default: 0] += 1
          hugeOptimized[order, default: 0] += 1
          hugeZoneBits[order, default: 0] |= Self.zoneBit(x)
          hugeSections[order, default: []].formUnion(Self.sections(x, size))
          hugeOptimizedSections[order, default: []].formUnion(Self.sections(x, size))
        }
        x += size
        placed = true
        break
      }
      if !placed {
        c.irregularCompoundPages += 64
        x += 64
      }
    }
  }

  mutating func finish(hugeOrders pools: [(name: String, order: Int, pool: Int?)], pageSize: Int) -> Census {
    if open.headPFN >= 0 { compound(open.headWord, open.headPFN, open.headLength); open.headPFN = -1 }
    closeStretch()
    foldSingles()
    for kind in CensusFolioKind.allCases {
      for order in 0..<Self.orders where folioCounts[kind.index * Self.orders + order] != 0 {
        c.folios[kind, default: [:]][order] = folioCounts[kind.index * Self.orders + order]
      }
    }
    for order in 0..<Self.orders where slabCounts[order] != 0 { c.slabs[order] = slabCounts[order] }
    // Ambiguous HVO blocks: as many huge pages of the largest order as its pool has
    // beyond those already found, the rest as pages of the next order.
    if c.hugetlbAmbiguousBlocks > 0, pools.count > 1 {
      let big = pools[pools.count - 1], next = pools[pools.count - 2]
      let a = c.hugetlbAmbiguousBlocks
      let asBig: Int
      if let pool = big.pool {
        asBig = min(a, max(0, pool - (hugeFolios[big.order] ?? 0)))
        c.hugetlbNote = "\(a) HVO block(s) of \(big.name) read the same as \(1 << (big.order - next.order)) pages of \(next.name) each; by the pools' nr_hugepages \(asBig) counted as \(big.name) pages, \(a - asBig) as \(next.name) pages"
      } else {
        asBig = a
        c.hugetlbNote = "\(a) HVO block(s) of \(big.name) could also be pages of \(next.name); without the pools' counts (no hugepages file) all counted as \(big.name) pages"
      }
      let asNext = (a - asBig) << (big.order - next.order)
      // Which blocks are which is not known: each order counted gets all their sections.
      for (o, n) in [(big.order, asBig), (next.order, asNext)] where n > 0 {
        hugeFolios[o, default: 0] += n
        hugeOptimized[o, default: 0] += n
        hugeZoneBits[o, default: 0] |= ambiguousZoneBits
        hugeSections[o, default: []].formUnion(ambiguousSections)
        hugeOptimizedSections[o, default: []].formUnion(ambiguousSections)
      }
    }
    for pool in pools {
      c.hugetlb.append(HugetlbCensus(name: pool.name, order: pool.order, folios: hugeFolios[pool.order] ?? 0, optimized: hugeOptimized[pool.order] ?? 0, poolPages: pool.pool))
      if let bits = hugeZoneBits[pool.order] { c.hugetlbZones[pool.order] = bits.nonzeroBitCount }
      if let s = hugeSections[pool.order] { c.hugetlbSections[pool.order] = s }
      if let s = hugeOptimizedSections[pool.order] { c.hugetlbOptimizedSections[pool.order] = s }
    }
    let found = c.hugetlb.reduce(0) { $0 + $1.folios }
    c.hvoFakeHeadsCorrected = fakeHeads ? max(0, c.hugetlbHeadPFNs - found) : 0

    // RAM, sections, all-zero sections.
    let sectionPFNs = 1 << Self.sectionShift
    func nonzero(_ s: Int) -> Bool { nonzeroSections[s >> 6] & (1 << UInt64(s & 63)) != 0 }
    let sectionCount = (c.pfns + sectionPFNs - 1) / sectionPFNs
    growSections(words: (sectionCount + 63) / 64)
    if let ram {
      c.ramKnown = true
      c.ramRanges = SnapshotRAM.clip(ram, pfns: c.pfns)
    } else {
      c.ramRanges = SnapshotRAM.sectionRanges(pfns: c.pfns, nonzero)
      // Zero words inside those sections count as RAM reading 0.
      var zeroOutside = c.pfns
      for r in c.ramRanges { zeroOutside -= r.pageCount }
      c.zeroRAMPFNs = c.zeroPFNs - zeroOutside
    }
    c.ramPFNs = c.ramRanges.reduce(0) { $0 + $1.pageCount }
    var k = 0
    for s in 0..<sectionCount {
      let lo = s * sectionPFNs, hi = min(c.pfns, lo + sectionPFNs)
      var inRAM = 0
      while k < c.ramRanges.count && Int(c.ramRanges[k].upperBound.rawValue) <= lo { k += 1 }
      var j = k
      while j < c.ramRanges.count && Int(c.ramRanges[j].lowerBound.rawValue) < hi {
        inRAM += min(hi, Int(c.ramRanges[j].upperBound.rawValue)) - max(lo, Int(c.ramRanges[j].lowerBound.rawValue))
        j += 1
      }
      guard inRAM > 0 else { continue }
      c.ramSections += 1
      if !nonzero(s) {
        c.zeroRAMSections += 1
        c.zeroSectionRAMPFNs += inRAM
        let cause = zeroCause(s)
        c.zeroSectionCauses[cause, default: ZeroSections()].sections += 1
        c.zeroSectionCauses[cause, default: ZeroSections()].ramPFNs += inRAM
      }
    }
    return c
  }
}

extension CensusScanner {
  /// Why RAM section `s`, which reads zero throughout, does: offline where the snapshot's
  /// memory blocks say so or the kernel marked it NOPAGE, deferred init where the kernel
  /// defers struct-page init, otherwise unknown.
  func zeroCause(_ s: Int) -> ZeroSectionCause {
    func bit(_ b: [UInt64]) -> Bool { s >> 6 < b.count && b[s >> 6] & (1 << UInt64(s & 63)) != 0 }
    if bit(noPageSections) || offlineSections.map(bit) == true { return .offline }
    return c.kernel.defersStructPageInit ? .deferredInit : .unknown
  }
}

/// All-zero RAM sections of one cause.
public struct ZeroSections: Sendable, Equatable {
  public var sections = 0
  /// RAM PFNs inside them.
  public var ramPFNs = 0
  public init(sections: Int = 0, ramPFNs: Int = 0) {
    self.sections = sections
    self.ramPFNs = ramPFNs
  }
}

/// The census scanner's cache of recent single-page words and their class, and the pages
/// counted by class through it (raw memory: looked at once per run).
final class SingleClassCache {
  static let slots = 64
  let words: UnsafeMutablePointer<UInt64>
  let slots: UnsafeMutablePointer<UInt8>
  let counts: UnsafeMutablePointer<Int>

  init() {
    words = .allocate(capacity: Self.slots)
    words.initialize(repeating: 0, count: Self.slots)  // 0 is never a single's word
    slots = .allocate(capacity: Self.slots)
    slots.initialize(repeating: 0, count: Self.slots)
    counts = .allocate(capacity: PageClass.allCases.count)
    counts.initialize(repeating: 0, count: PageClass.allCases.count)
  }

  deinit {
    words.deallocate()
    slots.deallocate()
    counts.deallocate()
  }

  /// The slot of `w` in a 64-slot cache of words (this one, the map's class cache): the
  /// top 6 bits of a multiplicative hash.
  @inline(__always)
  static func slot(_ w: UInt64) -> Int { Int(truncatingIfNeeded: (w &* 0x9E37_79B9_7F4A_7C15) >> 58) }
}

/// Censuses compare whole: the parallel pass must find what the one-thread pass does.
extension Census: Equatable {}

/// What sees the runs of equal words a census scan finds, in PFN order within a chunk:
/// `run(word, firstPFN, length)`.
protocol CensusRunSink {
  mutating func run(_ w: UInt64, _ pfn: Int, _ n: Int)
}

/// No one: the census alone.
struct NoCensusRuns: CensusRunSink {
  @inline(__always) mutating func run(_ w: UInt64, _ pfn: Int, _ n: Int) {}
}
