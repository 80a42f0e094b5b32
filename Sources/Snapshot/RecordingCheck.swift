/// A recording checked against the kernel's own counters: the pages its events allocated
/// and freed against the deltas of vmstat's `pgalloc_*` and `pgfree` over the same
/// window (both are read right after tracing is turned on and off).
///
/// Kernel: mm/page_alloc.c (rmqueue() counts PGALLOC per zone, free_pages_prepare() and
/// the batched paths count PGFREE), mm/vmstat.c.
public struct RecordingCheck: Equatable, Sendable {
  /// Pages allocated by kmem:mm_page_alloc events (2^order each).
  public var recordedAllocPages = 0
  /// Pages freed by kmem:mm_page_free events (2^order). kmem:mm_page_free_batched is not
  /// counted: free_unref_folios() calls free_pages_prepare(), which fires
  /// mm_page_free, for every folio it then reports as batched.
  public var recordedFreePages = 0
  /// The sum of the `pgalloc_*` deltas.
  public var vmstatAllocPages = 0
  /// The `pgfree` delta.
  public var vmstatFreePages = 0
  /// Events the kernel lost (ring buffer full).
  public var lostEvents = 0

  /// (recorded - vmstat) / vmstat, or nil without a vmstat delta.
  public var allocError: Double? { Self.relative(recordedAllocPages, vmstatAllocPages) }
  public var freeError: Double? { Self.relative(recordedFreePages, vmstatFreePages) }

  static func relative(_ recorded: Int, _ counted: Int) -> Double? {
    counted > 0 ? Double(recorded - counted) / Double(counted) : nil
  }

  /// Counts a recording's events and reads its two vmstat sections.
  public init(_ recording: Recording, path: String) throws {
    try recording.forEachEvent(path: path) { e in
      switch e.kind {
      case .alloc: recordedAllocPages += 1 << Int(min(e.order, 20))
      case .free: recordedFreePages += 1 << Int(min(e.order, 20))
      default: break
      }
    }
    lostEvents = Int(recording.metaValue("lost_events") ?? "") ?? 0
    guard let a = recording.sections["vmstat.start"], let b = recording.sections["vmstat.end"] else { return }
    let before = try ProcText.counters(String(decoding: a, as: UTF8.self), path: path + ":vmstat.start")
    let after = try ProcText.counters(String(decoding: b, as: UTF8.self), path: path + ":vmstat.end")
    for (k, v) in after where k.hasPrefix("pgalloc_") { vmstatAllocPages += v - (before[k] ?? 0) }
    vmstatFreePages = (after["pgfree"] ?? 0) - (before["pgfree"] ?? 0)
  }
}
