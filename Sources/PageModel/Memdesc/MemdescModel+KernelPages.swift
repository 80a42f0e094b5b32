extension MemdescModel {
  /// A slab of 2^order pages: a `struct slab` descriptor, and every page's memdesc word
  /// pointing at it. Kernel (plan): `alloc_page_desc(..., MEMDESC_TYPE_SLAB(slab))`.
  public func allocSlab(order: Int) -> PFN? {
    allocOwned(order: order, kind: .slab, type: .slab)
  }

  /// Frees a slab's pages and its descriptor.
  public func freeSlab(_ pfn: PFN) { freeOwned(pfn) }

  /// A page-table page with its `struct ptdesc`.
  public func allocPageTable() -> PFN? { allocOwned(order: 0, kind: .ptdesc, type: .pageTable) }

  /// Frees a page-table page and its descriptor.
  public func freePageTable(_ pfn: PFN) { freeOwned(pfn) }

  func allocOwned(order: Int, kind: DescriptorKind, type: MemdescType) -> PFN? {
    guard let desc = descriptorAlloc(kind) else { return nil }
    guard let pfn = machine.allocBlock(order: order, gfp: .kernel, node: 0)?.pfn else {
      descriptorFree(desc)
      return nil
    }
    let d = descriptorPointer(desc)
    let zone = machine.zones[machine.zoneIndex(of: pfn)]
    d.storeBytes(of: PageFlagsLayout.links(zone: zone.type, node: zone.node), as: UInt64.self)
    if kind == .slab {
      d.storeBytes(of: StandIn.kmallocCache, toByteOffset: SlabDescriptorLayout.cache, as: UInt64.self)
      // The order, in the high bits of `counters`, which the kernel leaves unused on
      // 64-bit (it reads the order from the cache's `oo`).
      d.storeBytes(of: UInt64(order) << 48, toByteOffset: SlabDescriptorLayout.counters, as: UInt64.self)
    }
    let word = desc | Format.tag(type)
    for i in 0..<(1 << order) { memmap.set(memmap.address(of: pfn + i), Format.memdescOffset, word) }
    return pfn
  }

  func freeOwned(_ pfn: PFN) {
    let word = memdescWord(pfn)
    let desc = word & ~MemdescType.mask
    // A page table is one page; a slab keeps its order in `counters`.
    let order = Format.type(of: word) == .slab ? Int(descriptorPointer(desc).load(fromByteOffset: SlabDescriptorLayout.counters, as: UInt64.self) >> 48) : 0
    dropHWPoison(pfn, order: order)
    machine.freeFrozenPages(pfn, order: order)
    descriptorFree(desc)
  }
}
