/// Slab pages and page-table pages: memory the kernel uses for itself, which is in no
/// folio. In the 64-byte eras `struct slab` and `struct ptdesc` overlay the struct page;
/// in the memdesc eras they are descriptors of their own.
extension Page64Model {
  /// Kernel: `allocate_slab()`: a (compound) block typed slab, frozen (refcount 0 since
  /// 6.14), with `slab->slab_cache` where the folio's `lru.next` would be.
  public func allocSlab(order: Int) -> PFN? {
    guard let pfn = allocPages(order: order, gfp: order > 0 ? .comp : .kernel) else { return nil }
    let head = page(pfn)
    memmap.set(head, StructPageLayout.mapcount, PageType.slab.word)
    memmap.set(head, StructPageLayout.refcount, UInt32(0))
    memmap.set(head, StructPageLayout.lruNext, StandIn.kmallocCache)
    return pfn
  }

  /// Kernel: `__free_slab()`.
  public func freeSlab(_ pfn: PFN) {
    let head = page(pfn)
    let order = isHead(pfn) ? folioOrder(Folio(pfn: pfn)) : 0
    memmap.set(head, StructPageLayout.mapcount, PageType.noType)
    memmap.set(head, StructPageLayout.lruNext, head &+ 8)
    machine.freeFrozenPages(pfn, order: order)
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
