/// HugeTLB pools: growing and shrinking them like writing `nr_hugepages`.
extension Machine where Format: CompoundEncoding {
  /// Grows or shrinks the pool of huge pages of `order` towards `count`, optimising the
  /// vmemmap of new pages when `hugetlb.optimizeVmemmap` is on, and returns the count
  /// reached: fewer when memory runs out on growth, or when a page cannot be restored on
  /// shrink (it then stays in the pool, as the kernel keeps it).
  ///
  /// Kernel: `set_max_huge_pages()` (the `nr_hugepages` sysfs file).
  @discardableResult
  @_specialize(where Format == ClassicEncoding)
  @_specialize(where Format == MaskEncoding)
  public func setNrHugePages(order: Int, _ count: Int) -> Int {
    guard let h = hugetlb.index(ofOrder: order) else { return 0 }
    while hugetlb.hstates[h].nrHugePages < count {
      guard let folio = allocFreshHugetlbFolio(order: order) else { break }
      if hugetlb.optimizeVmemmap { _ = hugetlbVmemmapOptimizeFolio(folio) }
      hugetlb.hstates[h].folios.append(folio)
    }
    var kept: [Folio] = []
    while hugetlb.hstates[h].nrHugePages - kept.count > count, let folio = hugetlb.hstates[h].folios.popLast() {
      if updateAndFreeHugetlbFolio(folio, order: order) == false { kept.append(folio) }
    }
    hugetlb.hstates[h].folios.append(contentsOf: kept)
    return hugetlb.hstates[h].nrHugePages
  }

  /// A new hugetlb folio, frozen (refcount 0) and typed, from the buddy allocator for
  /// 2 MiB or from a free aligned contiguous range for 1 GiB.
  ///
  /// Kernel: `alloc_fresh_hugetlb_folio()` -> `alloc_buddy_hugetlb_folio()` or
  /// `alloc_gigantic_folio()` (`alloc_contig_range()`), then `init_new_hugetlb_folio()`.
  func allocFreshHugetlbFolio(order: Int) -> Folio? {
    let pfn: PFN
    if order <= Kernel.maxPageOrder {
      guard let p = allocPages(order: order, gfp: .comp) else { return nil }
      pfn = p
    } else {
      guard let p = allocContigRange(order: order) else { return nil }
      // The pages come straight from the free lists: refcount 0, as for buddy pages.
      memmap.set(page(p), StructPageLayout.refcount, UInt32(1))
      prepCompoundPage(p, order: order)
      pfn = p
    }
    let head = page(pfn)
    // folio_ref_freeze() and __folio_set_hugetlb().
    memmap.set(head, StructPageLayout.refcount, UInt32(0))
    memmap.set(head, StructPageLayout.mapcount, PageType.hugetlb.word)
    return Folio(pfn: pfn)
  }

  /// Restores a pool page's vmemmap if it is optimised and frees it to the buddy
  /// allocator; false (nothing changed) if the restore cannot get its frames.
  ///
  /// Kernel: `update_and_free_hugetlb_folio()` -> `hugetlb_vmemmap_restore_folio()`,
  /// `__update_and_free_hugetlb_folio()`.
  func updateAndFreeHugetlbFolio(_ folio: Folio, order: Int) -> Bool {
    if hugetlb.optimized.contains(folio.pfn) {
      guard hugetlbVmemmapRestoreFolio(folio) else { return false }
    }
    let head = page(folio.pfn)
    memmap.set(head, StructPageLayout.mapcount, PageType.noType)
    freeHugeBlock(folio.pfn, order: order)
    return true
  }
}
