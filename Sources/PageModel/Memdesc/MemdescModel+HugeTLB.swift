/// HugeTLB in the memdesc eras: pool pages are folios with descriptors, and HVO shares
/// vmemmap frames because every struct page of a folio is the same.
///
/// In `memdesc32` each page of a folio holds the same flags, memdesc word, `_mapcount`
/// (-1) and refcount (0); in `memdesc8` the same word. So all vmemmap pages of a huge page
/// can map one read-only frame: 2 MiB pages keep 1 frame of 4 (memdesc32) or have only 1
/// (memdesc8); 1 GiB pages keep 1 of 2048 or 512. Any per-page write must restore first.
extension MemdescModel: HugetlbFamily {
  /// No struct page carries PG_head in these eras: there is no fake head to see.
  public func countFakeHeads() -> Int { 0 }
  /// The model reads kpageflags back only from the 64-byte struct page.
  public func hugetlbKPageFlagsHeads() -> Int? { nil }

  /// A frozen hugetlb folio: descriptor first, then the pages.
  public func allocFreshHugetlbFolio(order: Int, at: PFN?) -> Folio? {
    guard let desc = descriptorAlloc(.largeFolio) else { return nil }
    let block = machine.takeBlock(order: order, at: at)
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

  public func freeHugetlbFolio(_ folio: Folio, order: Int) {
    guard let desc = folioDescriptor(folio.pfn) else { return }
    machine.freeHugeBlock(folio.pfn, order: order)
    descriptorFree(desc)
  }

  /// One read-only copy of the first vmemmap page for all of them.
  public func hvoFrames(_ folio: Folio, order: Int, ptes: Range<Int>) -> HVOFrames? {
    guard let shared = allocPages(order: 0, node: machine.zones[machine.zoneIndex(of: folio.pfn)].node) else { return nil }
    machine.memory.frame(shared).copyMemory(from: machine.memory.frame(machine.vmemmapTable[ptes.lowerBound].frame), byteCount: Kernel.pageSize)
    return HVOFrames(head: nil, tail: shared, newMemmapFrames: 1)
  }

  /// Every vmemmap page of the folio is the same: a copy of the shared one.
  public func hvoRestoreFill(_ page: UnsafeMutableRawPointer, from source: UnsafeRawPointer) {
    page.copyMemory(from: source, byteCount: Kernel.pageSize)
  }

  /// `HPG_vmemmap_optimized` lives in the folio descriptor.
  public func markVmemmapOptimized(_ folio: Folio, _ on: Bool) {
    let d = folioPointer(folio)
    let v = d.load(fromByteOffset: MemdescFolioLayout.hugetlbPrivate, as: UInt64.self)
    let bit = HugetlbState.hpgVmemmapOptimized
    d.storeBytes(of: on ? v | bit : v & ~bit, toByteOffset: MemdescFolioLayout.hugetlbPrivate, as: UInt64.self)
  }
}
