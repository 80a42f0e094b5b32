/// HugeTLB in the memdesc eras: pool pages are folios with descriptors, and HVO shares
/// vmemmap frames because every struct page of a folio is the same.
///
/// In `memdesc32` each page of a folio holds the same flags, memdesc word, `_mapcount`
/// (-1) and refcount (0); in `memdesc8` the same word. So all vmemmap pages of a huge page
/// can map one read-only frame: 2 MiB pages keep 1 frame of 4 (memdesc32) or have only 1
/// (memdesc8); 1 GiB pages keep 1 of 2048 or 512. Any per-page write must restore first.
extension Machine where Format: MemdescFormat {
  /// Kernel: `set_max_huge_pages()`.
  @discardableResult
  @_specialize(where Format == Memdesc32Format)
  @_specialize(where Format == Memdesc8Format)
  public func setNrHugePages(order: Int, _ count: Int) -> Int {
    guard let h = hugetlb.index(ofOrder: order) else { return 0 }
    while hugetlb.hstates[h].nrHugePages < count {
      guard let folio = allocHugetlbFolio(order: order) else { break }
      if hugetlb.optimizeVmemmap { hugetlbVmemmapOptimizeFolio(folio) }
      hugetlb.hstates[h].folios.append(folio)
    }
    var kept: [Folio] = []
    while hugetlb.hstates[h].nrHugePages - kept.count > count, let folio = hugetlb.hstates[h].folios.popLast() {
      if hugetlb.optimized.contains(folio.pfn) && !hugetlbVmemmapRestoreFolio(folio) {
        kept.append(folio)
        continue
      }
      freeHugetlbFolio(folio, order: order)
    }
    hugetlb.hstates[h].folios.append(contentsOf: kept)
    return hugetlb.hstates[h].nrHugePages
  }

  /// A frozen hugetlb folio: descriptor first, then the pages.
  func allocHugetlbFolio(order: Int) -> Folio? {
    guard let desc = descriptorAlloc(.largeFolio) else { return nil }
    let block = order <= Kernel.maxPageOrder ? allocBlock(order: order, gfp: .kernel, node: 0) : allocContigRange(order: order)
    guard let pfn = block else {
      descriptorFree(desc)
      return nil
    }
    initFolio(desc, pfn: pfn, order: order, kind: .file)
    let d = descriptorPointer(desc)
    d.storeBytes(of: UInt32(0), toByteOffset: MemdescFolioLayout.refcount, as: UInt32.self)  // frozen
    d.storeBytes(of: MemdescFolioLayout.hugetlbFolio, toByteOffset: MemdescFolioLayout.hugetlbPrivate, as: UInt64.self)
    return Folio(pfn: pfn)
  }

  func freeHugetlbFolio(_ folio: Folio, order: Int) {
    guard let desc = folioDescriptor(folio.pfn) else { return }
    freeHugeBlock(folio.pfn, order: order)
    descriptorFree(desc)
  }

  /// Maps every vmemmap page of the folio read-only onto one copy of the first, and frees
  /// the rest; false if there is one page only or no frame for the copy.
  @discardableResult
  @_specialize(where Format == Memdesc32Format)
  @_specialize(where Format == Memdesc8Format)
  public func hugetlbVmemmapOptimizeFolio(_ folio: Folio) -> Bool {
    let order = folioOrder(folio)
    let ptes = vmemmapPTERange(folio, order: order)
    guard ptes.count >= 2, !hugetlb.optimized.contains(folio.pfn) else { return false }
    guard let shared = allocPages(order: 0, node: zones[zoneIndex(of: folio.pfn)].node) else { return false }
    setHPGOptimized(folio, true)
    let old = ptes.map { vmemmapTable.entries[$0].frame }
    memory.frame(shared).copyMemory(from: memory.frame(old[0]), byteCount: Kernel.pageSize)
    counters.pointee.memmapPages += 1
    for i in ptes { vmemmapTable.entries[i] = VmemmapPTE(frame: shared, writable: false) }
    for f in old { freeVmemmapPage(f) }
    hugetlb.optimized.insert(folio.pfn)
    return true
  }

  /// Gives the folio its own writable vmemmap pages back; false (nothing changed) if the
  /// frames cannot be had.
  @discardableResult
  @_specialize(where Format == Memdesc32Format)
  @_specialize(where Format == Memdesc8Format)
  public func hugetlbVmemmapRestoreFolio(_ folio: Folio) -> Bool {
    guard hugetlb.optimized.contains(folio.pfn) else { return false }
    let ptes = vmemmapPTERange(folio, order: folioOrder(folio))
    guard let frames = allocVmemmapFrames(ptes.count, for: folio) else { return false }
    let shared = vmemmapTable.entries[ptes.lowerBound].frame
    for (i, f) in zip(ptes, frames) {
      memory.frame(f).copyMemory(from: memory.frame(shared), byteCount: Kernel.pageSize)
      vmemmapTable.entries[i] = VmemmapPTE(frame: f, writable: true)
    }
    counters.pointee.memmapPages += frames.count
    freeVmemmapPage(shared)
    hugetlb.optimized.remove(folio.pfn)
    setHPGOptimized(folio, false)
    return true
  }

  func setHPGOptimized(_ folio: Folio, _ on: Bool) {
    let d = folioPointer(folio)
    let v = d.load(fromByteOffset: MemdescFolioLayout.hugetlbPrivate, as: UInt64.self)
    let bit = HugetlbState.hpgVmemmapOptimized
    d.storeBytes(of: on ? v | bit : v & ~bit, toByteOffset: MemdescFolioLayout.hugetlbPrivate, as: UInt64.self)
  }
}
