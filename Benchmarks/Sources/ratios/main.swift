// One-process measurements of the memdesc model, reported as ratios:
//
//   swift run -c release ratios                 # full run (see docs/benchmarks.md)
//   swift run -c release ratios --callgrind     # fixed work for valgrind --tool=callgrind
//
// Options: --reps N (default 7), --passes N (default 8, passes over the PFN array per
// compoundHead sample), --pairs N (default 4194304 order-0 pairs per alloc+free
// sample), --boot-reps N (default 3), --boot-gib N (default 64; 4 under --callgrind),
// --skip-boot, --mask-first (boot the mask machine first), --skip-heads, --skip-alloc,
// --skip-folio, --skip-hvo (leave out a section), --folio-passes N (default 4),
// --folio-pairs N (default 1048576), --hvo-rounds N (default 32), --pool-rounds N
// (default 8); under --callgrind also
// --era classic|mask|memdesc32|memdesc8, --part heads|alloc|boot|folio|folioalloc|hvo2m|
// hvo1g|pool2m|pool1g, --pattern sequential|random, --hvo on|off (pool parts) and
// --keep-one (folioalloc: one folio stays allocated).
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
  /// Boot the mask machine before the classic one (to check that the order of the two
  /// machines in host memory does not decide the mask/classic ratio).
  var maskFirst = false
  /// Under --callgrind: only this era ("classic" or "mask"), part ("heads", "alloc",
  /// "boot") and compoundHead access pattern.
  var era: String? = nil
  var part: String? = nil
  var pattern: AccessPattern? = nil
  /// Sections of the full run to leave out.
  var skipHeads = false
  var skipAlloc = false
  var skipFolio = false
  var skipHVO = false
  /// Passes over the PFN array per pageFolio sample.
  var folioPasses = 4
  /// Order-0 folio allocate+free pairs per sample.
  var folioPairs = 1 << 20
  /// Rounds over the pool per optimise+restore sample (64 x 2 MiB or 2 x 1 GiB pages each).
  var hvoRounds = 32
  /// Grow+shrink cycles per pool sample.
  var poolRounds = 8
  /// Under --callgrind, pool parts: grow and shrink with HVO on (true) or off.
  var hvo = false
  /// Under --callgrind, part folioalloc: keep one folio allocated during the pairs.
  var keepOne = false
}

let allEras = ["classic", "mask", "memdesc32", "memdesc8"]
let allParts = ["heads", "alloc", "boot", "folio", "folioalloc", "hvo2m", "hvo1g", "pool2m", "pool1g"]

func parseOptions() -> Options {
  var o = Options()
  var args = CommandLine.arguments.dropFirst()
  func int(_ name: String) -> Int {
    guard let v = args.popFirst(), let n = Int(v), n > 0 else {
      eprint("ratios: \(name) needs a positive integer\n"); exit(2)
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
    case "--mask-first": o.maskFirst = true
    case "--skip-heads": o.skipHeads = true
    case "--skip-alloc": o.skipAlloc = true
    case "--skip-folio": o.skipFolio = true
    case "--skip-hvo": o.skipHVO = true
    case "--folio-passes": o.folioPasses = int(a)
    case "--folio-pairs": o.folioPairs = int(a)
    case "--hvo-rounds": o.hvoRounds = int(a)
    case "--keep-one": o.keepOne = true
    case "--pool-rounds": o.poolRounds = int(a)
    case "--hvo":
      guard let v = args.popFirst(), v == "on" || v == "off" else {
        eprint("ratios: --hvo needs on or off\n"); exit(2)
      }
      o.hvo = v == "on"
    case "--era":
      guard let e = args.popFirst(), allEras.contains(e) else {
        eprint("ratios: --era needs one of \(allEras.joined(separator: ", "))\n"); exit(2)
      }
      o.era = e
    case "--part":
      guard let p = args.popFirst(), allParts.contains(p) else {
        eprint("ratios: --part needs one of \(allParts.joined(separator: ", "))\n"); exit(2)
      }
      o.part = p
    case "--pattern":
      guard let p = args.popFirst().flatMap(AccessPattern.init(rawValue:)) else {
        eprint("ratios: --pattern needs sequential or random\n"); exit(2)
      }
      o.pattern = p
    case "-h", "--help":
      print("usage: ratios [--callgrind] [--reps N] [--passes N] [--pairs N] [--boot-reps N] [--boot-gib N] [--skip-boot] [--mask-first] [--skip-heads] [--skip-alloc] [--skip-folio] [--skip-hvo] [--folio-passes N] [--folio-pairs N] [--hvo-rounds N] [--pool-rounds N] [--era \(allEras.joined(separator: "|"))] [--part \(allParts.joined(separator: "|"))] [--pattern sequential|random] [--hvo on|off] [--keep-one]")
      exit(0)
    default:
      eprint("ratios: unknown argument \(a)\n"); exit(2)
    }
  }
  return o
}

// MARK: timing and statistics

/// Writes to standard error (progress lines, so that stdout is only the report).
func eprint(_ s: String) {
  var s = s
  s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

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
  return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

func fail(_ message: String) -> Never {
  eprint("ratios: \(message)\n")
  exit(1)
}

@inline(never)
func keepAlive<T>(_ x: T) { withExtendedLifetime(x) {} }

// MARK: the full run
//
// Both eras' machines are alive at once and every repetition measures every case, in an
// order that rotates from one repetition to the next, so that drift of the machine
// (another tenant, frequency) falls on all cases alike and the ratios compare like with
// like.

struct BenchFailure: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

/// A measured case: a name and a function that takes one sample (nanoseconds).
struct Case {
  let name: String
  let sample: () -> Double
  var ns: [Double] = []
  init(_ name: String, _ sample: @escaping () -> Double) {
    self.name = name
    self.sample = sample
  }
}

/// Runs every case `reps` times, rotating the order, and returns the samples.
func interleave(_ cases: [Case], reps: Int) -> [String: [Double]] {
  var cases = cases
  for rep in 0..<reps {
    for k in 0..<cases.count {
      let i = (k + rep) % cases.count
      cases[i].ns.append(cases[i].sample())
    }
  }
  return Dictionary(uniqueKeysWithValues: cases.map { ($0.name, $0.ns) })
}

/// Per-repetition ratios a[i] / b[i]; samples of one repetition were taken side by side.
func ratios(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 / $1 } }

func compoundHeadCases<E: BenchEra>(_: E.Type, _ machine: Page64Model<E>, _ buf: UnsafeBufferPointer<UInt64>, _ o: Options) throws -> [Case] {
  let s = E.swiftCompoundHeads(machine, buf)
  let c = E.cCompoundHeads(machine, buf)
  guard s == c else { throw BenchFailure("\(E.name): Swift checksum \(s) != C checksum \(c)") }
  return [
    Case("\(E.name)/swift") { timed { for _ in 0..<o.passes { _ = E.swiftCompoundHeads(machine, buf) } }.1 },
    Case("\(E.name)/c") { timed { for _ in 0..<o.passes { _ = E.cCompoundHeads(machine, buf) } }.1 },
  ]
}

func allocCases<E: BenchEra>(_: E.Type, _ o: Options) throws -> (cases: [Case], cleanup: () -> Void) {
  let machine = try E.boot(ramBytes: benchRAMBytes)
  _ = E.allocFreePairs(machine, count: 1 << 16)  // warm-up
  let ring = PageRing(machine, size: benchRingSize)
  _ = E.allocFreeRing(machine, ring, count: 1 << 16)
  let burst = UnsafeMutableBufferPointer<PFN>.allocate(capacity: benchBurstSize)
  let rounds = max(o.pairs / benchBurstSize, 1)
  _ = E.allocFreeBursts(machine, burst, rounds: 16)
  let cases = [
    Case("\(E.name)/pairs") { timed { E.allocFreePairs(machine, count: o.pairs) }.1 },
    Case("\(E.name)/ring") { timed { E.allocFreeRing(machine, ring, count: o.pairs) }.1 },
    Case("\(E.name)/burst") { timed { E.allocFreeBursts(machine, burst, rounds: rounds) }.1 },
  ]
  return (cases, {
    ring.release(to: machine)
    burst.deallocate()
    keepAlive(machine)
  })
}

/// Classic alloc+free, Swift on one machine and the C reference (CReference's Buddy.c) on
/// a second one booted alike. The warm-up is the check: after the same pairs, ring and
/// bursts on each, the two machines' memmap bytes, list heads and counters must be equal.
func allocSwiftCCases(_ o: Options) throws -> (cases: [Case], cleanup: () -> Void) {
  let swift = try ClassicEncoding.boot(ramBytes: benchRAMBytes)
  let c = CBuddyMachine(try ClassicEncoding.boot(ramBytes: benchRAMBytes))
  func check(_ step: String, _ s: UInt64, _ cs: UInt64) throws {
    guard s == cs else { throw BenchFailure("C reference: \(step): PFN sum \(cs), Swift \(s)") }
    if let d = allocatorStateDifference(swift, c.model) { throw BenchFailure("C reference: after \(step), Swift / C: \(d)") }
  }
  try check("pairs", ClassicEncoding.allocFreePairs(swift, count: 1 << 16), cAllocFreePairsClassic(c, count: 1 << 16))
  let ring = PageRing(swift, size: benchRingSize)
  let cRing = PageRing(c.model, size: benchRingSize)
  try check("ring", ClassicEncoding.allocFreeRing(swift, ring, count: 1 << 16), cAllocFreeRingClassic(c, cRing, count: 1 << 16))
  let burst = UnsafeMutableBufferPointer<PFN>.allocate(capacity: benchBurstSize)
  let cBurst = UnsafeMutableBufferPointer<PFN>.allocate(capacity: benchBurstSize)
  try check("bursts", ClassicEncoding.allocFreeBursts(swift, burst, rounds: 16), cAllocFreeBurstsClassic(c, cBurst, rounds: 16))
  eprint("C reference: memmap, list heads and counters equal to Swift's after pairs, ring and bursts\n")
  let rounds = max(o.pairs / benchBurstSize, 1)
  let cases = [
    Case("sc/swift/pairs") { timed { ClassicEncoding.allocFreePairs(swift, count: o.pairs) }.1 },
    Case("sc/c/pairs") { timed { cAllocFreePairsClassic(c, count: o.pairs) }.1 },
    Case("sc/swift/ring") { timed { ClassicEncoding.allocFreeRing(swift, ring, count: o.pairs) }.1 },
    Case("sc/c/ring") { timed { cAllocFreeRingClassic(c, cRing, count: o.pairs) }.1 },
    Case("sc/swift/burst") { timed { ClassicEncoding.allocFreeBursts(swift, burst, rounds: rounds) }.1 },
    Case("sc/c/burst") { timed { cAllocFreeBurstsClassic(c, cBurst, rounds: rounds) }.1 },
  ]
  return (cases, {
    ring.release(to: swift)
    cRing.release(to: c.model)
    burst.deallocate()
    cBurst.deallocate()
    keepAlive(swift)
    keepAlive(c)
  })
}

/// Page faults of the process so far (minor, i.e. no I/O).
func minorFaults() -> Int {
  var u = rusage()
  getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
  return u.ru_minflt
}

/// Minor page faults of each boot sample, by case name.
nonisolated(unsafe) var bootFaults: [String: [Int]] = [:]

func bootCase<E: BenchEra>(_: E.Type, gib: UInt64) -> Case {
  let name = "\(E.name)/boot"
  return Case(name) {
    // Teardown (munmap of the touched memmap) happens after the timing.
    let f0 = minorFaults()
    let (m, ns) = timed { try! E.boot(ramBytes: gib << 30) }
    bootFaults[name, default: []].append(minorFaults() - f0)
    keepAlive(m)
    return ns
  }
}

/// Anonymous memory the host backs with 2 MiB pages (THP), from /proc/self/smaps_rollup.
func anonHugePagesMiB() -> Int {
  guard let f = fopen("/proc/self/smaps_rollup", "r") else { return -1 }
  defer { fclose(f) }
  var line: UnsafeMutablePointer<CChar>? = nil
  var cap = 0
  defer { free(line) }
  while getline(&line, &cap, f) > 0 {
    let s = String(cString: line!)
    if s.hasPrefix("AnonHugePages:") {
      let kb = s.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
      return kb / 1024
    }
  }
  return -1
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
  let date = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  var load = "?"
  if let f = fopen("/proc/loadavg", "r") {
    var b = [CChar](repeating: 0, count: 128)
    if fgets(&b, Int32(b.count), f) != nil {
      load = b.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.split(separator: " ").prefix(3).joined(separator: " ")
    }
    fclose(f)
  }
  return "\(date), load average \(load), \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs, \(model), PageModel debugVM=\(debugVMEnabled)"
}

func fullRun(_ o: Options) throws {
  let header = hostLine()
  let eras = ["classic", "mask"]
  let patterns = AccessPattern.allCases

  var heads: [AccessPattern: [String: [Double]]] = [:]
  var pfnCount = 0
  var classicFolios = 0, maskFolios = 0, hugeMiB = 0
  if !o.skipHeads {
    eprint("booting two 4 GiB machines (classic, mask) and filling them with order-9 folios...\n")
    var first: Any? = nil
    if o.maskFirst { first = try filledMachine(MaskEncoding.self) }
    let (classic, cf) = try filledMachine(ClassicEncoding.self)
    let (mask, mf) = o.maskFirst ? first as! (Page64Model<MaskEncoding>, Int) : try filledMachine(MaskEncoding.self)
    first = nil
    classicFolios = cf
    maskFolios = mf
    hugeMiB = anonHugePagesMiB()
    for pattern in patterns {
      // The same PFNs for both eras (both machines have the same layout).
      let pfns = pfnArray(classic, pattern: pattern)
      pfnCount = pfns.count
      try pfns.withUnsafeBufferPointer { buf in
        let cases = try compoundHeadCases(ClassicEncoding.self, classic, buf, o)
          + compoundHeadCases(MaskEncoding.self, mask, buf, o)
        heads[pattern] = interleave(cases, reps: o.reps)
      }
      eprint("compoundHead \(pattern): done\n")
    }
    keepAlive(classic)
    keepAlive(mask)
  }

  var alloc: [String: [Double]] = [:]
  var allocC: [String: [Double]] = [:]
  if !o.skipAlloc {
    eprint("alloc+free order 0, Swift vs C reference...\n")
    let (scCases, scCleanup) = try allocSwiftCCases(o)
    allocC = interleave(scCases, reps: o.reps)
    scCleanup()
    eprint("alloc+free order 0...\n")
    let (classicAlloc, classicCleanup) = try allocCases(ClassicEncoding.self, o)
    let (maskAlloc, maskCleanup) = try allocCases(MaskEncoding.self, o)
    alloc = interleave(classicAlloc + maskAlloc, reps: o.reps)
    classicCleanup()
    maskCleanup()
  }
  let rounds = max(o.pairs / benchBurstSize, 1)
  func rate(_ key: String, _ ops: Int) -> [Double] { alloc[key]!.map { Double(ops) / $0 * 1e3 } }  // M/s

  let gib = o.bootGiB ?? 64
  var boot: [String: [Double]] = [:]
  if !o.skipBoot {
    eprint("boot \(gib) GiB x \(o.bootReps) per era...\n")
    boot = interleave([bootCase(ClassicEncoding.self, gib: gib), bootCase(MaskEncoding.self, gib: gib)], reps: o.bootReps)
  }

  let folio = o.skipFolio ? nil : try folioRun(o)
  let hvo = o.skipHVO ? nil : try hvoRun(o)

  print("# ratios: \(header)")
  print("# reps=\(o.reps) passes=\(o.passes) pfns=\(pfnCount) pairs=\(o.pairs); order-9 folios: classic \(classicFolios), mask \(maskFolios); THP-backed anon memory with both 4 GiB machines up: \(hugeMiB) MiB")
  if !o.skipHeads {
    print("")
    print("## compoundHead, Swift vs C on the same PFN arrays (goal: Swift/C <= 1.2)")
    print("")
    print("| era | pattern | Swift ns/PFN | C ns/PFN | Swift/C (median of \(o.reps)) | min..max |")
    print("|---|---|---:|---:|---:|---|")
    let perSample = Double(o.passes * pfnCount)
    for era in eras {
      for p in patterns {
        let h = heads[p]!
        let r = ratios(h["\(era)/swift"]!, h["\(era)/c"]!).sorted()
        print("| \(era) | \(p) | \(fmt(median(h["\(era)/swift"]!) / perSample)) | \(fmt(median(h["\(era)/c"]!) / perSample)) | **\(fmt(median(r), 3))** | \(fmt(r.first!, 3))..\(fmt(r.last!, 3)) |")
      }
    }
  }
  if !o.skipAlloc {
    print("")
    print("## order-0 alloc+free (goal: >= 20 M pairs/s)")
    print("")
    print("| era | pairs (M/s) | ring of \(benchRingSize) (M steps/s) | bursts of \(benchBurstSize) (M pairs/s) | pairs / 20 M/s |")
    print("|---|---:|---:|---:|---:|")
    for era in eras {
      let p = median(rate("\(era)/pairs", o.pairs))
      print("| \(era) | \(fmt(p)) | \(fmt(median(rate("\(era)/ring", o.pairs)))) | \(fmt(median(rate("\(era)/burst", rounds * benchBurstSize)))) | \(fmt(p / 20, 2))x |")
    }
    print("")
    print("## order-0 alloc+free, classic, Swift vs the C reference over the same memory (goal: Swift/C <= 1.2)")
    print("")
    print("| loop | Swift (M/s) | C (M/s) | Swift/C (median of \(o.reps)) | min..max |")
    print("|---|---:|---:|---:|---|")
    for (loop, ops) in [("pairs", o.pairs), ("ring", o.pairs), ("burst", rounds * benchBurstSize)] {
      let sw = allocC["sc/swift/\(loop)"]!, c = allocC["sc/c/\(loop)"]!
      let r = ratios(sw, c).sorted()
      print("| \(loop) | \(fmt(median(sw.map { Double(ops) / $0 * 1e3 }))) | \(fmt(median(c.map { Double(ops) / $0 * 1e3 }))) | **\(fmt(median(r), 3))** | \(fmt(r.first!, 3))..\(fmt(r.last!, 3)) |")
    }
  }
  if !o.skipBoot {
    print("")
    print("## boot of a flat \(gib) GiB machine (goal: <= 0.5 s)")
    print("")
    print("| era | boot s (median of \(o.bootReps)) | min..max | first boot s | page faults per boot | median / 0.5 s |")
    print("|---|---:|---|---:|---:|---:|")
    for era in eras {
      let samples = boot["\(era)/boot"]!.map { $0 / 1e9 }
      let s = samples.sorted()
      let faults = bootFaults["\(era)/boot"]!.map(Double.init)
      print("| \(era) | \(fmt(median(s), 3)) | \(fmt(s.first!, 3))..\(fmt(s.last!, 3)) | \(fmt(samples[0], 3)) | \(fmt(median(faults), 0)) | \(fmt(median(s) / 0.5, 2))x |")
    }
    print("")
    print("(The classic machine boots first in the process; its first boot is the one that finds the memory cold, see docs/benchmarks.md.)")
  }
  if !(o.skipHeads && o.skipAlloc && o.skipBoot) {
    print("")
    print("## mask (new) / classic (old), time ratios, median of per-repetition ratios (< 1: mask is faster)")
    print("")
    print("| case | mask/classic | min..max |")
    print("|---|---:|---|")
    func row(_ label: String, _ a: [Double], _ b: [Double]) {
      let r = ratios(a, b).sorted()
      print("| \(label) | \(fmt(median(r), 3)) | \(fmt(r.first!, 3))..\(fmt(r.last!, 3)) |")
    }
    if !o.skipHeads {
      for p in patterns {
        row("compoundHead \(p), Swift", heads[p]!["mask/swift"]!, heads[p]!["classic/swift"]!)
        row("compoundHead \(p), C", heads[p]!["mask/c"]!, heads[p]!["classic/c"]!)
      }
    }
    if !o.skipAlloc {
      row("alloc+free pairs", alloc["mask/pairs"]!, alloc["classic/pairs"]!)
      row("alloc+free ring of \(benchRingSize)", alloc["mask/ring"]!, alloc["classic/ring"]!)
      row("alloc+free bursts of \(benchBurstSize)", alloc["mask/burst"]!, alloc["classic/burst"]!)
    }
    if !o.skipBoot { row("boot \(gib) GiB", boot["mask/boot"]!, boot["classic/boot"]!) }
  }
  if let folio { printFolio(folio, o) }
  if let hvo { printHVO(hvo, o) }
}

// MARK: the callgrind run

/// A fixed amount of work, the same on every run, for `valgrind --tool=callgrind`:
/// one pass of each compoundHead loop over each array (part "heads"), `--pairs`
/// order-0 pairs, ring steps and burst pairs on a fresh 4 GiB machine ("alloc"), and one
/// boot of `--boot-gib` GiB, 4 by default ("boot"). `--part` and `--pattern` pick one.
func callgrindEra<E: BenchEra>(_: E.Type, _ o: Options) throws {
  if o.part == nil || o.part == "heads" {
    let (machine, _) = try filledMachine(E.self)
    for pattern in AccessPattern.allCases where o.pattern == nil || o.pattern == pattern {
      let pfns = pfnArray(machine, pattern: pattern)
      let (s, c) = pfns.withUnsafeBufferPointer { (E.swiftCompoundHeads(machine, $0), E.cCompoundHeads(machine, $0)) }
      guard s == c else { throw BenchFailure("\(E.name)/\(pattern): Swift checksum \(s) != C checksum \(c)") }
      print("\(E.name) \(pattern) pfns=\(pfns.count) checksum=\(s)")
    }
    keepAlive(machine)
  }
  if o.part == nil || o.part == "alloc" {
    let fresh = try E.boot(ramBytes: benchRAMBytes)
    print("\(E.name) pairs=\(o.pairs) sum=\(E.allocFreePairs(fresh, count: o.pairs))")
    let ring = PageRing(fresh, size: benchRingSize)
    print("\(E.name) ring steps=\(o.pairs) sum=\(E.allocFreeRing(fresh, ring, count: o.pairs))")
    ring.release(to: fresh)
    let burst = UnsafeMutableBufferPointer<PFN>.allocate(capacity: benchBurstSize)
    defer { burst.deallocate() }
    let rounds = max(o.pairs / benchBurstSize, 1)
    print("\(E.name) burst pairs=\(rounds * benchBurstSize) sum=\(E.allocFreeBursts(fresh, burst, rounds: rounds))")
    if let fresh = fresh as? Page64Model<ClassicEncoding> {
      // The C reference, the same three loops on a second machine; it must end equal.
      let c = CBuddyMachine(try ClassicEncoding.boot(ramBytes: benchRAMBytes))
      print("\(E.name) C pairs=\(o.pairs) sum=\(cAllocFreePairsClassic(c, count: o.pairs))")
      let cRing = PageRing(c.model, size: benchRingSize)
      print("\(E.name) C ring steps=\(o.pairs) sum=\(cAllocFreeRingClassic(c, cRing, count: o.pairs))")
      cRing.release(to: c.model)
      print("\(E.name) C burst pairs=\(rounds * benchBurstSize) sum=\(cAllocFreeBurstsClassic(c, burst, rounds: rounds))")
      if let d = allocatorStateDifference(fresh, c.model) { throw BenchFailure("C reference differs from Swift: \(d)") }
      print("\(E.name) C reference state equal to Swift's")
    }
    keepAlive(fresh)
  }
  if (o.part == nil && !o.skipBoot) || o.part == "boot" {
    let gib = o.bootGiB ?? 4
    let m = try E.boot(ramBytes: gib << 30)
    print("\(E.name) boot \(gib) GiB free pages=\(m.machine.freePages)")
  }
}

let options = parseOptions()
do {
  if options.callgrind {
    var o = options
    if CommandLine.arguments.firstIndex(of: "--pairs") == nil { o.pairs = 1 << 20 }
    let modelParts = ["folio", "folioalloc", "hvo2m", "hvo1g", "pool2m", "pool1g"]
    if let part = o.part, modelParts.contains(part) {
      // The parts of issues 3 and 4, in the four eras.
      if o.era == nil || o.era == "classic" { try callgrindModelEra(ClassicEncoding.self, o) }
      if o.era == nil || o.era == "mask" { try callgrindModelEra(MaskEncoding.self, o) }
      if o.era == nil || o.era == "memdesc32" { try callgrindModelEra(Memdesc32Format.self, o) }
      if o.era == nil || o.era == "memdesc8" { try callgrindModelEra(Memdesc8Format.self, o) }
    } else {
      if o.era == nil || o.era == "classic" { try callgrindEra(ClassicEncoding.self, o) }
      if o.era == nil || o.era == "mask" { try callgrindEra(MaskEncoding.self, o) }
    }
  } else {
    try fullRun(options)
  }
} catch {
  fail("\(error)")
}
