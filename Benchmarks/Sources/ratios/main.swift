// One-process measurements of the memdesc model, reported as ratios:
//
//   swift run -c release ratios                 # full run (see docs/benchmarks.md)
//   swift run -c release ratios --callgrind     # fixed work for valgrind --tool=callgrind
//
// Options: --reps N (default 7), --passes N (default 8, passes over the PFN array per
// compoundHead sample), --pairs N (default 4194304 order-0 pairs per alloc+free
// sample), --boot-reps N (default 3), --boot-gib N (default 64; 4 under --callgrind),
// --skip-boot.
import BenchSupport
import PageModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

// MARK: options

struct Options {
  var callgrind = false
  var reps = 7
  var passes = 8
  var pairs = 1 << 22
  var bootReps = 3
  var bootGiB: UInt64? = nil
  var skipBoot = false
}

func parseOptions() -> Options {
  var o = Options()
  var args = CommandLine.arguments.dropFirst()
  func int(_ name: String) -> Int {
    guard let v = args.popFirst(), let n = Int(v), n > 0 else {
      fputs("ratios: \(name) needs a positive integer\n", stderr); exit(2)
    }
    return n
  }
  while let a = args.popFirst() {
    switch a {
    case "--callgrind": o.callgrind = true
    case "--reps": o.reps = int(a)
    case "--passes": o.passes = int(a)
    case "--pairs": o.pairs = int(a)
    case "--boot-reps": o.bootReps = int(a)
    case "--boot-gib": o.bootGiB = UInt64(int(a))
    case "--skip-boot": o.skipBoot = true
    case "-h", "--help":
      print("usage: ratios [--callgrind] [--reps N] [--passes N] [--pairs N] [--boot-reps N] [--boot-gib N] [--skip-boot]")
      exit(0)
    default:
      fputs("ratios: unknown argument \(a)\n", stderr); exit(2)
    }
  }
  return o
}

// MARK: timing and statistics

@inline(__always)
func nowNanoseconds() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Runs `body` and returns its result and the elapsed nanoseconds.
@inline(__always)
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
  let t0 = nowNanoseconds()
  let r = try body()
  let t1 = nowNanoseconds()
  return (r, Double(t1 - t0))
}

func median(_ xs: [Double]) -> Double {
  let s = xs.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func fmt(_ x: Double, _ digits: Int = 2) -> String {
  var buf = [CChar](repeating: 0, count: 64)
  _ = withVaList([x]) { vsnprintf(&buf, buf.count, "%.\(digits)f", $0) }
  return String(cString: buf)
}

func fail(_ message: String) -> Never {
  fputs("ratios: \(message)\n", stderr)
  exit(1)
}

@inline(never)
func consume<T>(_ x: T) { withExtendedLifetime(x) {} }

// MARK: results

struct HeadResult {
  var swiftNs: [Double] = []  // per sample
  var cNs: [Double] = []
  var ratios: [Double] = []  // swift / c, per repetition
  var perPFN: Double = 0  // samples cover this many PFN lookups
}

struct EraResult {
  var heads: [AccessPattern: HeadResult] = [:]
  var folios = 0
  var pairsPerSecond: [Double] = []
  var ringStepsPerSecond: [Double] = []
  var burstPairsPerSecond: [Double] = []
  var bootSeconds: [Double] = []
}

// MARK: the full run

func measureEra<E: BenchEra>(_: E.Type, _ o: Options) throws -> EraResult {
  var r = EraResult()
  fputs("[\(E.name)] booting 4 GiB and filling it with order-9 folios...\n", stderr)
  let (machine, folios) = try filledMachine(E.self)
  r.folios = folios
  for pattern in AccessPattern.allCases {
    let pfns = pfnArray(machine, pattern: pattern)
    var h = HeadResult()
    h.perPFN = Double(o.passes * pfns.count)
    try pfns.withUnsafeBufferPointer { buf in
      // Warm-up, and the checksum check: both sides must agree on every head.
      let s = E.swiftCompoundHeads(machine, buf)
      let c = E.cCompoundHeads(machine, buf)
      guard s == c else { throw BenchFailure("\(E.name)/\(pattern): Swift checksum \(s) != C checksum \(c)") }
      for rep in 0..<o.reps {
        func swiftSample() -> Double {
          timed { var x: UInt64 = 0; for _ in 0..<o.passes { x &+= E.swiftCompoundHeads(machine, buf) }; return x }.1
        }
        func cSample() -> Double {
          timed { var x: UInt64 = 0; for _ in 0..<o.passes { x &+= E.cCompoundHeads(machine, buf) }; return x }.1
        }
        // Alternate which side goes first.
        let (sw, cc): (Double, Double)
        if rep % 2 == 0 { let a = swiftSample(); let b = cSample(); (sw, cc) = (a, b) }
        else { let b = cSample(); let a = swiftSample(); (sw, cc) = (a, b) }
        h.swiftNs.append(sw)
        h.cNs.append(cc)
        h.ratios.append(sw / cc)
      }
    }
    r.heads[pattern] = h
    fputs("[\(E.name)] compoundHead \(pattern): Swift/C \(fmt(median(h.ratios), 3))\n", stderr)
  }
  _ = consume(machine)

  fputs("[\(E.name)] alloc+free order 0...\n", stderr)
  let fresh = try E.boot(ramBytes: benchRAMBytes)
  _ = E.allocFreePairs(fresh, count: 1 << 16)  // warm-up
  for _ in 0..<o.reps {
    let (_, ns) = timed { E.allocFreePairs(fresh, count: o.pairs) }
    r.pairsPerSecond.append(Double(o.pairs) / ns * 1e9)
  }
  let ring = PageRing(fresh, size: benchRingSize)
  _ = E.allocFreeRing(fresh, ring, count: 1 << 16)
  for _ in 0..<o.reps {
    let (_, ns) = timed { E.allocFreeRing(fresh, ring, count: o.pairs) }
    r.ringStepsPerSecond.append(Double(o.pairs) / ns * 1e9)
  }
  ring.release(to: fresh)
  let burst = UnsafeMutableBufferPointer<PFN>.allocate(capacity: benchBurstSize)
  defer { burst.deallocate() }
  let rounds = max(o.pairs / benchBurstSize, 1)
  _ = E.allocFreeBursts(fresh, burst, rounds: 16)
  for _ in 0..<o.reps {
    let (_, ns) = timed { E.allocFreeBursts(fresh, burst, rounds: rounds) }
    r.burstPairsPerSecond.append(Double(rounds * benchBurstSize) / ns * 1e9)
  }
  _ = consume(fresh)

  if !o.skipBoot {
    let gib = o.bootGiB ?? 64
    fputs("[\(E.name)] boot \(gib) GiB x \(o.bootReps)...\n", stderr)
    for _ in 0..<o.bootReps {
      let (m, ns) = try timed { try E.boot(ramBytes: gib << 30) }
      r.bootSeconds.append(ns / 1e9)
      consume(m)  // teardown (munmap) happens here, outside the timing
    }
  }
  return r
}

struct BenchFailure: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

func hostLine() -> String {
  var model = "unknown CPU"
  if let f = fopen("/proc/cpuinfo", "r") {
    defer { fclose(f) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var cap = 0
    while getline(&line, &cap, f) > 0 {
      let s = String(cString: line!)
      if s.hasPrefix("model name") {
        model = String(s.split(separator: ":", maxSplits: 1)[1].drop(while: { $0 == " " }).dropLast())
        break
      }
    }
    free(line)
  }
  var t = time(nil)
  var tmv = tm()
  gmtime_r(&t, &tmv)
  var buf = [CChar](repeating: 0, count: 64)
  strftime(&buf, buf.count, "%Y-%m-%d %H:%M UTC", &tmv)
  return "\(String(cString: buf)), \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs, \(model), PageModel debugVM=\(debugVMEnabled)"
}

func fullRun(_ o: Options) throws {
  let header = hostLine()
  let classic = try measureEra(ClassicEncoding.self, o)
  let mask = try measureEra(MaskEncoding.self, o)
  let eras: [(String, EraResult)] = [("classic", classic), ("mask", mask)]

  print("# ratios: \(header)")
  print("# reps=\(o.reps) passes=\(o.passes) pfns=\(benchPFNCount) pairs=\(o.pairs)")
  print("")
  print("## compoundHead, Swift vs C on the same PFN arrays (goal: Swift/C <= 1.2)")
  print("")
  print("| era | pattern | Swift ns/PFN | C ns/PFN | Swift/C (median of \(o.reps)) | min..max |")
  print("|---|---|---:|---:|---:|---|")
  for (name, r) in eras {
    for p in AccessPattern.allCases {
      let h = r.heads[p]!
      let ratios = h.ratios.sorted()
      print("| \(name) | \(p) | \(fmt(median(h.swiftNs) / h.perPFN)) | \(fmt(median(h.cNs) / h.perPFN)) | **\(fmt(median(h.ratios), 3))** | \(fmt(ratios.first!, 3))..\(fmt(ratios.last!, 3)) |")
    }
  }
  print("")
  print("## order-0 alloc+free (goal: >= 20 M pairs/s)")
  print("")
  print("| era | pairs (M/s) | ring of \(benchRingSize) (M steps/s) | bursts of \(benchBurstSize) (M pairs/s) | pairs vs 20 M/s goal |")
  print("|---|---:|---:|---:|---:|")
  for (name, r) in eras {
    let p = median(r.pairsPerSecond) / 1e6
    print("| \(name) | \(fmt(p)) | \(fmt(median(r.ringStepsPerSecond) / 1e6)) | \(fmt(median(r.burstPairsPerSecond) / 1e6)) | \(fmt(p / 20, 2))x |")
  }
  if !o.skipBoot {
    let gib = o.bootGiB ?? 64
    print("")
    print("## boot of a flat \(gib) GiB machine (goal: <= 0.5 s)")
    print("")
    print("| era | boot s (median of \(o.bootReps)) | min..max | vs 0.5 s goal |")
    print("|---|---:|---|---:|")
    for (name, r) in eras {
      let s = r.bootSeconds.sorted()
      print("| \(name) | \(fmt(median(s), 3)) | \(fmt(s.first!, 3))..\(fmt(s.last!, 3)) | \(fmt(median(s) / 0.5, 2))x |")
    }
  }
  print("")
  print("## mask (new) / classic (old), time ratios (< 1: mask is faster)")
  print("")
  print("| case | mask/classic |")
  print("|---|---:|")
  for p in AccessPattern.allCases {
    let c = classic.heads[p]!, m = mask.heads[p]!
    print("| compoundHead \(p), Swift | \(fmt(median(m.swiftNs) / median(c.swiftNs), 3)) |")
    print("| compoundHead \(p), C | \(fmt(median(m.cNs) / median(c.cNs), 3)) |")
  }
  print("| alloc+free pairs | \(fmt(median(classic.pairsPerSecond) / median(mask.pairsPerSecond), 3)) |")
  print("| alloc+free ring | \(fmt(median(classic.ringStepsPerSecond) / median(mask.ringStepsPerSecond), 3)) |")
  print("| alloc+free bursts | \(fmt(median(classic.burstPairsPerSecond) / median(mask.burstPairsPerSecond), 3)) |")
  if !o.skipBoot {
    print("| boot | \(fmt(median(mask.bootSeconds) / median(classic.bootSeconds), 3)) |")
  }
  print("")
  print("folios of order 9 in the 4 GiB machines: classic \(classic.folios), mask \(mask.folios)")
}

// MARK: the callgrind run

/// A fixed amount of work, the same on every run, for `valgrind --tool=callgrind`:
/// one pass of each compoundHead loop over each array, `--pairs` order-0 pairs, ring
/// steps and burst pairs, and one boot of `--boot-gib` GiB (4 by default) per era.
func callgrindEra<E: BenchEra>(_: E.Type, _ o: Options) throws {
  let (machine, _) = try filledMachine(E.self)
  for pattern in AccessPattern.allCases {
    let pfns = pfnArray(machine, pattern: pattern)
    let (s, c) = pfns.withUnsafeBufferPointer { (E.swiftCompoundHeads(machine, $0), E.cCompoundHeads(machine, $0)) }
    guard s == c else { throw BenchFailure("\(E.name)/\(pattern): Swift checksum \(s) != C checksum \(c)") }
    print("\(E.name) \(pattern) pfns=\(pfns.count) checksum=\(s)")
  }
  consume(machine)
  let fresh = try E.boot(ramBytes: benchRAMBytes)
  print("\(E.name) pairs=\(o.pairs) sum=\(E.allocFreePairs(fresh, count: o.pairs))")
  let ring = PageRing(fresh, size: benchRingSize)
  print("\(E.name) ring steps=\(o.pairs) sum=\(E.allocFreeRing(fresh, ring, count: o.pairs))")
  ring.release(to: fresh)
  let burst = UnsafeMutableBufferPointer<PFN>.allocate(capacity: benchBurstSize)
  defer { burst.deallocate() }
  let rounds = max(o.pairs / benchBurstSize, 1)
  print("\(E.name) burst pairs=\(rounds * benchBurstSize) sum=\(E.allocFreeBursts(fresh, burst, rounds: rounds))")
  consume(fresh)
  if !o.skipBoot {
    let gib = o.bootGiB ?? 4
    let m = try E.boot(ramBytes: gib << 30)
    print("\(E.name) boot \(gib) GiB free pages=\(m.freePages)")
  }
}

let options = parseOptions()
do {
  if options.callgrind {
    var o = options
    if CommandLine.arguments.firstIndex(of: "--pairs") == nil { o.pairs = 1 << 20 }
    try callgrindEra(ClassicEncoding.self, o)
    try callgrindEra(MaskEncoding.self, o)
  } else {
    try fullRun(options)
  }
} catch {
  fail("\(error)")
}
