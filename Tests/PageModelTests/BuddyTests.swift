import Testing
import MemdescTestSupport
@testable import PageModel

@Suite struct BuddyTests {
  @Test(arguments: Era.allCases)
  func splitAndMerge(era: Era) throws {
    // 1 GiB: whole vmemmap PMDs in every era, so no PTE-table frame breaks the blocks.
    switch era {
    case .classic: try splitMergeBody(flatMachine(ClassicEncoding.self, ram: 1 << 30))
    case .mask: try splitMergeBody(flatMachine(MaskEncoding.self, ram: 1 << 30))
    case .memdesc32: try splitMergeBody(flatMachine(Memdesc32Format.self, ram: 1 << 30))
    case .memdesc8: try splitMergeBody(flatMachine(Memdesc8Format.self, ram: 1 << 30))
    }
  }

  func splitMergeBody<M: MemoryModel>(_ m: M) throws {
    let boot = try m.checkBuddyInvariants()
    let bootFree = m.machine.freePages
    // A large block splits: an order-3 allocation leaves one free block of each order 3..9.
    let p = try #require(m.allocPages(order: 5))
    let free1 = try m.checkBuddyInvariants()
    #expect(m.machine.freePages == bootFree - 32)
    #expect(free1 != boot)
    // Its buddy is free with order 5; freeing merges it back.
    #expect(m.machine.freeBlock(containing: PFN(p.rawValue ^ 32))?.order == 5)
    m.freePages(p, order: 5)
    #expect(try m.checkBuddyInvariants() == boot)
  }

  /// Pageblock-order (THP-sized) blocks go through the per-CPU lists as the kernel's
  /// `pcp_allowed_order()` lets them: a miss refills `max(batch >> 9, 2)` = 2 blocks, a
  /// free lands on the list, and crossing `pcp->high` sends `batch` pages back starting
  /// with the list just freed to (`free_pcppages_bulk()`), which is one whole THP.
  @Test(arguments: Era.allCases)
  func pageblockOrderUsesPerCPULists(era: Era) throws {
    switch era {
    case .classic: try pcpTHPBody(flatMachine(ClassicEncoding.self, ram: 4 << 30))
    case .mask: try pcpTHPBody(flatMachine(MaskEncoding.self, ram: 4 << 30))
    case .memdesc32: try pcpTHPBody(flatMachine(Memdesc32Format.self, ram: 4 << 30))
    case .memdesc8: try pcpTHPBody(flatMachine(Memdesc8Format.self, ram: 4 << 30))
    }
  }

  func pcpTHPBody<M: MemoryModel>(_ m: M) throws {
    let boot = try m.checkBuddyInvariants()
    let zone = 1  // DMA32: a 4 GiB flat machine has no Normal zone
    let (_, high, batch) = m.machine.pcpState(zone: zone)
    #expect(batch == 63 && high == 58 * 63)
    let bootFree = m.machine.freePages(zone: zone)
    let first = try #require(m.allocPages(order: 9))
    #expect(try m.machine.zone(of: first).index == zone)
    #expect(m.machine.pcpState(zone: zone).count == 512)
    #expect(m.machine.freePages(zone: zone) == bootFree - 1024)
    #expect(try m.checkBuddyInvariants().pcpBlocks[zone].map(\.order) == [9])
    var thps = [first]
    for _ in 1..<8 { thps.append(try #require(m.allocPages(order: 9))) }
    #expect(m.machine.pcpState(zone: zone).count == 0)
    #expect(m.machine.freePages(zone: zone) == bootFree - 8 * 512)
    // An order-0 page on the list as well: the bulk free takes the THP list first.
    let small = try #require(m.allocPages(order: 0))
    let smallOnPCP = m.machine.pcpState(zone: zone).count
    #expect(smallOnPCP == 62)  // refilled by batch 63, one handed out
    for (i, p) in thps.enumerated() {
      m.freePages(p, order: 9)
      let expected = smallOnPCP + (i < 7 ? (i + 1) * 512 : 7 * 512)
      #expect(m.machine.pcpState(zone: zone).count == expected, "after freeing THP \(i)")
    }
    #expect(m.machine.freePages(zone: zone) == bootFree - 8 * 512 - 63 + 512)
    let state = try m.checkBuddyInvariants()
    #expect(state.pcpBlocks[zone].filter { $0.order == 9 }.count == 7)
    #expect(state.pcpBlocks[zone].filter { $0.order == 0 }.count == 62)
    m.freePages(small, order: 0)
    m.machine.drainAllPages()
    #expect(m.machine.pcpPages == 0)
    #expect(try m.checkBuddyInvariants() == boot)
  }

  @Test func zoneFallbackAndGFPZones() throws {
    let m = try flatMachine(MaskEncoding.self, ram: 4 << 30)
    let dma = try #require(m.allocPages(order: 0, gfp: .dma))
    #expect(dma < ZoneType.dma.pfnLimit)
    let dma32 = try #require(m.allocPages(order: 10, gfp: .dma32))
    #expect(dma32 < ZoneType.dma32.pfnLimit && dma32 >= ZoneType.dma.pfnLimit)
    // A 4 GiB flat machine has no Normal zone: GFP_KERNEL falls back to DMA32 then DMA.
    #expect(m.machine.zones.map(\.type) == [.dma, .dma32])
    var taken: [PFN] = []
    while let p = m.allocPages(order: 10) { taken.append(p) }
    #expect(m.machine.freeBlocks(zone: 1)[10] == 0)
    #expect(m.machine.freeBlocks(zone: 0)[10] == 0)  // DMA gave its order-10 blocks last
    #expect(taken.last! < ZoneType.dma.pfnLimit)
    #expect(m.allocPages(order: 10) == nil)
  }

  @Test func nodeFallback() throws {
    let m = try flatMachine(ClassicEncoding.self, ram: 8 << 30, nodes: 2)
    let p = try #require(m.allocPages(order: 0, node: 1))
    #expect(try m.machine.zone(of: p).node == 1)
    #expect(m.allocPages(order: 0, gfp: [.dma, .thisNode], node: 1) == nil)  // node 1 has no DMA zone
    #expect(m.allocPages(order: 0, gfp: .dma, node: 1) != nil)  // fallback to node 0
  }

  /// Acceptance: random allocate/free sequences keep the buddy invariants, and freeing
  /// everything merges back to the boot state. At least 10^5 operations over the seeds
  /// (60,000 per 64-byte era; 30,000 per memdesc era, whose folios are not in yet).
  @Test(arguments: Era.allCases)
  func randomAllocFreeSequences(era: Era) throws {
    let seed = testSeed("randomAllocFreeSequences/\(era)")
    switch era {
    case .classic: try randomSequences(flatMachine(ClassicEncoding.self, ram: 64 << 20), seed: seed, operations: 60_000) { $0.allocFolio(order: $1, kind: .anon)?.pfn } put: { $0.folioPut(Folio(pfn: $1)) }
    case .mask: try randomSequences(flatMachine(MaskEncoding.self, ram: 64 << 20), seed: seed, operations: 60_000) { $0.allocFolio(order: $1, kind: .anon)?.pfn } put: { $0.folioPut(Folio(pfn: $1)) }
    case .memdesc32: try randomSequences(flatMachine(Memdesc32Format.self, ram: 64 << 20), seed: seed, operations: 30_000)
    case .memdesc8: try randomSequences(flatMachine(Memdesc8Format.self, ram: 64 << 20), seed: seed, operations: 30_000)
    }
  }

  func randomSequences<M: MemoryModel>(
    _ m: M, seed: UInt64, operations: Int,
    folio: ((M, Int) -> PFN?)? = nil, put: ((M, PFN) -> Void)? = nil
  ) throws {
    var rng = SplitMix64(seed: seed)
    let boot = try m.checkBuddyInvariants()
    let ramPages = m.layout.ramPages
    // The memmap and the vmemmap's PTE tables (a memdesc-era PMD over absent sections).
    let reserved = m.memmapFrames + m.vmemmapPageTable.pteTables
    // Shadow model: what the test holds, by first PFN.
    var live: [(pfn: PFN, order: Int, folio: Bool)] = []
    var owned = Set<UInt64>()
    for step in 0..<operations {
      let context = "seed 0x\(String(seed, radix: 16)) step \(step)"
      if live.isEmpty || rng.next() % 100 < 55 {
        // Small orders dominate, as in the kernel.
        let r = rng.next() % 100
        let order = r < 60 ? 0 : r < 80 ? Int(rng.next() % 4) : Int(rng.next() % UInt64(Kernel.nrPageOrders))
        let asFolio = folio != nil && rng.next() & 1 == 0
        let pfn = asFolio ? folio!(m, order) : m.allocPages(order: order)
        if let pfn {
          for i in 0..<(1 << order) {
            let inserted = owned.insert(pfn.rawValue + UInt64(i)).inserted
            #expect(inserted, "PFN \(pfn + i) handed out twice; \(context)")
            if !inserted { return }
          }
          #expect(m.machine.freeBlock(containing: pfn) == nil, "\(context)")
          live.append((pfn, order, asFolio))
        }
      } else {
        let i = Int(rng.next() % UInt64(live.count))
        let block = live.remove(at: i)
        if block.folio { put!(m, block.pfn) } else { m.freePages(block.pfn, order: block.order) }
        for j in 0..<(1 << block.order) { owned.remove(block.pfn.rawValue + UInt64(j)) }
      }
      // Cheap per-step check: free + per-CPU + held + memmap = RAM (no leak, no overlap
      // in counts). The full walk runs every 16 steps.
      #expect(m.machine.freePages + m.machine.pcpPages + owned.count + reserved == ramPages, "\(context)")
      if step % 16 == 0 {
        let state = try m.checkBuddyInvariants()
        for zone in state.buddyBlocks + state.pcpBlocks {
          for b in zone where owned.contains(b.pfn.rawValue) {
            Issue.record("held PFN \(b.pfn) is on a free list; \(context)")
            return
          }
        }
      }
    }
    for block in live {
      if block.folio { put!(m, block.pfn) } else { m.freePages(block.pfn, order: block.order) }
    }
    m.drainAllPages()
    #expect(try m.checkBuddyInvariants() == boot, "full merge back to the boot state (seed 0x\(String(seed, radix: 16)))")
    #expect(m.machine.freePages + reserved == ramPages)
  }
}
