// Workloads of issues 3 and 4 in all four eras: `pageFolio` / `folio(containing:)` over a
// machine filled with folios of mixed orders, order-0 folio allocate+free, HugeTLB vmemmap
// optimise+restore (HVO) and pool growth with HVO on and off.
//
// As in Workloads.swift, every measured loop is an `@inline(never)` function with one
// concrete copy per era (`Page64Model<ClassicEncoding>`, `<MaskEncoding>`,
// `<Memdesc32Format>`, `<Memdesc8Format>`), so that callgrind can name it and the client
// side is specialised; the `...Any` loops take `any MemoryModel` to measure the
// existential. Whether the *library* side is specialised depends on PageModel: a public
// generic method that is not `@inlinable` is called unspecialised from here.
import PageModel

/// Bytes of RAM of the HugeTLB machines (the issue's `--ram 8G`).
public let hugetlbRAMBytes: UInt64 = 8 << 30
/// 2 MiB pages a pool sample grows by and shrinks back (512 on 8 GiB: 1 GiB of pool).
public let poolPages2M = 512
/// 1 GiB pages a pool sample grows by and shrinks back.
public let poolPages1G = 2
/// 2 MiB pool pages each optimise+restore sample goes through.
public let hvoPages2M = 64
/// 1 GiB pool pages each optimise+restore sample goes through.
public let hvoPages1G = 2

/// What the issue 3 and 4 benchmarks need of an era (all four eras).
public protocol ModelBenchEra: PageFormat {
  /// The era family type that runs this era.
  associatedtype Model: MemoryModel
  /// Boots a flat machine of `ramBytes`.
  static func boot(ramBytes: UInt64) throws -> Model
  /// Sum over `pfns` of the head PFN of the era family's own `pageFolio` (64-byte eras:
  /// always a folio; memdesc eras: nil counts 1).
  static func pageFolios(_ m: Model, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64
  /// The same sum through the unified `folio(containing:)` (nil counts 1).
  static func foliosContaining(_ m: Model, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64
  /// `count` pairs of `allocFolio(order: 0, kind: .anon)` and `folioPut`.
  static func folioAllocFree(_ m: Model, count: Int) -> UInt64
  /// `hugetlbVmemmapOptimizeFolio` then `hugetlbVmemmapRestoreFolio` on each folio;
  /// returns how many of the calls succeeded.
  static func hvoOptimizeRestore(_ m: Model, _ folios: UnsafeBufferPointer<Folio>) -> UInt64
  /// The same, outside the measured function (warm-up, not counted by callgrind).
  static func hvoWarmUp(_ m: Model, _ folios: UnsafeBufferPointer<Folio>)
  /// `setNrHugePages(order:count)` from a smaller pool: growth.
  static func hugetlbGrow(_ m: Model, order: Int, count: Int) -> Int
  /// `setNrHugePages(order:count)` to a smaller pool: shrinking.
  static func hugetlbShrink(_ m: Model, order: Int, count: Int) -> Int
}

// MARK: - Machines

/// What ``filledFolioMachine(_:seed:)`` allocated.
public struct FolioFill: Sendable {
  /// Folios allocated, and of them by order (index = order).
  public var folios = 0
  public var byOrder = [Int](repeating: 0, count: 11)
  /// Pages in folios.
  public var pages = 0
}

/// Orders drawn for the mixed fill: 1 in 128 draws is an order-9 (THP-sized) folio, the
/// rest are orders 0-4 (half of them order 0), so about half of the pages are in order-9
/// folios and half in small ones.
@inline(__always)
func mixedOrder(_ rng: inout SplitMix64) -> Int {
  let r = rng.next()
  if r & 127 == 0 { return 9 }
  return [0, 0, 0, 0, 1, 2, 3, 4][Int((r >> 7) & 7)]
}

/// A booted machine of `ramBytes` filled with anonymous and page-cache folios of mixed
/// orders (``mixedOrder(_:)``, SplitMix64 from `seed`) until order 0 fails; when a larger
/// order fails, later draws are capped below it. The same seed gives the same draws in
/// every era (the placements differ where the memdesc eras' descriptor slabs take pages).
public func filledFolioMachine<E: ModelBenchEra>(
  _: E.Type, ramBytes: UInt64 = benchRAMBytes, seed: UInt64 = benchSeed
) throws -> (machine: E.Model, fill: FolioFill) {
  let m = try E.boot(ramBytes: ramBytes)
  var rng = SplitMix64(seed: seed)
  var fill = FolioFill()
  var cap = 10
  while true {
    let order = min(mixedOrder(&rng), cap)
    let kind: FolioKind = rng.next() & 1 == 0 ? .anon : .file
    if m.allocFolio(order: order, kind: kind, gfp: .kernel, node: 0) != nil {
      fill.folios += 1
      fill.byOrder[order] += 1
      fill.pages += 1 << order
    } else {
      if order == 0 { break }
      cap = order - 1
    }
  }
  return (m, fill)
}

/// A booted 8 GiB machine with HVO off and pools of `pages1G` 1 GiB and `pages2M` 2 MiB
/// pages (1 GiB first: `alloc_contig_range` wants free aligned gigabytes); returns the
/// pool folios.
public func hugetlbMachine<E: ModelBenchEra>(
  _: E.Type, pages2M: Int = hvoPages2M, pages1G: Int = hvoPages1G
) throws -> (machine: E.Model, folios2M: [Folio], folios1G: [Folio]) {
  let m = try E.boot(ramBytes: hugetlbRAMBytes)
  m.setHugetlbOptimizeVmemmap(false)
  let got1G = m.setNrHugePages(order: Hstate.pud, count: pages1G)
  let got2M = m.setNrHugePages(order: Hstate.pmd, count: pages2M)
  guard got1G == pages1G, got2M == pages2M else {
    fatalError("\(E.era): pools of \(got2M) x 2 MiB and \(got1G) x 1 GiB, wanted \(pages2M) and \(pages1G)")
  }
  func folios(_ order: Int) -> [Folio] { m.hugetlb.hstates.first { $0.order == order }!.folios }
  return (m, folios(Hstate.pmd), folios(Hstate.pud))
}

// MARK: - Loop bodies (inlined into the concrete functions below)

@inline(__always)
func pageFolioLoop<E: CompoundEncoding>(_ m: Page64Model<E>, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64 {
  var sum: UInt64 = 0
  for raw in pfns { sum &+= m.pageFolio(PFN(rawValue: raw)).pfn.rawValue }
  return sum
}

@inline(__always)
func pageFolioLoop<E: MemdescFormat>(_ m: MemdescModel<E>, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64 {
  var sum: UInt64 = 0
  for raw in pfns { sum &+= m.pageFolio(PFN(rawValue: raw))?.pfn.rawValue ?? 1 }
  return sum
}

@inline(__always)
func folioContainingLoop<M: MemoryModel>(_ m: M, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64 {
  var sum: UInt64 = 0
  for raw in pfns { sum &+= m.folio(containing: PFN(rawValue: raw))?.pfn.rawValue ?? 1 }
  return sum
}

@inline(__always)
func folioAllocFreeLoop<M: MemoryModel>(_ m: M, count: Int) -> UInt64 {
  var sum: UInt64 = 0
  for _ in 0..<count {
    let f = m.allocFolio(order: 0, kind: .anon, gfp: .kernel, node: 0)!
    m.folioPut(f)
    sum &+= f.pfn.rawValue
  }
  return sum
}

@inline(__always)
func hvoLoop<M: MemoryModel>(_ m: M, _ folios: UnsafeBufferPointer<Folio>) -> UInt64 {
  var n: UInt64 = 0
  for f in folios {
    if m.hugetlbVmemmapOptimizeFolio(f) { n &+= 1 }
    if m.hugetlbVmemmapRestoreFolio(f) { n &+= 1 }
  }
  return n
}

// MARK: - The measured loops, one concrete copy per era

@inline(never) public func pageFolioClassic(_ m: Page64Model<ClassicEncoding>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { sink(pageFolioLoop(m, p)) }
@inline(never) public func pageFolioMask(_ m: Page64Model<MaskEncoding>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { sink(pageFolioLoop(m, p)) }
@inline(never) public func pageFolioMemdesc32(_ m: MemdescModel<Memdesc32Format>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { sink(pageFolioLoop(m, p)) }
@inline(never) public func pageFolioMemdesc8(_ m: MemdescModel<Memdesc8Format>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { sink(pageFolioLoop(m, p)) }

@inline(never) public func folioContainingClassic(_ m: Page64Model<ClassicEncoding>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { sink(folioContainingLoop(m, p)) }
@inline(never) public func folioContainingMask(_ m: Page64Model<MaskEncoding>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { sink(folioContainingLoop(m, p)) }
@inline(never) public func folioContainingMemdesc32(_ m: MemdescModel<Memdesc32Format>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { sink(folioContainingLoop(m, p)) }
@inline(never) public func folioContainingMemdesc8(_ m: MemdescModel<Memdesc8Format>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { sink(folioContainingLoop(m, p)) }

/// `folio(containing:)` through the existential, as `bootModel` hands machines out.
@inline(never)
public func folioContainingAny(_ m: any MemoryModel, _ pfns: UnsafeBufferPointer<UInt64>) -> UInt64 {
  var sum: UInt64 = 0
  for raw in pfns { sum &+= m.folio(containing: PFN(rawValue: raw))?.pfn.rawValue ?? 1 }
  return sink(sum)
}

@inline(never) public func folioAllocFreeClassic(_ m: Page64Model<ClassicEncoding>, count: Int) -> UInt64 { sink(folioAllocFreeLoop(m, count: count)) }
@inline(never) public func folioAllocFreeMask(_ m: Page64Model<MaskEncoding>, count: Int) -> UInt64 { sink(folioAllocFreeLoop(m, count: count)) }
@inline(never) public func folioAllocFreeMemdesc32(_ m: MemdescModel<Memdesc32Format>, count: Int) -> UInt64 { sink(folioAllocFreeLoop(m, count: count)) }
@inline(never) public func folioAllocFreeMemdesc8(_ m: MemdescModel<Memdesc8Format>, count: Int) -> UInt64 { sink(folioAllocFreeLoop(m, count: count)) }

/// Order-0 folio allocate+free through the existential.
@inline(never)
public func folioAllocFreeAny(_ m: any MemoryModel, count: Int) -> UInt64 {
  var sum: UInt64 = 0
  for _ in 0..<count {
    let f = m.allocFolio(order: 0, kind: .anon, gfp: .kernel, node: 0)!
    m.folioPut(f)
    sum &+= f.pfn.rawValue
  }
  return sink(sum)
}

@inline(never) public func hvoOptimizeRestoreClassic(_ m: Page64Model<ClassicEncoding>, _ f: UnsafeBufferPointer<Folio>) -> UInt64 { sink(hvoLoop(m, f)) }
@inline(never) public func hvoOptimizeRestoreMask(_ m: Page64Model<MaskEncoding>, _ f: UnsafeBufferPointer<Folio>) -> UInt64 { sink(hvoLoop(m, f)) }
@inline(never) public func hvoOptimizeRestoreMemdesc32(_ m: MemdescModel<Memdesc32Format>, _ f: UnsafeBufferPointer<Folio>) -> UInt64 { sink(hvoLoop(m, f)) }
@inline(never) public func hvoOptimizeRestoreMemdesc8(_ m: MemdescModel<Memdesc8Format>, _ f: UnsafeBufferPointer<Folio>) -> UInt64 { sink(hvoLoop(m, f)) }

@inline(never) public func hugetlbGrowClassic(_ m: Page64Model<ClassicEncoding>, order: Int, count: Int) -> Int { m.setNrHugePages(order: order, count: count) }
@inline(never) public func hugetlbGrowMask(_ m: Page64Model<MaskEncoding>, order: Int, count: Int) -> Int { m.setNrHugePages(order: order, count: count) }
@inline(never) public func hugetlbGrowMemdesc32(_ m: MemdescModel<Memdesc32Format>, order: Int, count: Int) -> Int { m.setNrHugePages(order: order, count: count) }
@inline(never) public func hugetlbGrowMemdesc8(_ m: MemdescModel<Memdesc8Format>, order: Int, count: Int) -> Int { m.setNrHugePages(order: order, count: count) }

@inline(never) public func hugetlbShrinkClassic(_ m: Page64Model<ClassicEncoding>, order: Int, count: Int) -> Int { m.setNrHugePages(order: order, count: count) }
@inline(never) public func hugetlbShrinkMask(_ m: Page64Model<MaskEncoding>, order: Int, count: Int) -> Int { m.setNrHugePages(order: order, count: count) }
@inline(never) public func hugetlbShrinkMemdesc32(_ m: MemdescModel<Memdesc32Format>, order: Int, count: Int) -> Int { m.setNrHugePages(order: order, count: count) }
@inline(never) public func hugetlbShrinkMemdesc8(_ m: MemdescModel<Memdesc8Format>, order: Int, count: Int) -> Int { m.setNrHugePages(order: order, count: count) }

@inline(never)
public func bootMemdesc32(ramBytes: UInt64) throws -> MemdescModel<Memdesc32Format> {
  try MemdescModel<Memdesc32Format>(MachineConfig(layout: PhysicalLayout.flat(ramBytes: ramBytes), era: .memdesc32))
}

@inline(never)
public func bootMemdesc8(ramBytes: UInt64) throws -> MemdescModel<Memdesc8Format> {
  try MemdescModel<Memdesc8Format>(MachineConfig(layout: PhysicalLayout.flat(ramBytes: ramBytes), era: .memdesc8))
}

extension ClassicEncoding: ModelBenchEra {
  public typealias Model = Page64Model<Self>
  public static func pageFolios(_ m: Page64Model<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { pageFolioClassic(m, p) }
  public static func foliosContaining(_ m: Page64Model<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { folioContainingClassic(m, p) }
  public static func folioAllocFree(_ m: Page64Model<Self>, count: Int) -> UInt64 { folioAllocFreeClassic(m, count: count) }
  public static func hvoOptimizeRestore(_ m: Page64Model<Self>, _ f: UnsafeBufferPointer<Folio>) -> UInt64 { hvoOptimizeRestoreClassic(m, f) }
  public static func hvoWarmUp(_ m: Page64Model<Self>, _ f: UnsafeBufferPointer<Folio>) { _ = hvoLoop(m, f) }
  public static func hugetlbGrow(_ m: Page64Model<Self>, order: Int, count: Int) -> Int { hugetlbGrowClassic(m, order: order, count: count) }
  public static func hugetlbShrink(_ m: Page64Model<Self>, order: Int, count: Int) -> Int { hugetlbShrinkClassic(m, order: order, count: count) }
}

extension MaskEncoding: ModelBenchEra {
  public typealias Model = Page64Model<Self>
  public static func pageFolios(_ m: Page64Model<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { pageFolioMask(m, p) }
  public static func foliosContaining(_ m: Page64Model<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { folioContainingMask(m, p) }
  public static func folioAllocFree(_ m: Page64Model<Self>, count: Int) -> UInt64 { folioAllocFreeMask(m, count: count) }
  public static func hvoOptimizeRestore(_ m: Page64Model<Self>, _ f: UnsafeBufferPointer<Folio>) -> UInt64 { hvoOptimizeRestoreMask(m, f) }
  public static func hvoWarmUp(_ m: Page64Model<Self>, _ f: UnsafeBufferPointer<Folio>) { _ = hvoLoop(m, f) }
  public static func hugetlbGrow(_ m: Page64Model<Self>, order: Int, count: Int) -> Int { hugetlbGrowMask(m, order: order, count: count) }
  public static func hugetlbShrink(_ m: Page64Model<Self>, order: Int, count: Int) -> Int { hugetlbShrinkMask(m, order: order, count: count) }
}

extension Memdesc32Format: ModelBenchEra {
  public typealias Model = MemdescModel<Self>
  public static func boot(ramBytes: UInt64) throws -> MemdescModel<Self> { try bootMemdesc32(ramBytes: ramBytes) }
  public static func pageFolios(_ m: MemdescModel<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { pageFolioMemdesc32(m, p) }
  public static func foliosContaining(_ m: MemdescModel<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { folioContainingMemdesc32(m, p) }
  public static func folioAllocFree(_ m: MemdescModel<Self>, count: Int) -> UInt64 { folioAllocFreeMemdesc32(m, count: count) }
  public static func hvoOptimizeRestore(_ m: MemdescModel<Self>, _ f: UnsafeBufferPointer<Folio>) -> UInt64 { hvoOptimizeRestoreMemdesc32(m, f) }
  public static func hvoWarmUp(_ m: MemdescModel<Self>, _ f: UnsafeBufferPointer<Folio>) { _ = hvoLoop(m, f) }
  public static func hugetlbGrow(_ m: MemdescModel<Self>, order: Int, count: Int) -> Int { hugetlbGrowMemdesc32(m, order: order, count: count) }
  public static func hugetlbShrink(_ m: MemdescModel<Self>, order: Int, count: Int) -> Int { hugetlbShrinkMemdesc32(m, order: order, count: count) }
}

extension Memdesc8Format: ModelBenchEra {
  public typealias Model = MemdescModel<Self>
  public static func boot(ramBytes: UInt64) throws -> MemdescModel<Self> { try bootMemdesc8(ramBytes: ramBytes) }
  public static func pageFolios(_ m: MemdescModel<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { pageFolioMemdesc8(m, p) }
  public static func foliosContaining(_ m: MemdescModel<Self>, _ p: UnsafeBufferPointer<UInt64>) -> UInt64 { folioContainingMemdesc8(m, p) }
  public static func folioAllocFree(_ m: MemdescModel<Self>, count: Int) -> UInt64 { folioAllocFreeMemdesc8(m, count: count) }
  public static func hvoOptimizeRestore(_ m: MemdescModel<Self>, _ f: UnsafeBufferPointer<Folio>) -> UInt64 { hvoOptimizeRestoreMemdesc8(m, f) }
  public static func hvoWarmUp(_ m: MemdescModel<Self>, _ f: UnsafeBufferPointer<Folio>) { _ = hvoLoop(m, f) }
  public static func hugetlbGrow(_ m: MemdescModel<Self>, order: Int, count: Int) -> Int { hugetlbGrowMemdesc8(m, order: order, count: count) }
  public static func hugetlbShrink(_ m: MemdescModel<Self>, order: Int, count: Int) -> Int { hugetlbShrinkMemdesc8(m, order: order, count: count) }
}
