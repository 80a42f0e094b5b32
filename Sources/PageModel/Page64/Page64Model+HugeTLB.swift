/// HugeTLB in the 64-byte eras: a pool page is a compound page typed hugetlb, and HVO
/// frees the vmemmap pages that describe its tails, in the way of each era.
///
/// - classic (Linux <= 7.0): vmemmap pages 1..N-1 are remapped read-only onto the (new)
///   head frame, so the struct pages at the start of each of them read as copies of the
///   head: fake heads, which `compoundHead` corrects behind the static key.
/// - mask (Linux 7.1): they map one read-only frame of 64 identical tails per
///   (zone, order), so no struct page reads as a head except the head.
extension Page64Model: HugetlbFamily {
  /// A new hugetlb folio, frozen (refcount 0) and typed: a compound page from the
  /// buddy allocator for 2 MiB, from a free aligned contiguous range for 1 GiB, or from
  /// the free pages at `at`.
  ///
  /// Kernel: `alloc_fresh_hugetlb_folio()` -> `alloc_buddy_hugetlb_folio()` or
  /// `alloc_gigantic_folio()`, then `init_new_hugetlb_folio()`.
  public func allocFreshHugetlbFolio(order: Int, at: PFN?) -> Folio? {
    guard let pfn = machine.takeBlock(order: order, gfp: .comp, at: at) else { return nil }
    machine.prepNewPage(pfn, order: order, gfp: .comp)
    // folio_ref_freeze() and __folio_set_hugetlb().
    memmap.set(page(pfn), StructPageLayout.refcount, UInt32(0))
    memmap.set(page(pfn), StructPageLayout.mapcount, PageType.hugetlb.word)
    return Folio(pfn: pfn)
  }

  /// Kernel: `__update_and_free_hugetlb_folio()`: the page type goes, the block is freed.
  public func freeHugetlbFolio(_ folio: Folio, order: Int) {
    memmap.set(page(folio.pfn), StructPageLayout.mapcount, PageType.noType)
    machine.freeHugeBlock(folio.pfn, order: order)
  }

  /// `HPG_vmemmap_optimized` lives in the head's `private`; in the classic era the
  /// static key `hugetlb_optimize_vmemmap_key` counts the optimised folios.
  public func markVmemmapOptimized(_ folio: Folio, _ on: Bool) {
    let head = page(folio.pfn)
    let priv: UInt64 = memmap.load(head, StructPageLayout.private)
    let bit = HugetlbState.hpgVmemmapOptimized
    memmap.set(head, StructPageLayout.private, on ? priv | bit : priv & ~bit)
    if Format.hvoAliasesHead { counters.pointee.hugetlbOptimizeVmemmapKey += on ? 1 : -1 }
  }

  /// A new head frame, a copy of the old one; the classic era falls back to the old head
  /// frame when none can be had, the mask era needs it and a shared tail frame too.
  ///
  /// Kernel: `vmemmap_remap_free()`'s reuse page; `vmemmap_get_tail()` (v7).
  public func hvoFrames(_ folio: Folio, order: Int, ptes: Range<Int>) -> HVOFrames? {
    let zone = machine.zoneIndex(of: folio.pfn)
    var tail: PFN? = nil
    if !Format.hvoAliasesHead {
      guard let t = vmemmapGetTail(order: order, zone: zone) else { return nil }
      tail = t
    }
    let oldHead = machine.vmemmapTable[ptes.lowerBound].frame
    guard let newHead = allocPages(order: 0, node: machine.zones[zone].node) else {
      return Format.hvoAliasesHead ? HVOFrames(head: oldHead, tail: oldHead, newMemmapFrames: 0) : nil
    }
    machine.memory.frame(newHead).copyMemory(from: machine.memory.frame(oldHead), byteCount: Kernel.pageSize)
    return HVOFrames(head: newHead, tail: tail ?? newHead, newMemmapFrames: 1)
  }

  /// The classic era copies the head vmemmap page and then struct pages 4-7 over 0-3
  /// (`reset_struct_pages()`); the mask era fills the page with copies of struct page 63,
  /// a plain tail (v7 10/18).
  public func hvoRestoreFill(_ page: UnsafeMutableRawPointer, from source: UnsafeRawPointer) {
    let size = Kernel.structPageSize
    if Format.hvoAliasesHead {
      page.copyMemory(from: source, byteCount: Kernel.pageSize)
      page.copyMemory(from: page + 4 * size, byteCount: 4 * size)
    } else {
      for slot in 0..<Kernel.structPagesPerVmemmapPage {
        (page + slot * size).copyMemory(from: source + 63 * size, byteCount: size)
      }
    }
  }

  /// The shared read-only tail frame of an order in a zone, allocated and filled with 64
  /// identical tails on first use; nil if that allocation fails.
  ///
  /// Kernel: `vmemmap_get_tail()` with `init_compound_tail()` (v7): node and zone bits,
  /// `_mapcount` -1, `compound_info` = mask | 1, `mapping` = TAIL_MAPPING.
  func vmemmapGetTail(order: Int, zone: Int) -> PFN? {
    let key = HugetlbState.Key(zone: zone, order: order)
    if let t = hugetlb.vmemmapTails[key] { return t }
    guard let t = allocPages(order: 0, node: machine.zones[zone].node) else { return nil }
    let p = machine.memory.frame(t)
    let info = Format.tailInfo(headAddress: 0, order: order)
    let flags = PageFlagsLayout.links(zone: machine.zones[zone].type, node: machine.zones[zone].node)
    for slot in 0..<Kernel.structPagesPerVmemmapPage {
      let s = p + slot * Kernel.structPageSize
      s.initializeMemory(as: UInt8.self, repeating: 0, count: Kernel.structPageSize)
      s.storeBytes(of: flags, toByteOffset: StructPageLayout.flags, as: UInt64.self)
      s.storeBytes(of: info, toByteOffset: StructPageLayout.compoundInfo, as: UInt64.self)
      s.storeBytes(of: Kernel.tailMapping, toByteOffset: StructPageLayout.mapping, as: UInt64.self)
      s.storeBytes(of: PageType.noType, toByteOffset: StructPageLayout.mapcount, as: UInt32.self)
    }
    hugetlb.vmemmapTails[key] = t
    return t
  }

}

extension Page64Model {
  /// PFNs of pool huge pages whose kpageflags word has COMPOUND_HEAD: one per folio,
  /// or one per vmemmap page of an optimised folio in the classic era.
  public func hugetlbKPageFlagsHeads() -> Int? {
    var heads = 0
    for h in hugetlb.hstates {
      for f in h.folios {
        for pfn in f.pfn..<(f.pfn + h.pagesPerHugePage) where kpageflags(pfn) & KPF.compoundHead.mask != 0 { heads += 1 }
      }
    }
    return heads
  }

  /// Struct pages that read PG_head through the vmemmap without being heads (the
  /// classic era's fake heads), found by scanning every struct page.
  public func countFakeHeads() -> Int {
    var count = 0
    for section in layout.presentSections {
      let first = UInt64(section) << UInt64(Kernel.pfnSectionShift)
      // Only the first struct page of a vmemmap page can alias a head.
      for pfn in stride(from: first, to: first + UInt64(Kernel.pagesPerSection), by: Kernel.structPagesPerVmemmapPage) {
        let p = page(PFN(pfn))
        let flags: UInt64 = memmap.load(p, StructPageLayout.flags)
        if flags & PageFlag.head.mask != 0 && compoundHead(PFN(pfn)) != PFN(pfn) { count += 1 }
      }
    }
    return count
  }
}
