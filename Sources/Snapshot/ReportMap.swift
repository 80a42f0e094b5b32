import PageModel

/// What a stretch of physical memory mostly is, for the report's map: one class per
/// kpageflags word (tails carry their folio's flags, so no compound tracking is needed).
public enum MapClass: Int, CaseIterable, Sendable {
  case free, file, anon, thp, hugetlb, slab, pageTable, reserved, other, uninitialised, hole

  /// The class of one kpageflags word, from ``PageClassifier``: shmem counts as page
  /// cache and zero-page and offline pages as kernel pages here, and anonymous pages are
  /// told apart by size (a compound bit: THP or mTHP). 0 reads as `.hole` and is split
  /// into hole and RAM reading 0 (`.other`) once the cell's RAM is known.
  @inline(__always)
  public static func of(_ w: UInt64) -> MapClass {
    switch PageClassifier.classify(w) {
    case .zero: .hole
    case .hugetlb: .hugetlb
    case .free: .free
    case .slab: .slab
    case .pageTable: .pageTable
    case .zeroPage, .offline, .other: .other
    case .reserved: .reserved
    case .anon: w & PageClassifier.compoundMask != 0 ? .thp : .anon
    case .shmem, .file: .file
    }
  }
}

/// A run of map blocks of one dominant class, with the pages of each class in it.
public struct MapRun: Sendable, Equatable {
  /// First 2 MiB cell of the run.
  public var firstCell: Int
  /// Cells in the run.
  public var cells: Int
  public var mapClass: MapClass
  /// Pages of each class (indexed by `MapClass.rawValue`).
  public var counts: [Int]
}

/// The physical memory map of a snapshot: one cell per 2 MiB of its PFN span, classed
/// by the class with the most pages in it, kept as runs of equal class. When a map has
/// more runs than a report can draw (a huge, fragmented machine), blocks of 2^level
/// cells are classed instead; `level` says which granularity was kept.
public struct PhysicalMap: Sendable, Equatable {
  /// PFNs per cell (512 with 4 KiB pages).
  public var cellPFNs: Int
  /// PFNs in the snapshot.
  public var pfns: Int
  /// Cells covering the snapshot (the last one may be partial).
  public var cells: Int { (pfns + cellPFNs - 1) / cellPFNs }
  /// Each drawn block is 2^level cells.
  public var level: Int
  public var blockCells: Int { 1 << level }
  public var runs: [MapRun]
  /// Pages of each class over the whole snapshot.
  public var totals: [Int]
}

/// The pages of each class in each 2 MiB cell one chunk's PFNs touch: the map's work per
/// word, done on the thread that scanned the chunk. Zero words are counted as `.hole`:
/// which of them are RAM is known only per section, so ``PhysicalMapBuilder`` resolves it.
struct MapCellCounts: Sendable {
  /// The first cell touched. A chunk that does not start on a cell boundary shares that
  /// cell with the chunk before it (the builder adds both).
  var firstCell: Int
  /// `cells x MapClass.allCases.count` counts, cell by cell.
  var counts: [Int]
  var cells: Int { counts.count / PhysicalMapBuilder.classCount }
}

/// Counts chunks of kpageflags words into ``MapCellCounts``. One per thread: it caches
/// the class of recent words (64 slots by a hash of the word), so a dump without runs
/// classifies each distinct word once.
final class MapCellCounter {
  let cellPFNs: Int
  let classWords: UnsafeMutablePointer<UInt64>
  let wordClasses: UnsafeMutablePointer<UInt8>

  init(cellPFNs: Int) {
    self.cellPFNs = cellPFNs
    classWords = .allocate(capacity: 64)
    classWords.initialize(repeating: 0, count: 64)
    wordClasses = .allocate(capacity: 64)
    wordClasses.initialize(repeating: UInt8(MapClass.hole.rawValue), count: 64)
  }

  deinit {
    classWords.deallocate()
    wordClasses.deallocate()
  }

  /// The cells of the words of one chunk, whose first word is PFN `startPFN`.
  func count(startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) -> MapCellCounts {
    tally(startPFN: startPFN, count: words.count) { tally in
      guard let p = words.baseAddress else { return }
      let n = words.count
      var i = 0
      while i < n {
        let v = p[i]
        // A run of one (every word of a dump without runs) needs no run search.
        let j = i &+ 1 < n && p[i &+ 1] != v ? i &+ 1 : KPageRuns.end(p, from: i, count: n)
        tally.run(v, startPFN &+ i, j &- i)
        i = j
      }
    }
  }

  /// The cells of the chunk of `count` words from PFN `startPFN`, whose runs `runs`
  /// hands (in PFN order, every word once) to the tally it is given.
  @inline(__always)
  func tally(startPFN: Int, count n: Int, _ runs: (inout MapCellTally) -> Void) -> MapCellCounts {
    let first = startPFN / cellPFNs
    guard n > 0 else { return MapCellCounts(firstCell: first, counts: []) }
    var counts = [Int](repeating: 0, count: ((startPFN + n - 1) / cellPFNs - first + 1) * PhysicalMapBuilder.classCount)
    counts.withUnsafeMutableBufferPointer { buffer in
      var tally = MapCellTally(counter: self, row: buffer.baseAddress!, cellEnd: (first + 1) * cellPFNs)
      runs(&tally)
    }
    return MapCellCounts(firstCell: first, counts: counts)
  }

  /// `MapClass.of(w).rawValue`, through the cache.
  @inline(__always)
  func mapClass(_ w: UInt64) -> Int {
    let h = SingleClassCache.slot(w)
    if classWords[h] == w { return Int(wordClasses[h]) }
    let c = MapClass.of(w).rawValue
    classWords[h] = w
    wordClasses[h] = UInt8(c)
    return c
  }
}

/// One chunk's cell counts as its runs come (a `CensusRunSink`): the row of the cell that
/// ends at PFN `cellEnd`, moved on as runs cross cells. Lives only while its chunk's
/// counts are in reach (`MapCellCounter.tally`).
struct MapCellTally: CensusRunSink {
  let counter: MapCellCounter
  var row: UnsafeMutablePointer<Int>
  var cellEnd: Int

  @inline(__always)
  mutating func run(_ w: UInt64, _ pfn: Int, _ n: Int) {
    let c = counter.mapClass(w), cellPFNs = counter.cellPFNs
    var pfn = pfn
    let end = pfn &+ n
    while end > cellEnd {
      row[c] &+= cellEnd &- pfn
      pfn = cellEnd
      cellEnd &+= cellPFNs
      row += PhysicalMapBuilder.classCount
    }
    row[c] &+= end &- pfn
  }
}

/// Builds a ``PhysicalMap`` from the cells of kpageflags chunks in PFN order, with memory
/// bounded by one section of cells and the runs kept (no per-PFN or per-cell array).
///
/// The words are counted into cells by a ``MapCellCounter``: in the census pass that is
/// done on the workers, and only the cells come here (``MapSidePass``); `add(startPFN:_:)`
/// counts on the caller's thread. The builder resolves the zero words of each section,
/// then classes blocks: a cell's counts go into level 0, and a block finished at one level
/// adds its counts to the level above, which finishes only then, so a cell costs about two
/// levels of work, not seventeen. Each level keeps its last run open and stores it as a
/// `MapRun` only when a block of another class starts a new one.
public final class PhysicalMapBuilder {
  public static let defaultMaxRuns = 12_000
  static let classCount = MapClass.allCases.count
  static let levels = 0...16
  let cellPFNs: Int
  let counter: MapCellCounter
  var assembly: MapAssembly

  public init(pfns: Int, ram: [PFNRange]?, pageSize: Int = 4096, maxRuns: Int = PhysicalMapBuilder.defaultMaxRuns) {
    cellPFNs = max(1, (2 << 20) / pageSize)
    counter = MapCellCounter(cellPFNs: cellPFNs)
    assembly = MapAssembly(pfns: pfns, ram: ram, cellPFNs: cellPFNs, sectionPFNs: max(cellPFNs, Kernel.pagesPerSection * 4096 / pageSize), maxRuns: maxRuns)
  }

  /// Adds one chunk of kpageflags words starting at `startPFN`; chunks come in order.
  public func add(startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) {
    assembly.add(counter.count(startPFN: startPFN, words))
  }

  /// Adds the cells of the next chunk (chunks in PFN order).
  func add(_ cells: MapCellCounts) { assembly.add(cells) }

  /// The map, at the finest level whose runs fit.
  public func finish() -> PhysicalMap { assembly.finish() }
}

/// The census side pass that builds the report's map: each worker counts its chunk's cells
/// (`part`), and the census's merger hands them to the builder in PFN order (`merge`).
/// Unchecked `Sendable`: the builder is only touched by `merge`, which the census calls
/// one chunk at a time.
final class MapSidePass: CensusSidePass, @unchecked Sendable {
  let builder: PhysicalMapBuilder

  init(_ builder: PhysicalMapBuilder) { self.builder = builder }

  func makeScratch() -> MapCellCounter { MapCellCounter(cellPFNs: builder.cellPFNs) }

  func part(_ counter: MapCellCounter, startPFN: Int, count: Int, census: (inout MapCellTally) -> Void) -> MapCellCounts {
    counter.tally(startPFN: startPFN, count: count, census)
  }

  func merge(_ cells: MapCellCounts) { builder.add(cells) }
}

/// The builder's state from cells on: the section being filled, and per level the block
/// being summed and its open run. Raw memory with scalars in a struct: as stored properties
/// of a class, every access to them was a dynamic exclusivity check (most of a cell's cost).
struct MapAssembly: ~Copyable {
  static let classes = PhysicalMapBuilder.classCount
  static let topLevel = PhysicalMapBuilder.levels.upperBound
  static let levelCount = PhysicalMapBuilder.levels.count
  let cellPFNs: Int
  let pfns: Int
  let ram: [PFNRange]?
  let maxRuns: Int
  let totalCells: Int
  let sectionPFNs: Int
  let sectionCellCount: Int

  // The section being filled: its cells' counts (cell * classes + class), zero words kept
  // in `.hole` until resolved.
  var sectionIndex = 0
  var sectionNonzero = false
  let sectionCells: UnsafeMutablePointer<Int>
  var ramIndex = 0
  var nextCell = 0

  // Per level: the block being summed (level * classes + class), the open run (class -1:
  // none), whether the level gave up, and the runs closed.
  let blockCounts: UnsafeMutablePointer<Int>
  let openClass: UnsafeMutablePointer<Int>
  let openFirst: UnsafeMutablePointer<Int>
  let openCells: UnsafeMutablePointer<Int>
  let openCounts: UnsafeMutablePointer<Int>
  let overflowed: UnsafeMutablePointer<Bool>
  var runs: [[MapRun]]
  let totals: UnsafeMutablePointer<Int>

  init(pfns: Int, ram: [PFNRange]?, cellPFNs: Int, sectionPFNs: Int, maxRuns: Int) {
    let classes = Self.classes, levels = Self.levelCount
    self.pfns = pfns
    self.ram = ram
    self.maxRuns = maxRuns
    self.cellPFNs = cellPFNs
    self.sectionPFNs = sectionPFNs
    totalCells = (pfns + cellPFNs - 1) / cellPFNs
    sectionCellCount = sectionPFNs / cellPFNs
    func zeros(_ n: Int, _ value: Int = 0) -> UnsafeMutablePointer<Int> {
      let p = UnsafeMutablePointer<Int>.allocate(capacity: n)
      p.initialize(repeating: value, count: n)
      return p
    }
    sectionCells = zeros(sectionCellCount * classes)
    blockCounts = zeros(levels * classes)
    openClass = zeros(levels, -1)
    openFirst = zeros(levels)
    openCells = zeros(levels)
    openCounts = zeros(levels * classes)
    overflowed = .allocate(capacity: levels)
    overflowed.initialize(repeating: false, count: levels)
    runs = Array(repeating: [], count: levels)
    totals = zeros(classes)
  }

  deinit {
    for p in [sectionCells, blockCounts, openClass, openFirst, openCells, openCounts, totals] { p.deallocate() }
    overflowed.deallocate()
  }

  /// Adds the cells of the next chunk into the sections they are in.
  mutating func add(_ part: MapCellCounts) {
    let classes = Self.classes, hole = MapClass.hole.rawValue
    part.counts.withUnsafeBufferPointer { counts in
      guard var src = counts.baseAddress else { return }
      for cell in part.firstCell..<(part.firstCell + part.cells) {
        let section = cell / sectionCellCount
        if section != sectionIndex { flushSection(upTo: section) }
        let dst = sectionCells + (cell - section * sectionCellCount) * classes
        var nonzero = 0
        for k in 0..<classes {
          dst[k] &+= src[k]
          if k != hole { nonzero |= src[k] }
        }
        if nonzero != 0 { sectionNonzero = true }
        src += classes
      }
    }
  }

  /// RAM PFNs in `lo..<hi` (ranges sorted, visited in increasing order).
  mutating func ramPFNs(_ lo: Int, _ hi: Int) -> Int {
    guard let ram else { return hi - lo }
    while ramIndex < ram.count && Int(ram[ramIndex].upperBound.rawValue) <= lo { ramIndex += 1 }
    var k = ramIndex, sum = 0
    while k < ram.count && Int(ram[k].lowerBound.rawValue) < hi {
      sum += max(0, min(hi, Int(ram[k].upperBound.rawValue)) - max(lo, Int(ram[k].lowerBound.rawValue)))
      k += 1
    }
    return sum
  }

  /// Resolves the zero words of the buffered section and hands its cells on, then
  /// moves to section `next`.
  mutating func flushSection(upTo next: Int) {
    let first = sectionIndex * sectionPFNs
    let classes = Self.classes
    let holeIndex = MapClass.hole.rawValue
    let zeroRAMIndex = (sectionNonzero ? MapClass.other : MapClass.uninitialised).rawValue
    for i in 0..<sectionCellCount {
      let lo = first + i * cellPFNs
      guard lo < pfns else { break }
      let hi = min(pfns, lo + cellPFNs)
      let counts = sectionCells + i * classes
      let zero = counts[holeIndex]
      let hole: Int
      if ram != nil {
        hole = min(zero, (hi - lo) - ramPFNs(lo, hi))
      } else {
        hole = sectionNonzero ? 0 : zero
      }
      counts[holeIndex] = hole
      // RAM reading 0: a whole section of it is memory the kernel shows no struct pages
      // for (its cause is the census's `zeroSectionCauses`); elsewhere kernel pages
      // without flags.
      counts[zeroRAMIndex] += zero - hole
      finishCell(counts)
    }
    sectionCells.update(repeating: 0, count: sectionCellCount * classes)
    sectionNonzero = false
    sectionIndex = next
  }

  /// The first class with the most pages among `counts[0..<classes]`.
  @inline(__always)
  static func dominant(_ counts: UnsafePointer<Int>) -> Int {
    var best = 0
    for k in 1..<classes where counts[k] > counts[best] { best = k }
    return best
  }

  /// One finished cell: into the totals and level 0, and up through every level whose
  /// block it finishes (all of them for the last cell).
  mutating func finishCell(_ counts: UnsafePointer<Int>) {
    let index = nextCell
    nextCell += 1
    let classes = Self.classes
    let last = index + 1 == totalCells
    for k in 0..<classes {
      totals[k] &+= counts[k]
      blockCounts[k] &+= counts[k]
    }
    var level = 0
    while true {
      let size = 1 << level
      guard (index + 1) % size == 0 || last else { return }
      let sum = blockCounts + level * classes
      let first = index / size * size
      if !overflowed[level] { finishBlock(level: level, first: first, cells: index + 1 - first, counts: sum) }
      if level == Self.topLevel {
        sum.update(repeating: 0, count: classes)
        return
      }
      let up = sum + classes
      for k in 0..<classes {
        up[k] &+= sum[k]
        sum[k] = 0
      }
      level += 1
    }
  }

  /// A finished block of `level`: extends the level's open run or starts a new one.
  @inline(__always)
  mutating func finishBlock(level: Int, first: Int, cells: Int, counts: UnsafePointer<Int>) {
    let classes = Self.classes
    let c = Self.dominant(counts)
    let open = openCounts + level * classes
    if openClass[level] == c && openFirst[level] + openCells[level] == first {
      openCells[level] += cells
      for k in 0..<classes { open[k] &+= counts[k] }
      return
    }
    if openClass[level] >= 0 { runs[level].append(openRun(level)) }
    openClass[level] = c
    openFirst[level] = first
    openCells[level] = cells
    open.update(from: counts, count: classes)
    if runs[level].count + 1 > maxRuns && level < Self.topLevel {
      overflowed[level] = true
      runs[level] = []
      openClass[level] = -1
    }
  }

  func openRun(_ level: Int) -> MapRun {
    let o = openCounts + level * Self.classes
    return MapRun(firstCell: openFirst[level], cells: openCells[level], mapClass: MapClass(rawValue: openClass[level])!, counts: Array(UnsafeBufferPointer(start: o, count: Self.classes)))
  }

  /// The map, at the finest level whose runs fit.
  mutating func finish() -> PhysicalMap {
    if pfns > 0 { flushSection(upTo: sectionIndex + 1) }
    let level = PhysicalMapBuilder.levels.first { !overflowed[$0] } ?? Self.topLevel
    var kept = runs[level]
    if openClass[level] >= 0 { kept.append(openRun(level)) }
    return PhysicalMap(cellPFNs: cellPFNs, pfns: pfns, level: level, runs: kept, totals: Array(UnsafeBufferPointer(start: totals, count: Self.classes)))
  }
}
