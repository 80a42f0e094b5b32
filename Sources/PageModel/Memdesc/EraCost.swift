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

  public var memmapBytes: UInt64 { UInt64(memmapFrames) << UInt64(Kernel.pageShift) }
  public var descriptorBytes: UInt64 { UInt64(descriptorFrames.values.reduce(0, +)) << UInt64(Kernel.pageShift) }
  public var hvoSavedBytes: UInt64 { UInt64(hvoSavedFrames) << UInt64(Kernel.pageShift) }
  /// Memmap plus descriptors.
  public var totalOverheadBytes: UInt64 { memmapBytes + descriptorBytes }
  public var overheadPercent: Double { ramBytes == 0 ? 0 : Double(totalOverheadBytes) * 100 / Double(ramBytes) }
}

extension Machine {
  /// The machine's memmap and descriptor cost now.
  public func cost() -> EraCost {
    let full = layout.presentSections.count * Format.vmemmapPagesPerSection
    let mapped = memmapFrames + hugetlb.vmemmapTails.count
    var byKind: [DescriptorKind: Int] = [:]
    for c in descriptorCaches { byKind[c.kind] = c.slabPages }
    return EraCost(era: era, structPageBytes: Format.structPageSize, memmapFrames: mapped, descriptorFrames: byKind,
                   hvoSavedFrames: full - mapped, ramBytes: layout.ramBytes)
  }
}
