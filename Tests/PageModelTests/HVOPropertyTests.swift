import Testing
import MemdescTestSupport
@testable import PageModel

@Suite struct HVOPropertyTests {
  /// Random pool grow/shrink/optimise/restore sequences, with memory pressure from
  /// ordinary allocations, in both eras; the HugeTLB invariants I1-I9 after every step,
  /// the buddy invariants every 8 steps, and no leak when everything is given back.
  @Test(arguments: [Era.classic, .mask])
  func randomPoolSequences(era: Era) throws {
    let seed = testSeed("randomPoolSequences/\(era)")
    // 300 steps: the full check after each step reads every page of every pool folio
    // (a 1 GiB page is 262,144 of them), so the steps set the test's time: 400 took 21 s
    // in a debug build, past the suite's 20 s for one test.
    switch era {
    case .classic: try run(flatMachine(ClassicEncoding.self, ram: 2 << 30), seed: seed, steps: 300)
    default: try run(flatMachine(MaskEncoding.self, ram: 2 << 30), seed: seed, steps: 300)
    }
  }

  func run<E: CompoundEncoding>(_ m: Page64Model<E>, seed: UInt64, steps: Int) throws {
    var rng = SplitMix64(seed: seed)
    var held: [(PFN, Int)] = []
    let ram = m.layout.ramPages
    for step in 0..<steps {
      let context = "seed 0x\(String(seed, radix: 16)) step \(step)"
      let pool2M = m.hugetlb.hstates[0].nrHugePages
      switch rng.next() % 10 {
      case 0: m.hugetlb.optimizeVmemmap.toggle()
      case 1, 2: m.setNrHugePages(order: 9, count: pool2M + Int(rng.next() % 64))
      case 3: m.setNrHugePages(order: 9, count: Int(rng.next() % UInt64(pool2M + 1)))
      case 4: m.setNrHugePages(order: 18, count: Int(rng.next() % 3))
      case 5:
        if let f = m.hugetlb.hstates.flatMap(\.folios).randomElement(using: &rng) { m.hugetlbVmemmapOptimizeFolio(f) }
      case 6:
        if let f = m.hugetlb.hstates.flatMap(\.folios).randomElement(using: &rng) { m.hugetlbVmemmapRestoreFolio(f) }
      case 7, 8:
        // Pressure: take a chunk of memory so that restores and growth can fail.
        let order = Int(rng.next() % 11)
        for _ in 0..<Int(rng.next() % 64) { if let p = m.allocPages(order: order) { held.append((p, order)) } }
      default:
        for _ in 0..<min(held.count, Int(rng.next() % 128)) {
          let (p, o) = held.remove(at: Int(rng.next() % UInt64(held.count)))
          m.freePages(p, order: o)
        }
      }
      do {
        try m.checkHugetlbInvariants()
        if step % 8 == 0 { _ = try m.checkBuddyInvariants() }
      } catch {
        Issue.record("\(error); \(context)")
        return
      }
    }
    for (p, o) in held { m.freePages(p, order: o) }
    m.setNrHugePages(order: 9, count: 0)
    m.setNrHugePages(order: 18, count: 0)
    m.drainAllPages()
    #expect(m.hugetlb.hstates.allSatisfy { $0.nrHugePages == 0 }, "seed 0x\(String(seed, radix: 16))")
    _ = try m.checkBuddyInvariants()
    try m.checkHugetlbInvariants()
    #expect(m.machine.freePages + m.memmapFrames + m.sharedTailFrames + m.vmemmapPageTable.pteTables == ram, "no leak; seed 0x\(String(seed, radix: 16))")
    #expect(m.memmapFrames == ram / 64 + (m.layout.presentSections.count * Kernel.pagesPerSection - ram) / 64)
  }

  /// Before the series, a speculative reference on a fake head must not write (its
  /// frame is read-only): page_count_writable() stops it. After it, a plain count check
  /// does, because shared tails have refcount 0.
  @Test func speculativeReferences() throws {
    let c = try flatMachine(ClassicEncoding.self, ram: 1 << 30)
    c.hugetlb.optimizeVmemmap = true
    c.setNrHugePages(order: 9, count: 1)
    let f = c.hugetlb.hstates[0].folios[0]
    // Unfreeze the folio as if it were handed out: the fake heads now mirror refcount 1.
    try c.memmap.store(c.page(f.pfn), StructPageLayout.refcount, UInt32(1))
    #expect(c.memmap.load(c.page(f.pfn + 64), StructPageLayout.refcount, as: UInt32.self) == 1)
    #expect(try c.pageRefAddUnless(f.pfn + 64, 1, 0) == false)
    #expect(throws: VmemmapFault.self) { try c.memmap.store(c.page(f.pfn + 64), StructPageLayout.refcount, UInt32(2)) }
    #expect(try c.pageRefAddUnless(f.pfn, 1, 0) == true)  // the real head takes it
    try c.memmap.store(c.page(f.pfn), StructPageLayout.refcount, UInt32(0))

    let m = try flatMachine(MaskEncoding.self, ram: 1 << 30)
    m.hugetlb.optimizeVmemmap = true
    m.setNrHugePages(order: 9, count: 1)
    let g = m.hugetlb.hstates[0].folios[0]
    for n in [64, 65, 200, 511] { #expect(try m.pageRefAddUnless(g.pfn + n, 1, 0) == false) }
    try m.checkHugetlbInvariants()
  }
}
