/// What describing a machine's memory costs in one era, counted from frames.
public struct EraCost: Sendable, Equatable {
  public var era: Era
  public var structPageBytes: Int
  /// Frames that back the vmemmap now, shared HVO tail frames included.
  public var memmapFrames: Int
  /// Frames of each descriptor cache (folio, large folio, slab, ptdesc).
  public var descriptorFrames: [DescriptorKind: Int]
  /// Memmap frames HVO has given back: the full memmap less what is mapped now.
  public var hvoSavedFrames: Int
  public var ramBytes: UInt64
  /// Frames of the page_ext tables: the same in every era (an entry per page, whatever
  /// the struct page), shown next to the memmap and not in ``totalOverheadBytes``.
  public var pageExtFrames = 0

  public var memmapBytes: UInt64 { UInt64(memmapFrames) << UInt64(Kernel.pageShift) }
  public var descriptorBytes: UInt64 { UInt64(descriptorFrames.values.reduce(0, +)) << UInt64(Kernel.pageShift) }
  public var hvoSavedBytes: UInt64 { UInt64(hvoSavedFrames) << UInt64(Kernel.pageShift) }
  public var pageExtBytes: UInt64 { UInt64(pageExtFrames) << UInt64(Kernel.pageShift) }
  /// Memmap plus descriptors.
  public var totalOverheadBytes: UInt64 { memmapBytes + descriptorBytes }
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
    return EraCost(era: era, structPageBytes: Format.structPageSize, memmapFrames: mapped, descriptorFrames: descriptorFrames,
                   hvoSavedFrames: max(full - mapped, 0), ramBytes: layout.ramBytes, pageExtFrames: pageExtFrames)
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
