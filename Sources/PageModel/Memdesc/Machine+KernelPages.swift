/// Slab pages and page-table pages: memory the kernel uses for itself, which is in no
/// folio. In the 64-byte eras `struct slab` and `struct ptdesc` overlay the struct page;
/// in the memdesc eras they are descriptors of their own.
extension Machine where Format: CompoundEncoding {
  /// Kernel: `allocate_slab()`: a (compound) block typed slab, frozen (refcount 0 since
  /// 6.14), with `slab->slab_cache` where the folio's `lru.next` would be.
  public func allocSlab(order: Int) -> PFN? {
    guard let pfn = allocPages(order: order, gfp: order > 0 ? .comp : .kernel) else { return nil }
    let head = page(pfn)
    memmap.set(head, StructPageLayout.mapcount, PageType.slab.word)
    memmap.set(head, StructPageLayout.refcount, UInt32(0))
    memmap.set(head, StructPageLayout.lruNext, Machine.kmallocCache)
    return pfn
  }

  /// Kernel: `__free_slab()`.
  public func freeSlab(_ pfn: PFN) {
    let head = page(pfn)
    let order = isHead(pfn) ? folioOrder(Folio(pfn: pfn)) : 0
    memmap.set(head, StructPageLayout.mapcount, PageType.noType)
    memmap.set(head, StructPageLayout.lruNext, head &+ 8)
    freeFrozenPages(pfn, order: order)
  }

  /// Kernel: `pagetable_alloc()`: an order-0 page typed table (`__pagetable_ctor()`).
  public func allocPageTable() -> PFN? {
    guard let pfn = allocPages(order: 0) else { return nil }
    memmap.set(page(pfn), StructPageLayout.mapcount, PageType.table.word)
    return pfn
  }

  /// Kernel: `pagetable_free()`.
  public func freePageTable(_ pfn: PFN) {
    memmap.set(page(pfn), StructPageLayout.mapcount, PageType.noType)
    freePages(pfn, order: 0)
  }
}

extension Machine where Format: MemdescFormat {
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
    guard let pfn = allocBlock(order: order, gfp: .kernel, node: 0) else {
      descriptorFree(desc)
      return nil
    }
    let d = descriptorPointer(desc)
    let zone = zones[zoneIndex(of: pfn)]
    d.storeBytes(of: PageFlagsLayout.links(zone: zone.type, node: zone.node), as: UInt64.self)
    if kind == .slab { d.storeBytes(of: Machine.kmallocCache, toByteOffset: SlabField.cache, as: UInt64.self) }
    // The order, in the high bits of the word at 40 (`counters` of a slab, the ptdesc's
    // spare word: the model keeps both there).
    d.storeBytes(of: UInt64(order) << 48, toByteOffset: SlabField.counters, as: UInt64.self)
    let word = desc | Format.tag(type)
    for i in 0..<(1 << order) { memmap.set(memmap.address(of: pfn + i), Format.memdescOffset, word) }
    return pfn
  }

  func freeOwned(_ pfn: PFN) {
    let word = memdescWord(pfn)
    let desc = word & ~MemdescType.mask
    let d = descriptorPointer(desc)
    let order = Int(d.load(fromByteOffset: SlabField.counters, as: UInt64.self) >> 48)
    freeFrozenPages(pfn, order: order)
    descriptorFree(desc)
  }
}

extension Machine {
  /// Stand-in `struct kmem_cache *` of the slabs the model allocates for workloads.
  static var kmallocCache: UInt64 { Kernel.startKernelMap + 0x0400_2000 }
}
