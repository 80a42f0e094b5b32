/// Replays allocation traces on a machine of any era and costs the result.
public enum Simulator {
  /// What an allocation of a trace holds in the model, to free it again.
  public enum Handle: Sendable, Equatable {
    case folio(PFN)
    case slab(PFN)
    case pageTable(PFN)
  }

  /// Runs `trace` on `model` and returns the era's cost with the trace's allocations
  /// resident. `progress` is called now and then with (ops done, ops in all).
  public static func run(
    _ trace: Trace, on model: any MemoryModel, progress: ((Int, Int) -> Void)? = nil
  ) throws(TraceError) -> EraCost {
    _ = try applySlots(trace, on: model, progress: progress)
    return model.cost()
  }

  /// Runs `trace` on `model` and returns what each trace ID still holds (nil once freed),
  /// so that a caller can go on from the state the trace built (`memdesc replay` starts
  /// from a snapshot's population this way).
  public static func apply(
    _ trace: Trace, on model: any MemoryModel, progress: ((Int, Int) -> Void)? = nil
  ) throws(TraceError) -> [Handle?] {
    try applySlots(trace, on: model, progress: progress).map(Slot.unpack)
  }

  /// ``apply(_:on:progress:)`` with what each ID holds left packed (``Slot``).
  static func applySlots(
    _ trace: Trace, on model: any MemoryModel, progress: ((Int, Int) -> Void)?
  ) throws(TraceError) -> [UInt64] {
    // One packed slot per ID, sized once: a replay of millions of allocations frees them
    // in random order, so the table's size in cache lines is the cost (8 bytes a slot,
    // where [Handle?] takes 16), and growing it one ID at a time would copy it again and
    // again.
    var slots = [UInt64](repeating: Slot.empty, count: trace.idCount)
    for (i, op) in trace.ops.enumerated() {
      if i & 0xffff == 0 { progress?(i, trace.ops.count) }
      let line = trace.lines[i]
      func store(_ id: Int, _ h: Handle?) throws(TraceError) {
        guard let h else { throw .outOfMemory(file: trace.name, line: line, era: model.era) }
        guard slots[id] == Slot.empty else { throw .duplicateID(file: trace.name, line: line, id: trace.idName(id)) }
        slots[id] = Slot.pack(h)
      }
      switch op {
      case .allocFolio(let id, let order, let kind):
        try store(id, model.allocFolio(order: order, kind: kind, gfp: .kernel, node: 0).map { .folio($0.pfn) })
      case .allocSlab(let id, let order):
        try store(id, model.allocSlab(order: order).map { .slab($0) })
      case .allocPageTable(let id):
        try store(id, model.allocPageTable().map { .pageTable($0) })
      case .free(let id):
        guard let h = Slot.unpack(slots[id]) else { throw .unknownID(file: trace.name, line: line, id: trace.idName(id)) }
        release(h, on: model)
        slots[id] = Slot.empty
      case .hvo(let on):
        model.setHugetlbOptimizeVmemmap(on)
      case .hugepages(let order, let count):
        model.setNrHugePages(order: order, count: count)
      }
    }
    progress?(trace.ops.count, trace.ops.count)
    return slots
  }

  /// A ``Handle`` in one word: the frame number above two bits of kind, 0 for none
  /// (frame numbers stay below 2^52, so the shift loses nothing).
  enum Slot {
    static let empty: UInt64 = 0

    @inline(__always)
    static func pack(_ h: Handle) -> UInt64 {
      switch h {
      case .folio(let pfn): pfn.rawValue << 2 | 1
      case .slab(let pfn): pfn.rawValue << 2 | 2
      case .pageTable(let pfn): pfn.rawValue << 2 | 3
      }
    }

    @inline(__always)
    static func unpack(_ slot: UInt64) -> Handle? {
      let pfn = PFN(slot >> 2)
      switch slot & 3 {
      case 1: return .folio(pfn)
      case 2: return .slab(pfn)
      case 3: return .pageTable(pfn)
      default: return nil
      }
    }
  }

  /// Whether a machine that runs `trace` should write its memmap at boot
  /// (``MachineConfig/lazyMemmap`` false) rather than build each frame on first touch:
  /// true when the trace allocates at least a quarter of RAM, as every built-in workload
  /// does. Such a trace reads most memmap frames anyway, and building them one
  /// userfaultfd round trip per 128 KiB costs more than one pass at boot over memory
  /// faulted in 2 MiB at a time (`simulate --workload mixed` at 64G: 12.4 s lazy, 8.1 s
  /// eager). A small trace on a large machine touches few frames and stays lazy.
  public static func writesMostOfMemmap(_ trace: Trace, ramPages: Int) -> Bool {
    trace.pagesAllocated >= ramPages / 4
  }

  /// Frees what `handle` holds.
  public static func release(_ handle: Handle, on model: any MemoryModel) {
    switch handle {
    case .folio(let pfn): model.folioPut(Folio(pfn: pfn))
    case .slab(let pfn): model.freeSlab(pfn)
    case .pageTable(let pfn): model.freePageTable(pfn)
    }
  }
}
