/// Folios of the memdesc eras: a separately allocated descriptor, and every page of the
/// folio pointing at it with its memdesc word.
extension MemdescModel {
  /// The descriptor address of a folio page, or nil if the page is not in a folio.
  @inlinable
  func folioDescriptor(_ pfn: PFN) -> UInt64? {
    let word = memdescWord(pfn)
    let type = Format.type(of: word)
    guard type == .anon || type == .file else { return nil }
    return word & ~MemdescType.mask
  }

  @inlinable
  func folioPointer(_ folio: Folio) -> UnsafeMutableRawPointer {
    guard let d = folioDescriptor(folio.pfn) else { preconditionFailure("\(folio) is not a folio") }
    return descriptorPointer(d)
  }

  /// Allocates a folio: its descriptor from the folio cache first, then the pages, whose
  /// memdesc words all point at it (the allocation is undone if the pages are not there).
  ///
  /// Kernel (plan): `MatthewWilcox/FolioAlloc`: `alloc_page_desc(gfp, order,
  /// MEMDESC_TYPE_FOLIO(folio))`.
  @_specialize(where Format == Memdesc32Format)
  @_specialize(where Format == Memdesc8Format)
  public func allocFolio(order: Int, kind: FolioKind, gfp: GFP, node: Int) -> Folio? {
    guard let desc = descriptorAlloc(order == 0 ? .folio : .largeFolio) else { return nil }
    guard let pfn = machine.allocBlock(order: order, gfp: gfp, node: node)?.pfn else {
      descriptorFree(desc)
      return nil
    }
    initFolio(desc, pfn: pfn, order: order, kind: kind)
    return Folio(pfn: pfn)
  }

  /// A folio made of the free pages at `head`, or nil if any of them is not free.
  public func placeFolio(at head: PFN, order: Int, kind: FolioKind) -> Folio? {
    guard let desc = descriptorAlloc(order == 0 ? .folio : .largeFolio) else { return nil }
    guard let pfn = machine.takeBlock(order: order, at: head) else {
      descriptorFree(desc)
      return nil
    }
    initFolio(desc, pfn: pfn, order: order, kind: kind)
    return Folio(pfn: pfn)
  }

  /// Writes a new folio descriptor and points every page of the folio at it. A large
  /// folio from the page allocator is rmappable (`folio_prep_large_rmappable()`); a
  /// HugeTLB folio never is.
  /// Kernel (plan): the body of `FolioAlloc`'s `alloc_folio()`.
  func initFolio(_ desc: UInt64, pfn: PFN, order: Int, kind: FolioKind, hugetlb: Bool = false) {
    let d = descriptorPointer(desc)
    let zone = machine.zones[machine.zoneIndex(of: pfn)]
    d.storeBytes(of: PageFlagsLayout.links(zone: zone.type, node: zone.node), toByteOffset: MemdescFolioLayout.flags, as: UInt64.self)
    d.storeBytes(of: desc &+ UInt64(MemdescFolioLayout.lru), toByteOffset: MemdescFolioLayout.lru, as: UInt64.self)
    d.storeBytes(of: desc &+ UInt64(MemdescFolioLayout.lru), toByteOffset: MemdescFolioLayout.lru + 8, as: UInt64.self)
    d.storeBytes(of: kind == .anon ? StandIn.anonMapping : StandIn.fileMapping, toByteOffset: MemdescFolioLayout.mapping, as: UInt64.self)
    d.storeBytes(of: UInt32(1), toByteOffset: MemdescFolioLayout.refcount, as: UInt32.self)
    d.storeBytes(of: UInt32.max, toByteOffset: MemdescFolioLayout.mapcount, as: UInt32.self)
    d.storeBytes(of: UInt8(order), toByteOffset: MemdescFolioLayout.order, as: UInt8.self)
    d.storeBytes(of: pfn.rawValue, toByteOffset: MemdescFolioLayout.pfn, as: UInt64.self)
    if order > 0 {
      d.storeBytes(of: UInt32.max, toByteOffset: MemdescFolioLayout.largeMapcount, as: UInt32.self)
      d.storeBytes(of: UInt32.max, toByteOffset: MemdescFolioLayout.entireMapcount, as: UInt32.self)
      // Kernel: prep_compound_head() with CONFIG_MM_ID: no mm, both slots' counts -1.
      d.storeBytes(of: UInt32(0), toByteOffset: MemdescFolioLayout.nrPagesMapped, as: UInt32.self)
      d.storeBytes(of: UInt64.max, toByteOffset: MemdescFolioLayout.mmIdMapcount, as: UInt64.self)
      d.storeBytes(of: UInt64(0), toByteOffset: MemdescFolioLayout.mmIds, as: UInt64.self)
      let list = desc &+ UInt64(MemdescFolioLayout.deferredList)
      d.storeBytes(of: list, toByteOffset: MemdescFolioLayout.deferredList, as: UInt64.self)
      d.storeBytes(of: list, toByteOffset: MemdescFolioLayout.deferredList + 8, as: UInt64.self)
      if !hugetlb {
        let flags = d.load(fromByteOffset: MemdescFolioLayout.flags, as: UInt64.self)
        d.storeBytes(of: flags | MemFlag.largeRmappable.folioBit, toByteOffset: MemdescFolioLayout.flags, as: UInt64.self)
      }
    }
    let word = desc | Format.tag(kind == .anon ? .anon : .file)
    for i in 0..<(1 << order) {
      let p = memmap.address(of: pfn + i)
      memmap.set(p, Format.memdescOffset, word)
      if Format.hasPageFlags {
        // Layout C: the page's `_mapcount` shares the word after memdesc; its refcount is 0.
        memmap.set(p, Memdesc32Format.private, UInt64(UInt32.max))
        memmap.set(p, Memdesc32Format.refcount, UInt32(0))
      }
    }
  }

  /// The folio a page belongs to, or nil for a page in no folio (free, slab, page table,
  /// Misc). Kernel (plan): `page_folio()` returning NULL.
  @inlinable
  public func pageFolio(_ pfn: PFN) -> Folio? {
    guard let d = folioDescriptor(pfn) else { return nil }
    return Folio(pfn: PFN(descriptorPointer(d).load(fromByteOffset: MemdescFolioLayout.pfn, as: UInt64.self)))
  }
  /// The folio that owns a page: `pageFolio`, which is nil for a page in no folio.
  // Pre-specialised for the `any MemoryModel` witness, which reaches the generic body.
  @inlinable
  @_specialize(where Format == Memdesc32Format)
  @_specialize(where Format == Memdesc8Format)
  public func folio(containing pfn: PFN) -> Folio? { pageFolio(pfn) }


  /// The head of a bare page (itself); a BUG for a page that belongs to a memdesc.
  /// Kernel (plan): `compound_head()`.
  public func compoundHead(_ pfn: PFN) throws(MemdescBug) -> PFN {
    let type = Format.type(of: memdescWord(pfn))
    switch type {
    case .misc, .buddy: return pfn
    default: throw .compoundHeadOnOwnedPage(pfn, type)
    }
  }

  /// Kernel: `folio_order()`.
  public func folioOrder(_ folio: Folio) -> Int {
    Int(folioPointer(folio).load(fromByteOffset: MemdescFolioLayout.order, as: UInt8.self))
  }
  /// Kernel: `folio_nr_pages()`.
  public func folioNrPages(_ folio: Folio) -> Int { 1 << folioOrder(folio) }
  /// Kernel: `folio_ref_count()`.
  public func folioRefCount(_ folio: Folio) -> Int {
    Int(folioPointer(folio).load(fromByteOffset: MemdescFolioLayout.refcount, as: UInt32.self))
  }
  /// Anonymous or page cache, from the memdesc type.
  public func folioKind(_ folio: Folio) -> FolioKind {
    Format.type(of: memdescWord(folio.pfn)) == .anon ? .anon : .file
  }

  /// Kernel: `folio_get()`.
  public func folioGet(_ folio: Folio) {
    let d = folioPointer(folio)
    let ref = d.load(fromByteOffset: MemdescFolioLayout.refcount, as: UInt32.self)
    vmBugOn(ref == 0, "folio_get on a folio with refcount 0")
    d.storeBytes(of: ref + 1, toByteOffset: MemdescFolioLayout.refcount, as: UInt32.self)
  }

  /// Kernel: `folio_put()`: the last reference frees the pages and the descriptor.
  @_specialize(where Format == Memdesc32Format)
  @_specialize(where Format == Memdesc8Format)
  public func folioPut(_ folio: Folio) {
    guard let desc = folioDescriptor(folio.pfn) else { preconditionFailure("\(folio) is not a folio") }
    let d = descriptorPointer(desc)
    let ref = d.load(fromByteOffset: MemdescFolioLayout.refcount, as: UInt32.self)
    vmBugOn(ref == 0, "folio_put on a folio with refcount 0")
    d.storeBytes(of: ref - 1, toByteOffset: MemdescFolioLayout.refcount, as: UInt32.self)
    guard ref == 1 else { return }
    let order = folioOrder(folio)
    dropHWPoison(folio.pfn, order: order)
    machine.freeFrozenPages(folio.pfn, order: order)
    descriptorFree(desc)
  }

  /// Kernel (plan): `put_page()` on a folio page drops the folio's reference.
  public func putPage(_ pfn: PFN) throws(MemdescBug) {
    guard let folio = pageFolio(pfn) else { throw .notAFolio(pfn) }
    folioPut(folio)
  }

  /// Kernel: `folio_test_*()`.
  public func folioTest(_ folio: Folio, _ flag: MemFlag) -> Bool {
    folioPointer(folio).load(fromByteOffset: MemdescFolioLayout.flags, as: UInt64.self) & flag.folioBit != 0
  }

  /// Kernel: `folio_set_*()` / `folio_clear_*()`.
  public func folioSet(_ folio: Folio, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    guard flag.home == .folio else { throw flag.home == .gone ? .goneFlag(flag) : .folioFlagOnPage(flag, folio.pfn) }
    if flag.onFirstTail && folioOrder(folio) == 0 { throw .notLarge(flag, folio.pfn) }
    let d = folioPointer(folio)
    let flags = d.load(fromByteOffset: MemdescFolioLayout.flags, as: UInt64.self)
    d.storeBytes(of: on ? flags | flag.folioBit : flags & ~flag.folioBit, toByteOffset: MemdescFolioLayout.flags, as: UInt64.self)
  }

  /// Sets or clears a flag on one page: only the per-page flags. memdesc32 keeps them in
  /// the page's flags word; memdesc8 has none, and retypes a poisoned page to HWPoison
  /// (below), while AnonExclusive, whose place at 8 bytes the plan leaves open, is
  /// refused. A HugeTLB page's go where the kernel puts them (`HugetlbHWPoison`).
  /// Kernel: `SetPageHWPoison()` and friends.
  public func setPageFlag(_ pfn: PFN, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    switch flag.home {
    case .gone: throw .goneFlag(flag)
    case .folio: throw .folioFlagOnPage(flag, pfn)
    case .page:
      if let f = hugetlbFolio(containing: pfn) { return try setHugetlbPageFlag(f, pfn, flag, on) }
      if Format.hasPageFlags { return try setHeadPageFlag(Folio(pfn: pfn), flag, on) }
      guard flag == .hwPoison else { throw .noPageFlags(flag, Format.era) }
      try on ? hwPoisonRetype(pfn) : hwPoisonRestore(pfn)
    }
  }

  /// Whether a per-page flag is set on a page.
  public func testPageFlag(_ pfn: PFN, _ flag: MemFlag) -> Bool {
    guard flag.home == .page else { return false }
    if let f = hugetlbFolio(containing: pfn) { return testHugetlbPageFlag(f, pfn, flag) }
    if Format.hasPageFlags { return testHeadPageFlag(Folio(pfn: pfn), flag) }
    return flag == .hwPoison && Format.type(of: memmap.load(page(pfn), Format.memdescOffset)) == .hwPoison
  }

  /// memdesc32: the flag in the struct page of `folio.pfn`. memdesc8: only a HugeTLB
  /// folio's HWPoison, as the head of its raw list in the descriptor.
  public func setHeadPageFlag(_ folio: Folio, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    if Format.hasPageFlags {
      let p = memmap.address(of: folio.pfn)
      let flags: UInt64 = memmap.load(p, 0)
      memmap.set(p, 0, on ? flags | flag.pageFlag.mask : flags & ~flag.pageFlag.mask)
      return
    }
    guard flag == .hwPoison, isHugetlbFolio(folio) else { throw .noPageFlags(flag, Format.era) }
    folioPointer(folio).storeBytes(of: on ? StandIn.rawHWPoisonList : 0, toByteOffset: MemdescFolioLayout.hugetlbHwpoison, as: UInt64.self)
  }

  /// Whether `folio.pfn`'s struct page has a per-page flag (memdesc8: a HugeTLB
  /// folio's HWPoison, from the descriptor).
  public func testHeadPageFlag(_ folio: Folio, _ flag: MemFlag) -> Bool {
    if Format.hasPageFlags { return memmap.load(memmap.address(of: folio.pfn), 0, as: UInt64.self) & flag.pageFlag.mask != 0 }
    return flag == .hwPoison && isHugetlbFolio(folio)
      && folioPointer(folio).load(fromByteOffset: MemdescFolioLayout.hugetlbHwpoison, as: UInt64.self) != 0
  }

  /// Kernel: `folio_test_hugetlb()`.
  public func isHugetlbFolio(_ folio: Folio) -> Bool { isHugetlbDescriptor(folioPointer(folio)) }
}
