/// The memdesc era family (memdesc32, memdesc8): a small struct page whose memdesc word
/// names a separately allocated descriptor (folio, slab, ptdesc) or carries inline data
/// (Misc, Buddy).
///
/// Descriptors live in slab pages of the same machine, so what they cost is counted in
/// frames like the memmap itself. Generic over the era's ``MemdescFormat`` and compiled
/// once per era.
///
/// Kernel (plan): Matthew Wilcox's memdesc pages (`MatthewWilcox/Memdescs`,
/// `FolioAlloc`, `Path`).
public final class MemdescModel<Format: MemdescFormat>: MemoryModel {
  public let machine: Machine<Format>
  /// The core's memmap handle, held here so that hot paths reach it in one load.
  @usableFromInline let memmap: Memmap<Format>
  /// Descriptor caches, by `DescriptorKind` case order.
  let descriptorCaches = DescriptorKind.allCases.map { DescriptorCache(kind: $0) }
  /// Pages retyped HWPoison (memdesc8), so that freeing skips the scan when there are none.
  @usableFromInline var hwPoisonPages = 0

  public init(_ config: MachineConfig) throws(MachineError) {
    machine = try Machine<Format>(config)
    memmap = machine.memmap
    gatherBootmemPrealloc()
  }

  /// Kernel: `pfn_to_page()`.
  @inlinable @inline(__always)
  func page(_ pfn: PFN) -> UInt64 { memmap.address(of: pfn) }
}
