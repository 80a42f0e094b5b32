/// What HVO does to the vmemmap of one 2 MiB HugeTLB page in one era, read from a model
/// machine's vmemmap page table after allocating the page with
/// `vm.hugetlb_optimize_vmemmap` on.
public struct HVOPicture: Sendable, Equatable {
  /// How one vmemmap page (4 KiB of struct pages) of the huge page is mapped after HVO.
  public enum Mapping: String, Sendable, Equatable {
    /// Its own writable frame (the head's vmemmap page, or every page without HVO).
    case `private`
    /// Read-only onto the head's frame (classic: the tails' struct pages read as copies
    /// of the head page's, the fake heads).
    case headAlias = "head_alias"
    /// Read-only onto the one shared tail frame of this zone and order (mask era).
    case sharedTail = "shared_tail"
    /// Read-only onto one frame that the folio's vmemmap pages after the head's share
    /// (memdesc eras: every tail struct page of the folio is the same; the head's stays
    /// writable for its per-page flags).
    case sharedFolio = "shared_folio"
  }

  public struct Page: Sendable, Equatable {
    public var mapping: Mapping
    public var frame: PFN
    public var writable: Bool
    /// PFNs of the huge page whose struct pages live in this vmemmap page.
    public var pfns: Range<Int>
  }

  public var era: Era
  public var structPageBytes: Int
  /// The huge page's PFN in the model machine.
  public var hugePagePFN: PFN
  /// The vmemmap pages of the huge page, in order.
  public var pages: [Page]
  /// Memmap frames of the huge page before HVO (its own vmemmap pages).
  public var framesBefore: Int
  /// Memmap frames freed, net (vmstat's drop): frames returned minus frames allocated.
  public var freedFrames: Int
  /// Whether the model optimised the page at all (memdesc8's single vmemmap page cannot be).
  public var optimized: Bool

  /// The picture in each era: a 256 MiB flat machine per era, one 2 MiB HugeTLB page
  /// allocated with HVO on, its vmemmap PTEs read.
  public static func all(eras: [Era] = Era.allCases) throws -> [HVOPicture] {
    try eras.map { try of(era: $0) }
  }

  public static func of(era: Era) throws -> HVOPicture {
    try picture(bootModel(MachineConfig(layout: try PhysicalLayout.flat(ramBytes: 256 << 20), era: era)))
  }

  static func picture<M: MemoryModel>(_ model: M) throws -> HVOPicture {
    let m = model.machine
    let before = m.memmapFrames
    model.setHugetlbOptimizeVmemmap(true)
    guard model.setNrHugePages(order: Hstate.pmd, count: 1) == 1, let (folio, optimized) = model.hugetlbFolios(order: Hstate.pmd).first else {
      throw MachineError.outOfMemory("a 2 MiB HugeTLB page for the HVO picture", era: model.era)
    }
    let ptes = m.vmemmapPTERange(folio, order: Hstate.pmd)
    let perPage = M.Format.structPagesPerVmemmapPage
    let tails = Set(m.hugetlb.vmemmapTails.values)
    let first = m.vmemmapTable[ptes.lowerBound]
    var pages: [Page] = []
    for (i, e) in ptes.enumerated() {
      let pte = m.vmemmapTable[e]
      let mapping: Mapping
      if pte.isWritable {
        mapping = .private
      } else if tails.contains(pte.frame) {
        mapping = .sharedTail
      } else if i > 0 && pte.frame == first.frame && first.isWritable {
        mapping = .headAlias
      } else {
        mapping = .sharedFolio
      }
      let start = Int(folio.pfn.rawValue) + i * perPage
      pages.append(Page(mapping: mapping, frame: pte.frame, writable: pte.isWritable, pfns: start..<min(start + perPage, Int(folio.pfn.rawValue) + (1 << Hstate.pmd))))
    }
    return HVOPicture(era: model.era, structPageBytes: M.Format.structPageSize, hugePagePFN: folio.pfn, pages: pages, framesBefore: ptes.count,
                      freedFrames: before - m.memmapFrames, optimized: optimized)
  }
}
