/// Where the buddy allocator keeps its state outside the memmap, for code that has to
/// walk the very same bytes: the benchmarks' C reference of the order-0 fast path
/// (Benchmarks/Sources/CReference) allocates and frees through these list heads and
/// counters, and checks that its run leaves them equal to the Swift run's.
///
/// The pointers stay valid as long as the machine. The model never reads this view; a
/// caller that writes through it must keep the allocator's invariants itself.
public struct UnsafeAllocatorState {
  /// The list heads, arena-major, then zone-major: `perZone` per zone (the free areas of
  /// orders 0 ... MAX_PAGE_ORDER, then the per-CPU lists of orders 0-3 and 9).
  public let lists: UnsafeMutableRawPointer
  public let listCount: Int
  public let listStride: Int
  public let listsPerZone: Int
  /// Byte offsets in a list head: first and last page (struct page addresses, or the
  /// head's own address when empty), the number of blocks listed (Int), the head's
  /// address.
  public let listNext: Int, listPrev: Int, listBlocks: Int, listAddress: Int
  /// Per-zone counters, one record of `counterStride` bytes per zone, Int fields.
  public let counters: UnsafeMutableRawPointer
  public let counterStride: Int
  public let freePages: Int, pcpCount: Int, pcpHigh: Int, pcpBatch: Int
  /// One byte per memory section: its node, or 0xff where it has no memmap.
  public let sectionNode: UnsafePointer<UInt8>
  /// Zone index by `node * 3 + ZoneType.rawValue`, -1 where the node lacks the zone.
  public let zoneIndexTable: [Int]
  /// The fallback zone list per (node, highest zone type), `node * 3 + type`: at
  /// `zonelists + i * zonelistStride` its length, then that many zone indexes.
  public let zonelists: UnsafePointer<Int>
  public let zonelistStride: Int
}

extension Machine {
  /// The allocator's list heads and counters, for the C reference (see
  /// ``UnsafeAllocatorState``).
  public var unsafeAllocatorState: UnsafeAllocatorState {
    UnsafeAllocatorState(
      lists: UnsafeMutableRawPointer(lists), listCount: listsPerArena * arenaCount,
      listStride: MemoryLayout<ListHead>.stride, listsPerZone: ZoneLists.perZone,
      listNext: MemoryLayout<ListHead>.offset(of: \.next)!, listPrev: MemoryLayout<ListHead>.offset(of: \.prev)!,
      listBlocks: MemoryLayout<ListHead>.offset(of: \.count)!, listAddress: MemoryLayout<ListHead>.offset(of: \.address)!,
      counters: UnsafeMutableRawPointer(zoneCounters), counterStride: MemoryLayout<ZoneCounters>.stride,
      freePages: MemoryLayout<ZoneCounters>.offset(of: \.freePages)!, pcpCount: MemoryLayout<ZoneCounters>.offset(of: \.pcpCount)!,
      pcpHigh: MemoryLayout<ZoneCounters>.offset(of: \.pcpHigh)!, pcpBatch: MemoryLayout<ZoneCounters>.offset(of: \.pcpBatch)!,
      sectionNode: UnsafePointer(sectionNode), zoneIndexTable: zoneIndexTable,
      zonelists: UnsafePointer(zonelistTable), zonelistStride: zonelistStride)
  }
}
