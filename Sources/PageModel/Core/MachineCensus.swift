/// What a booted machine holds, counted from its state: the numbers `memdesc boot`
/// prints.
public struct MachineCensus: Sendable, Equatable {
  public struct Zone: Sendable, Equatable {
    public var node: Int
    public var name: String
    public var startPFN: PFN
    public var endPFN: PFN
    public var presentPages: Int
    public var managedPages: Int
    public var freePages: Int
    public var pcpPages: Int
    /// Free blocks per order 0-10: a `/proc/buddyinfo` row.
    public var freeBlocks: [Int]
  }

  public var era: Era
  public var ramBytes: UInt64
  /// One past the highest PFN: the length of /proc/kpageflags in entries.
  public var pfns: UInt64
  public var ramPages: Int
  public var nodes: Int
  public var presentSections: Int
  public var structPageBytes: Int
  public var vmemmapBase: UInt64
  /// Frames mapped into the vmemmap, counted from the frame counters.
  public var memmapFrames: Int
  public var memmapBytes: UInt64 { UInt64(memmapFrames) * UInt64(Kernel.pageSize) }
  /// The page_ext clients, and the frames of their per-section tables.
  public var pageExt: PageExt
  public var pageExtFrames: Int
  public var pageExtBytes: UInt64 { UInt64(pageExtFrames) * UInt64(Kernel.pageSize) }
  public var freePages: Int
  public var pcpPages: Int
  public var zones: [Zone]

  /// The memmap as a share of RAM, in percent.
  public var memmapPercentOfRAM: Double { ramBytes == 0 ? 0 : Double(memmapBytes) * 100 / Double(ramBytes) }
  /// The page_ext tables as a share of RAM, in percent.
  public var pageExtPercentOfRAM: Double { ramBytes == 0 ? 0 : Double(pageExtBytes) * 100 / Double(ramBytes) }
}

extension Machine {
  /// Counts the machine's state.
  public func census() -> MachineCensus {
    MachineCensus(
      era: era, ramBytes: layout.ramBytes, pfns: layout.endPFN.rawValue, ramPages: layout.ramPages,
      nodes: layout.nodes.count, presentSections: layout.presentSections.count,
      structPageBytes: Format.structPageSize, vmemmapBase: memmap.base,
      memmapFrames: memmapFrames, pageExt: config.pageExt, pageExtFrames: pageExtFrames, freePages: freePages, pcpPages: pcpPages,
      zones: zones.map { z in
        MachineCensus.Zone(
          node: z.node, name: z.name, startPFN: z.span.lowerBound, endPFN: z.span.upperBound,
          presentPages: z.presentPages, managedPages: managedPages(zone: z.index),
          freePages: freePages(zone: z.index), pcpPages: pcpState(zone: z.index).count,
          freeBlocks: freeBlocks(zone: z.index))
      })
  }
}
