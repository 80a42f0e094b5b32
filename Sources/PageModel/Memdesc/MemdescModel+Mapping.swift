extension MemdescModel {
  /// Maps pages of the folio with PTEs: per-page counts where the struct page has them
  /// (memdesc32), folio counts in the descriptor.
  public func mapPages(_ folio: Folio, _ range: Range<Int>, _ delta: Int) {
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
      add(d, MemdescFolioLayout.largeMapcount, delta * range.count)
      add(d, MemdescFolioLayout.nrPagesMapped, newlyMapped)
    } else {
      add(d, MemdescFolioLayout.mapcount, delta * range.count)
    }
  }

  /// Maps or unmaps the whole folio with one entry.
  public func mapEntire(_ folio: Folio, _ delta: Int) {
    let d = folioPointer(folio)
    add(d, MemdescFolioLayout.entireMapcount, delta)
    add(d, MemdescFolioLayout.largeMapcount, delta)
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
