/// Mapping folios into page tables: the counts rmap keeps, in each era.
///
/// A folio can be mapped page by page (PTEs) or whole (one PMD for a 2 MiB folio).
/// `folio_mapcount()` counts both; a page's own mapcount counts its PTE mappings plus the
/// whole-folio ones. The 8-byte era keeps no per-page count. A large folio's words in
/// page[1] (`_large_mapcount`, `_nr_pages_mapped` with ENTIRELY_MAPPED, `_entire_mapcount`,
/// the MM_ID slots) are written by ``LargeFolioRmap``, as for the memdesc descriptor.
extension Page64Model {
  /// Maps pages `range` of the folio with PTEs in `mm`. Kernel: `folio_add_anon_rmap_ptes()`
  /// / `folio_add_file_rmap_ptes()` and their removals (with CONFIG_PAGE_MAPCOUNT).
  public func mapPages(_ folio: Folio, _ range: Range<Int>, _ delta: Int, mm: MMID) {
    let head = page(folio.pfn)
    let large = folioOrder(folio) > 0
    var newlyMapped = 0
    for i in range {
      let p = page(folio.pfn + i)
      let before = Int32(bitPattern: memmap.load(p, StructPageLayout.mapcount))
      let after = before + Int32(delta)
      memmap.set(p, StructPageLayout.mapcount, UInt32(bitPattern: after))
      if before < 0 && after >= 0 { newlyMapped += 1 }
      if before >= 0 && after < 0 { newlyMapped -= 1 }
    }
    if large { rmap(head).mapPages(pages: range.count, delta: delta, firstOrLast: newlyMapped, mm: mm) }
  }

  /// Maps or unmaps the whole folio with one entry (PMD) in `mm`.
  /// Kernel: `folio_add_anon_rmap_pmd()` / `folio_add_file_rmap_pmd()`, `folio_remove_rmap_pmd()`.
  public func mapEntire(_ folio: Folio, _ delta: Int, mm: MMID) {
    rmap(page(folio.pfn)).mapEntire(delta, mm: mm)
  }

  /// page[1]'s mapcount words of the large folio headed at `head`. An order >= 1 head
  /// is an even PFN, so page[1] is in the same vmemmap frame.
  func rmap(_ head: UInt64) -> LargeFolioRmap {
    let base: UnsafeMutableRawPointer
    do { base = try memmap.writePointer(head) } catch { preconditionFailure("kernel oops: \(error)") }
    return LargeFolioRmap(base: base, largeMapcount: StructPageLayout.folioLargeMapcount, nrPagesMapped: StructPageLayout.folioNrPagesMapped,
                          entireMapcount: StructPageLayout.folioEntireMapcount, mmIdMapcount: StructPageLayout.folioMMIdMapcount,
                          mmIds: StructPageLayout.folioMMIds)
  }

  /// Kernel: `folio_mapcount()`.
  public func folioMapcount(_ folio: Folio) -> Int {
    let head = page(folio.pfn)
    let field = folioOrder(folio) > 0 ? StructPageLayout.folioLargeMapcount : StructPageLayout.mapcount
    return Int(Int32(bitPattern: memmap.load(head, field))) + 1
  }

  /// Kernel: `folio_precise_page_mapcount()`: the page's PTE mappings plus the folio's
  /// whole-folio mappings.
  public func pageMapcount(_ pfn: PFN) -> Int? {
    guard let folio = folio(containing: pfn) else { return nil }
    let own = Int(Int32(bitPattern: memmap.load(page(pfn), StructPageLayout.mapcount))) + 1
    guard folioOrder(folio) > 0 else { return own }
    return own + Int(Int32(bitPattern: memmap.load(page(folio.pfn), StructPageLayout.folioEntireMapcount))) + 1
  }
}
