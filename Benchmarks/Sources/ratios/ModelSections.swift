// The sections of issues 3 and 4 in the one-process report, in all four eras:
//
// * pageFolio / folio(containing:) over a 4 GiB machine filled with folios of mixed
//   orders, concrete and through `any MemoryModel`; order-0 folio allocate+free;
//   ratios against classic (issue 4).
// * HugeTLB vmemmap optimise+restore per 2 MiB and per 1 GiB page, and growing and
//   shrinking the pools with HVO on and off on an 8 GiB machine (issue 3).
//
// As in the other sections, all eras' cases are interleaved in one loop whose order
// rotates every repetition, and every ratio is the median of per-repetition ratios.
import BenchSupport
import PageModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

let eraNames = Era.allCases.map(\.rawValue)

// MARK: pageFolio and folio allocate+free (issue 4)

struct FolioResults {
  var fills: [String: FolioFill] = [:]
  var pfnCount = 0
  /// Samples by pattern, then "<era>/pageFolio", "<era>/folioContaining", "<era>/any".
  var lookups: [AccessPattern: [String: [Double]]] = [:]
  /// Checksums of folio(containing:) by pattern and era (the 64-byte eras must agree).
  var checksums: [AccessPattern: [String: UInt64]] = [:]
  /// "<era>/folioPair", "<era>/folioPairAny", and "<classic|mask>/pagePair".
  var pairs: [String: [Double]] = [:]
}

func folioLookupCases<E: ModelBenchEra>(
  _: E.Type, _ m: E.Model, _ buf: UnsafeBufferPointer<UInt64>, _ o: Options
) throws -> (cases: [Case], checksum: UInt64) {
  let name = E.era.rawValue
  let model: any MemoryModel = m
  let unified = E.foliosContaining(m, buf)
  let viaAny = folioContainingAny(model, buf)
  guard unified == viaAny else { throw BenchFailure("\(name): folio(containing:) \(unified) != through any MemoryModel \(viaAny)") }
  if E.era == .memdesc32 || E.era == .memdesc8 {
    // In the memdesc eras folio(containing:) is pageFolio.
    let own = E.pageFolios(m, buf)
    guard own == unified else { throw BenchFailure("\(name): pageFolio \(own) != folio(containing:) \(unified)") }
  }
  let passes = o.folioPasses
  return ([
    Case("\(name)/pageFolio") { timed { for _ in 0..<passes { _ = E.pageFolios(m, buf) } }.1 },
    Case("\(name)/folioContaining") { timed { for _ in 0..<passes { _ = E.foliosContaining(m, buf) } }.1 },
    Case("\(name)/any") { timed { for _ in 0..<passes { _ = folioContainingAny(model, buf) } }.1 },
  ], unified)
}

func folioPairCases<E: ModelBenchEra>(_: E.Type, _ o: Options) throws -> (cases: [Case], model: E.Model, kept: E.Model) {
  let name = E.era.rawValue
  let m = try E.boot(ramBytes: benchRAMBytes)
  let model: any MemoryModel = m
  _ = E.folioAllocFree(m, count: 1 << 16)  // warm-up: descriptor slabs, per-CPU lists
  _ = folioAllocFreeAny(model, count: 1 << 16)
  // The same loop on a second machine where one order-0 folio stays allocated, so that
  // its descriptor keeps the folio slab from emptying (see docs/benchmarks.md: in the
  // memdesc eras an empty slab goes back to the buddy allocator at once).
  let kept = try E.boot(ramBytes: benchRAMBytes)
  guard kept.allocFolio(order: 0, kind: .anon, gfp: .kernel, node: 0) != nil else { throw BenchFailure("\(name): no folio") }
  _ = E.folioAllocFree(kept, count: 1 << 16)
  let n = o.folioPairs
  return ([
    Case("\(name)/folioPair") { timed { E.folioAllocFree(m, count: n) }.1 },
    Case("\(name)/folioPairAny") { timed { folioAllocFreeAny(model, count: n) }.1 },
    Case("\(name)/folioPairKept") { timed { E.folioAllocFree(kept, count: n) }.1 },
  ], m, kept)
}

func folioRun(_ o: Options) throws -> FolioResults {
  var r = FolioResults()
  eprint("pageFolio: booting four 4 GiB machines and filling them with folios of mixed orders...\n")
  let (classic, cf) = try filledFolioMachine(ClassicEncoding.self)
  let (mask, mf) = try filledFolioMachine(MaskEncoding.self)
  let (md32, f32) = try filledFolioMachine(Memdesc32Format.self)
  let (md8, f8) = try filledFolioMachine(Memdesc8Format.self)
  r.fills = ["classic": cf, "mask": mf, "memdesc32": f32, "memdesc8": f8]
  for pattern in AccessPattern.allCases {
    // One PFN array for all four eras: they have the same flat layout.
    let pfns = pfnArray(classic, pattern: pattern)
    r.pfnCount = pfns.count
    try pfns.withUnsafeBufferPointer { buf in
      let a = try folioLookupCases(ClassicEncoding.self, classic, buf, o)
      let b = try folioLookupCases(MaskEncoding.self, mask, buf, o)
      let c = try folioLookupCases(Memdesc32Format.self, md32, buf, o)
      let d = try folioLookupCases(Memdesc8Format.self, md8, buf, o)
      r.checksums[pattern] = ["classic": a.checksum, "mask": b.checksum, "memdesc32": c.checksum, "memdesc8": d.checksum]
      guard a.checksum == b.checksum else {
        throw BenchFailure("\(pattern): folio(containing:) checksums differ between classic \(a.checksum) and mask \(b.checksum)")
      }
      r.lookups[pattern] = interleave(a.cases + b.cases + c.cases + d.cases, reps: o.reps)
    }
    eprint("pageFolio \(pattern): done\n")
  }
  keepAlive((classic, mask, md32, md8))

  eprint("order-0 folio alloc+free, four eras...\n")
  let a = try folioPairCases(ClassicEncoding.self, o)
  let b = try folioPairCases(MaskEncoding.self, o)
  let c = try folioPairCases(Memdesc32Format.self, o)
  let d = try folioPairCases(Memdesc8Format.self, o)
  // The page-level pair of the existing section, on the same machines, as a reference.
  _ = allocFreePairsClassic(a.model, count: 1 << 16)
  _ = allocFreePairsMask(b.model, count: 1 << 16)
  let n = o.folioPairs
  let pagePairs = [
    Case("classic/pagePair") { timed { allocFreePairsClassic(a.model, count: n) }.1 },
    Case("mask/pagePair") { timed { allocFreePairsMask(b.model, count: n) }.1 },
  ]
  r.pairs = interleave(a.cases + b.cases + c.cases + d.cases + pagePairs, reps: o.reps)
  keepAlive((a.model, b.model, c.model, d.model, a.kept, b.kept, c.kept, d.kept))
  return r
}

func printFolio(_ r: FolioResults, _ o: Options) {
  print("")
  print("## pageFolio over folios of mixed orders, four eras (issue 4)")
  print("")
  print("A 4 GiB machine per era filled with anonymous and page-cache folios (1 in 128 draws order 9, the rest orders 0-4, half of those order 0; SplitMix64 seed \(benchSeed)) until order 0 fails; the same \(r.pfnCount) PFNs for every era; \(o.folioPasses) passes per sample, \(o.reps) repetitions.")
  print("")
  print("| era | folios | of them order 0 / 1-4 / 9 | pages in folios |")
  print("|---|---:|---|---:|")
  for era in eraNames {
    let f = r.fills[era]!
    print("| \(era) | \(f.folios) | \(f.byOrder[0]) / \(f.byOrder[1...4].reduce(0, +)) / \(f.byOrder[9]) | \(f.pages) |")
  }
  print("")
  print("`pageFolio` is the era family's own (64-byte eras: `Folio(pfn: compoundHead(pfn))`, never nil; memdesc eras: nil outside a folio); `folio(containing:)` is the unified call of `MemoryModel` (64-byte eras: `compoundHead` plus a look at the head's `mapping` and page type; memdesc eras: `pageFolio` itself); *any* is `folio(containing:)` on the same machine as `any MemoryModel`.")
  print("")
  print("| era | pattern | pageFolio ns/PFN | folio(containing:) ns/PFN | any MemoryModel ns/PFN | **any / concrete** | min..max |")
  print("|---|---|---:|---:|---:|---:|---|")
  let per = Double(o.folioPasses * r.pfnCount)
  for era in eraNames {
    for p in AccessPattern.allCases {
      let l = r.lookups[p]!
      let x = ratios(l["\(era)/any"]!, l["\(era)/folioContaining"]!).sorted()
      print("| \(era) | \(p) | \(fmt(median(l["\(era)/pageFolio"]!) / per)) | \(fmt(median(l["\(era)/folioContaining"]!) / per)) | \(fmt(median(l["\(era)/any"]!) / per)) | **\(fmt(median(x), 2))** | \(fmt(x.first!, 2))..\(fmt(x.last!, 2)) |")
    }
  }
  print("")
  print("Order-0 folio allocate+free: `allocFolio(order: 0, kind: .anon)` then `folioPut`, \(o.folioPairs) pairs per sample on a fresh 4 GiB machine; *one folio kept* is the same loop on a machine where one other order-0 folio stays allocated; *page* is `allocPages(order: 0)` + `freePages` on the first machine.")
  print("")
  print("| era | folio alloc+free (M pairs/s) | one folio kept (M pairs/s) | through any MemoryModel (M pairs/s) | **any / concrete** (time) | page alloc+free (M pairs/s) | folio / page (time) |")
  print("|---|---:|---:|---:|---:|---:|---:|")
  func rate(_ key: String) -> Double { median(r.pairs[key]!.map { Double(o.folioPairs) / $0 * 1e3 }) }
  for era in eraNames {
    let x = median(ratios(r.pairs["\(era)/folioPairAny"]!, r.pairs["\(era)/folioPair"]!))
    var page = "", fp = ""
    if let pp = r.pairs["\(era)/pagePair"] {
      page = fmt(rate("\(era)/pagePair"))
      fp = fmt(median(ratios(r.pairs["\(era)/folioPair"]!, pp)), 2)
    }
    print("| \(era) | \(fmt(rate("\(era)/folioPair"))) | \(fmt(rate("\(era)/folioPairKept"))) | \(fmt(rate("\(era)/folioPairAny"))) | **\(fmt(x, 2))** | \(page) | \(fp) |")
  }
  print("")
  print("### against classic (time ratios, median of per-repetition ratios; < 1: faster than classic)")
  print("")
  print("| case | mask/classic | memdesc32/classic | memdesc8/classic |")
  print("|---|---:|---:|---:|")
  func row(_ label: String, _ samples: [String: [Double]], _ suffix: String) {
    let base = samples["classic/\(suffix)"]!
    let cells = ["mask", "memdesc32", "memdesc8"].map { era -> String in
      let rr = ratios(samples["\(era)/\(suffix)"]!, base).sorted()
      return "**\(fmt(median(rr), 2))** (\(fmt(rr.first!, 2))..\(fmt(rr.last!, 2)))"
    }
    print("| \(label) | \(cells.joined(separator: " | ")) |")
  }
  for p in AccessPattern.allCases {
    row("pageFolio, \(p)", r.lookups[p]!, "pageFolio")
    row("folio(containing:), \(p)", r.lookups[p]!, "folioContaining")
    row("folio(containing:) via any MemoryModel, \(p)", r.lookups[p]!, "any")
  }
  row("order-0 folio alloc+free", r.pairs, "folioPair")
  row("order-0 folio alloc+free via any MemoryModel", r.pairs, "folioPairAny")
  row("order-0 folio alloc+free, one folio kept", r.pairs, "folioPairKept")
}

// MARK: HugeTLB: optimise+restore and pools with HVO on and off (issue 3)

struct HVOResults {
  /// "<era>/hvo2M", "<era>/hvo1G": one sample = `hvoRounds` rounds over the pool.
  var optimise: [String: [Double]] = [:]
  /// Optimise and restore calls that succeeded in one round, by the same names.
  var succeeded: [String: UInt64] = [:]
  /// "<era>/pool2M/on" ...: growth samples; shrink samples in `shrink`.
  var grow: [String: [Double]] = [:]
  var shrink: [String: [Double]] = [:]
  /// Pages optimised after a growth, by the pool names.
  var optimisedAfterGrow: [String: Int] = [:]
  /// Free pages of each pool machine before the first and after the last sample.
  var freeBeforeAfter: [String: (Int, Int)] = [:]
}

nonisolated(unsafe) var shrinkSamples: [String: [Double]] = [:]
nonisolated(unsafe) var optimisedAfterGrow: [String: Int] = [:]

func hvoCases<E: ModelBenchEra>(_: E.Type, _ o: Options) throws -> (cases: [Case], succeeded: [String: UInt64], keep: AnyObject) {
  let name = E.era.rawValue
  let (m, f2, f1) = try hugetlbMachine(E.self)
  let b2 = UnsafeMutableBufferPointer<Folio>.allocate(capacity: f2.count)
  _ = b2.initialize(from: f2)
  let b1 = UnsafeMutableBufferPointer<Folio>.allocate(capacity: f1.count)
  _ = b1.initialize(from: f1)
  let (p2, p1) = (UnsafeBufferPointer(b2), UnsafeBufferPointer(b1))
  // Warm-up: the first optimisation frees boot-time (reserved) memmap frames, later ones
  // the frames the previous restore allocated.
  E.hvoWarmUp(m, p2)
  E.hvoWarmUp(m, p1)
  let ok = ["\(name)/hvo2M": E.hvoOptimizeRestore(m, p2), "\(name)/hvo1G": E.hvoOptimizeRestore(m, p1)]
  let rounds = o.hvoRounds
  return ([
    Case("\(name)/hvo2M") { timed { for _ in 0..<rounds { _ = E.hvoOptimizeRestore(m, p2) } }.1 },
    Case("\(name)/hvo1G") { timed { for _ in 0..<rounds { _ = E.hvoOptimizeRestore(m, p1) } }.1 },
  ], ok, m)
}

/// One sample: `rounds` cycles of growing the pool from 0 to `count` (timed) and
/// shrinking it back to 0 (timed separately, into `shrinkSamples`).
func poolCase<E: ModelBenchEra>(_: E.Type, _ m: E.Model, order: Int, count: Int, hvo: Bool, rounds: Int) -> Case {
  let name = "\(E.era.rawValue)/pool\(order == Hstate.pmd ? "2M" : "1G")/\(hvo ? "on" : "off")"
  return Case(name) {
    m.setHugetlbOptimizeVmemmap(hvo)
    var grow = 0.0, shrink = 0.0
    for _ in 0..<rounds {
      let (got, g) = timed { E.hugetlbGrow(m, order: order, count: count) }
      optimisedAfterGrow[name] = m.hugetlb.optimized.count
      let (left, s) = timed { E.hugetlbShrink(m, order: order, count: 0) }
      guard got == count, left == 0 else { fail("\(name): pool grew to \(got) of \(count), shrank to \(left)") }
      grow += g
      shrink += s
    }
    shrinkSamples[name, default: []].append(shrink)
    m.setHugetlbOptimizeVmemmap(false)
    return grow
  }
}

func poolCases<E: ModelBenchEra>(_: E.Type, rounds: Int) throws -> (cases: [Case], model: E.Model) {
  let m = try E.boot(ramBytes: hugetlbRAMBytes)
  // Warm-up: one growth and shrink of each kind, HVO on and off.
  for hvo in [false, true] {
    m.setHugetlbOptimizeVmemmap(hvo)
    m.setNrHugePages(order: Hstate.pmd, count: poolPages2M)
    m.setNrHugePages(order: Hstate.pmd, count: 0)
    m.setNrHugePages(order: Hstate.pud, count: poolPages1G)
    m.setNrHugePages(order: Hstate.pud, count: 0)
  }
  m.setHugetlbOptimizeVmemmap(false)
  var cases: [Case] = []
  for hvo in [false, true] {
    cases.append(poolCase(E.self, m, order: Hstate.pmd, count: poolPages2M, hvo: hvo, rounds: rounds))
    cases.append(poolCase(E.self, m, order: Hstate.pud, count: poolPages1G, hvo: hvo, rounds: rounds))
  }
  return (cases, m)
}

func hvoRun(_ o: Options) throws -> HVOResults {
  var r = HVOResults()
  do {
    eprint("HVO: booting four 8 GiB machines with pools of \(hvoPages2M) x 2 MiB and \(hvoPages1G) x 1 GiB pages...\n")
    let a = try hvoCases(ClassicEncoding.self, o)
    let b = try hvoCases(MaskEncoding.self, o)
    let c = try hvoCases(Memdesc32Format.self, o)
    let d = try hvoCases(Memdesc8Format.self, o)
    for x in [a.succeeded, b.succeeded, c.succeeded, d.succeeded] { r.succeeded.merge(x) { $1 } }
    r.optimise = interleave(a.cases + b.cases + c.cases + d.cases, reps: o.reps)
    keepAlive((a.keep, b.keep, c.keep, d.keep))
    eprint("HVO optimise+restore: done\n")
  }
  eprint("HugeTLB pools: booting four 8 GiB machines, growing by \(poolPages2M) x 2 MiB and \(poolPages1G) x 1 GiB with HVO on and off...\n")
  let a = try poolCases(ClassicEncoding.self, rounds: o.poolRounds)
  let b = try poolCases(MaskEncoding.self, rounds: o.poolRounds)
  let c = try poolCases(Memdesc32Format.self, rounds: o.poolRounds)
  let d = try poolCases(Memdesc8Format.self, rounds: o.poolRounds)
  let before = ["classic": a.model.machine.freePages, "mask": b.model.machine.freePages, "memdesc32": c.model.machine.freePages, "memdesc8": d.model.machine.freePages]
  r.grow = interleave(a.cases + b.cases + c.cases + d.cases, reps: o.reps)
  let after = ["classic": a.model.machine.freePages, "mask": b.model.machine.freePages, "memdesc32": c.model.machine.freePages, "memdesc8": d.model.machine.freePages]
  for era in eraNames { r.freeBeforeAfter[era] = (before[era]!, after[era]!) }
  r.shrink = shrinkSamples
  r.optimisedAfterGrow = optimisedAfterGrow
  keepAlive((a.model, b.model, c.model, d.model))
  eprint("HugeTLB pools: done\n")
  return r
}

func printHVO(_ r: HVOResults, _ o: Options) {
  print("")
  print("## HugeTLB vmemmap optimisation (HVO), four eras (issue 3)")
  print("")
  print("Optimise (`hugetlbVmemmapOptimizeFolio`) then restore (`hugetlbVmemmapRestoreFolio`) of each page of a pool on an 8 GiB machine: \(hvoPages2M) x 2 MiB and \(hvoPages1G) x 1 GiB pages, \(o.hvoRounds) rounds per sample, \(o.reps) repetitions. *calls ok* is how many of the 2 x pages calls of one round succeeded (memdesc8's 2 MiB page has one vmemmap page, nothing to optimise).")
  print("")
  print("| era | 2 MiB: us per optimise+restore | calls ok | vs classic | 1 GiB: us per optimise+restore | calls ok | vs classic |")
  print("|---|---:|---:|---:|---:|---:|---:|")
  for era in eraNames {
    var cells: [String] = []
    for (size, pages) in [("2M", hvoPages2M), ("1G", hvoPages1G)] {
      let key = "\(era)/hvo\(size)"
      let us = median(r.optimise[key]!) / Double(o.hvoRounds * pages) / 1e3
      let vs = era == "classic" ? "1" : fmt(median(ratios(r.optimise[key]!, r.optimise["classic/hvo\(size)"]!)), 2)
      cells += [fmt(us, us < 10 ? 2 : 1), "\(r.succeeded[key]!) of \(2 * pages)", vs]
    }
    print("| \(era) | \(cells.joined(separator: " | ")) |")
  }
  print("")
  print("Pools: `setNrHugePages` from 0 to \(poolPages2M) x 2 MiB (1 GiB of an 8 GiB machine) or \(poolPages1G) x 1 GiB, timed, then back to 0, timed, \(o.poolRounds) times per sample (times below are per growth or shrink); HVO on (`setHugetlbOptimizeVmemmap`) and off on the same machine, alternating. The kernel's `hugetlb_optimize_vmemmap` sysctl documentation estimates allocation about 2x and freeing 2-3x slower with HVO.")
  print("")
  print("| era | pool | grow, HVO off ms | grow, HVO on ms | **allocate HVO/no-HVO** | shrink, HVO off ms | shrink, HVO on ms | **free HVO/no-HVO** | pages optimised |")
  print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
  for era in eraNames {
    for (size, pages) in [("2M", poolPages2M), ("1G", poolPages1G)] {
      let on = "\(era)/pool\(size)/on", off = "\(era)/pool\(size)/off"
      let ga = ratios(r.grow[on]!, r.grow[off]!).sorted()
      let fa = ratios(r.shrink[on]!, r.shrink[off]!).sorted()
      func ms(_ xs: [Double]) -> String { fmt(median(xs) / 1e6 / Double(o.poolRounds), 2) }
      print("| \(era) | \(pages) x \(size == "2M" ? "2 MiB" : "1 GiB") | \(ms(r.grow[off]!)) | \(ms(r.grow[on]!)) | **\(fmt(median(ga), 2))** (\(fmt(ga.first!, 2))..\(fmt(ga.last!, 2))) | \(ms(r.shrink[off]!)) | \(ms(r.shrink[on]!)) | **\(fmt(median(fa), 2))** (\(fmt(fa.first!, 2))..\(fmt(fa.last!, 2))) | \(r.optimisedAfterGrow[on] ?? 0) of \(pages) |")
    }
  }
  print("")
  print("| pool grow+shrink, against classic (time) | mask/classic | memdesc32/classic | memdesc8/classic |")
  print("|---|---:|---:|---:|")
  for (size, label) in [("2M", "\(poolPages2M) x 2 MiB"), ("1G", "\(poolPages1G) x 1 GiB")] {
    for hvo in ["off", "on"] {
      let base = zip(r.grow["classic/pool\(size)/\(hvo)"]!, r.shrink["classic/pool\(size)/\(hvo)"]!).map(+)
      let cells = ["mask", "memdesc32", "memdesc8"].map { era -> String in
        let x = zip(r.grow["\(era)/pool\(size)/\(hvo)"]!, r.shrink["\(era)/pool\(size)/\(hvo)"]!).map(+)
        return fmt(median(ratios(x, base)), 2)
      }
      print("| \(label), HVO \(hvo) | \(cells.joined(separator: " | ")) |")
    }
  }
  let leaks = eraNames.filter { r.freeBeforeAfter[$0]!.0 != r.freeBeforeAfter[$0]!.1 }
  print("")
  print(leaks.isEmpty
    ? "Free pages of every pool machine are the same before the first and after the last sample (no leak)."
    : "Free pages changed across the pool samples: " + leaks.map { "\($0) \(r.freeBeforeAfter[$0]!.0) -> \(r.freeBeforeAfter[$0]!.1)" }.joined(separator: ", "))
}

// MARK: callgrind parts of issues 3 and 4

/// Fixed work for callgrind, in one era: part "folio" (one pass of pageFolio,
/// folio(containing:) and folio(containing:) through `any MemoryModel` over the
/// `--pattern` array, random by default), "folioalloc" (`--pairs` order-0 folio
/// allocate+free pairs, concrete and through `any MemoryModel`; with `--keep-one`, one
/// more folio stays allocated throughout), "hvo2m" / "hvo1g" (one
/// optimise+restore round over the pool after a warm-up round), "pool2m" / "pool1g"
/// (one growth and one shrink with HVO `--hvo on|off`, after a warm-up of each).
func callgrindModelEra<E: ModelBenchEra>(_: E.Type, _ o: Options) throws {
  let name = E.era.rawValue
  switch o.part {
  case "folio":
    let (m, fill) = try filledFolioMachine(E.self)
    let pfns = pfnArray(try filledMachineLayoutProbe(), pattern: o.pattern ?? .random)
    try pfns.withUnsafeBufferPointer { buf in
      let a = E.pageFolios(m, buf), b = E.foliosContaining(m, buf), c = folioContainingAny(m, buf)
      guard b == c else { throw BenchFailure("\(name): folio(containing:) \(b) != any \(c)") }
      print("\(name) folios=\(fill.folios) pfns=\(buf.count) pageFolio=\(a) folioContaining=\(b)")
    }
    keepAlive(m)
  case "folioalloc":
    let m = try E.boot(ramBytes: benchRAMBytes)
    _ = folioAllocFreeLoopWarm(m)
    if o.keepOne {
      // One folio stays allocated, so the folio slab never empties.
      _ = m.allocFolio(order: 0, kind: .anon, gfp: .kernel, node: 0)
    }
    print("\(name) folio pairs=\(o.pairs) kept=\(o.keepOne) sum=\(E.folioAllocFree(m, count: o.pairs)) any=\(folioAllocFreeAny(m, count: o.pairs))")
    keepAlive(m)
  case "hvo2m", "hvo1g":
    let (m, f2, f1) = try hugetlbMachine(E.self)
    let folios = o.part == "hvo2m" ? f2 : f1
    try folios.withUnsafeBufferPointer { buf in
      E.hvoWarmUp(m, buf)
      let n = E.hvoOptimizeRestore(m, buf)
      print("\(name) \(o.part!) pages=\(buf.count) calls ok=\(n)")
      if n != 2 * UInt64(buf.count) && !(E.era == .memdesc8 && o.part == "hvo2m") {
        throw BenchFailure("\(name): only \(n) optimise/restore calls succeeded")
      }
    }
    keepAlive(m)
  case "pool2m", "pool1g":
    let m = try E.boot(ramBytes: hugetlbRAMBytes)
    let (order, count) = o.part == "pool2m" ? (Hstate.pmd, poolPages2M) : (Hstate.pud, poolPages1G)
    m.setHugetlbOptimizeVmemmap(o.hvo)
    m.setNrHugePages(order: order, count: count)  // warm-up, outside the measured functions
    m.setNrHugePages(order: order, count: 0)
    let got = E.hugetlbGrow(m, order: order, count: count)
    let opt = m.hugetlb.optimized.count
    let left = E.hugetlbShrink(m, order: order, count: 0)
    print("\(name) \(o.part!) hvo=\(o.hvo) grew to \(got) (\(opt) optimised), shrank to \(left)")
    keepAlive(m)
  default:
    break
  }
}

/// A classic machine of the benchmark size, only to draw the PFN array from (all eras
/// have the same flat layout and so the same valid PFNs).
func filledMachineLayoutProbe() throws -> Page64Model<ClassicEncoding> { try bootClassic(ramBytes: benchRAMBytes) }

@inline(never)
func folioAllocFreeLoopWarm<M: MemoryModel>(_ m: M) -> Int {
  for _ in 0..<(1 << 12) { m.folioPut(m.allocFolio(order: 0, kind: .anon, gfp: .kernel, node: 0)!) }
  return 0
}
