import Glibc
import MemdescTestSupport
import Testing
@testable import PageModel

/// The lazy memmap (userfaultfd, `MemmapInit.lazy`) against the eager boot: the same
/// bytes in every memmap frame, the same list heads and counters, on random small
/// machines with holes, nodes, boot-time pools and page_ext, in all four eras; and the
/// same again after a run of allocations and frees on both.
@Suite struct LazyBootTests {
  /// A random machine: 1-4 RAM ranges with holes of a page to a GiB between them (whole
  /// sections missing, and sections only partly present), 1-2 nodes, maybe boot-time
  /// pools of 1 GiB and 2 MiB under any boot HVO mode, maybe page_ext clients.
  static func randomConfig(_ era: Era, _ rng: inout SplitMix64) -> MachineConfig {
    while true {
      var ranges: [PFNRange] = []
      var pfn = UInt64.random(in: 0...2, using: &rng)
      for _ in 0..<Int.random(in: 1...4, using: &rng) {
        let length = UInt64.random(in: 0x4000...0x80000, using: &rng)  // 64 MiB to 2 GiB
        ranges.append(PFN(pfn)..<PFN(pfn + length))
        pfn += length + UInt64.random(in: 1...0x40000, using: &rng)
      }
      guard let layout = try? PhysicalLayout(ram: ranges, nodeCount: Int.random(in: 1...2, using: &rng)) else { continue }
      var c = MachineConfig(layout: layout, era: era)
      if Bool.random(using: &rng) {
        c.bootHugepages = [BootHugepages(order: 18, count: Int.random(in: 0...2, using: &rng)),
                           BootHugepages(order: 9, count: Int.random(in: 0...40, using: &rng))].filter { $0.count > 0 }
        c.bootHVO = [nil, BootHVO.early, .late, .off].randomElement(using: &rng)!
      }
      c.pageExt = PageExt(clients: PageExtClient.allCases.filter { _ in Bool.random(using: &rng) })
      if (try? c.validate()) != nil { return c }
    }
  }

  /// Everything the two boots leave, compared; each difference is an issue.
  static func compare<F: PageFormat>(_ lazy: Machine<F>, _ eager: Machine<F>, _ what: String) {
    #expect(lazy.memmapFrameRanges == eager.memmapFrameRanges, "\(what): memmap frames")
    #expect(lazy.vmemmapTable.count == eager.vmemmapTable.count, "\(what): vmemmap size")
    #expect(lazy.vmemmapTable.pteTableFrames == eager.vmemmapTable.pteTableFrames, "\(what): PTE tables")
    var frames = Set<UInt64>()
    for v in 0..<min(lazy.vmemmapTable.count, eager.vmemmapTable.count) {
      let a = lazy.vmemmapTable.entries[v], b = eager.vmemmapTable.entries[v]
      #expect(a == b, "\(what): vmemmap PTE \(v)")
      if a.isPresent { frames.insert(a.frame.rawValue) }
    }
    for r in eager.memmapFrameRanges { for f in r.lowerBound.rawValue..<r.upperBound.rawValue { frames.insert(f) } }
    var differing: [UInt64] = []
    for f in frames.sorted() where memcmp(lazy.memory.frame(PFN(f)), eager.memory.frame(PFN(f)), Kernel.pageSize) != 0 {
      differing.append(f)
    }
    let differ = differing.count
    #expect(differ == 0, "\(what): \(differing.count) of \(frames.count) memmap frames differ, first \(differing.prefix(4).map { "0x" + String($0, radix: 16) })")
    let lists = max(eager.zones.count, 1) * ZoneLists.perZone * eager.arenaCount
    for i in 0..<lists {
      let a = lazy.lists[i], b = eager.lists[i]
      #expect(a.address == b.address && a.next == b.next && a.prev == b.prev && a.count == b.count, "\(what): list head \(i)")
    }
    for z in eager.zones.indices {
      let a = lazy.zoneCounters[z], b = eager.zoneCounters[z]
      #expect(a.freePages == b.freePages && a.managedPages == b.managedPages && a.pcpCount == b.pcpCount
              && a.pcpHigh == b.pcpHigh && a.pcpBatch == b.pcpBatch, "\(what): zone \(z) counters")
    }
    let a = lazy.counters.pointee, b = eager.counters.pointee
    #expect(a.memmapBootPages == b.memmapBootPages && a.memmapPages == b.memmapPages
            && a.hugetlbOptimizeVmemmapKey == b.hugetlbOptimizeVmemmapKey, "\(what): vmstat counters")
    var lc = lazy.census(), ec = eager.census()
    lc.memmapInit = .lazy
    ec.memmapInit = .lazy
    #expect(lc == ec, "\(what): census")
  }

  static func check<Model: MemoryModel>(_ type: Model.Type, _ config: MachineConfig, seed: UInt64, rng: inout SplitMix64) throws -> Bool {
    var eagerConfig = config
    eagerConfig.lazyMemmap = false
    let lazyModel = try Model(config), eagerModel = try Model(eagerConfig)
    let lazy = lazyModel.machine, eager = eagerModel.machine
    if case .eager(let reason) = lazy.memmapInit {
      print("LazyBootTests: skipped: the lazy memmap is not available here (\(reason))")
      return false
    }
    #expect(eager.memmapInit == .eager(reason: "lazy memmap off"))
    let what = "\(config.era) seed \(TestSeed.hex(seed)) ram \(config.layout.ram) pools \(config.bootHugepages) page_ext \(config.pageExt.clients)"
    compare(lazy, eager, what + " at boot")
    // The same operations on both: any frame the lazy one builds late still matches.
    var held: [(PFN, Int)] = []
    for _ in 0..<300 {
      if held.isEmpty || Int.random(in: 0..<3, using: &rng) > 0 {
        let order = Int.random(in: 0...Kernel.maxPageOrder, using: &rng)
        let p = lazy.allocPages(order: order), q = eager.allocPages(order: order)
        #expect(p == q, "\(what): allocation of order \(order)")
        if let p, p == q { held.append((p, order)) }
      } else {
        let (p, order) = held.remove(at: Int.random(in: 0..<held.count, using: &rng))
        lazy.freePages(p, order: order)
        eager.freePages(p, order: order)
      }
    }
    compare(lazy, eager, what + " after 300 allocations and frees")
    return true
  }

  @Test(arguments: Era.allCases)
  func lazyEqualsEager(era: Era) throws {
    let seed = testSeed("lazyEqualsEager/\(era)")
    var rng = SplitMix64(seed: seed)
    for _ in 0..<3 {
      let c = Self.randomConfig(era, &rng)
      let ran: Bool
      switch era {
      case .classic: ran = try Self.check(Page64Model<ClassicEncoding>.self, c, seed: seed, rng: &rng)
      case .mask: ran = try Self.check(Page64Model<MaskEncoding>.self, c, seed: seed, rng: &rng)
      case .memdesc32: ran = try Self.check(MemdescModel<Memdesc32Format>.self, c, seed: seed, rng: &rng)
      case .memdesc8: ran = try Self.check(MemdescModel<Memdesc8Format>.self, c, seed: seed, rng: &rng)
      }
      if !ran { return }
    }
  }

  /// A 16 GiB lazy boot writes almost nothing: the handler has built only the frames
  /// the pools and page_ext touched, and the census matches the eager one.
  @Test func lazyBootTouchesLittle() throws {
    let c = MachineConfig(layout: try .flat(ramBytes: 16 << 30), era: .classic)
    let m = try Page64Model<ClassicEncoding>(c)
    guard m.machine.memmapInit == .lazy, let handler = m.machine.memory.lazyMemmap else {
      print("LazyBootTests: skipped: the lazy memmap is not available here (\(m.machine.memmapInit))")
      return
    }
    #expect(handler.framesBuilt < 1024, "built \(handler.framesBuilt) of 65536 frames")
    #expect(m.census().freePages + m.census().memmapFrames == m.census().ramPages)
  }
}
