/// What to boot: the physical layout, the era and where the vmemmap sits.
public struct MachineConfig: Sendable {
  public var layout: PhysicalLayout
  public var era: Era
  /// Kernel: `vmemmap_base`.
  public var vmemmapBase: UInt64 = Kernel.vmemmapBaseL4
  /// Refuse to boot the mask era on a base that breaks `head = tail & mask`. The kernel
  /// only warns (a `VM_WARN_ON_ONCE`) and boots; so does the model unless this is set.
  public var strictAlignment = false
  /// The page_ext clients the kernel boots with (`page_owner=on`, ...); none by default.
  public var pageExt: PageExt = .none
  /// Host bytes the memmap may take; nil skips the check.
  public var hostMemoryLimit: UInt64? = nil
  /// Host bytes the memmap may take when boot leaves it lazy (``MemmapInit``): nothing is
  /// committed at boot, but a reader that touches every frame must still fit. nil takes
  /// ``hostMemoryLimit``.
  public var lazyHostMemoryLimit: UInt64? = nil
  /// Gigantic and huge pages reserved at boot (`hugepagesz=1G hugepages=N`), by order.
  public var bootHugepages: [BootHugepages] = []
  /// How the vmemmap of the boot-time pools is optimised; nil takes the era's kernel.
  public var bootHVO: BootHVO? = nil
  /// Whether boot may leave the memmap's bytes to be built on first touch (userfaultfd,
  /// ``MemmapInit``); false writes every struct page at boot, as before.
  public var lazyMemmap = true

  public init(layout: PhysicalLayout, era: Era) {
    self.layout = layout
    self.era = era
  }

  /// Sections whose memmap the kernel populates, and the frames that takes.
  public var memmapFrames: Int { layout.presentSections.count * vmemmapPagesPerSection }

  /// Frames of memmap per present section in this era: 512, 256 or 64.
  public var vmemmapPagesPerSection: Int { (Kernel.pagesPerSection * era.structPageBytes) >> Kernel.pageShift }

  /// The boot-time vmemmap optimisation in force: the one given, else the era's.
  public var effectiveBootHVO: BootHVO { bootHVO ?? era.defaultBootHVO }

  /// The mask era's misaligned base as a value (what the kernel's `VM_WARN_ON_ONCE`
  /// reports), or nil where heads decode right.
  ///
  /// Kernel: the `sparse_init()` check `IS_ALIGNED(pfn_to_page(0), MAX_FOLIO_VMEMMAP_ALIGN)`.
  public var vmemmapAlignmentWarning: MachineError? {
    guard era == .mask, vmemmapBase % Kernel.maxFolioVmemmapAlign != 0 else { return nil }
    return .vmemmapBaseMisaligned(base: vmemmapBase, required: Kernel.maxFolioVmemmapAlign)
  }

  /// Refuses a memmap larger than the host limit of a lazy or an eager boot.
  public func checkHostMemory(lazy: Bool) throws(MachineError) {
    if let limit = lazy ? lazyHostMemoryLimit ?? hostMemoryLimit : hostMemoryLimit {
      let need = UInt64(memmapFrames) * UInt64(Kernel.pageSize)
      guard need <= limit else { throw .memmapDoesNotFitHost(memmapBytes: need, availableBytes: limit) }
    }
  }

  /// Checks everything that can be checked before any memory is touched.
  public func validate() throws(MachineError) {
    guard vmemmapBase % UInt64(Kernel.pageSize) == 0 else { throw .vmemmapBaseNotPageAligned(vmemmapBase) }
    // A lazy memmap commits host memory only as its frames are touched; an eager one
    // (and a lazy one that falls back, `Machine.init`) commits it all at boot.
    try checkHostMemory(lazy: lazyMemmap)
    let sectionsSpanned = UInt64(layout.endPFN.rawValue + UInt64(Kernel.pagesPerSection) - 1) >> UInt64(Kernel.pfnSectionShift)
    let span = sectionsSpanned * UInt64(Kernel.pagesPerSection) * UInt64(era.structPageBytes)
    let directMapEnd = Kernel.pageOffsetL4 + (1 << 30)
    guard vmemmapBase >= directMapEnd, vmemmapBase <= Kernel.startKernelMap, span <= Kernel.startKernelMap - vmemmapBase else {
      throw .vmemmapBaseOutsideKernelHalf(vmemmapBase)
    }
    if strictAlignment, let warning = vmemmapAlignmentWarning { throw warning }
    let poolPages = bootHugepages.reduce(UInt64(0)) { $0 + UInt64($1.count) << UInt64($1.order) }
    guard poolPages <= UInt64(layout.ramPages) else {
      throw .bootHugepagesExceedRAM(pages: poolPages, ramPages: layout.ramPages)
    }
  }
}

/// One boot-time pool: `hugepagesz=SIZE hugepages=COUNT` on the kernel command line.
public struct BootHugepages: Sendable, Equatable {
  public var order: Int
  public var count: Int
  public init(order: Int, count: Int) {
    self.order = order
    self.count = count
  }
}

/// When the vmemmap of boot-time gigantic pages is optimised, as kernels differ.
public enum BootHVO: String, Sendable, CaseIterable {
  /// Populated already optimised, never in full: one head frame per page from memblock,
  /// tails mapped onto it (6.15-7.0, `hugetlb_vmemmap_init_early()` ->
  /// `vmemmap_populate_hvo()`) or onto the zone's shared tail (7.1,
  /// `hugetlb_vmemmap_init_late()`). `nr_memmap_boot_pages` counts the head frames only.
  case early
  /// Populated in full by `sparse_init()`, then optimised like a runtime page when the
  /// pool is gathered (`gather_bootmem_prealloc()` -> `hugetlb_vmemmap_optimize_folios()`):
  /// the freed frames leave `nr_memmap_boot_pages`, the new head frame enters
  /// `nr_memmap_pages`. What a kernel before 6.15 does, and later ones for pages pre-HVO
  /// cannot take.
  case late
  /// `hugetlb_free_vmemmap=off`: the pools keep their full memmap.
  case off
}

extension Era {
  /// The boot-time optimisation of the era's kernel: the mask era's (7.1) populates
  /// gigantic pages' vmemmap optimised; the classic era keeps the late path so the
  /// optimisation's before and after show; the memdesc eras have no kernel and take
  /// the late path, which needs nothing era-specific.
  public var defaultBootHVO: BootHVO { self == .mask ? .early : .late }
}
