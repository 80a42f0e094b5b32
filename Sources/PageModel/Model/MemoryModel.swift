/// The one API of the four eras: what a kernel developer does to memory, with the same
/// observable results whatever the bytes underneath.
///
/// Each era family is one type that conforms directly: ``Page64Model`` (classic, mask:
/// the 64-byte struct page with compound pages) and ``MemdescModel`` (memdesc32,
/// memdesc8: a small struct page with separately allocated descriptors). Both own a
/// byte-level core, ``Machine``, which holds the memmap, the zones and the buddy
/// allocator; what is the same in every era (bare pages, per-CPU lists, invariants, the
/// machine census) is written once below, over that core.
///
/// The era is picked at run time (the seed thread's "magical config option") in one
/// place, ``Era/modelType``; ``bootModel(_:)`` returns a machine of that era behind this
/// protocol. On a concrete family type every call is specialised for its era.
public protocol MemoryModel: AnyObject {
  /// The era's struct page format.
  associatedtype Format: PageFormat
  /// The byte-level core: memmap, zones, buddy allocator.
  var machine: Machine<Format> { get }
  /// Boots a machine of the configuration's era; the era must be this type's.
  init(_ config: MachineConfig) throws(MachineError)

  /// Kernel: `folio_alloc()` (anonymous or page cache).
  func allocFolio(order: Int, kind: FolioKind, gfp: GFP, node: Int) -> Folio?
  /// A folio made of the free pages at `head` (the allocator cannot be asked for a
  /// PFN; `explain` reproduces a snapshot's folio where the snapshot had it), or nil
  /// when any of them is not free.
  func placeFolio(at head: PFN, order: Int, kind: FolioKind) -> Folio?
  /// Kernel: `folio_get()`.
  func folioGet(_ folio: Folio)
  /// Kernel: `folio_put()`.
  func folioPut(_ folio: Folio)
  /// The folio that owns a page, or nil if it is in none (New York semantics: free,
  /// bare, slab and page-table pages are in no folio).
  func folio(containing pfn: PFN) -> Folio?
  /// Kernel: `folio_order()`.
  func folioOrder(_ folio: Folio) -> Int
  /// Kernel: `folio_ref_count()`.
  func folioRefCount(_ folio: Folio) -> Int
  /// Anonymous or page cache.
  func folioKind(_ folio: Folio) -> FolioKind
  /// Kernel: `folio_test_*()`.
  func folioTest(_ folio: Folio, _ flag: MemFlag) -> Bool
  /// Kernel: `folio_set_*()` / `folio_clear_*()`.
  func folioSet(_ folio: Folio, _ flag: MemFlag, _ on: Bool) throws(MemdescBug)
  /// Kernel: `SetPage*()` / `ClearPage*()` on one page.
  func setPageFlag(_ pfn: PFN, _ flag: MemFlag, _ on: Bool) throws(MemdescBug)
  /// Whether a per-page flag is set.
  func testPageFlag(_ pfn: PFN, _ flag: MemFlag) -> Bool
  /// Kernel: `compound_head()`; a BUG in the memdesc eras for an owned page.
  func compoundHead(_ pfn: PFN) throws(MemdescBug) -> PFN
  /// Kernel: `allocate_slab()`: pages for kernel objects, in no folio.
  func allocSlab(order: Int) -> PFN?
  /// Kernel: `__free_slab()`.
  func freeSlab(_ pfn: PFN)
  /// Kernel: `pagetable_alloc()`.
  func allocPageTable() -> PFN?
  /// Kernel: `pagetable_free()`.
  func freePageTable(_ pfn: PFN)
  /// Maps (`delta` 1) or unmaps (-1) pages of a folio with PTEs in the address space
  /// `mm` (whose id the large folio's MM_ID slots record).
  func mapPages(_ folio: Folio, _ range: Range<Int>, _ delta: Int, mm: MMID)
  /// Maps or unmaps a whole folio with one entry (a PMD) in `mm`.
  func mapEntire(_ folio: Folio, _ delta: Int, mm: MMID)
  /// Kernel: `folio_mapcount()`.
  func folioMapcount(_ folio: Folio) -> Int
  /// A page's mapcount where the era keeps one (nil in memdesc8).
  func pageMapcount(_ pfn: PFN) -> Int?
  /// Kernel: writing `nr_hugepages`; returns the pool size reached: fewer when memory
  /// runs out on growth, or when a page cannot be restored on shrink.
  @discardableResult
  func setNrHugePages(order: Int, count: Int) -> Int
  /// A pool page made of the free pages at `head`, optimised while the sysctl is on;
  /// nil when any of them is not free.
  func placeHugetlbFolio(at head: PFN, order: Int) -> Folio?
  /// Optimises a pool page's vmemmap; false if it cannot be (nothing changed).
  /// Kernel: `hugetlb_vmemmap_optimize_folio()`.
  @discardableResult
  func hugetlbVmemmapOptimizeFolio(_ folio: Folio) -> Bool
  /// Gives an optimised folio its own vmemmap back; false if the frames cannot be had.
  /// Kernel: `hugetlb_vmemmap_restore_folio()`.
  @discardableResult
  func hugetlbVmemmapRestoreFolio(_ folio: Folio) -> Bool
  /// Struct pages that read as a head through the vmemmap without being one (the classic
  /// era's HVO fake heads), found by scanning the memmap.
  func countFakeHeads() -> Int
  /// PFNs of pool huge pages whose kpageflags word has COMPOUND_HEAD, as a 6.18-style
  /// kernel reports them; nil where the model has no kpageflags view (memdesc eras).
  func hugetlbKPageFlagsHeads() -> Int?
  /// Memmap and descriptor frames, counted.
  func cost() -> EraCost
  /// One struct page explained: bytes, fields, decode, head, folio, vmemmap mapping.
  func explain(_ pfn: PFN) -> PageExplanation
}

extension MemoryModel {
  /// The era of the machine.
  @inlinable public var era: Era { Format.era }
  public var config: MachineConfig { machine.config }
  public var layout: PhysicalLayout { machine.config.layout }

  /// Kernel: `alloc_pages()` of bare pages.
  // Always inlined with `Machine.allocPages` (see there): one call level fewer on the
  // allocator's hot path.
  @inlinable @inline(__always)
  public func allocPages(order: Int, gfp: GFP = .kernel, node: Int = 0) -> PFN? {
    machine.allocPages(order: order, gfp: gfp, node: node)
  }
  /// Kernel: `__free_pages()`.
  @inlinable @inline(__always)
  public func freePages(_ pfn: PFN, order: Int) { machine.freePages(pfn, order: order) }
  /// Empties the per-CPU lists. Kernel: `drain_all_pages()`.
  public func drainAllPages() { machine.drainAllPages() }
  /// Whether `pfn` has a struct page. Kernel: `pfn_valid()`.
  @inlinable
  public func pfnValid(_ pfn: PFN) -> Bool { machine.pfnValid(pfn) }
  /// Frames that back the vmemmap now (vmstat's two memmap counters).
  public var memmapFrames: Int { machine.memmapFrames }
  /// PTE mappings in the first mm (``MMID/first``).
  public func mapPages(_ folio: Folio, _ range: Range<Int>, _ delta: Int) { mapPages(folio, range, delta, mm: .first) }
  /// A whole-folio mapping in the first mm.
  public func mapEntire(_ folio: Folio, _ delta: Int) { mapEntire(folio, delta, mm: .first) }
  /// Frames of the page_ext tables boot allocated (``MachineConfig/pageExt``).
  public var pageExtFrames: Int { machine.pageExtFrames }
  /// Checks the buddy allocator's invariants and returns its free blocks.
  public func checkBuddyInvariants() throws(InvariantViolation) -> BuddyFreeState {
    try machine.checkBuddyInvariants()
  }
  /// Counts the machine's state: the numbers `memdesc boot` prints.
  public func census() -> MachineCensus { machine.census() }

  /// Kernel: `pfn_to_page()`: the vmemmap address of a PFN's struct page.
  public func structPageAddress(_ pfn: PFN) -> UInt64 { machine.memmap.address(of: pfn) }
  /// A struct page's bytes as read through the vmemmap.
  public func structPageBytes(_ pfn: PFN) -> [UInt8] { machine.memmap.bytes(ofPageAt: machine.memmap.address(of: pfn)) }

  /// Kernel: sysctl `vm.hugetlb_optimize_vmemmap`; applies to pages allocated after.
  public func setHugetlbOptimizeVmemmap(_ on: Bool) { machine.hugetlb.optimizeVmemmap = on }
  /// The pool's huge pages of an order, and whether each is HVO-optimised.
  public func hugetlbFolios(order: Int) -> [(folio: Folio, optimized: Bool)] {
    let h = machine.hugetlb
    return (h.hstates.first { $0.order == order }?.folios ?? []).map { ($0, h.optimized.contains($0.pfn)) }
  }
  /// Frames that back the mask era's shared read-only tails: memmap, though vmstat's
  /// counters leave them out.
  public var sharedTailFrames: Int { machine.hugetlb.vmemmapTails.count }
  /// The HugeTLB pools and HVO state.
  public var hugetlb: HugetlbState { machine.hugetlb }

  /// `allocFolio` with the defaults of `folio_alloc(GFP_KERNEL, order)` on node 0.
  @inlinable
  public func allocFolio(order: Int, kind: FolioKind) -> Folio? {
    allocFolio(order: order, kind: kind, gfp: .kernel, node: 0)
  }
  /// `folioSet` with `on` true.
  public func folioSet(_ folio: Folio, _ flag: MemFlag) throws(MemdescBug) { try folioSet(folio, flag, true) }
  /// `setPageFlag` with `on` true.
  public func setPageFlag(_ pfn: PFN, _ flag: MemFlag) throws(MemdescBug) { try setPageFlag(pfn, flag, true) }
}

extension Era {
  /// The family type that runs this era: the one place where an era becomes a type.
  public var modelType: any MemoryModel.Type {
    switch self {
    case .classic: Page64Model<ClassicEncoding>.self
    case .mask: Page64Model<MaskEncoding>.self
    case .memdesc32: MemdescModel<Memdesc32Format>.self
    case .memdesc8: MemdescModel<Memdesc8Format>.self
    }
  }
}

/// Boots a machine of the configured era behind the one API.
public func bootModel(_ config: MachineConfig) throws(MachineError) -> any MemoryModel {
  try config.validate()
  return try config.era.modelType.init(config)
}
