// package-benchmark suite for the memdesc model. Run from Benchmarks/:
//
//   swift package benchmark                       # all
//   swift package benchmark --filter 'compoundHead.*'
//
// Each benchmark runs in its own process; the machines are built lazily by the first
// benchmark that needs them, outside the measurement.
import Benchmark
import BenchSupport
import PageModel

/// A filled 4 GiB machine and its two PFN arrays, per era.
final class HeadWorkload<E: BenchEra> {
  let machine: Machine<E>
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
  let machine: Machine<E>
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

let benchmarks: @Sendable () -> Void = {
  registerEra(ClassicEncoding.self)
  registerEra(MaskEncoding.self)
}
