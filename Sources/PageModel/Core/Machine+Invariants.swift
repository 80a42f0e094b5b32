/// Checks of the allocator's invariants that tests run after operations.
extension Machine {
  /// Walks every free list and per-CPU list and checks the buddy invariants:
  /// list links are consistent both ways and counts match; each free block is aligned
  /// to its order, inside its zone, marked buddy with that order on its first page and on
  /// no other page; no page is in two blocks; no free block has a free buddy of the
  /// same order (merging is complete); zone free counters equal what the lists hold.
  ///
  /// - Returns: the free state, or throws a description of the first violation.
  /// - Complexity: O(free blocks + pages in free blocks).
  public func checkBuddyInvariants() throws(InvariantViolation) -> BuddyFreeState {
    var state = BuddyFreeState(buddyBlocks: [], pcpBlocks: [])
    // One bit per PFN of the span: pages already found in a free block.
    // One bit per PFN of the present sections (a sparse machine's span can be 64 TiB):
    // a section's bits start at its rank among the present sections.
    var rank = [Int](repeating: -1, count: sectionCount)
    for (i, s) in layout.presentSections.enumerated() { rank[s] = i }
    var seen = [UInt64](repeating: 0, count: layout.presentSections.count * Kernel.pagesPerSection / 64)
    for zone in zones {
      var buddy: [BuddyFreeState.Block] = []
      var pcp: [BuddyFreeState.Block] = []
      var pages = 0
      for index in 0..<ZoneLists.perZone {
        let isPCP = index >= Kernel.nrPageOrders
        let order = isPCP ? ZoneLists.pcpOrder(index - Kernel.nrPageOrders) : index
        for arena in 0..<arenaCount {
          let head = list(zone.index, index, arena: arena)
          let sentinel = head.pointee.address
          var page = head.pointee.next
          var prevPage = sentinel
          var count = 0
          while page != sentinel {
            guard memmap.isMapped(page) else { throw InvariantViolation("list entry 0x\(String(page, radix: 16)) is not a struct page") }
            let pfn = memmap.pfn(ofPageAt: page)
            let links = Format.listLinks(memmap, page, sentinel: sentinel)
            guard links.prev == prevPage else { throw InvariantViolation("broken prev link at PFN \(pfn)") }
            guard pfn.isAligned(toOrder: order) else { throw InvariantViolation("free block at PFN \(pfn) not aligned to order \(order)") }
            guard zone.span.contains(pfn), zone.span.contains(pfn + ((1 << order) - 1)) else {
              throw InvariantViolation("free block at PFN \(pfn) order \(order) outside zone \(zone.name)")
            }
            guard zoneIndex(ofPage: page) == zone.index else { throw InvariantViolation("PFN \(pfn) on zone \(zone.name)'s list but its flags name another zone") }
            guard self.arena(of: page) == arena else { throw InvariantViolation("PFN \(pfn) on the list of link arena \(arena), not its own") }
            if isPCP {
              guard !isBuddy(page) else { throw InvariantViolation("per-CPU page at PFN \(pfn) is marked buddy") }
              pcp.append(.init(pfn: pfn, order: order))
            } else {
              guard isBuddy(page), buddyOrder(page) == order else { throw InvariantViolation("free block at PFN \(pfn) on the order-\(order) list is not PageBuddy with that order") }
              if order < Kernel.maxPageOrder {
                let buddyPage = memmap.address(of: PFN(pfn.rawValue ^ (1 << UInt64(order))))
                if memmap.isMapped(buddyPage) && pageIsBuddy(buddyPage, order: order, zone: zone.index) {
                  throw InvariantViolation("free block at PFN \(pfn) and its buddy are both free at order \(order): not merged")
                }
              }
              buddy.append(.init(pfn: pfn, order: order))
              pages += 1 << order
            }
            for i in 0..<(1 << order) {
              let p = pfn.rawValue + UInt64(i)
              let bitIndex = rank[Int(p >> UInt64(Kernel.pfnSectionShift))] * Kernel.pagesPerSection + Int(p & UInt64(Kernel.pagesPerSection - 1))
              let (word, bit) = (bitIndex >> 6, UInt64(1) << UInt64(bitIndex & 63))
              guard seen[word] & bit == 0 else { throw InvariantViolation("PFN \(PFN(p)) is in two free blocks") }
              seen[word] |= bit
              if i > 0 && isBuddy(memmap.address(of: PFN(p))) { throw InvariantViolation("PFN \(PFN(p)) inside a free block is marked buddy") }
            }
            prevPage = page
            page = links.next
            count += 1
            guard count <= zone.presentPages else { throw InvariantViolation("cycle in a free list of zone \(zone.name)") }
          }
          guard head.pointee.prev == prevPage else { throw InvariantViolation("list tail pointer wrong in zone \(zone.name) list \(index)") }
          guard head.pointee.count == count else { throw InvariantViolation("zone \(zone.name) list \(index) count \(head.pointee.count) but \(count) entries") }
        }
      }
      guard pages == zoneCounters[zone.index].freePages else {
        throw InvariantViolation("zone \(zone.name) NR_FREE_PAGES \(zoneCounters[zone.index].freePages) but lists hold \(pages)")
      }
      let pcpPages = pcp.reduce(0) { $0 + (1 << $1.order) }
      guard pcpPages == zoneCounters[zone.index].pcpCount else {
        throw InvariantViolation("zone \(zone.name) pcp count \(zoneCounters[zone.index].pcpCount) but lists hold \(pcpPages)")
      }
      state.buddyBlocks.append(buddy.sorted())
      state.pcpBlocks.append(pcp.sorted())
    }
    return state
  }
}

/// What the buddy allocator holds, page by page, as found by walking its lists.
public struct BuddyFreeState: Equatable, Sendable {
  /// Free blocks per zone: (first PFN, order), sorted.
  public var buddyBlocks: [[Block]]
  /// Pages on per-CPU lists per zone: (first PFN, order), sorted.
  public var pcpBlocks: [[Block]]
  public struct Block: Hashable, Comparable, Sendable {
    public var pfn: PFN
    public var order: Int
    public static func < (a: Block, b: Block) -> Bool { (a.pfn, a.order) < (b.pfn, b.order) }
  }
}

/// A broken invariant, described.
public struct InvariantViolation: Error, CustomStringConvertible, Equatable {
  public let description: String
  public init(_ description: String) { self.description = description }
}
