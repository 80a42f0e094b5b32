/// What describing a machine's memory costs in one era, counted from frames.
public struct EraCost: Sendable, Equatable {
  public var era: Era
  public var structPageBytes: Int
  /// Frames that back the vmemmap now, shared HVO tail frames included.
  public var memmapFrames: Int
  /// Frames of each descriptor cache (folio, large folio, slab, ptdesc).
  public var descriptorFrames: [DescriptorKind: Int]
  /// Frames HVO has given back: the full memmap less what is mapped now, less the
  /// PTE-table frames its PMD splits took (``hvoPTETableFrames``).
  public var hvoSavedFrames: Int
  public var ramBytes: UInt64
  /// Frames of the page_ext tables: the same in every era (an entry per page, whatever
  /// the struct page), shown next to the memmap and not in ``totalOverheadBytes``.
  public var pageExtFrames = 0
  /// Page-table frames of the vmemmap PMDs HVO split into PTE tables, one per PMD: RAM
  /// that HVO costs, outside vmstat's memmap counters (boot's own PTE tables, where a
  /// block cannot be one PMD, are in every era and not counted). In
  /// ``totalOverheadBytes``.
  public var hvoPTETableFrames = 0

  public var memmapBytes: UInt64 { UInt64(memmapFrames) << UInt64(Kernel.pageShift) }
  public var descriptorBytes: UInt64 { UInt64(descriptorFrames.values.reduce(0, +)) << UInt64(Kernel.pageShift) }
  public var hvoSavedBytes: UInt64 { UInt64(hvoSavedFrames) << UInt64(Kernel.pageShift) }
  public var pageExtBytes: UInt64 { UInt64(pageExtFrames) << UInt64(Kernel.pageShift) }
  public var hvoPTETableBytes: UInt64 { UInt64(hvoPTETableFrames) << UInt64(Kernel.pageShift) }
  /// Memmap plus descriptors plus the PTE tables of HVO's PMD splits.
  public var totalOverheadBytes: UInt64 { memmapBytes + descriptorBytes + hvoPTETableBytes }
  public var overheadPercent: Double { ramBytes == 0 ? 0 : Double(totalOverheadBytes) * 100 / Double(ramBytes) }
}

extension Machine {
  /// The machine's cost now, with the descriptor frames the family counts.
  func cost(descriptorFrames: [DescriptorKind: Int]) -> EraCost {
    let full = layout.presentSections.count * Format.vmemmapPagesPerSection
    let mapped = memmapFrames + hugetlb.vmemmapTails.count
    // A mask-era shared tail frame outlives the pool pages that used it (the kernel keeps
    // it per zone and order), so the mapped memmap can exceed the full one: that frame is
    // memmap cost, not a negative saving.
    // A split PMD stays split when HVO is undone (the kernel never collapses it), so its
    // PTE table is paid for as long as the machine runs; once nothing is optimised it is
    // in the total, and the saving is none rather than negative.
    let splits = vmemmapTable.pmdSplits
    return EraCost(era: era, structPageBytes: Format.structPageSize, memmapFrames: mapped, descriptorFrames: descriptorFrames,
                   hvoSavedFrames: max(full - mapped - splits, 0), ramBytes: layout.ramBytes, pageExtFrames: pageExtFrames,
                   hvoPTETableFrames: splits)
  }
}

extension Page64Model {
  /// The memmap is the whole cost: descriptors overlay struct pages.
  public func cost() -> EraCost {
    machine.cost(descriptorFrames: Dictionary(uniqueKeysWithValues: DescriptorKind.allCases.map { ($0, 0) }))
  }
}

extension MemdescModel {
  /// The memmap and the pages of every descriptor cache.
  public func cost() -> EraCost {
    var byKind: [DescriptorKind: Int] = [:]
    for c in descriptorCaches { byKind[c.kind] = c.slabPages }
    return machine.cost(descriptorFrames: byKind)
  }
}
