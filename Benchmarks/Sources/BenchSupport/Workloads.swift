// Workloads shared by the package-benchmark suite and the `ratios` executable: the
// machines, the PFN arrays, and the measured loops. The loops are `@inline(never)` so
// that callgrind sees them as functions (`--toggle-collect`), and each era has its own
// concrete functions so that every loop is specialised for its encoding.
import CReference
import PageModel

/// Bytes of RAM of the compoundHead and alloc+free machines.
public let benchRAMBytes: UInt64 = 4 << 30
/// PFNs in each compoundHead input array.
public let benchPFNCount = 1 << 20
/// Seed of the random PFN array (SplitMix64).
public let benchSeed: UInt64 = 0x6d65_6d64_6573_6321  // "memdesc!"
/// Live pages in the ring variant of alloc+free.
public let benchRingSize = 1024
/// Pages held at once by the burst variant of alloc+free: more than a 4 GiB zone's
/// per-CPU `high` (58 * 63 = 3654), so every burst refills the per-CPU list from the
/// buddy lists (splitting blocks) and overflows it back (merging buddies).
public let benchBurstSize = 4096

/// SplitMix64 (Steele, Lea, Flood 2014), as in swift-argument-parser's `roll` example.
public struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

/// The order in which a compoundHead loop visits PFNs.
public enum AccessPattern: String, CaseIterable, Sendable {
  case sequential, random
}

/// What the benchmarks need of an era: its boot, and its concrete measured loops.
public protocol BenchEra: CompoundEncoding {
  static var name: String { get }
  /// Sum of `machine.compoundHead(pfn).rawValue` over `pfns`, in Swift.
  static func swiftCompoundHeads(_ machine: Page64Model<Self>, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64
  /// The same sum computed by the C reference over the same memory.
  static func cCompoundHeads(_ machine: Page64Model<Self>, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64
  /// `count` order-0 allocate+free pairs; returns the sum of the PFNs handed out.
  static func allocFreePairs(_ machine: Page64Model<Self>, count: Int) -> UInt64
  /// `count` steps of a ring of live order-0 pages: free the oldest, allocate a new one.
  static func allocFreeRing(_ machine: Page64Model<Self>, _ ring: PageRing, count: Int) -> UInt64
  /// `rounds` bursts: allocate `pages.count` order-0 pages, then free them all.
  static func allocFreeBursts(_ machine: Page64Model<Self>, _ pages: UnsafeMutableBufferPointer<PFN>, rounds: Int) -> UInt64
  /// Boots a flat machine of `ramBytes` (the constructor is the boot).
  static func boot(ramBytes: UInt64) throws -> Page64Model<Self>
}

extension BenchEra {
  public static var name: String { era.rawValue }
}

/// A fixed ring of live order-0 pages for ``BenchEra/allocFreeRing(_:_:count:)``.
public final class PageRing {
  public let pages: UnsafeMutablePointer<PFN>
  public let size: Int
  public var next = 0

  public init<E: CompoundEncoding>(_ machine: Page64Model<E>, size: Int) {
    self.size = size
    pages = .allocate(capacity: size)
    for i in 0..<size {
      guard let p = machine.allocPages(order: 0) else { fatalError("ring: out of memory") }
      (pages + i).initialize(to: p)
    }
  }

  /// Gives the ring's pages back to the machine.
  public func release<E: CompoundEncoding>(to machine: Page64Model<E>) {
    for i in 0..<size { machine.freePages(pages[i], order: 0) }
  }

  deinit { pages.deallocate() }
}

// MARK: - Machines and PFN arrays

/// A booted 4 GiB machine filled with order-9 folios until `allocFolio` fails, so nearly
/// every PFN is a head or a tail.
public func filledMachine<E: BenchEra>(_: E.Type) throws -> (machine: Page64Model<E>, folios: Int) {
  let machine = try E.boot(ramBytes: benchRAMBytes)
  var folios = 0
  while machine.allocFolio(order: 9) != nil { folios += 1 }
  return (machine, folios)
}

/// `count` PFNs that have a struct page: in order (wrapping round), or drawn uniformly
/// with SplitMix64 from a fixed seed.
public func pfnArray<E: CompoundEncoding>(
  _ machine: Page64Model<E>, pattern: AccessPattern, count: Int = benchPFNCount, seed: UInt64 = benchSeed
) -> [UInt64] {
  var valid: [UInt64] = []
  var pfn: UInt64 = 0
  let end = machine.layout.endPFN.rawValue
  while pfn < end {
    if machine.pfnValid(PFN(rawValue: pfn)) { valid.append(pfn) }
    pfn += 1
  }
  precondition(!valid.isEmpty, "machine without valid PFNs")
  switch pattern {
  case .sequential:
    return (0..<count).map { valid[$0 % valid.count] }
  case .random:
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in valid[Int(rng.next() % UInt64(valid.count))] }
  }
}

// MARK: - The measured loops, one concrete copy per era

/// Every measured loop function stores its result here as well as returning it. The
/// store is a side effect the optimiser must keep, so repeated calls with the same
/// arguments can be neither merged nor dropped (without it, `for _ in 0..<8 { x &+= f() }`
/// over a read-only Swift `f` was folded into one call).
public nonisolated(unsafe) var benchSink: UInt64 = 0

@inline(__always)
func sink(_ x: UInt64) -> UInt64 {
  benchSink = x
  return x
}

@inline(__always)
func swiftLoop<E: CompoundEncoding>(_ machine: Page64Model<E>, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64 {
  var sum: UInt64 = 0
  for raw in pfns { sum &+= machine.compoundHead(PFN(rawValue: raw)).rawValue }
  return sum
}

@inline(__always)
func pairsLoop<E: CompoundEncoding>(_ machine: Page64Model<E>, count: Int) -> UInt64 {
  var sum: UInt64 = 0
  for _ in 0..<count {
    let p = machine.allocPages(order: 0)!
    machine.freePages(p, order: 0)
    sum &+= p.rawValue
  }
  return sum
}

@inline(__always)
func ringLoop<E: CompoundEncoding>(_ machine: Page64Model<E>, _ ring: PageRing, count: Int) -> UInt64 {
  var sum: UInt64 = 0
  var next = ring.next
  let pages = ring.pages
  let size = ring.size
  for _ in 0..<count {
    machine.freePages(pages[next], order: 0)
    let p = machine.allocPages(order: 0)!
    pages[next] = p
    sum &+= p.rawValue
    next += 1
    if next == size { next = 0 }
  }
  ring.next = next
  return sum
}

@inline(__always)
func burstLoop<E: CompoundEncoding>(_ machine: Page64Model<E>, _ pages: UnsafeMutableBufferPointer<PFN>, rounds: Int) -> UInt64 {
  var sum: UInt64 = 0
  for _ in 0..<rounds {
    for i in pages.indices {
      let p = machine.allocPages(order: 0)!
      pages[i] = p
      sum &+= p.rawValue
    }
    for p in pages { machine.freePages(p, order: 0) }
  }
  return sum
}

@inline(never)
public func swiftCompoundHeadClassic(_ machine: Page64Model<ClassicEncoding>, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64 {
  sink(swiftLoop(machine, pfns))
}

@inline(never)
public func swiftCompoundHeadMask(_ machine: Page64Model<MaskEncoding>, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64 {
  sink(swiftLoop(machine, pfns))
}

@inline(never)
public func cCompoundHeadClassic(_ machine: Page64Model<ClassicEncoding>, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64 {
  // The C loop walks the memmap's own page table and frames while the handle is lent.
  machine.machine.withMemmap { m in
    sink(cref_compound_head_classic(m.base, m.unsafePageTable, m.unsafePhysicalBase, pfns.baseAddress, pfns.count))
  }
}

@inline(never)
public func cCompoundHeadMask(_ machine: Page64Model<MaskEncoding>, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64 {
  // The C loop walks the memmap's own page table and frames while the handle is lent.
  machine.machine.withMemmap { m in
    sink(cref_compound_head_mask(m.base, m.unsafePageTable, m.unsafePhysicalBase, pfns.baseAddress, pfns.count))
  }
}

@inline(never)
public func allocFreePairsClassic(_ machine: Page64Model<ClassicEncoding>, count: Int) -> UInt64 { sink(pairsLoop(machine, count: count)) }
@inline(never)
public func allocFreePairsMask(_ machine: Page64Model<MaskEncoding>, count: Int) -> UInt64 { sink(pairsLoop(machine, count: count)) }
@inline(never)
public func allocFreeRingClassic(_ machine: Page64Model<ClassicEncoding>, _ ring: PageRing, count: Int) -> UInt64 { sink(ringLoop(machine, ring, count: count)) }
@inline(never)
public func allocFreeRingMask(_ machine: Page64Model<MaskEncoding>, _ ring: PageRing, count: Int) -> UInt64 { sink(ringLoop(machine, ring, count: count)) }
@inline(never)
public func allocFreeBurstsClassic(_ machine: Page64Model<ClassicEncoding>, _ pages: UnsafeMutableBufferPointer<PFN>, rounds: Int) -> UInt64 { sink(burstLoop(machine, pages, rounds: rounds)) }
@inline(never)
public func allocFreeBurstsMask(_ machine: Page64Model<MaskEncoding>, _ pages: UnsafeMutableBufferPointer<PFN>, rounds: Int) -> UInt64 { sink(burstLoop(machine, pages, rounds: rounds)) }

@inline(never)
public func bootClassic(ramBytes: UInt64) throws -> Page64Model<ClassicEncoding> {
  try Page64Model<ClassicEncoding>(MachineConfig(layout: PhysicalLayout.flat(ramBytes: ramBytes), era: .classic))
}

@inline(never)
public func bootMask(ramBytes: UInt64) throws -> Page64Model<MaskEncoding> {
  try Page64Model<MaskEncoding>(MachineConfig(layout: PhysicalLayout.flat(ramBytes: ramBytes), era: .mask))
}

extension ClassicEncoding: BenchEra {
  public static func swiftCompoundHeads(_ m: Page64Model<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { swiftCompoundHeadClassic(m, p) }
  public static func cCompoundHeads(_ m: Page64Model<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { cCompoundHeadClassic(m, p) }
  public static func allocFreePairs(_ m: Page64Model<Self>, count: Int) -> UInt64 { allocFreePairsClassic(m, count: count) }
  public static func allocFreeRing(_ m: Page64Model<Self>, _ r: PageRing, count: Int) -> UInt64 { allocFreeRingClassic(m, r, count: count) }
  public static func allocFreeBursts(_ m: Page64Model<Self>, _ p: UnsafeMutableBufferPointer<PFN>, rounds: Int) -> UInt64 { allocFreeBurstsClassic(m, p, rounds: rounds) }
  public static func boot(ramBytes: UInt64) throws -> Page64Model<Self> { try bootClassic(ramBytes: ramBytes) }
}

extension MaskEncoding: BenchEra {
  public static func swiftCompoundHeads(_ m: Page64Model<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { swiftCompoundHeadMask(m, p) }
  public static func cCompoundHeads(_ m: Page64Model<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { cCompoundHeadMask(m, p) }
  public static func allocFreePairs(_ m: Page64Model<Self>, count: Int) -> UInt64 { allocFreePairsMask(m, count: count) }
  public static func allocFreeRing(_ m: Page64Model<Self>, _ r: PageRing, count: Int) -> UInt64 { allocFreeRingMask(m, r, count: count) }
  public static func allocFreeBursts(_ m: Page64Model<Self>, _ p: UnsafeMutableBufferPointer<PFN>, rounds: Int) -> UInt64 { allocFreeBurstsMask(m, p, rounds: rounds) }
  public static func boot(ramBytes: UInt64) throws -> Page64Model<Self> { try bootMask(ramBytes: ramBytes) }
}
