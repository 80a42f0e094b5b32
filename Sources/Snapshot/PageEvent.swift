/// One page-allocator event of a recording, in the fixed 24-byte form a recording stores.
public struct PageEvent: Equatable, Sendable {
  /// Which tracepoint it came from.
  public enum Kind: UInt8, Sendable, CaseIterable {
    /// kmem:mm_page_alloc (aux: the GFP flags' low 32 bits). Kernel: __alloc_frozen_pages_noprof().
    case alloc = 1
    /// kmem:mm_page_free. Kernel: free_pages_prepare().
    case free = 2
    /// kmem:mm_page_free_batched (order 0). Kernel: free_unref_folios().
    case freeBatched = 3
    /// kmem:mm_page_pcpu_drain: a free page moves from a per-CPU list to the buddy lists
    /// (no change in what is allocated; aux: the migratetype). Kernel: free_pcppages_bulk().
    case pcpuDrain = 4
    /// filemap:mm_filemap_add_to_page_cache (aux: s_dev). Kernel: __filemap_add_folio().
    case addToPageCache = 5
    /// filemap:mm_filemap_delete_from_page_cache. Kernel: __filemap_remove_folio().
    case deleteFromPageCache = 6
    /// pagemap:mm_lru_insertion (aux: its flags, 0x2 anon, 0x4 file, 0x10 swap-backed).
    /// Kernel: lru_add().
    case lruInsertion = 7

    /// The tracefs event (`SYSTEM/EVENT`).
    public var tracepoint: String {
      switch self {
      case .alloc: "kmem/mm_page_alloc"
      case .free: "kmem/mm_page_free"
      case .freeBatched: "kmem/mm_page_free_batched"
      case .pcpuDrain: "kmem/mm_page_pcpu_drain"
      case .addToPageCache: "filemap/mm_filemap_add_to_page_cache"
      case .deleteFromPageCache: "filemap/mm_filemap_delete_from_page_cache"
      case .lruInsertion: "pagemap/mm_lru_insertion"
      }
    }
    /// The fields read from the event: pfn always, then order and aux where it has them.
    var orderField: String? {
      switch self {
      case .alloc, .free, .pcpuDrain, .addToPageCache, .deleteFromPageCache: "order"
      case .freeBatched, .lruInsertion: nil
      }
    }
    var auxField: String? {
      switch self {
      case .alloc: "gfp_flags"
      case .pcpuDrain: "migratetype"
      case .addToPageCache: "s_dev"
      case .lruInsertion: "flags"
      case .free, .freeBatched, .deleteFromPageCache: nil
      }
    }
  }

  /// The trace clock's time (ns).
  public var time: UInt64
  public var pfn: UInt64
  /// Event-specific (see `Kind`).
  public var aux: UInt32
  public var kind: Kind
  public var order: UInt8
  public var cpu: UInt16

  public init(time: UInt64, pfn: UInt64, aux: UInt32 = 0, kind: Kind, order: UInt8 = 0, cpu: UInt16 = 0) {
    self.time = time
    self.pfn = pfn
    self.aux = aux
    self.kind = kind
    self.order = order
    self.cpu = cpu
  }

  /// The stored size.
  public static let size = 24

  /// Appends the stored form: time u64, pfn u64, aux u32, kind u8, order u8, cpu u16 (LE).
  public func append(to out: inout [UInt8]) {
    withUnsafeBytes(of: time.littleEndian) { out.append(contentsOf: $0) }
    withUnsafeBytes(of: pfn.littleEndian) { out.append(contentsOf: $0) }
    withUnsafeBytes(of: aux.littleEndian) { out.append(contentsOf: $0) }
    out.append(kind.rawValue)
    out.append(order)
    withUnsafeBytes(of: cpu.littleEndian) { out.append(contentsOf: $0) }
  }

  /// Reads the stored form at `at` (which must have 24 bytes); nil for an unknown kind.
  @inline(__always)
  public static func load(_ p: UnsafeRawBufferPointer, at: Int) -> PageEvent? {
    guard let kind = Kind(rawValue: p[at + 20]) else { return nil }
    return PageEvent(
      time: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self)),
      pfn: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)),
      aux: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: at + 16, as: UInt32.self)),
      kind: kind, order: p[at + 21],
      cpu: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: at + 22, as: UInt16.self)))
  }
}

/// Turns ring-buffer payloads into `PageEvent`s with the field layouts the running
/// kernel published: a table from event ID to where its fields are.
public struct PageEventDecoder: Sendable {
  struct Slot: Sendable {
    var kind: PageEvent.Kind
    var pfn: (offset: Int, size: Int)
    var order: (offset: Int, size: Int)?
    var aux: (offset: Int, size: Int)?
    var end: Int
  }
  var slots: [Slot?] = Array(repeating: nil, count: 1 << 16)
  /// The ID of each event kind decoded.
  public private(set) var ids: [PageEvent.Kind: Int] = [:]

  /// `layouts` gives each kind's published format; a kind's missing field is an error.
  public init(_ layouts: [PageEvent.Kind: TracefsLayout.Event], path: String) throws {
    for (kind, e) in layouts {
      func field(_ name: String) throws -> (offset: Int, size: Int) {
        guard let f = e.field(name), [1, 2, 4, 8].contains(f.size) else {
          throw SnapshotError(.badTrace, path: path, "event \(kind.tracepoint) has no integer field '\(name)' of 1, 2, 4 or 8 bytes")
        }
        return (f.offset, f.size)
      }
      let pfn = try field("pfn")
      let order = try kind.orderField.map(field)
      let aux = try kind.auxField.map(field)
      let end = [pfn, order, aux, (0, 2)].compactMap { $0 }.map { $0.offset + $0.size }.max()!
      slots[e.id] = Slot(kind: kind, pfn: pfn, order: order, aux: aux, end: end)
      ids[kind] = e.id
    }
  }

  /// The outcome of one payload.
  public enum Outcome {
    case event(PageEvent)
    /// An event this decoder does not know (another event of the instance).
    case other
    /// A known event whose payload is shorter than its layout.
    case short
    /// An allocation that failed (pfn -1).
    case failedAlloc
  }

  @inline(__always)
  public func decode(_ payload: UnsafeRawBufferPointer, time: UInt64, cpu: UInt16) -> Outcome {
    guard payload.count >= 2 else { return .short }
    let id = Int(UInt16(littleEndian: payload.loadUnaligned(as: UInt16.self)))
    guard let s = slots[id] else { return .other }
    guard payload.count >= s.end else { return .short }
    let pfn = Self.load(payload, s.pfn)
    if pfn == UInt64.max || (s.pfn.size == 4 && pfn == UInt64(UInt32.max)) { return s.kind == .alloc ? .failedAlloc : .short }
    return .event(PageEvent(
      time: time, pfn: pfn, aux: s.aux.map { UInt32(truncatingIfNeeded: Self.load(payload, $0)) } ?? 0,
      kind: s.kind, order: s.order.map { UInt8(truncatingIfNeeded: Self.load(payload, $0)) } ?? 0, cpu: cpu))
  }

  @inline(__always)
  static func load(_ p: UnsafeRawBufferPointer, _ f: (offset: Int, size: Int)) -> UInt64 {
    switch f.size {
    case 1: UInt64(p[f.offset])
    case 2: UInt64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: f.offset, as: UInt16.self)))
    case 4: UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: f.offset, as: UInt32.self)))
    default: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: f.offset, as: UInt64.self))
    }
  }
}
