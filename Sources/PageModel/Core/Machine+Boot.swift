extension Machine {
  /// Maps every present section's 512 vmemmap pages onto frames taken from the top of
  /// the section's node, and returns those frames as ranges.
  ///
  /// Kernel: `sparse_init()` -> `__populate_section_memmap()` -> `vmemmap_populate()`,
  /// with memblock allocating top-down. The kernel maps each section's 2 MiB of struct
  /// pages with one PMD where it can; the model maps the same frames page by page.
  func populateMemmap() throws(MachineError) -> [PFNRange] {
    var taken: [PFNRange] = []
    for (node, nodeSpan) in layout.nodes.enumerated() {
      let sections = layout.presentSections.filter { layout.node(ofSection: $0) == node }
      let ram = layout.ram.compactMap { r -> PFNRange? in
        let a = max(r.lowerBound, nodeSpan.lowerBound), b = min(r.upperBound, nodeSpan.upperBound)
        return a < b ? a..<b : nil
      }
      // A cursor that walks the node's RAM downwards from its top.
      var rangeIndex = ram.count - 1
      var cursor = ram.last?.upperBound ?? 0
      func takeFrame() -> PFN? {
        while rangeIndex >= 0 {
          if cursor > ram[rangeIndex].lowerBound { cursor = cursor + -1; return cursor }
          rangeIndex -= 1
          if rangeIndex >= 0 { cursor = ram[rangeIndex].upperBound }
        }
        return nil
      }
      for section in sections {
        var frames: [PFN] = []
        frames.reserveCapacity(Format.vmemmapPagesPerSection)
        for _ in 0..<Format.vmemmapPagesPerSection {
          guard let f = takeFrame() else {
            throw .memmapAllocationFailed(node: node, needed: sections.count * Format.vmemmapPagesPerSection)
          }
          frames.append(f)
        }
        frames.reverse()
        let firstPTE = section * Format.vmemmapPagesPerSection
        for (i, f) in frames.enumerated() {
          vmemmapTable.entries[firstPTE + i] = VmemmapPTE(frame: f, writable: true)
        }
        if let lo = frames.first, let hi = frames.last { taken.append(lo..<(hi + 1)) }
        counters.pointee.memmapBootPages += frames.count
      }
    }
    return PFNRange.merged(taken)
  }

  /// Writes every struct page of every present section and hands the free RAM to the
  /// buddy allocator.
  ///
  /// Kernel: `memmap_init()` (`__init_single_page()`: zone and node links, refcount 1,
  /// `_mapcount` -1, empty `lru`; `init_unavailable_range()` marks holes reserved), then
  /// `memblock_free_all()` (`__free_pages_core()`: refcount 0, `PG_reserved` cleared,
  /// `__free_one_page()`). The two passes are fused: pages bound for the buddy allocator
  /// are written directly with the state `__free_pages_core()` leaves.
  @_specialize(where Format == ClassicEncoding)
  @_specialize(where Format == MaskEncoding)
  @_specialize(where Format == Memdesc32Format)
  @_specialize(where Format == Memdesc8Format)
  func initStructPagesAndFreeRAM() {
    let reserved = memmapFrameRanges
    let free = PFNRange.subtract(layout.ram, reserved)
    var freeIndex = 0
    let perPage = Format.structPagesPerVmemmapPage
    for section in layout.presentSections {
      let first = UInt64(section) << UInt64(Kernel.pfnSectionShift)
      let node = layout.node(ofSection: section)
      for vpage in 0..<Format.vmemmapPagesPerSection {
        let pfn0 = first + UInt64(vpage * perPage)
        let va0 = memmap.address(of: PFN(pfn0))
        let host = memmap.readPointer(va0)
        for i in 0..<perPage {
          let pfn = PFN(pfn0 + UInt64(i))
          while freeIndex < free.count && free[freeIndex].upperBound <= pfn { freeIndex += 1 }
          let isFree = freeIndex < free.count && free[freeIndex].contains(pfn)
          let zone = ZoneType.of(pfn)
          Format.initPage(host + (i << Format.structPageShift), address: va0 &+ UInt64(i << Format.structPageShift),
                          zone: zone, node: node, reserved: !isFree)
        }
      }
    }
    for (i, z) in zones.enumerated() {
      let batch = Machine.pcpBatch(managedPages: layout.presentPages(in: z.span))
      zoneCounters[i].pcpBatch = max(batch, 1)
      zoneCounters[i].pcpHigh = batch == 0 ? 0 : 58 * batch
    }
    // memblock_free_all(): each free range in the largest aligned blocks that fit.
    for r in free {
      for block in PFN.alignedBlocks(r) {
        let zone = zoneIndex(ofPage: page(block.pfn))
        zoneCounters[zone].managedPages += 1 << block.order
        freeOneBlock(block.pfn, order: block.order, zone: zone)
      }
    }
  }

  /// Kernel: `zone_batchsize()`.
  static func pcpBatch(managedPages: Int) -> Int {
    var batch = min(managedPages >> 10, (1 << 20) / Kernel.pageSize)
    batch /= 4
    if batch < 1 { batch = 1 }
    let b = batch + batch / 2
    return (1 << (Int.bitWidth - 1 - b.leadingZeroBitCount)) - 1
  }
}

extension Range where Bound == PFN {
  /// Sorts and joins touching or overlapping ranges.
  static func merged(_ ranges: [PFNRange]) -> [PFNRange] {
    var out: [PFNRange] = []
    for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where !r.isEmpty {
      if let last = out.last, last.upperBound >= r.lowerBound {
        out[out.count - 1] = last.lowerBound..<Swift.max(last.upperBound, r.upperBound)
      } else {
        out.append(r)
      }
    }
    return out
  }

  /// `ranges` minus `holes`; both sorted and disjoint.
  static func subtract(_ ranges: [PFNRange], _ holes: [PFNRange]) -> [PFNRange] {
    var out: [PFNRange] = []
    for r in ranges {
      var start = r.lowerBound
      for h in holes where h.upperBound > start && h.lowerBound < r.upperBound {
        if h.lowerBound > start { out.append(start..<h.lowerBound) }
        start = Swift.max(start, h.upperBound)
      }
      if start < r.upperBound { out.append(start..<r.upperBound) }
    }
    return out
  }
}
