import PageModel

/// Replays a recording on one era's model: each recorded allocation becomes the model's
/// allocation of its kind (a folio for anon, file and shmem, a slab, a page table, bare
/// pages for the rest), each recorded free frees what the model gave for that PFN.
/// The model picks its own PFNs; the recorded PFN only pairs a free with its allocation.
///
/// The model starts as booted, without the start snapshot's population: frees of pages
/// allocated before the recording began are counted (`earlierFrees`) and skipped.
public enum RecordingReplay {
  public struct Result: Sendable {
    public var era: Era
    public var events = 0
    public var allocations = 0
    public var frees = 0
    /// Frees of pages the recording did not see allocated.
    public var earlierFrees = 0
    /// Allocations the model could not satisfy (its RAM was too small).
    public var failedAllocations = 0
    /// Descriptor objects allocated and freed (memdesc eras: one per folio, slab and
    /// page table; none in the eras whose struct page is the descriptor).
    public var descriptorAllocs = 0
    public var descriptorFrees = 0
    /// The recording's span in seconds (first to last event).
    public var seconds = 0.0
    /// Descriptor-cache frames over time: mean and peak of the samples.
    public var descriptorPagesMean = 0.0
    public var descriptorPagesPeak = 0
    /// (event time in seconds from the start, descriptor frames) samples.
    public var samples: [(seconds: Double, descriptorPages: Int)] = []
    /// The memmap at the end (frames).
    public var memmapFrames = 0
    /// Wall time of the model's work per event (sampling excluded), ns.
    public var modelNanosecondsPerEvent = 0.0

    public var descriptorAllocsPerSecond: Double { seconds > 0 ? Double(descriptorAllocs) / seconds : 0 }
    public var descriptorFreesPerSecond: Double { seconds > 0 ? Double(descriptorFrees) / seconds : 0 }
  }

  enum Held: UInt8 { case none = 0, folio, slab, pageTable, bare }

  /// Replays `recording` (with its `attribution`) on `model`, sampling the descriptor
  /// caches `samples` times.
  public static func run(
    _ recording: Recording, attribution: RecordingAttribution, on model: any MemoryModel, path: String,
    samples: Int = 64
  ) throws -> Result {
    var r = Result(era: model.era)
    let separate = model.era == .memdesc32 || model.era == .memdesc8
    // What the model holds for each recorded PFN: kind and the model's PFN.
    var held: [UInt64: (Held, UInt64, UInt8)] = [:]
    let total = recording.eventCount
    let every = max(1, total / max(1, samples))
    var buffer: [UInt8] = []
    var allocIndex = 0
    var first: UInt64?
    var last: UInt64 = 0
    var modelTime = 0.0
    var sampleSum = 0.0
    for c in recording.chunks.indices {
      let n = try recording.events(chunk: c, into: &buffer, path: path)
      let t0 = HostInfo.monotonicSeconds()
      var sampleTime = 0.0
      try buffer.withUnsafeBytes { p in
        var at = 0
        while at < n {
          defer { at += PageEvent.size }
          guard let e = PageEvent.load(p, at: at) else { continue }
          r.events += 1
          if first == nil { first = e.time }
          last = e.time
          switch e.kind {
          case .alloc:
            guard allocIndex < attribution.kinds.count else {
              throw SnapshotError(.badTrace, path: path, "more allocations than the attribution has kinds")
            }
            let kind = attribution.kinds[allocIndex]
            allocIndex += 1
            r.allocations += 1
            let order = Int(min(e.order, UInt8(Kernel.maxPageOrder)))
            var got: (Held, UInt64)?
            switch kind {
            case .anon, .file, .shmem:
              got = model.allocFolio(order: order, kind: kind == .anon ? .anon : .file).map { (.folio, $0.pfn.rawValue) }
            case .slab where order <= Kernel.pageAllocCostlyOrder:
              got = model.allocSlab(order: order).map { (.slab, $0.rawValue) }
            case .pageTable where order == 0:
              got = model.allocPageTable().map { (.pageTable, $0.rawValue) }
            default:
              got = model.allocPages(order: order).map { (.bare, $0.rawValue) }
            }
            guard let got else { r.failedAllocations += 1; continue }
            if let old = held[e.pfn] { release(old, model) }
            held[e.pfn] = (got.0, got.1, UInt8(order))
            if separate && got.0 != .bare { r.descriptorAllocs += 1 }
          case .free:
            guard let h = held.removeValue(forKey: e.pfn) else { r.earlierFrees += 1; continue }
            release(h, model)
            r.frees += 1
            if separate && h.0 != .bare { r.descriptorFrees += 1 }
          default: break
          }
          if r.events % every == 0 {
            let s0 = HostInfo.monotonicSeconds()
            let pages = model.cost().descriptorFrames.values.reduce(0, +)
            r.samples.append((Double(e.time - first!) / 1e9, pages))
            sampleSum += Double(pages)
            r.descriptorPagesPeak = max(r.descriptorPagesPeak, pages)
            sampleTime += HostInfo.monotonicSeconds() - s0
          }
        }
      }
      modelTime += HostInfo.monotonicSeconds() - t0 - sampleTime
    }
    let cost = model.cost()
    r.memmapFrames = cost.memmapFrames
    let endPages = cost.descriptorFrames.values.reduce(0, +)
    r.samples.append((first.map { Double(last - $0) / 1e9 } ?? 0, endPages))
    sampleSum += Double(endPages)
    r.descriptorPagesPeak = max(r.descriptorPagesPeak, endPages)
    r.descriptorPagesMean = sampleSum / Double(r.samples.count)
    r.seconds = first.map { Double(last - $0) / 1e9 } ?? 0
    r.modelNanosecondsPerEvent = r.events > 0 ? modelTime * 1e9 / Double(r.events) : 0
    return r
  }

  static func release(_ h: (Held, UInt64, UInt8), _ model: any MemoryModel) {
    let pfn = PFN(h.1)
    switch h.0 {
    case .folio: model.folioPut(Folio(pfn: pfn))
    case .slab: model.freeSlab(pfn)
    case .pageTable: model.freePageTable(pfn)
    case .bare: model.freePages(pfn, order: Int(h.2))
    case .none: break
    }
  }
}

extension RecordingReplay {
  /// A recording as an allocation trace for `Simulator.run` (`memdesc simulate --trace`),
  /// so that recorded and synthetic workloads share one path: folios, slabs and page
  /// tables become trace operations; bare kernel and unknown allocations, which a trace
  /// cannot express, and frees of pages allocated before the recording are left out
  /// (`skipped` counts them).
  public static func trace(_ recording: Recording, attribution: RecordingAttribution, name: String) throws -> (trace: Trace, skipped: Int) {
    var ops: [TraceOp] = []
    var lines: [Int] = []
    var ids: [UInt64: Int] = [:]
    var next = 0, allocIndex = 0, skipped = 0, number = 0
    try recording.forEachEvent(path: name) { e in
      number += 1
      switch e.kind {
      case .alloc:
        guard allocIndex < attribution.kinds.count else {
          throw SnapshotError(.badTrace, path: name, "more allocations than the attribution has kinds")
        }
        let kind = attribution.kinds[allocIndex]
        allocIndex += 1
        let order = Int(min(e.order, UInt8(Kernel.maxPageOrder)))
        let op: TraceOp
        switch kind {
        case .anon, .file, .shmem: op = .allocFolio(id: next, order: order, kind: kind == .anon ? .anon : .file)
        case .slab where order <= Kernel.pageAllocCostlyOrder: op = .allocSlab(id: next, order: order)
        case .pageTable where order == 0: op = .allocPageTable(id: next)
        default: skipped += 1; return
        }
        if let old = ids[e.pfn] { ops.append(.free(id: old)); lines.append(number) }
        ids[e.pfn] = next
        next += 1
        ops.append(op)
        lines.append(number)
      case .free:
        guard let id = ids.removeValue(forKey: e.pfn) else { skipped += 1; return }
        ops.append(.free(id: id))
        lines.append(number)
      default: break
      }
    }
    return (Trace(name: name, ops: ops, lines: lines), skipped)
  }
}
