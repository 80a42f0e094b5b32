/// A folio, named by the PFN of its head page.
///
/// Kernel: `struct folio *`, which in the 64-byte eras is the address of the head
/// `struct page`.
@frozen
public struct Folio: Hashable, Sendable, CustomStringConvertible {
  public let pfn: PFN
  @inlinable public init(pfn: PFN) { self.pfn = pfn }
  public var description: String { "folio@\(pfn)" }
}

/// Compound pages and folios in the 64-byte eras.
extension Page64Model {
  /// The head page of the compound page (or folio) that contains `pfn`; `pfn` itself for
  /// a head or a page that is not compound. In the classic era with HVO in use, the
  /// fake heads that the aliased vmemmap shows are corrected.
  ///
  /// O(1): one load of `compound_info` (two more for a possible fake head).
  ///
  /// Kernel: `compound_head()` / `_compound_head()` (include/linux/page-flags.h).
  @inlinable @inline(__always)
  public func compoundHead(_ pfn: PFN) -> PFN {
    vmBugOn(!pfnValid(pfn), "compound_head of PFN \(pfn) without a struct page")
    let page = memmap.address(of: pfn)
    let info: UInt64 = memmap.load(page, StructPageLayout.compoundInfo)
    var head = Format.head(ofPageAt: page, info: info)
    if Format.hvoAliasesHead && head == page && counters.pointee.hugetlbOptimizeVmemmapKey != 0 {
      head = fixFakeHead(page)
    }
    return memmap.pfn(ofPageAt: head)
  }

  /// The real head of a struct page that reads as a head only because its vmemmap page
  /// aliases the head's frame (HVO before Linux 7.1); `page` otherwise.
  ///
  /// Only a page at the start of a vmemmap page can be a fake head; its neighbour
  /// page[1] is then a real tail copy that points at the true head.
  ///
  /// Kernel: `page_fixed_fake_head()`.
  @inlinable
  func pageFixedFakeHead(_ page: UInt64) -> UInt64 {
    counters.pointee.hugetlbOptimizeVmemmapKey != 0 ? fixFakeHead(page) : page
  }

  /// `page_fixed_fake_head()` once the static key is known to be on.
  @inlinable
  func fixFakeHead(_ page: UInt64) -> UInt64 {
    guard page & UInt64(Kernel.pageSize - 1) == 0 else { return page }
    let flags: UInt64 = memmap.load(page, StructPageLayout.flags)
    guard flags & PageFlag.head.mask != 0 else { return page }
    let next: UInt64 = memmap.load(page &+ UInt64(Kernel.structPageSize), StructPageLayout.compoundInfo)
    return next & 1 != 0 ? next &- 1 : page
  }

  /// Kernel: `page_is_fake_head()`.
  @inlinable
  func pageIsFakeHead(_ page: UInt64) -> Bool {
    Format.hvoAliasesHead && pageFixedFakeHead(page) != page
  }

  /// Whether `pfn` is the head of a compound page. Kernel: `PageHead()`.
  @inlinable
  public func isHead(_ pfn: PFN) -> Bool {
    let page = memmap.address(of: pfn)
    let flags: UInt64 = memmap.load(page, StructPageLayout.flags)
    return flags & PageFlag.head.mask != 0 && !pageIsFakeHead(page)
  }

  /// Whether `pfn` is a tail page of a compound page. Kernel: `PageTail()`.
  @inlinable
  public func isTail(_ pfn: PFN) -> Bool {
    let page = memmap.address(of: pfn)
    let info: UInt64 = memmap.load(page, StructPageLayout.compoundInfo)
    return info & 1 != 0 || pageIsFakeHead(page)
  }

  /// The folio that `pfn` belongs to. In the 64-byte eras every page is in a folio of
  /// its own or of its compound head (the kernel makes no distinction here).
  ///
  /// Kernel: `page_folio()`.
  @inlinable @inline(__always)
  public func pageFolio(_ pfn: PFN) -> Folio { Folio(pfn: compoundHead(pfn)) }

  /// The folio's order: 0 for a single page, else the low byte of `_flags_1`.
  ///
  /// Kernel: `folio_order()` (`folio_large_order()` for a large folio).
  @inlinable
  public func folioOrder(_ folio: Folio) -> Int {
    let head = memmap.address(of: folio.pfn)
    let flags: UInt64 = memmap.load(head, StructPageLayout.flags)
    guard flags & PageFlag.head.mask != 0 else { return 0 }
    let flags1: UInt64 = memmap.load(head, StructPageLayout.folioFlags1)
    return Int(flags1 & 0xff)
  }

  /// Kernel: `folio_nr_pages()`.
  @inlinable public func folioNrPages(_ folio: Folio) -> Int { 1 << folioOrder(folio) }

  /// The PFN of page `n` of the folio. Kernel: `folio_page()`.
  @inlinable public func folioPage(_ folio: Folio, _ n: Int) -> PFN {
    vmBugOn(n < 0 || n >= folioNrPages(folio), "folio_page index \(n) out of range")
    return folio.pfn + n
  }

  /// Makes a compound page of the 2^order pages at `pfn`.
  /// Kernel: `prep_compound_page()`.
  @inlinable
  public func prepCompoundPage(_ pfn: PFN, order: Int) { Format.prepCompoundPage(memmap, pfn, order: order) }

  /// Takes a reference on a folio. Kernel: `folio_get()`.
  @inlinable
  public func folioGet(_ folio: Folio) {
    let head = memmap.address(of: folio.pfn)
    let ref: UInt32 = memmap.load(head, StructPageLayout.refcount)
    vmBugOn(ref == 0, "folio_get on a folio with refcount 0")
    memmap.set(head, StructPageLayout.refcount, ref &+ 1)
  }

  /// Drops a reference on a folio and frees it when it was the last.
  /// Kernel: `folio_put()`.
  // Pre-specialised for the `any MemoryModel` witness, which reaches the generic body
  // (before the redesign it went through a per-encoding static and was specialised).
  @inlinable
  @_specialize(where Format == ClassicEncoding)
  @_specialize(where Format == MaskEncoding)
  public func folioPut(_ folio: Folio) {
    let head = memmap.address(of: folio.pfn)
    if Format.putPageTestZero(memmap, head) { machine.freeFrozenPages(folio.pfn, order: folioOrder(folio)) }
  }

  /// The folio's reference count. Kernel: `folio_ref_count()`.
  @inlinable
  public func folioRefCount(_ folio: Folio) -> Int {
    Int(memmap.load(memmap.address(of: folio.pfn), StructPageLayout.refcount, as: UInt32.self))
  }
}

/// The one API (``MemoryModel``) in the 64-byte eras: folio kinds through `mapping`,
/// flags through the head's and first tail's flags words.
extension Page64Model {
  /// Allocates an anonymous or page-cache folio: `folio_alloc()`, then a mapping that says
  /// which (a stand-in `anon_vma` with `PAGE_MAPPING_ANON`, or an `address_space`).
  ///
  /// Kernel: `folio_alloc()` -> `page_rmappable_folio()`.
  @_specialize(where Format == ClassicEncoding)
  @_specialize(where Format == MaskEncoding)
  public func allocFolio(order: Int, kind: FolioKind, gfp: GFP, node: Int) -> Folio? {
    guard let pfn = allocPages(order: order, gfp: gfp.union(.comp), node: node) else { return nil }
    return finishFolio(pfn, order: order, kind: kind)
  }

  /// Allocates a folio of 2^order pages that is neither anonymous nor page cache yet: a
  /// compound page for order > 0, marked large rmappable.
  ///
  /// Kernel: `folio_alloc()` -> `page_rmappable_folio()`.
  @inlinable
  public func allocFolio(order: Int, gfp: GFP = .kernel, node: Int = 0) -> Folio? {
    guard let pfn = allocPages(order: order, gfp: gfp.union(.comp), node: node) else { return nil }
    if order > 0 { setLargeRmappable(pfn) }
    return Folio(pfn: pfn)
  }

  @inlinable
  func setLargeRmappable(_ pfn: PFN) {
    let page1 = memmap.address(of: pfn + 1)
    let flags1: UInt64 = memmap.load(page1, StructPageLayout.flags)
    memmap.set(page1, StructPageLayout.flags, flags1 | PageFlag.largeRmappable.mask)
  }

  /// A folio made of the free pages at `head`, or nil if any of them is not free.
  public func placeFolio(at head: PFN, order: Int, kind: FolioKind) -> Folio? {
    guard let pfn = machine.takeBlock(order: order, at: head) else { return nil }
    machine.prepNewPage(pfn, order: order, gfp: .comp)
    return finishFolio(pfn, order: order, kind: kind)
  }

  /// What `folio_alloc()` adds to a compound page: large rmappable on the first tail,
  /// and a mapping that says anonymous or page cache.
  @inlinable
  func finishFolio(_ pfn: PFN, order: Int, kind: FolioKind) -> Folio {
    if order > 0 { setLargeRmappable(pfn) }
    memmap.set(page(pfn), StructPageLayout.mapping, kind == .anon ? StandIn.anonMapping : StandIn.fileMapping)
    return Folio(pfn: pfn)
  }

  /// The folio that owns a page in the New York sense: a compound head or single page
  /// with a mapping (anonymous or file), or a HugeTLB folio; nil for free, bare, slab and
  /// table pages.
  // Pre-specialised for the `any MemoryModel` witness, as `folioPut` is.
  @inlinable
  @_specialize(where Format == ClassicEncoding)
  @_specialize(where Format == MaskEncoding)
  public func folio(containing pfn: PFN) -> Folio? {
    let head = compoundHead(pfn)
    let headPage = page(head)
    let mapping: UInt64 = memmap.load(headPage, StructPageLayout.mapping)
    if mapping != 0 && mapping != Kernel.tailMapping { return Folio(pfn: head) }
    let type: UInt32 = memmap.load(headPage, StructPageLayout.mapcount)
    return PageType.of(type) == .hugetlb ? Folio(pfn: head) : nil
  }

  /// Anonymous if `mapping` has `PAGE_MAPPING_ANON`. Kernel: `folio_test_anon()`.
  public func folioKind(_ folio: Folio) -> FolioKind {
    memmap.load(page(folio.pfn), StructPageLayout.mapping, as: UInt64.self) & StructPageLayout.mappingAnon != 0 ? .anon : .file
  }

  /// The struct page that holds a folio flag: the head, or the first tail for `PF_SECOND`.
  func flagPage(_ folio: Folio, _ flag: MemFlag) -> UInt64? {
    guard flag.onFirstTail else { return page(folio.pfn) }
    return folioOrder(folio) > 0 ? page(folio.pfn + 1) : nil
  }

  /// Kernel: `folio_test_*()`.
  public func folioTest(_ folio: Folio, _ flag: MemFlag) -> Bool {
    guard let p = flagPage(folio, flag) else { return false }
    return memmap.load(p, StructPageLayout.flags, as: UInt64.self) & flag.pageFlag.mask != 0
  }

  /// Kernel: `folio_set_*()` / `folio_clear_*()`.
  public func folioSet(_ folio: Folio, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    guard flag.home == .folio || flag == .private || flag == .private2 else {
      throw flag == .head ? .goneFlag(flag) : .folioFlagOnPage(flag, folio.pfn)
    }
    guard let p = flagPage(folio, flag) else { throw .notLarge(flag, folio.pfn) }
    let flags: UInt64 = memmap.load(p, StructPageLayout.flags)
    memmap.set(p, StructPageLayout.flags, on ? flags | flag.pageFlag.mask : flags & ~flag.pageFlag.mask)
  }

  /// Sets a flag through one page: per-page flags on the page itself (`PF_ANY`), folio
  /// flags on its folio (`PF_HEAD`, `PF_SECOND`), as the kernel's page-flag policies do.
  /// A HugeTLB page's per-page flags go where the kernel puts them (`HugetlbHWPoison`).
  public func setPageFlag(_ pfn: PFN, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    if flag == .head { throw .goneFlag(flag) }
    if flag.home == .folio { return try folioSet(Folio(pfn: compoundHead(pfn)), flag, on) }
    if let f = hugetlbFolio(containing: pfn) { return try setHugetlbPageFlag(f, pfn, flag, on) }
    try setHeadPageFlag(Folio(pfn: pfn), flag, on)
  }

  /// Writes a per-page flag into the struct page of `folio.pfn` (any page, here).
  public func setHeadPageFlag(_ folio: Folio, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    let p = page(folio.pfn)
    let flags: UInt64 = memmap.load(p, StructPageLayout.flags)
    memmap.set(p, StructPageLayout.flags, on ? flags | flag.pageFlag.mask : flags & ~flag.pageFlag.mask)
  }

  /// Whether a flag reads as set on the page itself. AnonExclusive shares its bit with
  /// Owner2 and means something only on anonymous pages. Kernel: `PageAnonExclusive()`.
  public func testPageFlag(_ pfn: PFN, _ flag: MemFlag) -> Bool {
    if let f = hugetlbFolio(containing: pfn) { return testHugetlbPageFlag(f, pfn, flag) }
    if flag == .anonExclusive, let f = folio(containing: pfn), folioKind(f) != .anon { return false }
    return testHeadPageFlag(Folio(pfn: pfn), flag)
  }

  /// Whether the struct page of `folio.pfn` has a per-page flag.
  public func testHeadPageFlag(_ folio: Folio, _ flag: MemFlag) -> Bool {
    memmap.load(page(folio.pfn), StructPageLayout.flags, as: UInt64.self) & flag.pageFlag.mask != 0
  }

  /// Kernel: `folio_test_hugetlb()`: the head's page type.
  public func isHugetlbFolio(_ folio: Folio) -> Bool {
    PageType.of(memmap.load(page(folio.pfn), StructPageLayout.mapcount)) == .hugetlb
  }
}
