// The C reference of the classic era's order-0 allocate+free fast path (CReference's
// Buddy.c), wired to a Swift model machine: the C code allocates and frees through that
// machine's own memmap, list heads and zone counters, so a Swift run on one machine and a
// C run on a second one booted alike must leave the two byte-for-byte equal.
import CReference
import PageModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A classic machine for the C reference: the machine, and the constants the C side
/// needs that the model keeps in Swift arrays.
public final class CBuddyMachine {
  public let model: Page64Model<ClassicEncoding>
  private let zoneIndexTable: UnsafeMutablePointer<Int64>
  private let pteCount: Int

  public init(_ model: Page64Model<ClassicEncoding>) {
    self.model = model
    let a = model.machine.unsafeAllocatorState
    // Buddy.c's struct cref_list_head and its single-node zone lookup.
    precondition(
      a.listStride == MemoryLayout<cref_list_head>.stride && a.listNext == 0 && a.listPrev == 8
        && a.listBlocks == 16 && a.listAddress == 24, "ListHead layout is not struct cref_list_head")
    precondition(model.config.layout.nodes.count == 1, "the C reference models node 0 only")
    zoneIndexTable = .allocate(capacity: a.zoneIndexTable.count)
    zoneIndexTable.initialize(from: a.zoneIndexTable.map(Int64.init), count: a.zoneIndexTable.count)
    var n = 0
    model.machine.withMemmap { m in
      while m.pte(at: m.base &+ UInt64(n) << UInt64(Kernel.pageShift)) != nil { n += 1 }
    }
    pteCount = n
  }

  deinit { zoneIndexTable.deallocate() }

  /// Runs `body` with the C view of the machine, while the memmap handle is lent.
  @inline(__always)
  public func withC<R>(_ body: (UnsafePointer<cref_buddy>) -> R) -> R {
    let a = model.machine.unsafeAllocatorState
    let zonelist = a.zonelists + (0 * 3 + GFP.kernel.highestZone.rawValue) * a.zonelistStride
    return model.machine.withMemmap { m in
      var b = cref_buddy(
        base: m.base, ptes: m.unsafePageTable, pte_count: pteCount, phys: UnsafeMutableRawPointer(mutating: m.unsafePhysicalBase),
        lists: a.lists.assumingMemoryBound(to: cref_list_head.self), lists_per_zone: Int64(a.listsPerZone),
        counters: a.counters.assumingMemoryBound(to: CChar.self), counter_stride: Int64(a.counterStride),
        off_free_pages: a.freePages, off_pcp_count: a.pcpCount, off_pcp_high: a.pcpHigh, off_pcp_batch: a.pcpBatch,
        section_node: a.sectionNode, pfn_section_shift: Int32(Kernel.pfnSectionShift),
        zone_index_table: UnsafePointer(zoneIndexTable), zonelist: UnsafeRawPointer(zonelist).assumingMemoryBound(to: Int64.self),
        head_flag: PageFlag.head.mask, prep_clear_flags: PageFlagsLayout.flagsMask & ~PageFlag.hwPoison.mask)
      return body(&b)
    }
  }

  /// One order-0 allocation by the C reference (for setting up a ring).
  public func allocPage() -> PFN? {
    let p = withC { cref_alloc_page($0) }
    return p < 0 ? nil : PFN(rawValue: UInt64(p))
  }

  public func freePage(_ pfn: PFN) { withC { cref_free_page($0, pfn.rawValue) } }
}

// The measured C loops: Swift wrappers, `@inline(never)` like the Swift loops, so that
// callgrind.sh can count each with --toggle-collect.

@inline(never)
public func cAllocFreePairsClassic(_ c: CBuddyMachine, count: Int) -> UInt64 {
  sink(c.withC { cref_alloc_free_pairs($0, count) })
}

@inline(never)
public func cAllocFreeRingClassic(_ c: CBuddyMachine, _ ring: PageRing, count: Int) -> UInt64 {
  var next = ring.next
  let sum = ring.pages.withMemoryRebound(to: UInt64.self, capacity: ring.size) { pages in
    c.withC { cref_alloc_free_ring($0, pages, ring.size, &next, count) }
  }
  ring.next = next
  return sink(sum)
}

@inline(never)
public func cAllocFreeBurstsClassic(_ c: CBuddyMachine, _ pages: UnsafeMutableBufferPointer<PFN>, rounds: Int) -> UInt64 {
  sink(pages.withMemoryRebound(to: UInt64.self) { p in c.withC { cref_alloc_free_bursts($0, p.baseAddress, p.count, rounds) } })
}

/// The first difference between two classic machines' allocator state, or nil when the
/// memmap bytes (every mapped vmemmap page), every list head and every zone's counters
/// are equal. Both machines must have been booted from the same configuration.
public func allocatorStateDifference(_ a: Page64Model<ClassicEncoding>, _ b: Page64Model<ClassicEncoding>) -> String? {
  let sa = a.machine.unsafeAllocatorState, sb = b.machine.unsafeAllocatorState
  guard sa.listCount == sb.listCount, sa.zoneIndexTable == sb.zoneIndexTable else { return "the machines differ in shape" }
  let memmap: String? = a.machine.withMemmap { ma in
    b.machine.withMemmap { mb in
      guard ma.base == mb.base else { return "memmap bases differ" }
      var i = 0
      while let pa = ma.pte(at: ma.base &+ UInt64(i) << UInt64(Kernel.pageShift)) {
        defer { i += 1 }
        guard let pb = mb.pte(at: mb.base &+ UInt64(i) << UInt64(Kernel.pageShift)), pa.isPresent == pb.isPresent else {
          return "vmemmap page \(i): mapped in one machine only"
        }
        guard pa.isPresent else { continue }
        let ha = ma.unsafePhysicalBase + Int(pa.frame.rawValue) << Kernel.pageShift
        let hb = mb.unsafePhysicalBase + Int(pb.frame.rawValue) << Kernel.pageShift
        guard memcmp(ha, hb, Kernel.pageSize) != 0 else { continue }
        var off = 0
        while ha.load(fromByteOffset: off, as: UInt8.self) == hb.load(fromByteOffset: off, as: UInt8.self) { off += 1 }
        let page = ma.base &+ UInt64(i << Kernel.pageShift + off) & ~UInt64(Kernel.structPageSize - 1)
        let field = off & (Kernel.structPageSize - 1) & ~7
        return "struct page of PFN \(ma.pfn(ofPageAt: page)), word at offset \(field): "
          + "0x\(String(ha.load(fromByteOffset: off & ~7, as: UInt64.self), radix: 16)) "
          + "against 0x\(String(hb.load(fromByteOffset: off & ~7, as: UInt64.self), radix: 16))"
      }
      return nil
    }
  }
  if let memmap { return memmap }
  for l in 0..<sa.listCount {
    let ha = (sa.lists + l * sa.listStride).assumingMemoryBound(to: cref_list_head.self).pointee
    let hb = (sb.lists + l * sb.listStride).assumingMemoryBound(to: cref_list_head.self).pointee
    if ha.next != hb.next || ha.prev != hb.prev || ha.count != hb.count || ha.address != hb.address {
      return "list head \(l % sa.listsPerZone) of zone \(l / sa.listsPerZone): "
        + "next 0x\(String(ha.next, radix: 16)) prev 0x\(String(ha.prev, radix: 16)) blocks \(ha.count) against "
        + "next 0x\(String(hb.next, radix: 16)) prev 0x\(String(hb.prev, radix: 16)) blocks \(hb.count)"
    }
  }
  for z in a.machine.zones.indices {
    for (name, off) in [("NR_FREE_PAGES", sa.freePages), ("pcp count", sa.pcpCount), ("pcp high", sa.pcpHigh), ("pcp batch", sa.pcpBatch)] {
      let va = sa.counters.load(fromByteOffset: z * sa.counterStride + off, as: Int.self)
      let vb = sb.counters.load(fromByteOffset: z * sb.counterStride + off, as: Int.self)
      if va != vb { return "zone \(z) \(name): \(va) against \(vb)" }
    }
  }
  return nil
}
