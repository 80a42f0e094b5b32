import Testing
import MemdescTestSupport
@testable import PageModel

/// One logical sequence of operations run in all four eras through the one API
/// (``MemoryModel``), checked against an era-independent model of what must be
/// observable: which folio owns each page, its order, kind, flags and refcount.
///
/// Placement differs between eras (their memmaps and descriptor slabs take different
/// frames), so folios are compared by the logical allocation that made them, not by PFN.
struct DifferentialRun {
  struct LogicalFolio {
    var order: Int
    var kind: FolioKind
    var refs: Int
    var flags: Set<MemFlag>
    var pageFlags: [Int: Set<MemFlag>]
    var pfns: [PFN]  // one per era
    /// PTE mappings per page, and whole-folio mappings.
    var ptes: [Int: Int] = [:]
    var entire = 0
    var mapcount: Int { ptes.values.reduce(0, +) + entire }
  }

  let models: [any MemoryModel]
  var live: [Int: LogicalFolio] = [:]
  var bare: [(pfns: [PFN], order: Int)] = []
  /// Slab (order >= 0) and page-table (order -1 marks them) pages.
  var kernelPages: [(pfns: [PFN], order: Int)] = []
  var nextID = 0
  var hvo = false
  /// Folio flags and HWPoison pages (by index in the folio) of the 2 MiB pool's pages,
  /// in pool order (the same in every era).
  var poolFlags: [Set<MemFlag>] = []
  var poolPoison: [Set<Int>] = []
  /// An operation that one era refused and the others took, found while stepping.
  var refusal: String? = nil
  /// The pool page the last step changed, checked after it.
  var touchedPool: Int? = nil
  var rng: SplitMix64
  let seed: UInt64
  let livePageLimit: Int

  init(ram: UInt64, seed: UInt64) throws {
    models = try Era.allCases.map { try bootModel(MachineConfig(layout: .flat(ramBytes: ram), era: $0)) }
    rng = SplitMix64(seed: seed)
    self.seed = seed
    livePageLimit = Int(ram >> 12) / 3
  }

  var livePages: Int {
    live.values.reduce(0) { $0 + (1 << $1.order) } + bare.reduce(0) { $0 + (1 << $1.order) }
      + kernelPages.reduce(0) { $0 + (1 << max($1.order, 0)) } + models[0].hugetlbFolios(order: 9).count * 512
  }

  /// Runs `steps` random operations; returns the first divergence found. What a step
  /// changed is checked after it; everything (every page of every live folio, the buddy
  /// invariants, the frame count) every `fullEvery` steps and at the end. The full check
  /// costs as much as about 2,000 steps in a debug build, so checking every 512 steps was
  /// 70 % of the test's time.
  mutating func run(steps: Int, fullEvery: Int = 2048) -> String? {
    for step in 0..<steps {
      let touched = randomStep()
      if let r = refusal { return "step \(step): \(r)" }
      if let d = check(touched: touched, full: step % fullEvery == fullEvery - 1 || step == steps - 1) { return "step \(step): \(d)" }
    }
    return nil
  }

  mutating func randomStep() -> Int? {
    touchedPool = nil
    let r = rng.next() % 100
    if r < 30 || live.isEmpty {
      let o = rng.next() % 100
      let order = o < 55 ? 0 : o < 75 ? Int(rng.next() % 4) : Int(rng.next() % 11)
      guard livePages + (1 << order) <= livePageLimit else { return freeSomething() }
      let kind: FolioKind = rng.next() & 1 == 0 ? .anon : .file
      var pfns: [PFN] = []
      for m in models {
        guard let f = m.allocFolio(order: order, kind: kind, gfp: .kernel, node: 0) else { return nil }
        pfns.append(f.pfn)
      }
      live[nextID] = LogicalFolio(order: order, kind: kind, refs: 1, flags: order > 0 ? [.largeRmappable] : [], pageFlags: [:], pfns: pfns)
      nextID += 1
      return nextID - 1
    }
    if r < 35 {
      let order = Int(rng.next() % 3)
      guard livePages + (1 << order) <= livePageLimit else { return freeSomething() }
      var pfns: [PFN] = []
      for m in models { if let p = m.allocPages(order: order, gfp: .kernel, node: 0) { pfns.append(p) } }
      if pfns.count == models.count { bare.append((pfns, order)) }
      return nil
    }
    if r < 38 {
      let order = Int(rng.next() % 5) - 1  // -1: a page table
      guard livePages + (1 << max(order, 0)) <= livePageLimit else { return freeSomething() }
      var pfns: [PFN] = []
      for m in models {
        guard let p = order < 0 ? m.allocPageTable() : m.allocSlab(order: order) else { return nil }
        pfns.append(p)
      }
      kernelPages.append((pfns, order))
      return nil
    }
    if r < 39 {
      // The 2 MiB HugeTLB pool, grown or shrunk, with HVO switched now and then. Pages
      // leave poisoned or flagged pages unpoisoned and clean, as a pool page is freed.
      if rng.next() % 3 == 0 { hvo.toggle(); for m in models { m.setHugetlbOptimizeVmemmap(hvo) } }
      let target = Int(rng.next() % 6)
      let current = models[0].hugetlbFolios(order: 9).count
      guard livePages + max(target - current, 0) * 512 <= livePageLimit else { return nil }
      for i in min(target, current)..<current { unpoisonPool(i) }
      for m in models { _ = try! m.setNrHugePages(order: 9, count: target) }
      let now = models[0].hugetlbFolios(order: 9).count
      poolFlags = Array(poolFlags.prefix(now)) + Array(repeating: [], count: max(now - poolFlags.count, 0))
      poolPoison = Array(poolPoison.prefix(now)) + Array(repeating: [], count: max(now - poolPoison.count, 0))
      return nil
    }
    if r < 40, !poolFlags.isEmpty {
      // A pool page: a folio flag, or HWPoison on one of its pages (a tail's struct page
      // is read-only under HVO: the kernel records it in the folio's raw list).
      let i = Int(rng.next() % UInt64(poolFlags.count))
      touchedPool = i
      let on = rng.next() & 1 == 0
      if rng.next() & 1 == 0 {
        let flag = MemFlag.folioFlags.randomElement(using: &rng)!
        for m in models { try! m.folioSet(m.hugetlbFolios(order: 9)[i].folio, flag, on) }
        if on { poolFlags[i].insert(flag) } else { poolFlags[i].remove(flag) }
      } else {
        let n = [0, 1, 64, 511, Int(rng.next() % 512)].randomElement(using: &rng)!
        for m in models {
          do { try m.setPageFlag(m.hugetlbFolios(order: 9)[i].folio.pfn + n, .hwPoison, on) } catch { refusal = "\(m.era): HWPoison on pool page \(i) page \(n): \(error)" }
        }
        if on { poolPoison[i].insert(n) } else { poolPoison[i].remove(n) }
      }
      return nil
    }
    if r < 41 { return freeSomething() }
    let id = live.keys.randomElement(using: &rng)!
    var f = live[id]!
    switch r {
    case 40..<55:
      for (m, p) in zip(models, f.pfns) { m.folioGet(Folio(pfn: p)) }
      f.refs += 1
    case 55..<62:
      // Map a run of pages with PTEs, or the whole folio; unmap what was mapped.
      if rng.next() & 1 == 0, let (i, n) = f.ptes.first {
        for (m, p) in zip(models, f.pfns) { m.mapPages(Folio(pfn: p), i..<(i + 1), -1) }
        f.ptes[i] = n == 1 ? nil : n - 1
      } else if f.order > 0 && rng.next() % 4 == 0 {
        let delta = f.entire > 0 && rng.next() & 1 == 0 ? -1 : 1
        for (m, p) in zip(models, f.pfns) { m.mapEntire(Folio(pfn: p), delta) }
        f.entire += delta
      } else {
        let start = Int(rng.next() % UInt64(1 << f.order))
        let count = 1 + Int(rng.next() % UInt64((1 << f.order) - start))
        for (m, p) in zip(models, f.pfns) { m.mapPages(Folio(pfn: p), start..<(start + count), 1) }
        for i in start..<(start + count) { f.ptes[i, default: 0] += 1 }
      }
    case 62..<70:
      if f.refs == 1 { unpoison(f); unmapAll(f) }
      for (m, p) in zip(models, f.pfns) { m.folioPut(Folio(pfn: p)) }
      f.refs -= 1
      if f.refs == 0 { live[id] = nil; return nil }
    case 70..<88:
      var candidates = MemFlag.folioFlags.filter { !($0.onFirstTail && f.order == 0) }
      candidates.removeAll { $0 == (f.kind == .anon ? .owner2 : .anonExclusive) }
      let flag = candidates.randomElement(using: &rng)!
      let on = rng.next() & 1 == 0
      for (m, p) in zip(models, f.pfns) { try! m.folioSet(Folio(pfn: p), flag, on) }
      if on { f.flags.insert(flag) } else { f.flags.remove(flag) }
    default:
      let flag: MemFlag = f.kind == .anon && rng.next() & 1 == 0 ? .anonExclusive : .hwPoison
      let index = Int(rng.next() % UInt64(1 << f.order))
      let on = rng.next() & 1 == 0
      for (m, p) in zip(models, f.pfns) {
        do {
          try m.setPageFlag(p + index, flag, on)
          if m.era == .memdesc8 && flag == .anonExclusive { refusal = "memdesc8 took AnonExclusive without a flags word" }
        } catch {
          // The plan's one stated difference: the 8-byte struct page has no flags word and
          // AnonExclusive no home there yet (an open item of the plan); HWPoison is a retype.
          if !(m.era == .memdesc8 && error == .noPageFlags(.anonExclusive, .memdesc8)) { refusal = "\(m.era): \(flag) on page \(index) refused: \(error)" }
        }
      }
      if on { f.pageFlags[index, default: []].insert(flag) } else { f.pageFlags[index]?.remove(flag) }
    }
    live[id] = f
    return id
  }

  mutating func freeSomething() -> Int? {
    if !kernelPages.isEmpty && rng.next() % 3 == 0 {
      let k = kernelPages.remove(at: Int(rng.next() % UInt64(kernelPages.count)))
      for (m, p) in zip(models, k.pfns) { if k.order < 0 { m.freePageTable(p) } else { m.freeSlab(p) } }
      return nil
    }
    if !bare.isEmpty && rng.next() & 1 == 0 {
      let b = bare.remove(at: Int(rng.next() % UInt64(bare.count)))
      for (m, p) in zip(models, b.pfns) { m.freePages(p, order: b.order) }
      return nil
    }
    guard let id = live.keys.randomElement(using: &rng) else { return nil }
    let f = live[id]!
    unpoison(f)
    unmapAll(f)
    for (m, p) in zip(models, f.pfns) { for _ in 0..<f.refs { m.folioPut(Folio(pfn: p)) } }
    live[id] = nil
    return nil
  }

  /// The kernel keeps HWPoison pages out of the allocator; a folio the test frees has its
  /// poison cleared first (`unpoison_memory()`).
  func unpoison(_ f: LogicalFolio) {
    for (index, flags) in f.pageFlags where flags.contains(.hwPoison) {
      for (m, p) in zip(models, f.pfns) { try! m.setPageFlag(p + index, .hwPoison, false) }
    }
  }

  /// Pool page `i` before it leaves the pool: its poison cleared.
  mutating func unpoisonPool(_ i: Int) {
    guard i < poolPoison.count else { return }
    for n in poolPoison[i] { for m in models { try! m.setPageFlag(m.hugetlbFolios(order: 9)[i].folio.pfn + n, .hwPoison, false) } }
    poolPoison[i] = []
  }

  /// A folio's mappings go before its last reference does.
  func unmapAll(_ f: LogicalFolio) {
    for (m, p) in zip(models, f.pfns) {
      for (i, n) in f.ptes { m.mapPages(Folio(pfn: p), i..<(i + 1), -n) }
      if f.entire > 0 { m.mapEntire(Folio(pfn: p), -f.entire) }
    }
  }

  /// compound_head() gives the head in the 64-byte eras; in the memdesc eras it is a BUG
  /// on a page a descriptor owns, and throws. Swift Testing records a backtrace for
  /// every error thrown, which made these throws most of the test's time, so the
  /// throwing eras are checked on `sampled` pages (each page once when it is new) and the
  /// others on every page.
  func checkCompoundHead(_ m: any MemoryModel, _ pfn: PFN, expected: PFN, sampled: Bool, _ what: @autoclosure () -> String) -> String? {
    let isMemdesc = m.era == .memdesc32 || m.era == .memdesc8
    if isMemdesc && !sampled { return nil }
    let head = try? m.compoundHead(pfn)
    if isMemdesc ? head != nil : head != expected { return "\(m.era): compound_head of \(what()) gave \(String(describing: head))" }
    return nil
  }

  /// Compares every era with the logical model: the touched folio page by page, a few
  /// random PFNs, and on `full` every live folio and the buddy invariants.
  mutating func check(touched: Int?, full: Bool) -> String? {
    let ids = full ? Array(live.keys) : touched.map { [$0] } ?? []
    for id in ids {
      guard let f = live[id] else { continue }
      for (m, p) in zip(models, f.pfns) {
        let folio = Folio(pfn: p)
        let era = m.era.rawValue
        if m.folioOrder(folio) != f.order { return "\(era): folio \(id) order \(m.folioOrder(folio)), expected \(f.order)" }
        if m.folioKind(folio) != f.kind { return "\(era): folio \(id) kind" }
        if m.folioRefCount(folio) != f.refs { return "\(era): folio \(id) refcount \(m.folioRefCount(folio)), expected \(f.refs)" }
        if m.folioMapcount(folio) != f.mapcount { return "\(era): folio \(id) mapcount \(m.folioMapcount(folio)), expected \(f.mapcount)" }
        for flag in MemFlag.folioFlags where m.folioTest(folio, flag) != f.flags.contains(flag) {
          if flag.onFirstTail && f.order == 0 { continue }
          if flag == .owner2 && f.kind == .anon { continue }
          return "\(era): folio \(id) flag \(flag) reads \(m.folioTest(folio, flag))"
        }
        let pages = full ? Array(0..<(1 << f.order)) : [0, (1 << f.order) - 1, Int(rng.next() % UInt64(1 << f.order))]
        for i in pages {
          if m.folio(containing: p + i) != folio { return "\(era): page \(i) of folio \(id) is in \(String(describing: m.folio(containing: p + i)))" }
          if let d = checkCompoundHead(m, p + i, expected: p, sampled: !full && i == pages[2], "page \(i) of folio \(id)") { return d }
          // memdesc8 has no per-page mapcount (the plan's 8-byte page holds only the
          // memdesc) and no AnonExclusive; HWPoison it has, as a retype.
          if m.era != .memdesc8 {
            let expected = (f.ptes[i] ?? 0) + f.entire
            if m.pageMapcount(p + i) != expected { return "\(era): page \(i) of folio \(id) mapcount \(String(describing: m.pageMapcount(p + i))), expected \(expected)" }
          }
          for flag in MemFlag.pageFlags where flag != .reserved && !(m.era == .memdesc8 && flag == .anonExclusive) {
            if m.testPageFlag(p + i, flag) != (f.pageFlags[i]?.contains(flag) ?? false) {
              return "\(era): page \(i) of folio \(id) per-page flag \(flag)"
            }
          }
        }
      }
    }
    // HugeTLB pool pages: the same number in every era, each optimised alike (where the
    // era can: a memdesc8 2 MiB page has one vmemmap page), and every page in its folio.
    let pools = models.map { $0.hugetlbFolios(order: 9) }
    // Between full checks: the pool page the step touched, the newest one and one at
    // random (with the pool's size, every step); on a full check every pool page.
    let poolSample = Int(rng.next() % 4096)
    for (m, pool) in zip(models, pools) {
      if pool.count != pools[0].count { return "\(m.era): \(pool.count) 2 MiB pool pages, classic has \(pools[0].count)" }
      for (i, h) in pool.enumerated() where full || i == touchedPool || i == pool.count - 1 || i == poolSample % pool.count {
        let expectOptimized = m.era == .memdesc8 ? false : pools[0][i].optimized
        if h.optimized != expectOptimized { return "\(m.era): pool page \(i) optimised \(h.optimized)" }
        if m.folioOrder(h.folio) != 9 || m.folioRefCount(h.folio) != 0 { return "\(m.era): pool page \(i) order or refcount" }
        // Flags of HugeTLB folios: none but those set (never LargeRmappable by itself).
        for flag in MemFlag.folioFlags where m.folioTest(h.folio, flag) != poolFlags[i].contains(flag) {
          return "\(m.era): pool page \(i) flag \(flag) reads \(m.folioTest(h.folio, flag))"
        }
        for n in Set(poolPoison[i]).union([0, 64, 511]) where m.testPageFlag(h.folio.pfn + n, .hwPoison) != poolPoison[i].contains(n) {
          return "\(m.era): pool page \(i) page \(n) HWPoison reads \(m.testPageFlag(h.folio.pfn + n, .hwPoison))"
        }
        for n in full ? Array(0..<512) : [0, 64, 511] where m.folio(containing: h.folio.pfn + n) != h.folio {
          return "\(m.era): page \(n) of pool page \(i) is in \(String(describing: m.folio(containing: h.folio.pfn + n)))"
        }
        if let d = checkCompoundHead(m, h.folio.pfn + 64, expected: h.folio.pfn, sampled: true, "a fake-head position") { return d }
      }
    }
    // Slab and page-table pages belong to no folio; compound_head() on them is a BUG in
    // the memdesc eras and the page (or slab head) itself in the 64-byte ones.
    let kernelChecked = kernelPages.suffix(full ? kernelPages.count : 2)
    for (n, k) in kernelChecked.enumerated() {
      for (m, p) in zip(models, k.pfns) {
        let last = p + ((1 << max(k.order, 0)) - 1)
        if m.folio(containing: last) != nil { return "\(m.era): slab or table page \(last) reads as a folio" }
        if let d = checkCompoundHead(m, last, expected: p, sampled: !full && n == kernelChecked.count - 1, "a slab or table page") { return d }
      }
    }
    // Pages handed out bare belong to no folio.
    for b in bare.prefix(full ? bare.count : 2) {
      for (m, p) in zip(models, b.pfns) where m.folio(containing: p) != nil { return "\(m.era): bare page \(p) reads as a folio" }
    }
    if full {
      for m in models {
        do { _ = try m.checkBuddyInvariants() } catch { return "\(m.era): \(error)" }
        let c = m.cost()
        let census = m.census()
        let held = livePages
        // PTE tables of the vmemmap (boot's and HVO's PMD splits) are RAM outside the memmap.
        if census.freePages + census.pcpPages + held + c.memmapFrames + c.descriptorFrames.values.reduce(0, +) + census.vmemmapPTETables != census.ramPages {
          return "\(m.era): pages do not add up: free \(census.freePages) + pcp \(census.pcpPages) + held \(held) + memmap \(c.memmapFrames) + descriptors \(c.descriptorFrames) + PTE tables \(census.vmemmapPTETables)"
        }
      }
    }
    return nil
  }
}

@Suite struct DifferentialTests {
  /// Acceptance (issue 4): random sequences, all four eras, identical observable state.
  @Test(arguments: [0, 1])
  func fourErasAgree(run index: Int) throws {
    let seed = testSeed("fourErasAgree/\(index)")
    var run = try DifferentialRun(ram: 128 << 20, seed: seed)
    let divergence = run.run(steps: 50_000)
    #expect(divergence == nil, "seed 0x\(String(seed, radix: 16)): \(divergence ?? "")")
  }

  /// A divergence injected on purpose (one era's folio gets a flag the others lack) is
  /// caught by the same check.
  @Test func injectedDivergenceIsCaught() throws {
    var run = try DifferentialRun(ram: 64 << 20, seed: 7)
    var found: Int? = nil
    for _ in 0..<200 where found == nil { found = run.randomStep() }
    let id = try #require(found ?? run.live.keys.first)
    let f = run.live[id]!
    try run.models[2].folioSet(Folio(pfn: f.pfns[2]), .dirty, !f.flags.contains(.dirty))
    let d = run.check(touched: id, full: false)
    #expect(d?.contains("memdesc32") == true, "\(d ?? "no divergence found")")
  }
}
