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
public final class PhysicalMapBuilder {
  public static let defaultMaxRuns = 12_000
  let cellPFNs: Int
  let pfns: Int
  let ram: [PFNRange]?
  let maxRuns: Int
  static let classCount = MapClass.allCases.count
  static let levels = 0...16

  // The section being filled: its cells' counts, zero words kept in `.hole` until resolved.
  let sectionPFNs: Int
  var sectionIndex = 0
  var sectionNonzero = false
  var sectionCells: [[Int]]
  var ramIndex = 0

  // Per level: the block being summed, the runs, and whether the level gave up.
  var blockCounts: [[Int]]
  var runs: [[MapRun]]
  var overflowed: [Bool]
  var totals: [Int]
  var nextCell = 0

  public init(pfns: Int, ram: [PFNRange]?, pageSize: Int = 4096, maxRuns: Int = PhysicalMapBuilder.defaultMaxRuns) {
    self.pfns = pfns
    self.ram = ram
    self.maxRuns = maxRuns
    cellPFNs = max(1, (2 << 20) / pageSize)
    sectionPFNs = max(cellPFNs, Kernel.pagesPerSection * 4096 / pageSize)
    sectionCells = Array(repeating: Array(repeating: 0, count: Self.classCount), count: sectionPFNs / cellPFNs)
    blockCounts = Array(repeating: Array(repeating: 0, count: Self.classCount), count: Self.levels.count)
    runs = Array(repeating: [], count: Self.levels.count)
    overflowed = Array(repeating: false, count: Self.levels.count)
    totals = Array(repeating: 0, count: Self.classCount)
  }

  /// Adds one chunk of kpageflags words starting at `startPFN`; chunks come in order.
  public func add(startPFN: Int, _ words: UnsafeBufferPointer<UInt64>) {
    guard let p = words.baseAddress else { return }
    let n = words.count
    var i = 0
    while i < n {
      let j = KPageRuns.end(p, from: i, count: n)
      run(MapClass.of(p[i]), startPFN + i, j - i)
      i = j
    }
  }

  func run(_ c: MapClass, _ pfn: Int, _ n: Int) {
    var pfn = pfn, n = n
    while n > 0 {
      let s = pfn / sectionPFNs
      if s != sectionIndex { flushSection(upTo: s) }
      let sectionEnd = (s + 1) * sectionPFNs
      let take = min(n, sectionEnd - pfn)
      if c != .hole { sectionNonzero = true }
      // Split over cells.
      var q = pfn, left = take
      while left > 0 {
        let cell = (q % sectionPFNs) / cellPFNs
        let cellEnd = (q / cellPFNs + 1) * cellPFNs
        let k = min(left, cellEnd - q)
        sectionCells[cell][c.rawValue] += k
        q += k
        left -= k
      }
      pfn += take
      n -= take
    }
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
    for (i, var counts) in sectionCells.enumerated() {
      let lo = first + i * cellPFNs
      guard lo < pfns else { break }
      let hi = min(pfns, lo + cellPFNs)
      let zero = counts[MapClass.hole.rawValue]
      let hole: Int
      if ram != nil {
        hole = min(zero, (hi - lo) - ramPFNs(lo, hi))
      } else {
        hole = sectionNonzero ? 0 : zero
      }
      counts[MapClass.hole.rawValue] = hole
      // RAM reading 0: a whole section of it is memory whose struct pages were not
      // initialised yet (deferred init); elsewhere kernel pages without flags.
      counts[(sectionNonzero ? MapClass.other : MapClass.uninitialised).rawValue] += zero - hole
      cell(counts)
    }
    for i in sectionCells.indices { for k in 0..<Self.classCount { sectionCells[i][k] = 0 } }
    sectionNonzero = false
    sectionIndex = next
  }

  static func dominant(_ counts: [Int]) -> MapClass {
    var best = 0
    for k in 1..<counts.count where counts[k] > counts[best] { best = k }
    return MapClass(rawValue: best)!
  }

  func cell(_ counts: [Int]) {
    let index = nextCell
    nextCell += 1
    for k in 0..<Self.classCount { totals[k] += counts[k] }
    let total = (pfns + cellPFNs - 1) / cellPFNs
    for level in Self.levels where !overflowed[level] {
      for k in 0..<Self.classCount { blockCounts[level][k] += counts[k] }
      let size = 1 << level
      guard (index + 1) % size == 0 || index + 1 == total else { continue }
      let blockFirst = index / size * size
      let cells = index + 1 - blockFirst
      let c = Self.dominant(blockCounts[level])
      if var last = runs[level].last, last.mapClass == c, last.firstCell + last.cells == blockFirst {
        last.cells += cells
        for k in 0..<Self.classCount { last.counts[k] += blockCounts[level][k] }
        runs[level][runs[level].count - 1] = last
      } else {
        runs[level].append(MapRun(firstCell: blockFirst, cells: cells, mapClass: c, counts: blockCounts[level]))
        if runs[level].count > maxRuns && level < Self.levels.upperBound {
          overflowed[level] = true
          runs[level] = []
        }
      }
      for k in 0..<Self.classCount { blockCounts[level][k] = 0 }
    }
  }

  /// The map, at the finest level whose runs fit.
  public func finish() -> PhysicalMap {
    if pfns > 0 { flushSection(upTo: sectionIndex + 1) }
    let level = Self.levels.first { !overflowed[$0] } ?? Self.levels.upperBound
    return PhysicalMap(cellPFNs: cellPFNs, pfns: pfns, level: level, runs: runs[level], totals: totals)
  }
}
