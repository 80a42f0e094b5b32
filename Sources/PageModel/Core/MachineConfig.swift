/// What to boot: the physical layout, the era and where the vmemmap sits.
public struct MachineConfig: Sendable {
  public var layout: PhysicalLayout
  public var era: Era
  /// Kernel: `vmemmap_base`.
  public var vmemmapBase: UInt64 = Kernel.vmemmapBaseL4
  /// Boot the mask era with a base that breaks `head = tail & mask` (for demonstrations).
  public var allowMisalignedVmemmap = false
  /// The page_ext clients the kernel boots with (`page_owner=on`, ...); none by default.
  public var pageExt: PageExt = .none
  /// Host bytes the memmap may take; nil skips the check.
  public var hostMemoryLimit: UInt64? = nil

  public init(layout: PhysicalLayout, era: Era) {
    self.layout = layout
    self.era = era
  }

  /// Sections whose memmap the kernel populates, and the frames that takes.
  public var memmapFrames: Int { layout.presentSections.count * vmemmapPagesPerSection }

  /// Frames of memmap per present section in this era: 512, 256 or 64.
  public var vmemmapPagesPerSection: Int { (Kernel.pagesPerSection * era.structPageBytes) >> Kernel.pageShift }

  /// Checks everything that can be checked before any memory is touched.
  public func validate() throws(MachineError) {
    guard vmemmapBase % UInt64(Kernel.pageSize) == 0 else { throw .vmemmapBaseNotPageAligned(vmemmapBase) }
    if let limit = hostMemoryLimit {
      let need = UInt64(memmapFrames) * UInt64(Kernel.pageSize)
      guard need <= limit else { throw .memmapDoesNotFitHost(memmapBytes: need, availableBytes: limit) }
    }
    let sectionsSpanned = UInt64(layout.endPFN.rawValue + UInt64(Kernel.pagesPerSection) - 1) >> UInt64(Kernel.pfnSectionShift)
    let span = sectionsSpanned * UInt64(Kernel.pagesPerSection) * UInt64(era.structPageBytes)
    let directMapEnd = Kernel.pageOffsetL4 + (1 << 30)
    guard vmemmapBase >= directMapEnd, vmemmapBase <= Kernel.startKernelMap, span <= Kernel.startKernelMap - vmemmapBase else {
      throw .vmemmapBaseOutsideKernelHalf(vmemmapBase)
    }
    if era == .mask && !allowMisalignedVmemmap && vmemmapBase % Kernel.maxFolioVmemmapAlign != 0 {
      throw .vmemmapBaseMisaligned(base: vmemmapBase, required: Kernel.maxFolioVmemmapAlign)
    }
  }
}
