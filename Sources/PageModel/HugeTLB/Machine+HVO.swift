#if canImport(Glibc)
  import Glibc
#endif

/// HugeTLB vmemmap optimisation (HVO): freeing the vmemmap pages that describe the tails
/// of a huge page, in the way of each era.
///
/// - classic (Linux <= 7.0): vmemmap pages 1..N-1 are remapped read-only onto the (new)
///   head frame, so the struct pages at the start of each of them read as copies of the
///   head: fake heads, which `compoundHead` corrects behind the static key.
/// - mask (Linux 7.1): they map one read-only frame of 64 identical tails per
///   (zone, order), so no struct page reads as a head except the head.
extension Machine where Format: CompoundEncoding {

  /// Optimises a hugetlb folio's vmemmap; false if it is not optimisable or a frame
  /// allocation the era requires fails (the folio then stays as it was).
  ///
  /// Kernel: `hugetlb_vmemmap_optimize_folio()` -> `__hugetlb_vmemmap_optimize_folio()`
  /// -> `vmemmap_remap_free()`.
  @discardableResult
  @_specialize(where Format == ClassicEncoding)
  @_specialize(where Format == MaskEncoding)
  public func hugetlbVmemmapOptimizeFolio(_ folio: Folio) -> Bool {
    let order = folioOrder(folio)
    let ptes = vmemmapPTERange(folio, order: order)
    guard ptes.count >= 2, !hugetlb.optimized.contains(folio.pfn) else { return false }
    let zoneIndex = zoneIndex(of: folio.pfn)
    let node = zones[zoneIndex].node
    var tailFrame: PFN? = nil
    if !Format.hvoAliasesHead {
      guard let t = vmemmapGetTail(order: order, zone: zoneIndex) else { return false }
      tailFrame = t
    }
    let newHead = allocPages(order: 0, node: node)
    if newHead == nil && !Format.hvoAliasesHead { return false }  // mandatory since the series
    // Set the flag before the copy, so that the new head frame carries it ("Very Subtle").
    let headPage = page(folio.pfn)
    let priv: UInt64 = memmap.load(headPage, StructPageLayout.private)
    memmap.set(headPage, StructPageLayout.private, priv | HugetlbState.hpgVmemmapOptimized)
    let oldFrames = ptes.map { vmemmapTable.entries[$0].frame }
    let headFrame = newHead ?? oldFrames[0]
    if let newHead {
      memory.frame(newHead).copyMemory(from: memory.frame(oldFrames[0]), byteCount: Kernel.pageSize)
      counters.pointee.memmapPages += 1
    }
    vmemmapTable.entries[ptes.lowerBound] = VmemmapPTE(frame: headFrame, writable: true)
    for i in ptes.dropFirst() {
      vmemmapTable.entries[i] = VmemmapPTE(frame: tailFrame ?? headFrame, writable: false)
    }
    for f in oldFrames where f != headFrame { freeVmemmapPage(f) }
    hugetlb.optimized.insert(folio.pfn)
    if Format.hvoAliasesHead { counters.pointee.hugetlbOptimizeVmemmapKey += 1 }
    return true
  }

  /// Gives an optimised folio its own vmemmap pages back; false (nothing changed) if the
  /// frames cannot be allocated.
  ///
  /// Kernel: `hugetlb_vmemmap_restore_folio()` -> `vmemmap_remap_alloc()`. The classic
  /// era copies the head vmemmap page and then struct pages 4-7 over 0-3
  /// (`reset_struct_pages()`); the mask era fills each page with copies of struct page
  /// 63, a plain tail (v7 10/18).
  @discardableResult
  @_specialize(where Format == ClassicEncoding)
  @_specialize(where Format == MaskEncoding)
  public func hugetlbVmemmapRestoreFolio(_ folio: Folio) -> Bool {
    guard hugetlb.optimized.contains(folio.pfn) else { return false }
    let order = folioOrder(folio)
    let ptes = vmemmapPTERange(folio, order: order)
    guard let frames = allocVmemmapFrames(ptes.count - 1, for: folio) else { return false }
    let head = memory.frame(vmemmapTable.entries[ptes.lowerBound].frame)
    let size = Kernel.structPageSize
    for (i, f) in zip(ptes.dropFirst(), frames) {
      let dst = memory.frame(f)
      if Format.hvoAliasesHead {
        dst.copyMemory(from: head, byteCount: Kernel.pageSize)
        (dst).copyMemory(from: dst + 4 * size, byteCount: 4 * size)
      } else {
        for slot in 0..<Kernel.structPagesPerVmemmapPage {
          (dst + slot * size).copyMemory(from: head + 63 * size, byteCount: size)
        }
      }
      vmemmapTable.entries[i] = VmemmapPTE(frame: f, writable: true)
    }
    counters.pointee.memmapPages += frames.count
    let headPage = page(folio.pfn)
    let priv: UInt64 = memmap.load(headPage, StructPageLayout.private)
    memmap.set(headPage, StructPageLayout.private, priv & ~HugetlbState.hpgVmemmapOptimized)
    hugetlb.optimized.remove(folio.pfn)
    if Format.hvoAliasesHead { counters.pointee.hugetlbOptimizeVmemmapKey -= 1 }
    return true
  }

  /// The shared read-only tail frame of an order in a zone, allocated and filled with 64
  /// identical tails on first use; nil if that allocation fails.
  ///
  /// Kernel: `vmemmap_get_tail()` with `init_compound_tail()` (v7): node and zone bits,
  /// `_mapcount` -1, `compound_info` = mask | 1, `mapping` = TAIL_MAPPING.
  func vmemmapGetTail(order: Int, zone: Int) -> PFN? {
    let key = HugetlbState.Key(zone: zone, order: order)
    if let t = hugetlb.vmemmapTails[key] { return t }
    guard let t = allocPages(order: 0, node: zones[zone].node) else { return nil }
    let p = memory.frame(t)
    let info = Format.tailInfo(headAddress: 0, order: order)
    let flags = PageFlagsLayout.links(zone: zones[zone].type, node: zones[zone].node)
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

  /// Frames that back shared tails (mask era). They are not in vmstat's memmap counters
  /// but are memmap all the same.
  public var sharedTailFrames: Int { hugetlb.vmemmapTails.count }
}

extension Machine where Format: CompoundEncoding {
  /// PFNs of pool huge pages whose kpageflags word has COMPOUND_HEAD: one per folio,
  /// or one per vmemmap page of an optimised folio in the classic era.
  public func hugetlbKPageFlagsHeads() -> Int {
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
