/// The `/proc/kpageflags` view of a model 
extension Page64Model {
  /// The KPF word a Linux 6.18 kernel would report for `pfn` in the model's state.
  ///
  /// PFNs outside present sections read 0; holes inside them read RESERVED, as the
  /// fixtures show. Tails carry their folio's flags; BUDDY is on every page of a free
  /// block; fake heads (classic era with HVO) read as heads, as the real kernel shows.
  ///
  /// Kernel: `stable_page_flags()` (fs/proc/page.c).
  public func kpageflags(_ pfn: PFN) -> UInt64 {
    guard pfnValid(pfn) else { return 0 }
    let page = memmap.address(of: pfn)
    // 6.18 reads a snapshot of the page (snapshot_page()), whose decode of compound_info
    // has no fake-head fix-up: with classic-era HVO every 64th struct page of a huge
    // page reads as a head, as real kernels report.
    let info: UInt64 = memmap.load(page, StructPageLayout.compoundInfo)
    let folio = Format.head(ofPageAt: page, info: info)
    let k: UInt64 = memmap.load(folio, StructPageLayout.flags)
    let mapping: UInt64 = memmap.load(folio, StructPageLayout.mapping)
    let pageType: UInt32 = memmap.load(page, StructPageLayout.mapcount)
    let folioType: UInt32 = memmap.load(folio, StructPageLayout.mapcount)
    var u: UInt64 = 0

    if folioMapped(folio) { u |= KPF.mmap.mask }
    if mapping & StructPageLayout.mappingAnon != 0 {
      u |= KPF.anon.mask
      if mapping & StructPageLayout.mappingKSM != 0 { u |= KPF.ksm.mask }
    }
    if folio == page {
      if k & PageFlag.head.mask != 0 { u |= KPF.compoundHead.mask }
    } else {
      u |= KPF.compoundTail.mask
    }
    let isLarge = k & PageFlag.head.mask != 0
    if PageType.of(folioType) == .hugetlb {
      u |= KPF.huge.mask
    } else if isLarge {
      let flags1: UInt64 = memmap.load(folio, StructPageLayout.folioFlags1)
      if flags1 & PageFlag.largeRmappable.mask != 0 { u |= KPF.thp.mask }
    }
    let ownType = PageType.of(pageType)
    if ownType == .buddy {
      u |= KPF.buddy.mask
    } else if memmap.load(page, StructPageLayout.refcount, as: UInt32.self) == 0 && machine.freeBlock(containing: pfn) != nil {
      u |= KPF.buddy.mask
    }
    if ownType == .offline { u |= KPF.offline.mask }
    if ownType == .table { u |= KPF.pgtable.mask }
    if PageType.of(folioType) == .slab { u |= KPF.slab.mask }

    for (flag, kpf) in KPageFlagsCopy.table where k & flag.mask != 0 { u |= kpf.mask }
    if k & (PageFlag.swapbacked.mask | PageFlag.swapcache.mask) == PageFlag.swapbacked.mask | PageFlag.swapcache.mask {
      u |= KPF.swapcache.mask
    }
    let hwPoison = u & KPF.huge.mask != 0 ? k : memmap.load(page, StructPageLayout.flags, as: UInt64.self)
    if hwPoison & PageFlag.hwPoison.mask != 0 { u |= KPF.hwPoison.mask }
    return u
  }

  /// Whether any page of the folio is mapped into a page table.
  /// Kernel: `folio_mapped()` (typed pages have no mapcount).
  func folioMapped(_ folio: UInt64) -> Bool {
    let flags: UInt64 = memmap.load(folio, StructPageLayout.flags)
    if flags & PageFlag.head.mask != 0 {
      return Int32(bitPattern: memmap.load(folio, StructPageLayout.folioLargeMapcount)) >= 0
    }
    let word: UInt32 = memmap.load(folio, StructPageLayout.mapcount)
    return PageType.of(word) == nil && Int32(bitPattern: word) >= 0
  }

  /// The KPF words of a PFN range, as reading that part of /proc/kpageflags gives.
  public func kpageflags(_ range: PFNRange) -> [UInt64] { range.map { kpageflags($0) } }
}

/// Page flags that `stable_page_flags()` copies into the same-named KPF bit (of the
/// head's flags for a folio, of the page's own otherwise).
enum KPageFlagsCopy {
  static let table: [(PageFlag, KPF)] = [(.idle, .idle), (.locked, .locked), (.dirty, .dirty), (.uptodate, .uptodate), (.writeback, .writeback),
     (.lru, .lru), (.referenced, .referenced), (.active, .active), (.reclaim, .reclaim),
     (.swapbacked, .swapbacked), (.unevictable, .unevictable), (.mlocked, .mlocked), (.reserved, .reserved),
     (.owner2, .owner2), (.private, .private), (.private2, .private2), (.ownerPriv1, .ownerPrivate), (.arch1, .arch)]
}
