/// A zone of one node, as `/proc/zoneinfo` describes it.
public struct ZoneDescriptor: Sendable, Equatable {
  /// Index of the zone in the machine's zone table.
  public let index: Int
  public let node: Int
  public let type: ZoneType
  /// Kernel: `zone->zone_start_pfn` ..< `zone_end_pfn()`.
  public let span: PFNRange
  /// Kernel: `zone->present_pages`: RAM frames in the span.
  public let presentPages: Int

  public var name: String { type.name }
}

/// A doubly linked, circular list head of the model kernel, with the address the kernel
/// would give it: struct pages on the list link to it by that address.
///
/// Kernel: `struct list_head` inside `struct free_area` or `struct per_cpu_pages`.
@usableFromInline
struct ListHead {
  @usableFromInline var next: UInt64
  @usableFromInline var prev: UInt64
  /// Blocks on the list. Kernel: `free_area->nr_free`.
  @usableFromInline var count: Int
  @usableFromInline let address: UInt64

  init(address: UInt64) {
    next = address
    prev = address
    count = 0
    self.address = address
  }
}

/// A zone's mutable counters, kept in raw memory next to its lists, with the zone's
/// type and node, which the allocator's hot path hands to the format's page preparation.
@usableFromInline
struct ZoneCounters {
  @usableFromInline var type: ZoneType = .normal
  @usableFromInline var node: Int = 0
  /// Kernel: `NR_FREE_PAGES` (pages in the buddy free lists; not the per-CPU lists).
  @usableFromInline var freePages: Int = 0
  /// Kernel: `zone->managed_pages`: pages handed to the buddy allocator at boot.
  @usableFromInline var managedPages: Int = 0
  /// Kernel: `pcp->count`: pages on this zone's per-CPU lists.
  @usableFromInline var pcpCount: Int = 0
  /// Kernel: `pcp->high`.
  @usableFromInline var pcpHigh: Int = 0
  /// Kernel: `pcp->batch`.
  @usableFromInline var pcpBatch: Int = 0
}

/// Per-zone list indexes: the buddy free areas, then the per-CPU lists (`pindex`).
///
/// The kernel keeps one per-CPU list per migratetype for each order up to
/// `PAGE_ALLOC_COSTLY_ORDER`, and with THP built in `NR_PCP_THP` (2) more for pageblock-
/// order pages, one for MIGRATE_MOVABLE and one for the other two types. The model has no
/// migratetypes, so it folds each order's lists into one: orders 0-3, then order 9.
@usableFromInline enum ZoneLists {
  /// Per-CPU lists of the small orders, 0 ... `PAGE_ALLOC_COSTLY_ORDER`.
  @usableFromInline static let pcpOrders = Kernel.pageAllocCostlyOrder + 1
  /// Every per-CPU list: the small orders and the pageblock-order list.
  @usableFromInline static let pcpLists = pcpOrders + 1
  @usableFromInline static let perZone = Kernel.nrPageOrders + pcpLists
  @inlinable static func freeArea(_ order: Int) -> Int { order }
  /// Kernel: `order_to_pindex()`, offset past the free areas.
  @inlinable static func pcp(_ order: Int) -> Int {
    Kernel.nrPageOrders + (order <= Kernel.pageAllocCostlyOrder ? order : pcpOrders)
  }
  /// The order of the pages on per-CPU list `pindex` (0 ..< ``pcpLists``).
  /// Kernel: `pindex_to_order()`.
  @inlinable static func pcpOrder(_ pindex: Int) -> Int {
    pindex < pcpOrders ? pindex : Kernel.pageblockOrder
  }
  /// Whether blocks of `order` go through the per-CPU lists. Kernel: `pcp_allowed_order()`
  /// with CONFIG_TRANSPARENT_HUGEPAGE.
  @inlinable static func pcpAllowed(_ order: Int) -> Bool {
    order <= Kernel.pageAllocCostlyOrder || order == Kernel.pageblockOrder
  }
}
