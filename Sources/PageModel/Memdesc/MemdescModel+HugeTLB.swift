/// HugeTLB in the memdesc eras: pool pages are folios with descriptors, and HVO shares
/// vmemmap frames because every struct page of a folio is the same.
///
/// In `memdesc32` each page of a folio holds the same flags, memdesc word, `_mapcount`
/// (-1) and refcount (0); in `memdesc8` the same word. HVO keeps the head's vmemmap page
/// on a writable frame of its own, as the kernel does in the 64-byte eras, because the
/// head's struct page is written while the page is optimised (the per-page flags the
/// flag split keeps: HWPoison of the folio, AnonExclusive, which HugeTLB keeps on the
/// head); every other vmemmap page maps one read-only copy per folio (the copy names the
/// folio's descriptor, so it cannot be shared between folios as the mask era's tail
/// frame is). A 2 MiB page keeps 2 of its 4 frames in memdesc32 and, with one vmemmap
/// page, cannot be optimised in memdesc8; a 1 GiB page keeps 2 of 2048 or of 512.
extension MemdescModel: HugetlbFamily {
  /// No struct page carries PG_head in these eras: there is no fake head to see.
  public func countFakeHeads() -> Int { 0 }
  /// The model reads kpageflags back only from the 64-byte struct page.
  public func hugetlbKPageFlagsHeads() -> Int? { nil }

  /// A frozen hugetlb folio: descriptor first (with the HugeTLB words), then the pages.
  /// The folio type lives where `__folio_set_hugetlb()` puts it today, in the
  /// `page_type` that shares `_mapcount`.
  public func allocFreshHugetlbFolio(order: Int, at: PFN?) -> Folio? {
    guard let desc = descriptorAlloc(.hugetlbFolio) else { return nil }
    let block = machine.takeBlock(order: order, at: at)
    guard let pfn = block else {
      descriptorFree(desc)
      return nil
    }
    initFolio(desc, pfn: pfn, order: order, kind: .file, hugetlb: true)
    let d = descriptorPointer(desc)
    d.storeBytes(of: UInt32(0), toByteOffset: MemdescFolioLayout.refcount, as: UInt32.self)  // frozen
    d.storeBytes(of: PageType.hugetlb.word, toByteOffset: MemdescFolioLayout.mapcount, as: UInt32.self)
    return Folio(pfn: pfn)
  }

  /// Whether a folio descriptor is a HugeTLB folio's. Kernel: `folio_test_hugetlb()`.
  func isHugetlbDescriptor(_ d: UnsafeMutableRawPointer) -> Bool {
    d.load(fromByteOffset: MemdescFolioLayout.mapcount, as: UInt32.self) == PageType.hugetlb.word
  }

  public func freeHugetlbFolio(_ folio: Folio, order: Int) {
    guard let desc = folioDescriptor(folio.pfn) else { return }
    machine.freeHugeBlock(folio.pfn, order: order)
    descriptorFree(desc)
  }

  /// A new writable frame for the head's vmemmap page and one read-only copy of a tail
  /// vmemmap page for the rest, both copies of what is there now; nil (nothing taken)
  /// when the machine has not both.
  ///
  /// Kernel: `vmemmap_remap_free()`'s new reuse page for the head, as in the 64-byte
  /// eras; the per-folio tail copy is the model's (see the type's comment).
  public func hvoFrames(_ folio: Folio, order: Int, ptes: Range<Int>) -> HVOFrames? {
    let node = machine.zones[machine.zoneIndex(of: folio.pfn)].node
    guard let head = allocPages(order: 0, node: node) else { return nil }
    guard let tail = allocPages(order: 0, node: node) else {
      freePages(head, order: 0)
      return nil
    }
    let table = machine.vmemmapTable
    machine.memory.frame(head).copyMemory(from: machine.memory.frame(table[ptes.lowerBound].frame), byteCount: Kernel.pageSize)
    machine.memory.frame(tail).copyMemory(from: machine.memory.frame(table[ptes.lowerBound + 1].frame), byteCount: Kernel.pageSize)
    return HVOFrames(head: head, tail: tail, newMemmapFrames: 2)
  }

  /// Every tail vmemmap page of the folio is the same: a copy of the read-only one.
  public func hvoRestoreFill(_ page: UnsafeMutableRawPointer, from source: UnsafeRawPointer) {
    page.copyMemory(from: source, byteCount: Kernel.pageSize)
  }

  /// `HPG_vmemmap_optimized` lives in the folio's `private`, as hugetlb's page flags do
  /// today (`folio->private`).
  public func markVmemmapOptimized(_ folio: Folio, _ on: Bool) {
    let d = folioPointer(folio)
    let v = d.load(fromByteOffset: MemdescFolioLayout.private, as: UInt64.self)
    let bit = HugetlbState.hpgVmemmapOptimized
    d.storeBytes(of: on ? v | bit : v & ~bit, toByteOffset: MemdescFolioLayout.private, as: UInt64.self)
  }
}
