/// What each recorded allocation became, from the events that followed it and, for
/// allocations still live at the end, the end snapshot.
///
/// The events say it for user folios: pagemap:mm_lru_insertion carries the folio's
/// anon and swap-backed bits (anon, shmem, else file), filemap:mm_filemap_add_to_page_cache
/// says page cache. Kernel allocations (slab, page tables, other) have no such event and
/// their GFP flags do not tell them apart, so they are named from the end snapshot's
/// kpageflags when still allocated there, and counted as unknown otherwise: never guessed.
public struct RecordingAttribution: Sendable {
  public enum Kind: UInt8, CaseIterable, Sendable {
    case anon, file, shmem, slab, pageTable = 4, hugetlb, otherKernel, unknown

    public var label: String {
      switch self {
      case .anon: "anon"
      case .file: "file"
      case .shmem: "shmem"
      case .slab: "slab"
      case .pageTable: "page_table"
      case .hugetlb: "hugetlb"
      case .otherKernel: "other_kernel"
      case .unknown: "unknown"
      }
    }

    /// The kind a kpageflags word shows.
    static func of(_ c: PageClass) -> Kind {
      switch c {
      case .anon: .anon
      case .shmem: .shmem
      case .file: .file
      case .slab: .slab
      case .pageTable: .pageTable
      case .hugetlb: .hugetlb
      case .free, .zero: .unknown
      case .zeroPage, .offline, .reserved, .other: .otherKernel
      }
    }
  }

  /// mm_lru_insertion's flag bits. Kernel: include/trace/events/pagemap.h
  /// (PAGEMAP_ANONYMOUS, PAGEMAP_SWAPBACKED; 0x8 is PAGEMAP_SWAPCACHE).
  public static let lruAnon: UInt32 = 0x2
  public static let lruSwapBacked: UInt32 = 0x10

  /// The kind of each kmem:mm_page_alloc event, in recording order.
  public var kinds: [Kind] = []
  /// Pages (2^order per allocation) of each kind.
  public var pages: [Kind: Int] = [:]
  /// Pages allocated in the window and still allocated at its end.
  public var livePages = 0
  /// Of those allocated before the end snapshot began, pages whose kind the events told,
  /// and how many the end snapshot shows with the same kind.
  public var eventKindPages = 0
  public var agreeingPages = 0
  /// Live pages named from the end snapshot alone (no event told).
  public var snapshotKindPages = 0
  /// Whether there was an end snapshot.
  public var hadEndSnapshot = false

  /// Agreement of event-derived kinds with the end snapshot, over live pages.
  public var agreement: Double? { eventKindPages > 0 ? Double(agreeingPages) / Double(eventKindPages) : nil }

  public init(_ recording: Recording, path: String) throws {
    let end: PageSnapshot? = try recording.sections["snapshot.end"].map { try SnapshotFormat.parse($0, path: path + ":snapshot.end") }
    hadEndSnapshot = end != nil
    var told: [Kind?] = []
    var orders: [UInt8] = []
    var times: [UInt64] = []
    // Allocations after the end snapshot began may postdate its read of their PFN.
    let snapshotStart = recording.metaValue("end_snapshot_started_ns").flatMap { UInt64($0) } ?? UInt64.max
    var pfns: [UInt64] = []
    var live: [UInt64: Int] = [:]
    try recording.forEachEvent(path: path) { e in
      switch e.kind {
      case .alloc:
        live[e.pfn] = told.count
        told.append(nil)
        orders.append(e.order)
        times.append(e.time)
        pfns.append(e.pfn)
      case .free:
        live[e.pfn] = nil
      case .lruInsertion:
        if let i = live[e.pfn] {
          told[i] = e.aux & Self.lruAnon != 0 ? .anon : e.aux & Self.lruSwapBacked != 0 ? .shmem : .file
        }
      case .addToPageCache:
        if let i = live[e.pfn], told[i] == nil { told[i] = .file }
      case .freeBatched, .pcpuDrain, .deleteFromPageCache: break
      }
    }
    kinds = told.map { $0 ?? .unknown }
    // The end snapshot is read block by block (1 Mi PFNs), each block once, in PFN order.
    let block = 1 << 20
    let words = UnsafeMutablePointer<UInt64>.allocate(capacity: block)
    defer { words.deallocate() }
    var loaded = -1
    for (pfn, i) in live.sorted(by: { $0.key < $1.key }) {
      let size = 1 << Int(min(orders[i], 20))
      livePages += size
      guard let end, pfn < UInt64(end.pfnCount) else { continue }
      let b = Int(pfn) / block
      if b != loaded {
        try end.kpageflags.read((b * block)..<min(end.pfnCount, (b + 1) * block), into: words)
        loaded = b
      }
      let shown = Kind.of(PageClassifier.classify(words[Int(pfn) - b * block]))
      if let t = told[i], times[i] < snapshotStart {
        eventKindPages += size
        if t == shown { agreeingPages += size }
      } else if told[i] == nil, shown != .unknown {
        kinds[i] = shown
        snapshotKindPages += size
      }
    }
    for (i, k) in kinds.enumerated() { pages[k, default: 0] += 1 << Int(min(orders[i], 20)) }
  }
}
