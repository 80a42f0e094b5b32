/// Built-in workloads: allocation traces generated for a machine's size, so that every
/// era runs the same logical operations.
public enum Workload: String, CaseIterable, Sendable {
  /// 60 % of RAM in order-0 anonymous folios (a small-page heap).
  case anonOrder0 = "anon-order0"
  /// 60 % of RAM in 2 MiB anonymous THPs.
  case anonTHP = "anon-thp"
  /// 60 % of RAM in page-cache folios of orders 0-9, as ext4 readahead makes them.
  case fileLargeFolios = "file-large-folios"
  /// 25 % of RAM in slabs of orders 0-3, 30 % in order-0 anonymous folios, 1 % page tables.
  case slabHeavy = "slab-heavy"
  /// 50 % of RAM in 2 MiB HugeTLB pages, with HVO on.
  case hugetlb2M = "hugetlb-2m"
  /// 50 % of RAM in 1 GiB HugeTLB pages, with HVO on.
  case hugetlb1G = "hugetlb-1g"
  /// A bit of everything, with churn: anonymous small and huge, page cache, slab, page
  /// tables and 2 MiB HugeTLB with HVO, and frees along the way.
  case mixed

  /// What the workload is, in a line.
  public var summary: String {
    switch self {
    case .anonOrder0: "60% of RAM in order-0 anonymous folios"
    case .anonTHP: "60% of RAM in 2 MiB anonymous THPs"
    case .fileLargeFolios: "60% of RAM in page-cache folios of orders 0-9"
    case .slabHeavy: "25% of RAM in slabs, 30% in order-0 anonymous folios, 1% page tables"
    case .hugetlb2M: "50% of RAM in 2 MiB HugeTLB pages with HVO"
    case .hugetlb1G: "50% of RAM in 1 GiB HugeTLB pages with HVO"
    case .mixed: "anonymous, THP, page cache, slab, page tables and 2 MiB HugeTLB with HVO, with churn"
    }
  }

  /// The trace for a machine with `ramPages` pages of RAM.
  public func trace(ramPages: Int, seed: UInt64) -> Trace {
    var g = TraceGenerator(seed: seed)
    let pages = Double(ramPages)
    switch self {
    case .anonOrder0:
      g.folios(pages: Int(pages * 0.6), orders: [(0, 1)], kind: .anon)
    case .anonTHP:
      g.folios(pages: Int(pages * 0.6), orders: [(9, 1)], kind: .anon)
    case .fileLargeFolios:
      g.folios(pages: Int(pages * 0.6), orders: Workload.readaheadOrders, kind: .file)
    case .slabHeavy:
      g.slabs(pages: Int(pages * 0.25))
      g.folios(pages: Int(pages * 0.3), orders: [(0, 1)], kind: .anon)
      g.pageTables(pages: Int(pages * 0.01))
    case .hugetlb2M:
      g.ops.append(.hvo(true))
      g.ops.append(.hugepages(order: Hstate.pmd, count: Int(pages * 0.5) >> Hstate.pmd))
    case .hugetlb1G:
      g.ops.append(.hvo(true))
      g.ops.append(.hugepages(order: Hstate.pud, count: Int(pages * 0.5) >> Hstate.pud))
    case .mixed:
      g.ops.append(.hvo(true))
      g.ops.append(.hugepages(order: Hstate.pmd, count: Int(pages * 0.1) >> Hstate.pmd))
      g.folios(pages: Int(pages * 0.3), orders: [(0, 1)], kind: .anon, churn: 0.2)
      g.folios(pages: Int(pages * 0.15), orders: [(9, 1)], kind: .anon)
      g.folios(pages: Int(pages * 0.15), orders: Workload.readaheadOrders, kind: .file, churn: 0.2)
      g.slabs(pages: Int(pages * 0.05))
      g.pageTables(pages: Int(pages * 0.01))
    }
    return Trace(name: rawValue, ops: g.ops)
  }

  /// Share of page-cache pages per folio order: readahead grows windows up to PMD size.
  static let readaheadOrders: [(order: Int, weight: Int)] = [(0, 20), (2, 15), (3, 10), (4, 15), (5, 10), (7, 10), (9, 20)]
}

/// Builds traces from a seeded generator.
struct TraceGenerator {
  var ops: [TraceOp] = []
  var nextID = 0
  var rng: SplitMix
  init(seed: UInt64) { rng = SplitMix(seed: seed) }

  /// Allocates folios until `pages` pages are in them, orders drawn by page share; with
  /// `churn`, that share of allocations is freed again later in the trace.
  mutating func folios(pages: Int, orders: [(order: Int, weight: Int)], kind: FolioKind, churn: Double = 0) {
    let total = orders.reduce(0) { $0 + $1.weight }
    var allocated = 0
    var live: [Int] = []
    while allocated < pages {
      var pick = Int(rng.next() % UInt64(total))
      var order = orders[0].order
      for o in orders {
        if pick < o.weight { order = o.order; break }
        pick -= o.weight
      }
      if allocated + (1 << order) > pages { order = 0 }
      ops.append(.allocFolio(id: nextID, order: order, kind: kind))
      live.append(nextID)
      nextID += 1
      allocated += 1 << order
      if churn > 0 && Double(rng.next() % 1000) < churn * 1000, live.count > 1 {
        // Any live folio but the newest, uniformly. Swap-remove keeps that choice and
        // costs O(1): removing from the middle moved the array's tail on every free,
        // which made the trace quadratic in RAM (64G took 20x the time of 16G).
        let i = Int(rng.next() % UInt64(live.count - 1))
        live.swapAt(i, live.count - 1)
        ops.append(.free(id: live.removeLast()))
      }
    }
  }

  mutating func slabs(pages: Int) {
    var allocated = 0
    while allocated < pages {
      let order = Int(rng.next() % 4)
      ops.append(.allocSlab(id: nextID, order: order))
      nextID += 1
      allocated += 1 << order
    }
  }

  mutating func pageTables(pages: Int) {
    for _ in 0..<pages {
      ops.append(.allocPageTable(id: nextID))
      nextID += 1
    }
  }
}

/// SplitMix64, the seeded generator of workloads (`--seed`) and of the tests' random
/// sequences: small, fast, and replayable from its seed.
public struct SplitMix: RandomNumberGenerator, Sendable {
  public var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}
