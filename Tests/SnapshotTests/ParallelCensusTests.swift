import MemdescTestSupport
import PageModel
import Testing

@testable import Snapshot

/// The census on several threads against the census on one, over dumps made of what
/// carries state from run to run (compound folios, orphan tails, HugeTLB pages with and
/// without HVO), cut into chunks of every size so that each crosses chunk boundaries.
@Suite struct ParallelCensusTests {
  static let head = KPF.compoundHead.mask, tail = KPF.compoundTail.mask, huge = KPF.huge.mask
  static let anon = KPF.anon.mask | KPF.lru.mask | KPF.mmap.mask
  static let thp = anon | KPF.thp.mask
  static let file = KPF.lru.mask | KPF.uptodate.mask

  /// A dump of random pieces, each naturally aligned where the kernel would align it.
  static func dump(_ rng: inout SplitMix64, words target: Int) -> [UInt64] {
    var w: [UInt64] = []
    func put(_ v: UInt64, _ n: Int) { w.append(contentsOf: repeatElement(v, count: n)) }
    func align(_ order: Int) { put(0, (1 << order - w.count % (1 << order)) % (1 << order)) }
    func compound(_ v: UInt64, order: Int) { align(order); put(v | head, 1); put(v | tail, (1 << order) - 1) }
    // One of each folio kind and a HugeTLB page first, so that every dump has them
    // whatever the random pieces turn out to be (an HVO 1 GiB page pads to 1 GiB with zeros).
    compound(thp, order: 9)
    compound(thp, order: 2)
    compound(file, order: 3)
    compound(huge, order: 9)
    while w.count < target {
      switch rng.next() % 12 {
      case 0: put(0, Int(rng.next() % 3000))
      case 1: put(anon, Int(rng.next() % 40) + 1)
      case 2: put(KPF.buddy.mask, Int(rng.next() % 2048))
      case 3: compound(thp, order: 9)
      case 4: compound(thp, order: Int(rng.next() % 4) + 2)
      case 5: compound(file, order: Int(rng.next() % 5) + 1)
      case 6: compound(KPF.slab.mask, order: Int(rng.next() % 3) + 1)
      case 7: compound(huge, order: 9)
      case 8:  // HVO 2 MiB pages: a head and 63 tails per 64 PFNs, all heads one word.
        align(9)
        for _ in 0..<(8 * (Int(rng.next() % 4) + 1)) { put(huge | head, 1); put(huge | tail, 63) }
      case 9:  // An orphan tail or two, a lone head, a head with too few tails; also with
        // no other bit (a large kmalloc's compound page reads HEAD or TAIL alone).
        let v = rng.next() % 3 == 0 ? 0 : anon
        put(v | tail, Int(rng.next() % 3) + 1)
        put(v | head, Int(rng.next() % 2) + 1)
        put(v | tail, Int(rng.next() % 5))
      case 10:  // Runs of one, as a dump without runs has them, and a bare compound among them.
        for _ in 0..<Int(rng.next() % 64) { put(rng.next() % 2 == 0 ? anon : file, 1) }
        if rng.next() % 2 == 0 { compound(0, order: Int(rng.next() % 3) + 1) }
        for _ in 0..<Int(rng.next() % 64) { put([anon, file, KPF.buddy.mask][Int(rng.next() % 3)], 1) }
      default:
        if rng.next() % 8 == 0 {  // Rarely, an HVO 1 GiB page.
          align(18)
          for _ in 0..<4096 { put(huge | head, 1); put(huge | tail, 63) }
        } else {
          put(KPF.pgtable.mask, Int(rng.next() % 4) + 1)
        }
      }
    }
    return w
  }

  static let pools = """
    hugepages-1048576kB nr_hugepages=1 free_hugepages=0 resv_hugepages=0 surplus_hugepages=0 nr_overcommit_hugepages=0
    hugepages-2048kB nr_hugepages=40 free_hugepages=0 resv_hugepages=0 surplus_hugepages=0 nr_overcommit_hugepages=0
    vm.hugetlb_optimize_vmemmap=1

    """

  static func census(_ words: [UInt64], chunk: Int, threads: Int) throws -> Census {
    let s = try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: words, chunkWords: chunk), texts: ["hugepages": pools])
    return try Census.of(s, threads: threads)
  }

  @Test func parallelCensusEqualsOneThread() throws {
    var rng = SplitMix64(seed: testSeed("parallelCensusEqualsOneThread"))
    for round in 0..<6 {
      let words = Self.dump(&rng, words: 300_000 + Int(rng.next() % 400_000))
      let one = try Self.census(words, chunk: 1 << 20, threads: 1)
      // One-word chunks on one thread: every word through `CensusScanner.run`, none
      // through `add`'s loop for runs of one (which only counts cached singles).
      #expect(try Self.census(words, chunk: 1, threads: 1) == one, "round \(round): word by word")
      #expect(one.folios.count > 2 && one.hugetlbPages > 0, "round \(round): the dump has folios and HugeTLB pages: \(words.count) words, folios \(one.folios), \(one.hugetlbPages) HugeTLB pages")
      for chunk in [1, 7, 64, 511, 4096, Int(rng.next() % 100_000) + 1] {
        let threads = chunk == 1 ? 2 : Int(rng.next() % 3) + 2
        guard chunk > 1 || words.count < 400_000 else { continue }
        let many = try Self.census(words, chunk: chunk, threads: threads)
        #expect(many == one, "round \(round), \(words.count) words, chunks of \(chunk), \(threads) threads")
      }
    }
  }

  /// The report's map counted on the census's workers and assembled by its merger
  /// (`MapSidePass`) against the map built on one thread from one chunk: random dumps with
  /// holes and RAM ranges that end inside cells, cut into chunks of every size, and run
  /// limits that make the finest levels give up.
  @Test func parallelMapEqualsOneThread() throws {
    var rng = SplitMix64(seed: testSeed("parallelMapEqualsOneThread"))
    for round in 0..<4 {
      var words = Self.dump(&rng, words: 200_000 + Int(rng.next() % 300_000))
      // A stretch of zeros inside RAM and a section or more outside it.
      let zeros = Int(rng.next() % UInt64(words.count / 2))
      for k in zeros..<min(words.count, zeros + 40_000 + Int(rng.next() % 40_000)) { words[k] = 0 }
      words.append(contentsOf: repeatElement(0, count: 32_768 + Int(rng.next() % 1000)))
      let cut = Int(rng.next() % 5000) + 1
      let ram: [PFNRange]? = round == 0 ? nil : [PFN(UInt64(cut))..<PFN(UInt64(words.count - 40_000))]
      let maxRuns = [3, 40, PhysicalMapBuilder.defaultMaxRuns][Int(rng.next() % 3)]
      let s = try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: words, chunkWords: 1 << 20), texts: ["hugepages": Self.pools])
      let reference = PhysicalMapBuilder(pfns: words.count, ram: ram, maxRuns: maxRuns)
      words.withUnsafeBufferPointer { reference.add(startPFN: 0, $0) }
      let one = reference.finish()
      var totals = [Int](repeating: 0, count: MapClass.allCases.count)
      for w in words where w != 0 { totals[MapClass.of(w).rawValue] += 1 }
      // Zero words become holes, uninitialised RAM or (beside non-zero words) other pages.
      let fromZero = one.totals[MapClass.hole.rawValue] + one.totals[MapClass.uninitialised.rawValue] + one.totals[MapClass.other.rawValue] - totals[MapClass.other.rawValue]
      #expect(fromZero == words.filter { $0 == 0 }.count, "round \(round): zero words in the map's totals \(one.totals)")
      for c in MapClass.allCases where ![.hole, .other, .uninitialised].contains(c) {
        #expect(one.totals[c.rawValue] == totals[c.rawValue], "round \(round): \(c) pages in the map \(one.totals[c.rawValue]), in the words \(totals[c.rawValue])")
      }
      #expect(one.runs.count > 1 && one.runs.reduce(0) { $0 + $1.cells } == one.cells, "round \(round): \(one.runs.count) runs over \(one.cells) cells")
      let whole = try Census.of(s, systemRAM: ram, threads: 1)
      for chunk in [1, 77, 512, 4096, 16_384, Int(rng.next() % 100_000) + 1] {
        // One thread too: the map then takes its runs from the one-thread pass.
        let threads = Int(rng.next() % 4) + 1
        guard chunk > 1 || words.count < 300_000 else { continue }
        let array = KPageArray(file: .kpageflags, words: words, chunkWords: chunk)
        let pieces = try PageSnapshot(origin: .live, kpageflags: array, texts: ["hugepages": Self.pools])
        let builder = PhysicalMapBuilder(pfns: words.count, ram: ram, maxRuns: maxRuns)
        let census = try Census.of(pieces, systemRAM: ram, threads: threads, side: MapSidePass(builder))
        let many = builder.finish()
        #expect(many == one, "round \(round), \(words.count) words, chunks of \(chunk), \(threads) threads, max runs \(maxRuns): level \(many.level) against \(one.level), \(many.runs.count) runs against \(one.runs.count)")
        #expect(census == whole, "round \(round), chunks of \(chunk): the census beside the map is the census")
      }
    }
  }

  /// A refused bit in several chunks: the error names the lowest PFN, as on one thread.
  @Test func firstRefusedWordWins() throws {
    var words = [UInt64](repeating: Self.anon, count: 50_000)
    for pfn in [41_000, 30_001, 12_345, 49_999] { words[pfn] |= 1 << 58 }
    for threads in [1, 2, 4] {
      #expect {
        try Self.census(words, chunk: 1000, threads: threads)
      } throws: { e in
        (e as? SnapshotError)?.kind == .unknownFlagBit && "\(e)".contains("12345")
      }
    }
  }
}
