// package-benchmark suite for the memdesc model. Run from Benchmarks/:
//
//   swift package benchmark                       # all
//   swift package benchmark --filter 'compoundHead.*'
//   swift package benchmark --filter 'pageFolio.*|folioContaining.*|folio\+put.*'   # issue 4
//   swift package benchmark --filter 'hvo.*|hugetlb.*'                                # issue 3
//
// Each benchmark runs in its own process; the machines are built lazily by the first
// benchmark that needs them, outside the measurement.
import Benchmark
import BenchSupport
import PageModel

/// A filled 4 GiB machine and its two PFN arrays, per era.
final class HeadWorkload<E: BenchEra> {
  let machine: Page64Model<E>
  let arrays: [AccessPattern: [UInt64]]
  init() {
    do { machine = try filledMachine(E.self).machine } catch { fatalError("boot failed: \(error)") }
    var a: [AccessPattern: [UInt64]] = [:]
    for p in AccessPattern.allCases { a[p] = pfnArray(machine, pattern: p) }
    arrays = a
  }
}

/// A fresh 4 GiB machine for alloc+free, per era.
final class AllocWorkload<E: BenchEra> {
  let machine: Page64Model<E>
  let ring: PageRing
  let burst = UnsafeMutableBufferPointer<PFN>.allocate(capacity: benchBurstSize)
  init() {
    do { machine = try E.boot(ramBytes: benchRAMBytes) } catch { fatalError("boot failed: \(error)") }
    ring = PageRing(machine, size: benchRingSize)
  }
}

nonisolated(unsafe) var classicHeads: HeadWorkload<ClassicEncoding>? = nil
nonisolated(unsafe) var maskHeads: HeadWorkload<MaskEncoding>? = nil
nonisolated(unsafe) var classicAlloc: AllocWorkload<ClassicEncoding>? = nil
nonisolated(unsafe) var maskAlloc: AllocWorkload<MaskEncoding>? = nil

func heads<E: BenchEra>(_: E.Type) -> HeadWorkload<E> {
  if E.self == ClassicEncoding.self {
    if classicHeads == nil { classicHeads = HeadWorkload() }
    return classicHeads as! HeadWorkload<E>
  }
  if maskHeads == nil { maskHeads = HeadWorkload() }
  return maskHeads as! HeadWorkload<E>
}

func alloc<E: BenchEra>(_: E.Type) -> AllocWorkload<E> {
  if E.self == ClassicEncoding.self {
    if classicAlloc == nil { classicAlloc = AllocWorkload() }
    return classicAlloc as! AllocWorkload<E>
  }
  if maskAlloc == nil { maskAlloc = AllocWorkload() }
  return maskAlloc as! AllocWorkload<E>
}

let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

func registerEra<E: BenchEra>(_: E.Type) {
  let era = E.name
  for pattern in AccessPattern.allCases {
    // One iteration = 1,000,000 compound_head() calls (the first 10^6 of the 2^20 PFNs).
    let config = Benchmark.Configuration(metrics: metrics, scalingFactor: .mega, maxDuration: .seconds(2),
                                         setup: { _ = heads(E.self) })
    Benchmark("compoundHead/\(era)/\(pattern)/swift", configuration: config) { benchmark in
      let w = heads(E.self)
      w.arrays[pattern]!.withUnsafeBufferPointer { all in
        let buf = UnsafeBufferPointer(rebasing: all[0..<benchmark.scaledIterations.count])
        benchmark.startMeasurement()
        blackHole(E.swiftCompoundHeads(w.machine, buf))
        benchmark.stopMeasurement()
      }
    }
    Benchmark("compoundHead/\(era)/\(pattern)/c", configuration: config) { benchmark in
      let w = heads(E.self)
      w.arrays[pattern]!.withUnsafeBufferPointer { all in
        let buf = UnsafeBufferPointer(rebasing: all[0..<benchmark.scaledIterations.count])
        benchmark.startMeasurement()
        blackHole(E.cCompoundHeads(w.machine, buf))
        benchmark.stopMeasurement()
      }
    }
  }

  // One iteration = 1,000,000 allocate+free pairs (ring: steps; bursts: pairs).
  let allocConfig = Benchmark.Configuration(metrics: metrics, scalingFactor: .mega, maxDuration: .seconds(2),
                                            setup: { _ = alloc(E.self) })
  Benchmark("alloc+free/order0/\(era)", configuration: allocConfig) { benchmark in
    blackHole(E.allocFreePairs(alloc(E.self).machine, count: benchmark.scaledIterations.count))
  }
  Benchmark("alloc+free/order0/ring\(benchRingSize)/\(era)", configuration: allocConfig) { benchmark in
    let w = alloc(E.self)
    blackHole(E.allocFreeRing(w.machine, w.ring, count: benchmark.scaledIterations.count))
  }
  Benchmark("alloc+free/order0/burst\(benchBurstSize)/\(era)", configuration: allocConfig) { benchmark in
    let w = alloc(E.self)
    blackHole(E.allocFreeBursts(w.machine, w.burst, rounds: benchmark.scaledIterations.count / benchBurstSize))
  }

  // One iteration = one boot; the teardown (munmap of the touched memmap) is not timed.
  let bootConfig = Benchmark.Configuration(metrics: metrics, warmupIterations: 1, scalingFactor: .one,
                                           maxDuration: .seconds(15), maxIterations: 10)
  Benchmark("boot/64G/\(era)", configuration: bootConfig) { benchmark in
    for _ in benchmark.scaledIterations {
      benchmark.startMeasurement()
      let m = try E.boot(ramBytes: 64 << 30)
      benchmark.stopMeasurement()
      blackHole(m)
    }
  }
}

// MARK: issues 3 and 4, four eras

/// A 4 GiB machine filled with folios of mixed orders and its two PFN arrays, a fresh
/// 4 GiB machine for folio alloc+free, an 8 GiB machine with HugeTLB pools for
/// optimise+restore, and an empty 8 GiB machine for pool growth; built lazily per era.
final class ModelWorkload<E: ModelBenchEra> {
  lazy var filled: E.Model = { try! filledFolioMachine(E.self).machine }()
  lazy var arrays: [AccessPattern: [UInt64]] = {
    // Drawn from a classic machine of the same layout, as `ratios` does.
    let probe = try! bootClassic(ramBytes: benchRAMBytes)
    var a: [AccessPattern: [UInt64]] = [:]
    for p in AccessPattern.allCases { a[p] = pfnArray(probe, pattern: p) }
    return a
  }()
  lazy var fresh: E.Model = { try! E.boot(ramBytes: benchRAMBytes) }()
  lazy var pools: (machine: E.Model, folios2M: [Folio], folios1G: [Folio]) = { try! hugetlbMachine(E.self) }()
  lazy var empty: E.Model = { try! E.boot(ramBytes: hugetlbRAMBytes) }()
}

nonisolated(unsafe) var modelWorkloads: [String: AnyObject] = [:]
/// The next pool page an optimise+restore iteration takes (they cycle over the pool).
nonisolated(unsafe) var hvoNext = 0

func model<E: ModelBenchEra>(_: E.Type) -> ModelWorkload<E> {
  let key = E.era.rawValue
  if let w = modelWorkloads[key] { return w as! ModelWorkload<E> }
  let w = ModelWorkload<E>()
  modelWorkloads[key] = w
  return w
}

func registerModelEra<E: ModelBenchEra>(_: E.Type) {
  let era = E.era.rawValue
  for pattern in AccessPattern.allCases {
    // One iteration = 1,000,000 lookups (the first 10^6 of the 2^20 PFNs).
    let config = Benchmark.Configuration(metrics: metrics, scalingFactor: .mega, maxDuration: .seconds(2),
                                         setup: { let w = model(E.self); _ = w.filled; _ = w.arrays })
    func lookups(_ name: String, _ body: @escaping (E.Model, UnsafeBufferPointer<UInt64>) -> UInt64) {
      Benchmark("\(name)/\(era)/\(pattern)", configuration: config) { benchmark in
        let w = model(E.self)
        let m = w.filled
        w.arrays[pattern]!.withUnsafeBufferPointer { all in
          let buf = UnsafeBufferPointer(rebasing: all[0..<benchmark.scaledIterations.count])
          benchmark.startMeasurement()
          blackHole(body(m, buf))
          benchmark.stopMeasurement()
        }
      }
    }
    lookups("pageFolio") { E.pageFolios($0, $1) }
    lookups("folioContaining") { E.foliosContaining($0, $1) }
    lookups("folioContaining/any") { folioContainingAny($0, $1) }
  }

  // One iteration = 1,000,000 order-0 folio allocate+free pairs.
  let pairConfig = Benchmark.Configuration(metrics: metrics, scalingFactor: .mega, maxDuration: .seconds(2),
                                           setup: { _ = model(E.self).fresh })
  Benchmark("folio+put/order0/\(era)", configuration: pairConfig) { benchmark in
    blackHole(E.folioAllocFree(model(E.self).fresh, count: benchmark.scaledIterations.count))
  }
  Benchmark("folio+put/order0/any/\(era)", configuration: pairConfig) { benchmark in
    blackHole(folioAllocFreeAny(model(E.self).fresh, count: benchmark.scaledIterations.count))
  }

  // One iteration = optimise + restore of one pool page (cycling over the pool).
  let hvoConfig = Benchmark.Configuration(metrics: metrics, scalingFactor: .one, maxDuration: .seconds(2),
                                          setup: { _ = model(E.self).pools })
  for size in ["2M", "1G"] {
    Benchmark("hvo/optimize+restore/\(size)/\(era)", configuration: hvoConfig) { benchmark in
      let p = model(E.self).pools
      let folios = size == "2M" ? p.folios2M : p.folios1G
      folios.withUnsafeBufferPointer { all in
        for _ in benchmark.scaledIterations {
          let i = hvoNext % all.count
          hvoNext += 1
          blackHole(E.hvoOptimizeRestore(p.machine, UnsafeBufferPointer(rebasing: all[i..<(i + 1)])))
        }
      }
    }
  }

  // One iteration = growing the pool from 0 (HVO on or off), measured; shrinking it back
  // is measured by the `shrink` benchmark and not by `grow`, and vice versa.
  let poolConfig = Benchmark.Configuration(metrics: metrics, scalingFactor: .one, maxDuration: .seconds(3),
                                           setup: { _ = model(E.self).empty })
  for (size, order, count) in [("2M", Hstate.pmd, poolPages2M), ("1G", Hstate.pud, poolPages1G)] {
    for hvo in [false, true] {
      let tag = "\(count)x\(size)/hvo-\(hvo ? "on" : "off")/\(era)"
      Benchmark("hugetlb/grow/\(tag)", configuration: poolConfig) { benchmark in
        let m = model(E.self).empty
        m.setHugetlbOptimizeVmemmap(hvo)
        for _ in benchmark.scaledIterations {
          benchmark.startMeasurement()
          blackHole(E.hugetlbGrow(m, order: order, count: count))
          benchmark.stopMeasurement()
          blackHole(E.hugetlbShrink(m, order: order, count: 0))
        }
      }
      Benchmark("hugetlb/shrink/\(tag)", configuration: poolConfig) { benchmark in
        let m = model(E.self).empty
        m.setHugetlbOptimizeVmemmap(hvo)
        for _ in benchmark.scaledIterations {
          blackHole(E.hugetlbGrow(m, order: order, count: count))
          benchmark.startMeasurement()
          blackHole(E.hugetlbShrink(m, order: order, count: 0))
          benchmark.stopMeasurement()
        }
      }
    }
  }
}

let benchmarks: @Sendable () -> Void = {
  registerEra(ClassicEncoding.self)
  registerEra(MaskEncoding.self)
  registerModelEra(ClassicEncoding.self)
  registerModelEra(MaskEncoding.self)
  registerModelEra(Memdesc32Format.self)
  registerModelEra(Memdesc8Format.self)
}
