/// Frame-level helpers that every era family uses.
extension Machine {
  /// A free block of 2^order pages, taken off the free lists and not yet prepared: from
  /// the allocator's usual path, from a free aligned contiguous range when the order is
  /// above MAX_PAGE_ORDER, or the free range that starts at `at` (explain reproduces a
  /// snapshot's page where the snapshot had it). nil when there is none.
  ///
  /// Kernel: `get_page_from_freelist()`, `alloc_contig_range()`.
  func takeBlock(order: Int, gfp: GFP = .kernel, node: Int = 0, at: PFN? = nil) -> PFN? {
    if let at, let i = pendingBootGigantic.firstIndex(where: { $0.pfn == at && $0.order == order }) {
      // A boot-time gigantic page, off the free lists already (claimBootGiganticPages()).
      pendingBootGigantic.remove(at: i)
      return at
    }
    if let at {
      let range = at..<(at + (1 << order))
      guard pfnValid(at), pfnValid(at + ((1 << order) - 1)) else { return nil }
      drainAllPages()
      return takeFreeRange(range, zone: zoneIndex(of: at)) ? at : nil
    }
    if order <= Kernel.maxPageOrder { return allocBlock(order: order, gfp: gfp, node: node)?.pfn }
    return allocContigRange(order: order)
  }

  /// Prepares a taken block as the allocator would for `gfp`. Kernel: `prep_new_page()`.
  func prepNewPage(_ pfn: PFN, order: Int, gfp: GFP) {
    let zone = zoneIndex(of: pfn)
    Format.prepNewPage(memmap, pfn, order: order, gfp: gfp, zone: zoneCounters[zone].type, node: zoneCounters[zone].node)
  }

  /// Frees a huge page's block: through the buddy allocator's usual path when its order
  /// fits, else (a gigantic page) unprepared and freed in MAX_PAGE_ORDER blocks.
  /// Kernel: `__free_pages()` or `free_contig_range()`.
  func freeHugeBlock(_ pfn: PFN, order: Int) {
    if order <= Kernel.maxPageOrder { return freeFrozenPages(pfn, order: order) }
    Format.freePagesPrepare(memmap, page(pfn), order: order)
    let zone = zoneIndex(of: pfn)
    for block in PFN.alignedBlocks(pfn..<(pfn + (1 << order))) {
      freeOneBlock(block.pfn, order: block.order, zone: zone)
    }
  }

  /// `n` order-0 frames on the folio's node for its vmemmap, or nil (and none taken) when
  /// the machine cannot give them all. Kernel: `alloc_vmemmap_page_list()`.
  func allocVmemmapFrames(_ n: Int, for folio: Folio) -> [PFN]? {
    let node = zones[zoneIndex(of: folio.pfn)].node
    var frames: [PFN] = []
    frames.reserveCapacity(n)
    for _ in 0..<n {
      guard let f = allocPages(order: 0, node: node) else {
        for f in frames { freePages(f, order: 0) }
        return nil
      }
      frames.append(f)
    }
    return frames
  }

  /// The vmemmap page-table indexes of a folio's struct pages.
  func vmemmapPTERange(_ folio: Folio, order: Int) -> Range<Int> {
    let first = Int((page(folio.pfn) &- memmap.base) >> UInt64(Kernel.pageShift))
    return first..<(first + Hstate.vmemmapPages(order: order, structPageBytes: Format.structPageSize))
  }

  /// Finds a naturally aligned range of 2^order pages that are all buddy-free in one
  /// zone, from the top of memory down, and takes it.
  ///
  /// Kernel: `alloc_contig_pages()` -> `alloc_contig_range()` (which can also migrate
  /// pages out of the way; the model only takes ranges that are already free).
  func allocContigRange(order: Int) -> PFN? {
    let size = UInt64(1) << UInt64(order)
    for zone in zones.reversed() {
      var start = (zone.span.upperBound.rawValue - 1) & ~(size - 1)
      while start >= zone.span.lowerBound.rawValue && start + size <= zone.span.upperBound.rawValue {
        let range = PFN(start)..<PFN(start + size)
        if takeFreeRange(range, zone: zone.index) { return PFN(start) }
        if start < size { break }
        start -= size
      }
    }
    return nil
  }

  /// Returns a vmemmap frame to the buddy allocator: a boot frame (reserved, from
  /// memblock) or one the page allocator gave.
  ///
  /// Kernel: `free_vmemmap_page()`.
  func freeVmemmapPage(_ frame: PFN) {
    let p = page(frame)
    let reserved = Format.isReserved(memmap, p)
    if reserved || bootAdoptedFrames.remove(frame) != nil {
      // free_bootmem_page() / free_reserved_page(): ClearPageReserved, init_page_count.
      if reserved { Format.clearReserved(memmap, p) }
      counters.pointee.memmapBootPages -= 1
      zoneCounters[zoneIndex(ofPage: p)].managedPages += 1
    } else {
      counters.pointee.memmapPages -= 1
    }
    freePages(frame, order: 0)
  }

}
