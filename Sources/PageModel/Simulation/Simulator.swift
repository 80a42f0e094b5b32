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
    _ = try apply(trace, on: model, progress: progress)
    return model.cost()
  }

  /// Runs `trace` on `model` and returns what each trace ID still holds (nil once freed),
  /// so that a caller can go on from the state the trace built (`memdesc replay` starts
  /// from a snapshot's population this way).
  public static func apply(
    _ trace: Trace, on model: any MemoryModel, progress: ((Int, Int) -> Void)? = nil
  ) throws(TraceError) -> [Handle?] {
    var handles: [Handle?] = []
    for (i, op) in trace.ops.enumerated() {
      if i & 0xffff == 0 { progress?(i, trace.ops.count) }
      let line = trace.lines[i]
      func store(_ id: Int, _ h: Handle?) throws(TraceError) {
        guard let h else { throw .outOfMemory(file: trace.name, line: line, era: model.era) }
        if id >= handles.count { handles.append(contentsOf: repeatElement(nil, count: id + 1 - handles.count)) }
        guard handles[id] == nil else { throw .duplicateID(file: trace.name, line: line, id: trace.idName(id)) }
        handles[id] = h
      }
      switch op {
      case .allocFolio(let id, let order, let kind):
        try store(id, model.allocFolio(order: order, kind: kind, gfp: .kernel, node: 0).map { .folio($0.pfn) })
      case .allocSlab(let id, let order):
        try store(id, model.allocSlab(order: order).map { .slab($0) })
      case .allocPageTable(let id):
        try store(id, model.allocPageTable().map { .pageTable($0) })
      case .free(let id):
        guard id < handles.count, let h = handles[id] else {
          throw .unknownID(file: trace.name, line: line, id: trace.idName(id))
        }
        release(h, on: model)
        handles[id] = nil
      case .hvo(let on):
        model.setHugetlbOptimizeVmemmap(on)
      case .hugepages(let order, let count):
        model.setNrHugePages(order: order, count: count)
      }
    }
    progress?(trace.ops.count, trace.ops.count)
    return handles
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
