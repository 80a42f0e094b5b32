import PageModel

/// Replays a recording on one era's model: each recorded allocation becomes the model's
/// allocation of its kind (a folio for anon, file and shmem, a slab, a page table, bare
/// pages for the rest), each recorded free frees what the model gave for that PFN.
/// The model picks its own PFNs; the recorded PFN only pairs a free with its allocation.
///
/// With a `Start` (the start snapshot's state), the model first holds the population
/// the snapshot shows, and a free of a page allocated before the recording began frees
/// one object of the start population of the kind and order the start snapshot shows
/// at that PFN; frees that cannot be paired so are counted (`earlierFrees`) and skipped.
public enum RecordingReplay {
  /// One sample of an era's state during the replay.
  public struct Sample: Sendable, Equatable {
    /// Event time in seconds from the recording's first event.
    public var seconds: Double
    /// Frames of all descriptor caches (memdesc eras; 0 where struct page is the descriptor).
    public var descriptorPages: Int
    /// Frames of the `struct slab` descriptor cache alone.
    public var descriptorSlabPages: Int
    /// Descriptor allocations and frees so far (cumulative).
    public var descriptorAllocs: Int
    public var descriptorFrees: Int
  }

  public struct Result: Sendable {
    public var era: Era
    public var events = 0
    public var allocations = 0
    public var frees = 0
    /// Of `frees`, those that freed an object of the start population.
    public var startFrees = 0
    /// Frees of pages the replay cannot pair with anything it holds.
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
    /// The same for the `struct slab` descriptor cache.
    public var descriptorSlabPagesMean = 0.0
    public var descriptorSlabPagesPeak = 0
    /// Samples at even steps of event time, the first before any event, the last after all.
    public var samples: [Sample] = []
    /// The memmap at the end (frames).
    public var memmapFrames = 0
    /// Descriptor-cache frames of the start population, before the first event.
    public var startDescriptorPages = 0
    /// CPU time of the model's work per event (sampling excluded), ns: the replaying
    /// thread's own (CLOCK_THREAD_CPUTIME_ID), so that other load on the host does not
    /// count.
    public var modelNanosecondsPerEvent = 0.0
    /// CPU time per event of reading the events alone (inflating the chunks, loading
    /// each event), measured in the same run before the replay, ns.
    public var decodeNanosecondsPerEvent = 0.0
    /// What the decoding pass read (PFNs summed), so that it cannot be left out.
    var decodeChecksum: UInt64 = 0
    /// Events per second of the replay (decoding and the model's work).
    public var eventsPerSecond: Double {
      let ns = modelNanosecondsPerEvent + decodeNanosecondsPerEvent
      return ns > 0 ? 1e9 / ns : 0
    }
    /// The replay's time per event against decoding alone.
    public var replayToDecodeRatio: Double {
      decodeNanosecondsPerEvent > 0 ? (modelNanosecondsPerEvent + decodeNanosecondsPerEvent) / decodeNanosecondsPerEvent : 0
    }
    /// Whether the model started from the start snapshot's population.
    public var fromStart = false
    /// Pages held bare at the start for the snapshot's used memory outside the
    /// population (reserved, other kernel).
    public var startBarePages = 0

    public var descriptorAllocsPerSecond: Double { seconds > 0 ? Double(descriptorAllocs) / seconds : 0 }
    public var descriptorFreesPerSecond: Double { seconds > 0 ? Double(descriptorFrees) / seconds : 0 }
  }

  enum Held: UInt8 { case none = 0, folio, slab, pageTable, bare }

  /// The machine the start snapshot shows, to build in each era's model before the
  /// events: its RAM layout, its population (the census's, as `analyze` projects it),
  /// the free memory it had, and what it held at each PFN the recording frees without
  /// having seen it allocated.
  public struct Start: Sendable {
    public var layout: PhysicalLayout
    public var population: Population
    /// Free (buddy) pages in the start snapshot.
    public var freePages: Int
    /// What the start snapshot shows at each PFN freed before the recording allocated it.
    var earlier: [UInt64: Held] = [:]
    /// Pages of such frees by what the start snapshot shows there.
    public var earlierPages: [RecordingAttribution.Kind: Int] = [:]

    /// Reads the start snapshot of `recording`; nil when it was recorded without one.
    public init?(_ recording: Recording, path: String) throws {
      guard let bytes = recording.sections["snapshot.start"] else { return nil }
      let where_ = path + ":snapshot.start"
      let snapshot = try SnapshotFormat.parse(bytes, path: where_)
      let census = try Census.of(snapshot)
      layout = try census.ram.layout(path: where_)
      population = census.population()
      freePages = census.buddyPages
      // The PFNs freed while not allocated in the recording, in order of first free.
      var live = Set<UInt64>()
      var freedFirst: [UInt64] = []
      var seen = Set<UInt64>()
      try recording.forEachEvent(path: path) { e in
        switch e.kind {
        case .alloc: live.insert(e.pfn); seen.insert(e.pfn)
        case .free:
          if live.remove(e.pfn) == nil, !seen.contains(e.pfn) { freedFirst.append(e.pfn); seen.insert(e.pfn) }
        default: break
        }
      }
      // The start snapshot is read block by block (1 Mi PFNs), each block once.
      let block = 1 << 20
      let words = UnsafeMutablePointer<UInt64>.allocate(capacity: block)
      defer { words.deallocate() }
      var loaded = -1
      for pfn in freedFirst.sorted() where pfn < UInt64(snapshot.pfnCount) {
        let b = Int(pfn) / block
        if b != loaded {
          try snapshot.kpageflags.read((b * block)..<min(snapshot.pfnCount, (b + 1) * block), into: words)
          loaded = b
        }
        let kind = RecordingAttribution.Kind.of(PageClassifier.classify(words[Int(pfn) - b * block]))
        earlierPages[kind, default: 0] += 1
        switch kind {
        case .anon, .file, .shmem: earlier[pfn] = .folio
        case .slab: earlier[pfn] = .slab
        case .pageTable: earlier[pfn] = .pageTable
        case .otherKernel: earlier[pfn] = .bare
        case .hugetlb, .unknown: break
        }
      }
    }

    /// Pages the population holds: folios, slabs, page tables and HugeTLB pages.
    public var populationPages: Int {
      var n = population.pageTables
      for (_, orders) in population.folios { for (order, count) in orders { n += count << order } }
      for (order, count) in population.slabs { n += count << order }
      for (order, count) in population.hugetlb { n += count << order }
      return n
    }

    /// Builds the start state in `model` and returns what it holds, by kind and order,
    /// for the recording's frees of earlier pages to free. Pages that the snapshot shows
    /// neither free nor in the population (reserved, other kernel memory) are held as
    /// bare pages, as many in every era: on today's 64-byte memmap the machine is left
    /// with the snapshot's free memory, and an era's smaller memmap, its descriptors and
    /// its HVO savings move its free memory from there.
    func build(on model: any MemoryModel, path: String) throws -> Pools {
      var pools = Pools()
      let booted = model.census()
      let classic = MachineConfig(layout: model.layout, era: .classic).memmapFrames
      let eraMemmap = MachineConfig(layout: model.layout, era: model.era).memmapFrames
      // HVO's saving net of the vmemmap PTE tables its PMD splits took where the snapshot
      // shows the optimised huge pages: the snapshot's kernel paid those tables out of the
      // memory it shows as used, so they are not part of the other kernel memory the bare
      // pages stand for.
      let classicHVO = EraCost.project(population, era: .classic, layout: model.layout).hvoSavedFrames
      let bare = booted.freePages + booted.pcpPages + eraMemmap - classic - populationPages + classicHVO - freePages
      let trace = population.trace(name: path + ":snapshot.start")
      let handles: [Simulator.Handle?]
      do {
        handles = try Simulator.apply(trace, on: model)
      } catch {
        throw SnapshotError(.badTrace, path: path, "the start snapshot's population does not fit a \(model.layout.ramBytes >> 20) MiB model in era \(model.era.rawValue): \(error)")
      }
      for op in trace.ops {
        switch op {
        case .allocFolio(let id, let order, _): if case .folio(let pfn)? = handles[id] { pools.push(.folio, order: order, pfn.rawValue) }
        case .allocSlab(let id, let order): if case .slab(let pfn)? = handles[id] { pools.push(.slab, order: order, pfn.rawValue) }
        case .allocPageTable(let id): if case .pageTable(let pfn)? = handles[id] { pools.push(.pageTable, order: 0, pfn.rawValue) }
        default: break
        }
      }
      var left = max(0, bare)
      var order = Kernel.maxPageOrder
      while left > 0, order >= 0 {
        if left >= 1 << order, let pfn = model.allocPages(order: order) {
          pools.push(.bare, order: order, pfn.rawValue)
          left -= 1 << order
          pools.barePages += 1 << order
        } else {
          order -= 1
        }
      }
      return pools
    }
  }

  /// The start population's objects, by kind and order: a recorded free of an earlier
  /// page frees the most recently built one of its kind and order.
  struct Pools {
    var byKey: [Int: [UInt64]] = [:]
    /// Pages held bare for the start snapshot's other used memory.
    var barePages = 0
    static func key(_ h: Held, _ order: Int) -> Int { Int(h.rawValue) << 8 | order }
    mutating func push(_ h: Held, order: Int, _ pfn: UInt64) { byKey[Self.key(h, order), default: []].append(pfn) }
    mutating func pop(_ h: Held, order: Int) -> UInt64? { byKey[Self.key(h, order)]?.popLast() }
  }

  /// Replays `recording` (with its `attribution`) on `model`, from `start` when given
  /// (else from the model as booted), sampling the descriptor caches at `samples` even steps of event time.
  public static func run(
    _ recording: Recording, attribution: RecordingAttribution, on model: any MemoryModel, path: String,
    start: Start? = nil, samples: Int = 200
  ) throws -> Result {
    var r = Result(era: model.era)
    var pools = try start?.build(on: model, path: path) ?? Pools()
    r.fromStart = start != nil
    r.startBarePages = pools.barePages
    let separate = model.era == .memdesc32 || model.era == .memdesc8
    // What the model holds for each recorded PFN: kind, order and the model's PFN in a
    // word (see `pack`).
    var held = PFNTable()
    // Samples at even steps of event time, so that rates between them are per step.
    let span = try recording.timeSpan(path: path)
    let step = span.map { max(1, ($0.last - $0.first) / UInt64(max(1, samples))) } ?? 1
    var nextSample = span.map { $0.first + step } ?? 0
    var buffer: [UInt8] = []
    var allocIndex = 0
    var first: UInt64?
    var last: UInt64 = 0
    var modelTime = 0.0
    var sum = 0.0, slabSum = 0.0
    func sample(_ seconds: Double) {
      let frames = model.cost().descriptorFrames
      let s = Sample(seconds: seconds, descriptorPages: frames.values.reduce(0, +), descriptorSlabPages: frames[.slab] ?? 0,
                     descriptorAllocs: r.descriptorAllocs, descriptorFrees: r.descriptorFrees)
      r.samples.append(s)
      sum += Double(s.descriptorPages)
      slabSum += Double(s.descriptorSlabPages)
      r.descriptorPagesPeak = max(r.descriptorPagesPeak, s.descriptorPages)
      r.descriptorSlabPagesPeak = max(r.descriptorSlabPagesPeak, s.descriptorSlabPages)
    }
    let d0 = HostInfo.threadCPUSeconds()
    var decoded = 0
    for c in recording.chunks.indices {
      let n = try recording.events(chunk: c, into: &buffer, path: path)
      buffer.withUnsafeBytes { p in
        for at in stride(from: 0, to: n, by: PageEvent.size) {
          if let e = PageEvent.load(p, at: at) { r.decodeChecksum &+= e.pfn; decoded += 1 }
        }
      }
    }
    r.decodeNanosecondsPerEvent = decoded > 0 ? (HostInfo.threadCPUSeconds() - d0) * 1e9 / Double(decoded) : 0
    sample(0)
    r.startDescriptorPages = r.samples[0].descriptorPages
    let earlier = start?.earlier ?? [:]
    for c in recording.chunks.indices {
      let n = try recording.events(chunk: c, into: &buffer, path: path)
      let t0 = HostInfo.threadCPUSeconds()
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
            if let old = held.set(e.pfn, pack(got.0, got.1, UInt8(order))) { release(unpack(old), model) }
            if separate && got.0 != .bare { r.descriptorAllocs += 1 }
          case .free:
            var h = held.remove(e.pfn).map(unpack)
            if h == nil, let kind = earlier[e.pfn], let pfn = pools.pop(kind, order: Int(e.order)) {
              h = (kind, pfn, e.order)
              r.startFrees += 1
            }
            guard let h else { r.earlierFrees += 1; continue }
            release(h, model)
            r.frees += 1
            if separate && h.0 != .bare { r.descriptorFrees += 1 }
          default: break
          }
          if e.time >= nextSample {
            while nextSample <= e.time { nextSample += step }
            let s0 = HostInfo.threadCPUSeconds()
            sample(Double(e.time - first!) / 1e9)
            sampleTime += HostInfo.threadCPUSeconds() - s0
          }
        }
      }
      modelTime += HostInfo.threadCPUSeconds() - t0 - sampleTime
    }
    r.memmapFrames = model.cost().memmapFrames
    r.seconds = first.map { Double(last - $0) / 1e9 } ?? 0
    if r.samples.last?.seconds != r.seconds || r.samples.count == 1 { sample(r.seconds) }
    r.descriptorPagesMean = sum / Double(r.samples.count)
    r.descriptorSlabPagesMean = slabSum / Double(r.samples.count)
    r.modelNanosecondsPerEvent = r.events > 0 ? modelTime * 1e9 / Double(r.events) : 0
    return r
  }

  /// What the model holds for a recorded PFN as one word: the model's PFN in the low 48
  /// bits, the order above it, the kind in the top byte.
  @inline(__always) static func pack(_ kind: Held, _ pfn: UInt64, _ order: UInt8) -> UInt64 {
    pfn | UInt64(order) << 48 | UInt64(kind.rawValue) << 56
  }
  @inline(__always) static func unpack(_ w: UInt64) -> (Held, UInt64, UInt8) {
    (Held(rawValue: UInt8(w >> 56)) ?? .none, w & (1 << 48 - 1), UInt8(truncatingIfNeeded: w >> 48))
  }

  static func release(_ h: (Held, UInt64, UInt8), _ model: any MemoryModel) {
    let pfn = PFN(h.1)
    switch h.0 {
    case .folio: Simulator.release(.folio(pfn), on: model)
    case .slab: Simulator.release(.slab(pfn), on: model)
    case .pageTable: Simulator.release(.pageTable(pfn), on: model)
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
