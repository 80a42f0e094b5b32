/// The frames HVO maps a huge page's vmemmap onto.
public struct HVOFrames {
  /// The writable frame of the first vmemmap page (the head's struct pages), or nil when
  /// the first page is mapped read-only onto `tail` like the rest.
  public var head: PFN?
  /// The read-only frame every other vmemmap page of the huge page maps.
  public var tail: PFN
  /// Frames the family took from the allocator for these mappings that count as memmap
  /// (vmstat `nr_memmap_pages`); shared tail frames are counted apart.
  public var newMemmapFrames: Int

  public init(head: PFN?, tail: PFN, newMemmapFrames: Int) {
    self.head = head
    self.tail = tail
    self.newMemmapFrames = newMemmapFrames
  }
}

/// What an era family supplies to the one HugeTLB engine (both families conform; the
/// engine's methods below are their `MemoryModel` HugeTLB operations): how a pool page is made and
/// freed, where its `HPG_vmemmap_optimized` bit lives, and what HVO maps its vmemmap onto.
///
/// The engine itself (pool resizing, optimise, restore) is written once, below; the
/// vmemmap is rewritten only through ``VmemmapTable/remap(_:_:)``.
public protocol HugetlbFamily: MemoryModel {
  /// A new frozen (refcount 0) hugetlb folio, at `at` or where the allocator finds
  /// room, or nil when there is none. Kernel: `alloc_fresh_hugetlb_folio()`.
  func allocFreshHugetlbFolio(order: Int, at: PFN?) -> Folio?
  /// Returns a pool folio's pages (and descriptor) to the allocator; its vmemmap is
  /// already restored. Kernel: `__update_and_free_hugetlb_folio()`.
  func freeHugetlbFolio(_ folio: Folio, order: Int)
  /// Sets or clears `HPG_vmemmap_optimized` (and whatever the era keys on it).
  func markVmemmapOptimized(_ folio: Folio, _ on: Bool)
  /// Takes the frames for an optimisation (after the mark is set, so that a copy of the
  /// head's vmemmap page carries it); nil when the era cannot have them.
  func hvoFrames(_ folio: Folio, order: Int, ptes: Range<Int>) -> HVOFrames?
  /// Whether a folio is a HugeTLB folio. Kernel: `folio_test_hugetlb()`.
  func isHugetlbFolio(_ folio: Folio) -> Bool
  /// Sets or clears a per-page flag on the head page of a HugeTLB folio (the folio's
  /// HWPoison, AnonExclusive), where the era keeps it.
  func setHeadPageFlag(_ folio: Folio, _ flag: MemFlag, _ on: Bool) throws(MemdescBug)
  /// Whether the head page of a HugeTLB folio has a per-page flag.
  func testHeadPageFlag(_ folio: Folio, _ flag: MemFlag) -> Bool
  /// Fills a restored vmemmap page from the frame the tail vmemmap pages mapped (the
  /// head's in the classic era, the zone's shared one in the mask era, the folio's own
  /// read-only copy in the memdesc eras).
  func hvoRestoreFill(_ page: UnsafeMutableRawPointer, from source: UnsafeRawPointer)
}

extension HugetlbFamily {
  /// Grows or shrinks the pool of `order` towards `count`, optimising new pages while
  /// `vm.hugetlb_optimize_vmemmap` is on; a page whose vmemmap cannot be restored stays
  /// in the pool, as the kernel keeps it, and so does a page with HWPoison.
  ///
  /// Kernel: `set_max_huge_pages()`, `update_and_free_hugetlb_folio()`.
  @discardableResult
  public func setNrHugePages(order: Int, count: Int) -> Int {
    let pools = machine.hugetlb
    guard let h = pools.index(ofOrder: order) else { return 0 }
    while pools.hstates[h].nrHugePages < count {
      guard let folio = allocFreshHugetlbFolio(order: order, at: nil) else { break }
      if pools.optimizeVmemmap { hugetlbVmemmapOptimizeFolio(folio) }
      pools.hstates[h].folios.append(folio)
    }
    var kept: [Folio] = []
    while pools.hstates[h].nrHugePages - kept.count > count, let folio = pools.hstates[h].folios.popLast() {
      // A poisoned page stays too: the kernel dissolves it and keeps the raw pages out
      // of the allocator, which the model's allocator has no way to do.
      if pools.rawHWPoison[folio.pfn] != nil || pools.optimized.contains(folio.pfn) && !hugetlbVmemmapRestoreFolio(folio) {
        kept.append(folio)
        continue
      }
      freeHugetlbFolio(folio, order: order)
    }
    pools.hstates[h].folios.append(contentsOf: kept)
    return pools.hstates[h].nrHugePages
  }

  /// Turns the boot-time pools into pool pages once the allocator runs: the gigantic
  /// pages memblock reserved (optimised early or late, as the configuration says), then
  /// the 2 MiB pages, which the kernel takes from the buddy allocator at this point and
  /// optimises like runtime ones. Records vmstat's memmap counters as they stand once
  /// the boot memmap is populated: with the early optimisation in them, before the late
  /// one. The era families call it at the end of boot.
  ///
  /// Kernel: `gather_bootmem_prealloc()` (`hugetlb_folio_init_vmemmap()`,
  /// `prep_and_add_bootmem_folios()` -> `hugetlb_vmemmap_optimize_bootmem_folios()`),
  /// `hugetlb_hstate_alloc_pages()` for the others.
  public func gatherBootmemPrealloc() {
    let m = machine
    let mode = m.config.effectiveBootHVO
    // Every reserved page becomes a pool page before any is optimised: the frames
    // optimisation takes must not come out of a reservation not yet gathered.
    var gathered: [(folio: Folio, order: Int)] = []
    if !m.bootGiganticPages.isEmpty { m.claimBootGiganticPages() }
    for (pfn, order) in m.bootGiganticPages {
      guard let h = m.hugetlb.index(ofOrder: order), let folio = allocFreshHugetlbFolio(order: order, at: pfn) else { continue }
      m.hugetlb.hstates[h].folios.append(folio)
      gathered.append((folio, order))
    }
    for (folio, order) in gathered where mode != .off {
      let tablesBefore = m.vmemmapTable.pteTableFrames.count
      guard hugetlbVmemmapOptimizeFolio(folio), mode == .early else { continue }
      // The frames vmemmap_populate_hvo() would have had from memblock: the head's
      // vmemmap page (and the memdesc eras' read-only copy) and the PTE tables.
      let ptes = m.vmemmapPTERange(folio, order: order)
      let shared = Set(m.hugetlb.vmemmapTails.values)
      let own = Set(ptes.map { m.vmemmapTable[$0].frame }).subtracting(shared)
      m.adoptAsBootFrames(own.sorted(), memmap: true)
      m.adoptAsBootFrames(Array(m.vmemmapTable.pteTableFrames[tablesBefore...]), memmap: false)
    }
    if mode == .early {
      m.populatedMemmap = (m.counters.pointee.memmapBootPages, m.counters.pointee.memmapPages)
    }
    for pool in m.config.bootHugepages where pool.order <= Kernel.maxPageOrder {
      guard let h = m.hugetlb.index(ofOrder: pool.order) else { continue }
      while m.hugetlb.hstates[h].nrHugePages < pool.count {
        guard let folio = allocFreshHugetlbFolio(order: pool.order, at: nil) else { break }
        if mode != .off { hugetlbVmemmapOptimizeFolio(folio) }
        m.hugetlb.hstates[h].folios.append(folio)
      }
    }
    for pool in m.config.bootHugepages { m.hugetlb.bootRequested[pool.order] = pool.count }
  }

  /// Adds one page made of the free pages at `head` to the pool, optimised while the
  /// sysctl is on.
  public func placeHugetlbFolio(at head: PFN, order: Int) -> Folio? {
    guard let h = machine.hugetlb.index(ofOrder: order), let folio = allocFreshHugetlbFolio(order: order, at: head) else { return nil }
    if machine.hugetlb.optimizeVmemmap { hugetlbVmemmapOptimizeFolio(folio) }
    machine.hugetlb.hstates[h].folios.append(folio)
    return folio
  }

  /// Remaps a pool page's vmemmap onto the era's frames and frees the frames it no
  /// longer needs; false (nothing changed) when HVO would free nothing, it is
  /// optimised already, or the frames cannot be had.
  ///
  /// Kernel: `hugetlb_vmemmap_optimize_folio()` -> `vmemmap_remap_free()`.
  @discardableResult
  @_specialize(where Self == Page64Model<ClassicEncoding>)
  @_specialize(where Self == Page64Model<MaskEncoding>)
  @_specialize(where Self == MemdescModel<Memdesc32Format>)
  @_specialize(where Self == MemdescModel<Memdesc8Format>)
  public func hugetlbVmemmapOptimizeFolio(_ folio: Folio) -> Bool {
    let m = machine
    let order = folioOrder(folio)
    let ptes = m.vmemmapPTERange(folio, order: order)
    guard Hstate(order: order).optimizablePages(era) > 0, !m.hugetlb.optimized.contains(folio.pfn) else { return false }
    // Single vmemmap pages are remapped: a PMD over the range becomes a PTE table.
    guard m.splitVmemmapPMDs(ptes, node: m.zones[m.zoneIndex(of: folio.pfn)].node) else { return false }
    markVmemmapOptimized(folio, true)
    guard let frames = hvoFrames(folio, order: order, ptes: ptes) else {
      markVmemmapOptimized(folio, false)
      return false
    }
    var old: [PFN] = []
    old.reserveCapacity(ptes.count)
    m.vmemmapTable.remap(ptes) { i, pte in
      old.append(pte.frame)
      if i == ptes.lowerBound, let head = frames.head { return VmemmapPTE(frame: head, writable: true) }
      return VmemmapPTE(frame: frames.tail, writable: false)
    }
    m.counters.pointee.memmapPages += frames.newMemmapFrames
    for f in old where f != frames.head && f != frames.tail { m.freeVmemmapPage(f) }
    m.hugetlb.optimized.insert(folio.pfn)
    return true
  }

  /// Gives an optimised page its own writable vmemmap pages back, filled by the family,
  /// and frees a read-only frame that nothing maps any more; false (nothing changed) if
  /// the frames cannot be had.
  ///
  /// Kernel: `hugetlb_vmemmap_restore_folio()` -> `vmemmap_remap_alloc()`.
  @_specialize(where Self == Page64Model<ClassicEncoding>)
  @_specialize(where Self == Page64Model<MaskEncoding>)
  @_specialize(where Self == MemdescModel<Memdesc32Format>)
  @_specialize(where Self == MemdescModel<Memdesc8Format>)
  public func hugetlbVmemmapRestoreFolio(_ folio: Folio) -> Bool {
    guard machine.hugetlb.optimized.contains(folio.pfn) else { return false }
    let m = machine
    let ptes = m.vmemmapPTERange(folio, order: folioOrder(folio))
    let first = m.vmemmapTable[ptes.lowerBound]
    let restored = first.isWritable ? ptes.dropFirst() : ptes[...]
    guard let frames = m.allocVmemmapFrames(restored.count, for: folio) else { return false }
    // The frame the tail vmemmap pages map holds no per-page state of the head (the
    // classic era's is the head frame, whose fill corrects the head's struct pages).
    let oldTail = m.vmemmapTable[ptes.upperBound - 1].frame
    let source = UnsafeRawPointer(m.memory.frame(oldTail))
    var next = frames.makeIterator()
    m.vmemmapTable.remap(restored.startIndex..<restored.endIndex) { _, _ in
      let f = next.next()!
      hvoRestoreFill(m.memory.frame(f), from: source)
      return VmemmapPTE(frame: f, writable: true)
    }
    m.counters.pointee.memmapPages += frames.count
    if oldTail != first.frame || !first.isWritable, !m.hugetlb.vmemmapTails.values.contains(oldTail) {
      m.freeVmemmapPage(oldTail)
    }
    m.hugetlb.optimized.remove(folio.pfn)
    markVmemmapOptimized(folio, false)
    return true
  }
}
