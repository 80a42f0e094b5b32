/// The 64-byte era family (classic, mask): folios are compound pages whose metadata
/// overlays the head and the first three tails, and a tail finds its head through
/// `compound_info`, decoded by the era's ``CompoundEncoding``.
///
/// Everything here is generic over the encoding and compiled once per era, so
/// `compoundHead` has no era test in it. The struct pages are bytes in the core's
/// memmap; this type only decides what those bytes mean.
///
/// Kernel: include/linux/mm_types.h, include/linux/page-flags.h, mm/page_alloc.c.
public final class Page64Model<Format: CompoundEncoding>: MemoryModel {
  public let machine: Machine<Format>
  /// The core's memmap handle, held here so that hot paths reach it in one load.
  @usableFromInline let memmap: Memmap<Format>
  /// The core's counters (the fake-head static key is read on every `compoundHead`).
  @usableFromInline let counters: UnsafeMutablePointer<MachineCounters>

  public init(_ config: MachineConfig) throws(MachineError) {
    machine = try Machine<Format>(config)
    memmap = machine.memmap
    counters = machine.counters
    gatherBootmemPrealloc()
  }

  /// Kernel: `pfn_to_page()`.
  @inlinable @inline(__always)
  func page(_ pfn: PFN) -> UInt64 { memmap.address(of: pfn) }
}
