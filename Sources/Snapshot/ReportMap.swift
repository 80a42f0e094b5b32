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
public struct PhysicalMap: Sendable {
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

/// Builds a ``PhysicalMap`` from kpageflags chunks in PFN order, with memory bounded by
/// one section of cells and the runs kept (no per-PFN or per-cell array).
///
/// The counts live in flat arrays indexed by `level * classes + class`. A cell's counts go
/// into level 0; a block finished at one level adds its counts to the level above, which
/// finishes only then, so a cell costs about two levels of work, not seventeen. Each level
/// keeps its last run open in those flat arrays and stores it as a `MapRun` only when a
/// block of another class starts it a new one.
public final class PhysicalMapBuilder {
  public static let defaultMaxRuns = 12_000
  let cellPFNs: Int
  let pfns: Int
  let ram: [PFNRange]?
  let maxRuns: Int
  static let classCount = MapClass.allCases.count
  static let levels = 0...16
  static let levelCount = levels.count
  let totalCells: Int

  // The section being filled: its cells' counts (cell * classes + class), zero words kept
  // in `.hole` until resolved.
  let sectionPFNs: Int
  let sectionCellCount: Int
  var sectionIndex = 0
  var sectionNonzero = false
  /// sectionCellCount x classCount counts (raw memory: touched once per run).
  let sectionCells: UnsafeMutablePointer<Int>
  var ramIndex = 0
  /// The cell the last run ended in, as a PFN window and its offset in `sectionCells`:
  /// a run that falls inside it (most runs) is one add. Empty after a section flush.
  var fastLo = 0
  var fastHi = -1
  var fastBase = 0
  /// Recent words and their class (64 slots by a hash of the word; 0 is `.hole`).
  let classWords: UnsafeMutablePointer<UInt64>
  let wordClasses: UnsafeMutablePointer<UInt8>

  // Per level: the block being summed, the open run (class -1: none), the closed runs,
  // and whether the level gave up.
  var blockCounts: [Int]
  var openClass: [Int]
  var openFirst: [Int]
  var openCells: [Int]
  var openCounts: [Int]
  var runs: [[MapRun]]
  var overflowed: [Bool]
  var totals: [Int]
  var nextCell = 0

  public init(pfns: Int, ram: [PFNRange]?, pageSize: Int = 4096, maxRuns: Int = PhysicalMapBuilder.defaultMaxRuns) {
    self.pfns = pfns
    self.ram = ram
    self.maxRuns = maxRuns
    cellPFNs = max(1, (2 << 20) / pageSize)
    totalCells = (pfns + cellPFNs - 1) / cellPFNs
    sectionPFNs = max(cellPFNs, Kernel.pagesPerSection * 4096 / pageSize)
    sectionCellCount = sectionPFNs / cellPFNs
    sectionCells = .allocate(capacity: sectionCellCount * Self.classCount)
    sectionCells.initialize(repeating: 0, count: sectionCellCount * Self.classCount)
    classWords = .allocate(capacity: 64)
    classWords.initialize(repeating: 0, count: 64)
    wordClasses = .allocate(capacity: 64)
    wordClasses.initialize(repeating: UInt8(MapClass.hole.rawValue), count: 64)
    blockCounts = Array(repeating: 0, count: Self.levelCount * Self.classCount)
    openClass = Array(repeating: -1, count: Self.levelCount)
    openFirst = Array(repeating: 0, count: Self.levelCount)
    openCells = Array(repeating: 0, count: Self.levelCount)
    openCounts = Array(repeating: 0, count: Self.levelCount * Self.classCount)
    runs = Array(repeating: [], count: Self.levelCount)
    overflowed = Array(repeating: false, count: Self.levelCount)
    totals = Array(repeating: 0, count: Self.classCount)
  }

  deinit {
    sectionCells.deallocate()
    classWords.deallocate()
    wordClasses.deallocate()
  }

  /// Adds one chunk of kpageflags words starting at `startPFN`; chunks come in order.
  public func add(startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) {
    guard let p = words.baseAddress else { return }
    let n = words.count
    var i = 0
    while i < n {
      let v = p[i]
      // A run of one (every word of a dump without runs) needs no run search.
      let j = i &+ 1 < n && p[i &+ 1] != v ? i &+ 1 : KPageRuns.end(p, from: i, count: n)
      run(mapClass(v), startPFN &+ i, j &- i)
      i = j
    }
  }

  @inline(__always)
  func mapClass(_ w: UInt64) -> MapClass {
    let h = Int(truncatingIfNeeded: (w &* 0x9E37_79B9_7F4A_7C15) >> 58)
    if classWords[h] == w { return MapClass(rawValue: Int(wordClasses[h]))! }
    let c = MapClass.of(w)
    classWords[h] = w
    wordClasses[h] = UInt8(c.rawValue)
    return c
  }

  @inline(__always)
  func run(_ c: MapClass, _ pfn: Int, _ n: Int) {
    if pfn >= fastLo && pfn &+ n <= fastHi {
      sectionCells[fastBase &+ c.rawValue] &+= n
      if c != .hole { sectionNonzero = true }
      return
    }
    runAcrossCells(c, pfn, n)
  }

  func runAcrossCells(_ c: MapClass, _ pfn: Int, _ n: Int) {
    let last = pfn + n - 1
    var pfn = pfn, n = n
    let classes = Self.classCount
    while n > 0 {
      let s = pfn / sectionPFNs
      if s != sectionIndex { flushSection(upTo: s) }
      let sectionEnd = (s &+ 1) &* sectionPFNs
      let take = min(n, sectionEnd &- pfn)
      if c != .hole { sectionNonzero = true }
      // Split over cells.
      var q = pfn, left = take
      while left > 0 {
        let cell = (q % sectionPFNs) / cellPFNs
        let cellEnd = (q / cellPFNs &+ 1) &* cellPFNs
        let k = min(left, cellEnd &- q)
        sectionCells[cell &* classes &+ c.rawValue] &+= k
        q &+= k
        left &-= k
      }
      pfn &+= take
      n &-= take
    }
    // The cell of the run's last PFN (in the section now buffered) takes the next runs.
    fastLo = last / cellPFNs * cellPFNs
    fastHi = min(fastLo + cellPFNs, (sectionIndex + 1) * sectionPFNs)
    fastBase = ((last % sectionPFNs) / cellPFNs) * classes
  }

  /// RAM PFNs in `lo..<hi` (ranges sorted, visited in increasing order).
  func ramPFNs(_ lo: Int, _ hi: Int) -> Int {
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
  func flushSection(upTo next: Int) {
    let first = sectionIndex * sectionPFNs
    let classes = Self.classCount
    let holeIndex = MapClass.hole.rawValue
    let zeroRAMIndex = (sectionNonzero ? MapClass.other : MapClass.uninitialised).rawValue
    for i in 0..<sectionCellCount {
      let lo = first + i * cellPFNs
      guard lo < pfns else { break }
      let hi = min(pfns, lo + cellPFNs)
      let base = i * classes
      let zero = sectionCells[base + holeIndex]
      let hole: Int
      if ram != nil {
        hole = min(zero, (hi - lo) - ramPFNs(lo, hi))
      } else {
        hole = sectionNonzero ? 0 : zero
      }
      sectionCells[base + holeIndex] = hole
      // RAM reading 0: a whole section of it is memory the kernel shows no struct pages
      // for (its cause is the census's `zeroSectionCauses`); elsewhere kernel pages
      // without flags.
      sectionCells[base + zeroRAMIndex] += zero - hole
      cell(at: base)
    }
    sectionCells.update(repeating: 0, count: sectionCellCount * classes)
    sectionNonzero = false
    sectionIndex = next
    fastHi = -1
  }

  /// The first class with the most pages among `counts[0..<classCount]`.
  @inline(__always)
  static func dominant(_ counts: UnsafePointer<Int>) -> Int {
    var best = 0
    for k in 1..<classCount where counts[k] > counts[best] { best = k }
    return best
  }

  static func dominant(_ counts: [Int]) -> MapClass {
    MapClass(rawValue: counts.withUnsafeBufferPointer { dominant($0.baseAddress!) })!
  }

  /// One finished cell, whose counts are `sectionCells[base..<base + classCount]`.
  func cell(at base: Int) {
    let index = nextCell
    nextCell += 1
    let classes = Self.classCount
    let last = index + 1 == totalCells
    do {
      let counts = UnsafePointer(sectionCells + base)
      for k in 0..<classes { totals[k] &+= counts[k] }
      blockCounts.withUnsafeMutableBufferPointer { blocks in
        let b = blocks.baseAddress!
        for k in 0..<classes { b[k] &+= counts[k] }
        var level = 0
        while true {
          let size = 1 << level
          guard (index + 1) % size == 0 || last else { return }
          let sum = b + level * classes
          if !overflowed[level] { finishBlock(level: level, first: index / size * size, cells: index + 1 - index / size * size, counts: sum) }
          if level == Self.levels.upperBound {
            for k in 0..<classes { sum[k] = 0 }
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
    }
  }

  /// A finished block of `level`: extends the level's open run or starts a new one.
  @inline(__always)
  func finishBlock(level: Int, first: Int, cells: Int, counts: UnsafeMutablePointer<Int>) {
    let classes = Self.classCount
    let c = Self.dominant(counts)
    let o = level * classes
    if openClass[level] == c && openFirst[level] + openCells[level] == first {
      openCells[level] += cells
      for k in 0..<classes { openCounts[o + k] &+= counts[k] }
      return
    }
    if openClass[level] >= 0 { runs[level].append(openRun(level)) }
    openClass[level] = c
    openFirst[level] = first
    openCells[level] = cells
    for k in 0..<classes { openCounts[o + k] = counts[k] }
    if runs[level].count + 1 > maxRuns && level < Self.levels.upperBound {
      overflowed[level] = true
      runs[level] = []
      openClass[level] = -1
    }
  }

  func openRun(_ level: Int) -> MapRun {
    let o = level * Self.classCount
    return MapRun(firstCell: openFirst[level], cells: openCells[level], mapClass: MapClass(rawValue: openClass[level])!, counts: Array(openCounts[o..<(o + Self.classCount)]))
  }

  /// The map, at the finest level whose runs fit.
  public func finish() -> PhysicalMap {
    if pfns > 0 { flushSection(upTo: sectionIndex + 1) }
    let level = Self.levels.first { !overflowed[$0] } ?? Self.levels.upperBound
    var kept = runs[level]
    if openClass[level] >= 0 { kept.append(openRun(level)) }
    return PhysicalMap(cellPFNs: cellPFNs, pfns: pfns, level: level, runs: kept, totals: totals)
  }
}
