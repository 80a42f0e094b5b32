/// The distinct words of a kpageflags array with, for each, the number of PFNs that carry
/// it and the first PFN that does.
///
/// Filled in one pass: runs of equal words (most of a kpageflags array) cost one compare
/// a word; each run costs one probe of a small open-addressing table (a few hundred
/// distinct words on a real machine). No allocation per PFN.
public struct FlagWordHistogram: Sendable {
  var keys: [UInt64]
  var counts: [UInt64]
  var firsts: [Int]
  var used = 0
  var shift: UInt64
  /// The word 0 is kept aside: 0 marks an empty slot in `keys`.
  var zeroCount: UInt64 = 0
  var zeroFirst = Int.max

  public init() {
    keys = [UInt64](repeating: 0, count: 1024)
    counts = [UInt64](repeating: 0, count: 1024)
    firsts = [Int](repeating: .max, count: 1024)
    shift = 64 - 10
  }

  /// Number of PFNs counted.
  public var totalPages: UInt64 {
    var t = zeroCount
    for i in keys.indices where keys[i] != 0 { t += counts[i] }
    return t
  }

  /// Every distinct word with its PFN count and first PFN, in no particular order.
  public var entries: [(word: UInt64, pages: UInt64, firstPFN: Int)] {
    var out: [(UInt64, UInt64, Int)] = []
    if zeroCount > 0 { out.append((0, zeroCount, zeroFirst)) }
    for i in keys.indices where keys[i] != 0 { out.append((keys[i], counts[i], firsts[i])) }
    return out
  }

  /// Counts `length` PFNs carrying `word`, the first of them at `firstPFN`.
  public mutating func add(_ word: UInt64, pages length: UInt64, firstPFN: Int) {
    if word == 0 {
      zeroCount &+= length
      if firstPFN < zeroFirst { zeroFirst = firstPFN }
      return
    }
    let (mask, shift) = (keys.count - 1, self.shift)
    var used = self.used
    keys.withUnsafeMutableBufferPointer { k in
      counts.withUnsafeMutableBufferPointer { c in
        firsts.withUnsafeMutableBufferPointer { f in
          Self.probe(word, length, firstPFN, k.baseAddress!, c.baseAddress!, f.baseAddress!, mask, shift, &used)
        }
      }
    }
    self.used = used
    if used * 2 >= keys.count { grow() }
  }

  /// One open-addressing probe: adds to `word`'s slot, or claims an empty one.
  @inline(__always)
  static func probe(
    _ word: UInt64, _ length: UInt64, _ pfn: Int, _ k: UnsafeMutablePointer<UInt64>, _ c: UnsafeMutablePointer<UInt64>,
    _ f: UnsafeMutablePointer<Int>, _ mask: Int, _ shift: UInt64, _ used: inout Int
  ) {
    var s = Int(truncatingIfNeeded: (word &* 0x9E37_79B9_7F4A_7C15) >> shift)
    while true {
      let key = k[s]
      if key == word {
        c[s] &+= length
        if pfn < f[s] { f[s] = pfn }
        return
      }
      if key == 0 {
        k[s] = word
        c[s] = length
        f[s] = pfn
        used &+= 1
        return
      }
      s = (s &+ 1) & mask
    }
  }

  mutating func grow() {
    let old = entries.filter { $0.word != 0 }
    let size = keys.count * 2
    keys = [UInt64](repeating: 0, count: size)
    counts = [UInt64](repeating: 0, count: size)
    firsts = [Int](repeating: .max, count: size)
    shift -= 1
    used = 0
    for e in old { add(e.word, pages: e.pages, firstPFN: e.firstPFN) }
  }

  /// Counts every word of `words`, the first of which is PFN `startPFN`. Chunks added in
  /// increasing PFN order give exact first PFNs (the concurrent scan does so per worker).
  ///
  /// - Complexity: one pass; eight words compared per step inside runs, one table probe
  ///   per run.
  public mutating func add(_ words: UnsafeBufferPointer<UInt64>, startPFN: Int) {
    guard let p = words.baseAddress else { return }
    let n = words.count
    var i = 0
    while i < n {
      // Probe with raw pointers until the table must grow, then grow and go on.
      let size = keys.count
      let limit = size / 2
      var used = self.used
      var zeroCount = self.zeroCount
      var zeroFirst = self.zeroFirst
      let shift = self.shift
      keys.withUnsafeMutableBufferPointer { kb in
        counts.withUnsafeMutableBufferPointer { cb in
          firsts.withUnsafeMutableBufferPointer { fb in
            let k = kb.baseAddress!, c = cb.baseAddress!, f = fb.baseAddress!
            let mask = size &- 1
            while i < n && used < limit {
              let v = p[i]
              let j = KPageRuns.end(p, from: i, count: n)
              let length = UInt64(j &- i)
              let pfn = startPFN &+ i
              i = j
              if v == 0 {
                zeroCount &+= length
                if pfn < zeroFirst { zeroFirst = pfn }
                continue
              }
              Self.probe(v, length, pfn, k, c, f, mask, shift, &used)
            }
          }
        }
      }
      self.used = used
      self.zeroCount = zeroCount
      self.zeroFirst = zeroFirst
      if used >= limit { grow() }
    }
  }

  /// Adds another histogram's counts (first PFNs keep the lower).
  public mutating func merge(_ other: FlagWordHistogram) {
    for e in other.entries { add(e.word, pages: e.pages, firstPFN: e.firstPFN) }
  }

  /// The histogram of a whole kpageflags array, read in chunks on `threads` threads.
  public static func of(_ array: KPageArray, threads: Int = Parallel.defaultThreads) throws -> FlagWordHistogram {
    let parts = PerWorker<FlagWordHistogram>(count: max(1, threads), make: FlagWordHistogram.init)
    try array.forEachChunkConcurrently(threads: threads) { worker, start, words in
      parts.update(worker) { $0.add(words, startPFN: start) }
    }
    var total = FlagWordHistogram()
    for h in parts.all { total.merge(h) }
    return total
  }
}

/// One value per worker thread; worker `i` touches only slot `i`.
final class PerWorker<T>: @unchecked Sendable {
  private var slots: [T]
  init(count: Int, make: () -> T) { slots = (0..<count).map { _ in make() } }
  func update(_ i: Int, _ body: (inout T) -> Void) {
    slots.withUnsafeMutableBufferPointer { body(&$0[i]) }
  }
  var all: [T] { slots }
}

/// The summary table of the kernel's page-types tool for a kpageflags array: one row per
/// distinct (transformed) flag word with its page count, size in MB, one-letter flags and
/// long names, then the total. Render's `rendered()` gives exactly the text page-types prints.
///
/// Kernel: tools/mm/page-types.c: `show_summary()`, `page_flag_name()`,
/// `page_flag_longname()`, `well_known_flags()` (default mode), `expand_overloaded_flags()`
/// (`-r`), and the row order of its 8192-slot `hash_slot()` table.
public struct PageTypesSummary: Equatable, Sendable {
  public enum Mode: Sendable {
    /// page-types' default: bits 32-47 hidden; COMPOUND_HEAD/TAIL cleared unless HUGE.
    case wellKnown
    /// `page-types -r`: every bit, overloaded bits rewritten.
    case raw
  }

  public struct Row: Equatable, Sendable {
    public var flags: UInt64
    public var pages: UInt64
  }

  public var mode: Mode
  /// Rows in page-types' order.
  public var rows: [Row]
  public var totalPages: UInt64
  /// The page size used for the MB column.
  public var pageSize: Int

  /// page-types' flag names by bit: the one-letter symbol, then the long name.
  /// Bits without a name (27-31, 42-46, 49, 52-60) make page-types stop with
  /// "unknown flag bit"; this summary reports them as an error too.
  public static let flagNames: [Int: (symbol: Character, name: String)] = [
    0: ("L", "locked"), 1: ("E", "error"), 2: ("R", "referenced"), 3: ("U", "uptodate"), 4: ("D", "dirty"),
    5: ("l", "lru"), 6: ("A", "active"), 7: ("S", "slab"), 8: ("W", "writeback"), 9: ("I", "reclaim"),
    10: ("B", "buddy"), 11: ("M", "mmap"), 12: ("a", "anonymous"), 13: ("s", "swapcache"), 14: ("b", "swapbacked"),
    15: ("H", "compound_head"), 16: ("T", "compound_tail"), 17: ("G", "huge"), 18: ("u", "unevictable"),
    19: ("X", "hwpoison"), 20: ("n", "nopage"), 21: ("x", "ksm"), 22: ("t", "thp"), 23: ("o", "offline"),
    24: ("z", "zero_page"), 25: ("i", "idle_page"), 26: ("g", "pgtable"),
    32: ("r", "reserved"), 33: ("m", "mlocked"), 34: ("d", "owner_2"), 35: ("P", "private"), 36: ("p", "private_2"),
    37: ("O", "owner_private"), 38: ("h", "arch"), 39: ("c", "uncached"), 40: ("f", "softdirty"), 41: ("H", "arch_2"),
    47: ("d", "anon_exclusive"), 48: ("I", "readahead"), 50: ("A", "slub_frozen"), 51: ("E", "slub_debug"),
    61: ("F", "file"), 62: ("w", "swap"), 63: ("1", "mmap_exclusive"),
  ]

  /// Bits page-types names, in bit order.
  static let namedBits: [Int] = flagNames.keys.sorted()
  static let namedMask: UInt64 = namedBits.reduce(0) { $0 | 1 << UInt64($1) }
  /// The bits of a raw kpageflags word that page-types has no name for: 27-31, 42-46,
  /// 49, 52-60 (`0x1ff2_7c00_f800_0000`). A word with one makes `page-types -r` stop;
  /// every reader of a kpageflags array refuses it unless told otherwise
  /// (`KPageArray.refusedBits`). page-types' raw-mode rewrites only move bits between
  /// named positions, so this test on the raw word is exactly `-r`'s.
  public static let unnamedBits: UInt64 = ~namedMask

  /// The error for a word with a bit page-types cannot name, as page-types stops.
  static func unknownBitError(path: String, pfn: Int, word: UInt64, bit: Int) -> SnapshotError {
    SnapshotError(
      .unknownFlagBit, path: path, offset: UInt64(pfn) * 8,
      "PFN \(pfn) has flags 0x\(String(word, radix: 16)) with bit \(bit), which page-types has no name for (it stops with \"unknown flag bit \(bit)\")")
  }

  /// page-types' bit numbers for the overloaded flags it invents in raw mode.
  public enum OverloadedBit {
    public static let anonExclusive = 47
    public static let readahead = 48
    public static let slubFrozen = 50
    public static let slubDebug = 51
  }

  /// The word page-types counts for a kpageflags word (no pagemap: `-F` has none).
  ///
  /// Kernel: `well_known_flags()` and `expand_overloaded_flags()` in page-types.c.
  @inlinable
  public static func transform(_ flags: UInt64, mode: Mode) -> UInt64 {
    func bit(_ n: Int) -> UInt64 { 1 << UInt64(n) }
    var f = flags
    switch mode {
    case .wellKnown:
      f &= ~(UInt64(0xffff) << 32)
      let compound = bit(15) | bit(16)
      if f & compound != 0 && f & bit(17) == 0 { f &= ~compound }
    case .raw:
      // ANON + OWNER_2 is anon_exclusive.
      if f & bit(12) != 0 && f & bit(34) != 0 { f ^= bit(34) | bit(OverloadedBit.anonExclusive) }
      if f & bit(7) != 0 {
        // SLUB: ACTIVE is slub_frozen, ERROR is slub_debug.
        if f & bit(6) != 0 { f ^= bit(6) | bit(OverloadedBit.slubFrozen) }
        if f & bit(1) != 0 { f ^= bit(1) | bit(OverloadedBit.slubDebug) }
      }
      // RECLAIM without WRITEBACK is readahead.
      if f & (bit(9) | bit(8)) == bit(9) { f ^= bit(9) | bit(OverloadedBit.readahead) }
    }
    return f
  }

  /// The one-letter-per-named-bit string (`__RU_l...`), 44 characters.
  public static func symbolic(_ flags: UInt64) -> String {
    String(namedBits.map { flags >> UInt64($0) & 1 != 0 ? flagNames[$0]!.symbol : "_" })
  }

  /// The comma-separated long names of the set bits, in bit order.
  public static func longNames(_ flags: UInt64) -> String {
    namedBits.filter { flags >> UInt64($0) & 1 != 0 }.map { flagNames[$0]!.name }.joined(separator: ",")
  }

  /// Builds the table from a histogram of raw words.
  ///
  /// - Parameter path: the kpageflags file, named in the error for an unknown bit.
  /// - Throws: `SnapshotError` `.unknownFlagBit` naming the bit, the word and its first
  ///   PFN, where page-types would stop with "unknown flag bit".
  ///   With `acceptUnknown` such words are counted as they are (their row shows the flags
  ///   in hex; the symbolic and long names show the named bits only).
  public init(histogram: FlagWordHistogram, mode: Mode, pageSize: Int = 4096, path: String, acceptUnknown: Bool = false) throws {
    self.mode = mode
    self.pageSize = pageSize
    var merged: [UInt64: (pages: UInt64, first: Int)] = [:]
    // The lowest PFN first, so that an unknown bit is reported where page-types meets it.
    for e in histogram.entries.sorted(by: { $0.firstPFN < $1.firstPFN }) {
      let key = Self.transform(e.word, mode: mode)
      if key & ~Self.namedMask != 0 {
        guard acceptUnknown else {
          throw Self.unknownBitError(path: path, pfn: e.firstPFN, word: e.word, bit: (key & ~Self.namedMask).trailingZeroBitCount)
        }
      }
      let old = merged[key]
      merged[key] = ((old?.pages ?? 0) + e.pages, min(old?.first ?? .max, e.firstPFN))
    }
    totalPages = merged.values.reduce(0) { $0 + $1.pages }
    // page-types inserts each word into its table when first met, in PFN order, at
    // slot (word & 8191) with linear probing over slots 1...8191 (slot 0 is the word 0's),
    // and prints the table by slot. Replaying the insertions reproduces its row order.
    let byFirst = merged.sorted { $0.value.first < $1.value.first }
    let size = 8192
    var slots = [UInt64?](repeating: nil, count: size)
    var overflow: [UInt64] = []
    for (key, _) in byFirst {
      if key == 0 {
        slots[0] = 0
        continue
      }
      var k = Int(key & UInt64(size - 1))
      var placed = false
      for _ in 1..<size {
        if k == 0 || k >= size { k = 1 }
        if slots[k] == nil {
          slots[k] = key
          placed = true
          break
        }
        k += 1
      }
      // page-types stops with "hash table full" here; keep the rest in PFN order.
      if !placed { overflow.append(key) }
    }
    rows = (slots.compactMap { $0 } + overflow).map { Row(flags: $0, pages: merged[$0]!.pages) }
  }

  /// Scans a kpageflags array and builds its summary. Unknown bits are judged as
  /// page-types judges them, after the mode's transformation (the default mode hides
  /// bits 32-47), so the array's own `refusedBits` check is off for this scan; it is
  /// skipped altogether when the array's `refusedBits` is 0 (accept everything).
  public static func of(_ flags: KPageArray, mode: Mode, pageSize: Int = 4096, threads: Int = Parallel.defaultThreads) throws -> PageTypesSummary {
    let refused = flags.refusedBits
    flags.refusedBits = 0
    defer { flags.refusedBits = refused }
    return try PageTypesSummary(histogram: FlagWordHistogram.of(flags, threads: threads), mode: mode, pageSize: pageSize, path: flags.path, acceptUnknown: refused == 0)
  }

  /// MB as page-types computes it: `(pages * page_size) >> 20`.
  public func megabytes(_ pages: UInt64) -> UInt64 { (pages &* UInt64(pageSize)) >> 20 }
}
