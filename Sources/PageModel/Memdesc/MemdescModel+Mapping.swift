extension MemdescModel {
  /// Maps pages of the folio with PTEs in `mm`: per-page counts where the struct page has
  /// them (memdesc32), folio counts in the descriptor, written by ``LargeFolioRmap`` as
  /// in page[1] of today's folios.
  public func mapPages(_ folio: Folio, _ range: Range<Int>, _ delta: Int, mm: MMID) {
    let d = folioPointer(folio)
    var newlyMapped = 0
    if Format.hasPageFlags {
      for i in range {
        let p = page(folio.pfn + i)
        let before = Int32(bitPattern: memmap.load(p, Memdesc32Format.private, as: UInt32.self))
        let after = before + Int32(delta)
        memmap.set(p, Memdesc32Format.private, UInt32(bitPattern: after))
        if before < 0 && after >= 0 { newlyMapped += 1 }
        if before >= 0 && after < 0 { newlyMapped -= 1 }
      }
    }
    if folioOrder(folio) > 0 {
      rmap(d).mapPages(pages: range.count, delta: delta, firstOrLast: newlyMapped, mm: mm)
    } else {
      add(d, MemdescFolioLayout.mapcount, delta * range.count)
    }
  }

  /// Maps or unmaps the whole folio with one entry in `mm`.
  /// Kernel: `folio_add_anon_rmap_pmd()` / `folio_remove_rmap_pmd()`.
  public func mapEntire(_ folio: Folio, _ delta: Int, mm: MMID) {
    rmap(folioPointer(folio)).mapEntire(delta, mm: mm)
  }

  func rmap(_ d: UnsafeMutableRawPointer) -> LargeFolioRmap {
    LargeFolioRmap(base: d, largeMapcount: MemdescFolioLayout.largeMapcount, nrPagesMapped: MemdescFolioLayout.nrPagesMapped,
                   entireMapcount: MemdescFolioLayout.entireMapcount, mmIdMapcount: MemdescFolioLayout.mmIdMapcount,
                   mmIds: MemdescFolioLayout.mmIds, tracksPagesMapped: Format.hasPageFlags)
  }

  /// Kernel: `folio_mapcount()`.
  public func folioMapcount(_ folio: Folio) -> Int {
    let field = folioOrder(folio) > 0 ? MemdescFolioLayout.largeMapcount : MemdescFolioLayout.mapcount
    return Int(Int32(bitPattern: folioPointer(folio).load(fromByteOffset: field, as: UInt32.self))) + 1
  }

  /// The page's mappings, where the era keeps them (memdesc32); nil in memdesc8.
  public func pageMapcount(_ pfn: PFN) -> Int? {
    guard Format.hasPageFlags, let folio = pageFolio(pfn) else { return nil }
    let own = Int(Int32(bitPattern: memmap.load(page(pfn), Memdesc32Format.private, as: UInt32.self))) + 1
    guard folioOrder(folio) > 0 else { return own }
    return own + Int(Int32(bitPattern: folioPointer(folio).load(fromByteOffset: MemdescFolioLayout.entireMapcount, as: UInt32.self))) + 1
  }

  func add(_ d: UnsafeMutableRawPointer, _ offset: Int, _ delta: Int) {
    let v = Int32(bitPattern: d.load(fromByteOffset: offset, as: UInt32.self))
    d.storeBytes(of: UInt32(bitPattern: v + Int32(delta)), toByteOffset: offset, as: UInt32.self)
  }
}
