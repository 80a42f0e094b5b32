extension Machine {
  /// Reserves the boot-time gigantic pages from memblock, before the memmap exists:
  /// naturally aligned, top-down within each node, nodes taken in turn; a page that
  /// finds no room on any node ends its pool there, as the kernel stops with a warning.
  /// Huge pages the buddy allocator can give (2 MiB) are not reserved here: the kernel
  /// allocates those later, from the buddy allocator (`hugetlb_hstate_alloc_pages()`).
  ///
  /// Kernel: `hugetlb_bootmem_alloc()` -> `alloc_bootmem_huge_page()` ->
  /// `memblock_alloc_try_nid_raw()`, `for_each_node_mask_to_alloc()`. A page that would
  /// span two zones is not taken (the kernel takes it and gives it back in
  /// `hugetlb_bootmem_page_zones_valid()`).
  func reserveBootGiganticPages() -> [(pfn: PFN, order: Int)] {
    var free: [[PFNRange]] = layout.nodes.map { span in
      layout.ram.compactMap { r in
        let a = max(r.lowerBound, span.lowerBound), b = min(r.upperBound, span.upperBound)
        return a < b ? a..<b : nil
      }
    }
    var out: [(pfn: PFN, order: Int)] = []
    for pool in config.bootHugepages where pool.order > Kernel.maxPageOrder {
      var nextNode = 0
      for _ in 0..<pool.count {
        var placed = false
        for attempt in 0..<free.count {
          let node = (nextNode + attempt) % free.count
          if let pfn = Self.takeAlignedTopDown(&free[node], order: pool.order) {
            out.append((pfn, pool.order))
            nextNode = node + 1
            placed = true
            break
          }
        }
        if !placed { break }
      }
    }
    return out
  }

  /// The highest naturally aligned block of 2^order pages inside `ranges` and one zone,
  /// cut out of them.
  static func takeAlignedTopDown(_ ranges: inout [PFNRange], order: Int) -> PFN? {
    let size = UInt64(1) << UInt64(order)
    for i in ranges.indices.reversed() {
      let r = ranges[i]
      guard r.upperBound.rawValue >= size else { continue }
      var start = (r.upperBound.rawValue - size) & ~(size - 1)
      while start >= r.lowerBound.rawValue {
        let block = PFN(start)..<PFN(start + size)
        if ZoneType.of(block.lowerBound) == ZoneType.of(block.upperBound + -1) {
          ranges.replaceSubrange(i...i, with: [r.lowerBound..<block.lowerBound, block.upperBound..<r.upperBound].filter { !$0.isEmpty })
          return block.lowerBound
        }
        if start < size { break }
        start -= size
      }
    }
    return nil
  }

  /// Maps every present section's vmemmap pages onto frames taken from the top of the
  /// section's node (below the boot-time gigantic pages, which memblock gave out
  /// first), and returns those frames as ranges.
  ///
  /// Each 2 MiB block of vmemmap whose sections are all present is one PMD mapping
  /// (`vmemmap_populate_hugepages()`); a block only partly present is mapped with base
  /// pages through a PTE table (`vmemmap_populate_basepages()`), whose frame is taken
  /// from memblock too. With the 64-byte struct page a section's memmap is exactly one
  /// PMD, so only the memdesc eras (2 or 8 sections a PMD) meet partial blocks. (x86's
  /// `vmemmap_populate_hugepages()` would map a whole PMD over a partial block and
  /// waste the rest; the model takes the base-page fallback that arm64 adopted.)
  ///
  /// Kernel: `sparse_init()` -> `__populate_section_memmap()` -> `vmemmap_populate()`,
  /// with memblock allocating top-down.
  func populateMemmap(excluding reserved: [PFNRange]) throws(MachineError) -> [PFNRange] {
    var taken: [PFNRange] = []
    let perSection = Format.vmemmapPagesPerSection
    let sectionsPerPMD = max(VmemmapTable.pagesPerPMD / perSection, 1)
    func pmdBlockPresent(_ block: Int) -> Bool {
      (block * sectionsPerPMD..<(block + 1) * sectionsPerPMD).allSatisfy { $0 < sectionCount && sectionNode[$0] != 0xff }
    }
    for (node, nodeSpan) in layout.nodes.enumerated() {
      let sections = layout.presentSections.filter { layout.node(ofSection: $0) == node }
      let nodeRAM = layout.ram.compactMap { r -> PFNRange? in
        let a = max(r.lowerBound, nodeSpan.lowerBound), b = min(r.upperBound, nodeSpan.upperBound)
        return a < b ? a..<b : nil
      }
      let ram = PFNRange.subtract(nodeRAM, reserved)
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
        frames.reserveCapacity(perSection)
        for _ in 0..<perSection {
          guard let f = takeFrame() else {
            throw .memmapAllocationFailed(node: node, needed: sections.count * perSection)
          }
          frames.append(f)
        }
        frames.reverse()
        let firstPTE = section * perSection
        for (i, f) in frames.enumerated() {
          vmemmapTable.entries[firstPTE + i] = VmemmapPTE(frame: f, writable: true)
        }
        if let lo = frames.first, let hi = frames.last { taken.append(lo..<(hi + 1)) }
        counters.pointee.memmapBootPages += frames.count
        let block = section / sectionsPerPMD
        if pmdBlockPresent(block) {
          vmemmapTable.pmdLeaf[block] = 1
        } else if section % sectionsPerPMD == 0 || !(block * sectionsPerPMD..<section).contains(where: { sectionNode[$0] != 0xff }) {
          // The first present section of a partial block brings its PTE table.
          guard let table = takeFrame() else { throw .memmapAllocationFailed(node: node, needed: sections.count * perSection) }
          vmemmapTable.pteTableFrames.append(table)
        }
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
    let free = bootFreeRanges()
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
    setPCPBatches()
    // memblock_free_all(): each free range in the largest aligned blocks that fit.
    for r in free {
      for block in PFN.alignedBlocks(r) {
        let zone = zoneIndex(ofPage: page(block.pfn))
        zoneCounters[zone].managedPages += 1 << block.order
        freeOneBlock(block.pfn, order: block.order, zone: zone)
      }
    }
  }

  /// RAM that boot hands to the buddy allocator: all but the memmap's frames and the
  /// vmemmap's PTE tables (memblock's reservations).
  func bootFreeRanges() -> [PFNRange] {
    let reserved = PFNRange.merged(memmapFrameRanges + vmemmapTable.pteTableFrames.map { $0..<($0 + 1) })
    return PFNRange.subtract(layout.ram, reserved)
  }

  /// Kernel: `zone_pcp_init()` with `zone_batchsize()`.
  func setPCPBatches() {
    for (i, z) in zones.enumerated() {
      let batch = Machine.pcpBatch(managedPages: layout.presentPages(in: z.span))
      zoneCounters[i].pcpBatch = max(batch, 1)
      zoneCounters[i].pcpHigh = batch == 0 ? 0 : 58 * batch
    }
  }

  /// The lazy form of ``initStructPagesAndFreeRAM()``: the same free blocks, list heads
  /// and counters, with no struct page written. The memmap's frames are registered
  /// with userfaultfd and built on first touch (``MemmapInit``). Returns `.eager` with
  /// the reason when it cannot, having changed nothing.
  ///
  /// Kernel: `memblock_free_all()`'s effect on `free_area` and `managed_pages`, as
  /// `__free_one_page()` leaves them with no buddy to merge (`list_add()` at the head).
  func startLazyMemmap() -> MemmapInit {
    guard config.lazyMemmap else { return .eager(reason: "lazy memmap off") }
    guard !memmapFrameRanges.isEmpty else { return .eager(reason: "no memmap") }
    let free = bootFreeRanges()
    var blocks: [LazyFreeBlock] = []
    var blockZones: [Int] = []
    for r in free {
      for block in PFN.alignedBlocks(r) {
        let zone = zoneIndex(of: block.pfn)
        let head = list(zone, ZoneLists.freeArea(block.order), for: page(block.pfn))
        blocks.append(LazyFreeBlock(pfn: block.pfn.rawValue, order: Int32(block.order), list: Int32(head - lists), older: -1, newer: -1))
        blockZones.append(zone)
      }
    }
    // A block whose buddy was freed before it would merge (`__free_one_page()`); the
    // largest aligned blocks of disjoint ranges never do, and the image relies on it.
    // The blocks come in PFN order, so the buddy freed before a block is below it.
    for (i, b) in blocks.enumerated() where b.order < Kernel.maxPageOrder {
      let buddy = b.pfn ^ (UInt64(1) << UInt64(b.order))
      guard buddy < b.pfn else { continue }
      var lo = 0, hi = i
      while lo < hi {
        let mid = (lo + hi) / 2
        if blocks[mid].pfn < buddy { lo = mid + 1 } else { hi = mid }
      }
      if lo < i, blocks[lo].pfn == buddy, blocks[lo].order == b.order, blockZones[lo] == blockZones[i] {
        return .eager(reason: "a boot free block merges with its buddy")
      }
    }
    let listCount = max(zones.count, 1) * ZoneLists.perZone * arenaCount
    var newest = [Int32](repeating: -1, count: listCount)
    for i in blocks.indices {
      let l = Int(blocks[i].list)
      blocks[i].older = newest[l]
      if newest[l] >= 0 { blocks[Int(newest[l])].newer = Int32(i) }
      newest[l] = Int32(i)
    }
    let image = LazyMemmapImage<Format>(
      vmemmapBase: memmap.base, table: vmemmapTable, ranges: memmapFrameRanges, free: free,
      sectionNode: Array(UnsafeBufferPointer(start: sectionNode, count: max(sectionCount, 1))),
      blocks: blocks, sentinels: (0..<listCount).map { lists[$0].address })
    do {
      memory.lazyMemmap = try LazyMemmapHandler(memory: memory, ranges: memmapFrameRanges, filler: image)
    } catch {
      return .eager(reason: error.reason)
    }
    setPCPBatches()
    for (i, b) in blocks.enumerated() {
      let head = lists + Int(b.list)
      if head.pointee.count == 0 { head.pointee.prev = page(PFN(b.pfn)) }
      head.pointee.next = page(PFN(b.pfn))
      head.pointee.count += 1
      zoneCounters[blockZones[i]].managedPages += 1 << Int(b.order)
      zoneCounters[blockZones[i]].freePages += 1 << Int(b.order)
    }
    return .lazy
  }

  /// Takes every boot-time gigantic page off the free lists at once, before the pool
  /// takes them one by one (``takeBlock(order:gfp:node:at:)``), so that nothing the
  /// pool allocates on the way lands in one. The model hands them to the buddy
  /// allocator with the rest of RAM at boot; the kernel keeps them in memblock and adds
  /// them to the managed pages when it gathers them (`adjust_managed_page_count()`),
  /// which ends in the same counts.
  func claimBootGiganticPages() {
    drainAllPages()
    pendingBootGigantic = pendingBootGigantic.filter { b in
      takeFreeRange(b.pfn..<(b.pfn + (1 << b.order)), zone: zoneIndex(of: b.pfn))
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
