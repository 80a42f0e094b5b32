/// The one API of the four eras: what a kernel developer does to memory, with the same
/// observable results whatever the bytes underneath.
///
/// The era is picked at run time (the seed thread's "magical config option");
/// ``bootModel(_:)`` returns a machine of that era behind this protocol. On a concrete
/// `Machine<Format>` the era family's own methods are called directly.
public protocol MemoryModel: AnyMachine {
  /// Kernel: `folio_alloc()` (anonymous or page cache).
  func allocFolio(order: Int, kind: FolioKind, gfp: GFP, node: Int) -> Folio?
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
  /// Kernel: `alloc_pages()` of bare pages.
  func allocPages(order: Int, gfp: GFP, node: Int) -> PFN?
  /// Kernel: `__free_pages()`.
  func freePages(_ pfn: PFN, order: Int)
  /// Empties the per-CPU lists. Kernel: `drain_all_pages()`.
  func drainAllPages()
  /// Kernel: `allocate_slab()`: pages for kernel objects, in no folio.
  func allocSlab(order: Int) -> PFN?
  /// Kernel: `__free_slab()`.
  func freeSlab(_ pfn: PFN)
  /// Kernel: `pagetable_alloc()`.
  func allocPageTable() -> PFN?
  /// Kernel: `pagetable_free()`.
  func freePageTable(_ pfn: PFN)
  /// Maps (`delta` 1) or unmaps (-1) pages of a folio with PTEs.
  func mapPages(_ folio: Folio, _ range: Range<Int>, _ delta: Int)
  /// Maps or unmaps a whole folio with one entry (a PMD).
  func mapEntire(_ folio: Folio, _ delta: Int)
  /// Kernel: `folio_mapcount()`.
  func folioMapcount(_ folio: Folio) -> Int
  /// A page's mapcount where the era keeps one (nil in memdesc8).
  func pageMapcount(_ pfn: PFN) -> Int?
  /// Kernel: sysctl `vm.hugetlb_optimize_vmemmap`.
  func setHugetlbOptimizeVmemmap(_ on: Bool)
  /// The pool's huge pages of an order, and whether each is HVO-optimised.
  func hugetlbFolios(order: Int) -> [(folio: Folio, optimized: Bool)]
  /// Kernel: writing `nr_hugepages`; returns the pool size reached.
  func setNrHugePages(order: Int, count: Int) throws(MachineError) -> Int
  /// Checks the buddy allocator's invariants and returns its free blocks.
  func checkBuddyInvariants() throws(InvariantViolation) -> BuddyFreeState
  /// Memmap and descriptor frames, counted.
  func cost() -> EraCost
}

/// Formats whose machines implement ``MemoryModel``: each family (64-byte, memdesc)
/// supplies the operations as statics that call its own methods.
public protocol MemoryModelFormat: PageFormat {
  static func allocFolio(_ m: Machine<Self>, order: Int, kind: FolioKind, gfp: GFP, node: Int) -> Folio?
  static func folioGet(_ m: Machine<Self>, _ folio: Folio)
  static func folioPut(_ m: Machine<Self>, _ folio: Folio)
  static func folioContaining(_ m: Machine<Self>, _ pfn: PFN) -> Folio?
  static func folioOrder(_ m: Machine<Self>, _ folio: Folio) -> Int
  static func folioRefCount(_ m: Machine<Self>, _ folio: Folio) -> Int
  static func folioKind(_ m: Machine<Self>, _ folio: Folio) -> FolioKind
  static func folioTest(_ m: Machine<Self>, _ folio: Folio, _ flag: MemFlag) -> Bool
  static func folioSet(_ m: Machine<Self>, _ folio: Folio, _ flag: MemFlag, _ on: Bool) throws(MemdescBug)
  static func setPageFlag(_ m: Machine<Self>, _ pfn: PFN, _ flag: MemFlag, _ on: Bool) throws(MemdescBug)
  static func testPageFlag(_ m: Machine<Self>, _ pfn: PFN, _ flag: MemFlag) -> Bool
  static func compoundHead(_ m: Machine<Self>, _ pfn: PFN) throws(MemdescBug) -> PFN
  static func allocSlab(_ m: Machine<Self>, order: Int) -> PFN?
  static func freeSlab(_ m: Machine<Self>, _ pfn: PFN)
  static func allocPageTable(_ m: Machine<Self>) -> PFN?
  static func freePageTable(_ m: Machine<Self>, _ pfn: PFN)
  static func setNrHugePages(_ m: Machine<Self>, order: Int, count: Int) throws(MachineError) -> Int
  static func mapPages(_ m: Machine<Self>, _ folio: Folio, _ range: Range<Int>, _ delta: Int)
  static func mapEntire(_ m: Machine<Self>, _ folio: Folio, _ delta: Int)
  static func folioMapcount(_ m: Machine<Self>, _ folio: Folio) -> Int
  static func pageMapcount(_ m: Machine<Self>, _ pfn: PFN) -> Int?
}

extension Machine: MemoryModel where Format: MemoryModelFormat {
  public func allocFolio(order: Int, kind: FolioKind, gfp: GFP = .kernel, node: Int = 0) -> Folio? {
    Format.allocFolio(self, order: order, kind: kind, gfp: gfp, node: node)
  }
  public func folioGet(_ folio: Folio) { Format.folioGet(self, folio) }
  public func folioPut(_ folio: Folio) { Format.folioPut(self, folio) }
  public func folio(containing pfn: PFN) -> Folio? { Format.folioContaining(self, pfn) }
  public func folioOrder(_ folio: Folio) -> Int { Format.folioOrder(self, folio) }
  public func folioRefCount(_ folio: Folio) -> Int { Format.folioRefCount(self, folio) }
  public func folioKind(_ folio: Folio) -> FolioKind { Format.folioKind(self, folio) }
  public func folioTest(_ folio: Folio, _ flag: MemFlag) -> Bool { Format.folioTest(self, folio, flag) }
  public func folioSet(_ folio: Folio, _ flag: MemFlag, _ on: Bool = true) throws(MemdescBug) {
    try Format.folioSet(self, folio, flag, on)
  }
  public func setPageFlag(_ pfn: PFN, _ flag: MemFlag, _ on: Bool = true) throws(MemdescBug) {
    try Format.setPageFlag(self, pfn, flag, on)
  }
  public func testPageFlag(_ pfn: PFN, _ flag: MemFlag) -> Bool { Format.testPageFlag(self, pfn, flag) }
  public func compoundHead(_ pfn: PFN) throws(MemdescBug) -> PFN { try Format.compoundHead(self, pfn) }
  public func allocSlab(order: Int) -> PFN? { Format.allocSlab(self, order: order) }
  public func freeSlab(_ pfn: PFN) { Format.freeSlab(self, pfn) }
  public func allocPageTable() -> PFN? { Format.allocPageTable(self) }
  public func freePageTable(_ pfn: PFN) { Format.freePageTable(self, pfn) }
  public func setHugetlbOptimizeVmemmap(_ on: Bool) { hugetlb.optimizeVmemmap = on }
  public func hugetlbFolios(order: Int) -> [(folio: Folio, optimized: Bool)] {
    (hugetlb.hstates.first { $0.order == order }?.folios ?? []).map { ($0, hugetlb.optimized.contains($0.pfn)) }
  }
  public func mapPages(_ folio: Folio, _ range: Range<Int>, _ delta: Int) { Format.mapPages(self, folio, range, delta) }
  public func mapEntire(_ folio: Folio, _ delta: Int) { Format.mapEntire(self, folio, delta) }
  public func folioMapcount(_ folio: Folio) -> Int { Format.folioMapcount(self, folio) }
  public func pageMapcount(_ pfn: PFN) -> Int? { Format.pageMapcount(self, pfn) }
  public func setNrHugePages(order: Int, count: Int) throws(MachineError) -> Int {
    try Format.setNrHugePages(self, order: order, count: count)
  }
}

extension MemoryModelFormat where Self: CompoundEncoding {
  public static func allocFolio(_ m: Machine<Self>, order: Int, kind: FolioKind, gfp: GFP, node: Int) -> Folio? {
    m.allocFolio(order: order, kind: kind, gfp: gfp, node: node)
  }
  public static func folioGet(_ m: Machine<Self>, _ folio: Folio) { m.folioGet(folio) }
  public static func folioPut(_ m: Machine<Self>, _ folio: Folio) { m.folioPut(folio) }
  public static func folioContaining(_ m: Machine<Self>, _ pfn: PFN) -> Folio? { m.folio(containing: pfn) }
  public static func folioOrder(_ m: Machine<Self>, _ folio: Folio) -> Int { m.folioOrder(folio) }
  public static func folioRefCount(_ m: Machine<Self>, _ folio: Folio) -> Int { m.folioRefCount(folio) }
  public static func folioKind(_ m: Machine<Self>, _ folio: Folio) -> FolioKind { m.folioKind(folio) }
  public static func folioTest(_ m: Machine<Self>, _ folio: Folio, _ flag: MemFlag) -> Bool { m.folioTest(folio, flag) }
  public static func folioSet(_ m: Machine<Self>, _ folio: Folio, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    try m.folioSet(folio, flag, on)
  }
  public static func setPageFlag(_ m: Machine<Self>, _ pfn: PFN, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    try m.setPageFlag(pfn, flag, on)
  }
  public static func testPageFlag(_ m: Machine<Self>, _ pfn: PFN, _ flag: MemFlag) -> Bool { m.testPageFlag(pfn, flag) }
  public static func compoundHead(_ m: Machine<Self>, _ pfn: PFN) throws(MemdescBug) -> PFN { m.compoundHead(pfn) }
  public static func allocSlab(_ m: Machine<Self>, order: Int) -> PFN? { m.allocSlab(order: order) }
  public static func freeSlab(_ m: Machine<Self>, _ pfn: PFN) { m.freeSlab(pfn) }
  public static func allocPageTable(_ m: Machine<Self>) -> PFN? { m.allocPageTable() }
  public static func freePageTable(_ m: Machine<Self>, _ pfn: PFN) { m.freePageTable(pfn) }
  public static func setNrHugePages(_ m: Machine<Self>, order: Int, count: Int) throws(MachineError) -> Int {
    m.setNrHugePages(order: order, count)
  }
  public static func mapPages(_ m: Machine<Self>, _ folio: Folio, _ range: Range<Int>, _ delta: Int) { m.mapPages(folio, range, delta) }
  public static func mapEntire(_ m: Machine<Self>, _ folio: Folio, _ delta: Int) { m.mapEntire(folio, delta) }
  public static func folioMapcount(_ m: Machine<Self>, _ folio: Folio) -> Int { m.folioMapcount(folio) }
  public static func pageMapcount(_ m: Machine<Self>, _ pfn: PFN) -> Int? { m.pageMapcount(pfn) }
}

extension MemoryModelFormat where Self: MemdescFormat {
  public static func allocFolio(_ m: Machine<Self>, order: Int, kind: FolioKind, gfp: GFP, node: Int) -> Folio? {
    m.allocFolio(order: order, kind: kind, gfp: gfp, node: node)
  }
  public static func folioGet(_ m: Machine<Self>, _ folio: Folio) { m.folioGet(folio) }
  public static func folioPut(_ m: Machine<Self>, _ folio: Folio) { m.folioPut(folio) }
  public static func folioContaining(_ m: Machine<Self>, _ pfn: PFN) -> Folio? { m.pageFolio(pfn) }
  public static func folioOrder(_ m: Machine<Self>, _ folio: Folio) -> Int { m.folioOrder(folio) }
  public static func folioRefCount(_ m: Machine<Self>, _ folio: Folio) -> Int { m.folioRefCount(folio) }
  public static func folioKind(_ m: Machine<Self>, _ folio: Folio) -> FolioKind { m.folioKind(folio) }
  public static func folioTest(_ m: Machine<Self>, _ folio: Folio, _ flag: MemFlag) -> Bool { m.folioTest(folio, flag) }
  public static func folioSet(_ m: Machine<Self>, _ folio: Folio, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    try m.folioSet(folio, flag, on)
  }
  public static func setPageFlag(_ m: Machine<Self>, _ pfn: PFN, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    try m.setPageFlag(pfn, flag, on)
  }
  public static func testPageFlag(_ m: Machine<Self>, _ pfn: PFN, _ flag: MemFlag) -> Bool { m.testPageFlag(pfn, flag) }
  public static func compoundHead(_ m: Machine<Self>, _ pfn: PFN) throws(MemdescBug) -> PFN { try m.compoundHead(pfn) }
  public static func allocSlab(_ m: Machine<Self>, order: Int) -> PFN? { m.allocSlab(order: order) }
  public static func freeSlab(_ m: Machine<Self>, _ pfn: PFN) { m.freeSlab(pfn) }
  public static func allocPageTable(_ m: Machine<Self>) -> PFN? { m.allocPageTable() }
  public static func freePageTable(_ m: Machine<Self>, _ pfn: PFN) { m.freePageTable(pfn) }
  public static func setNrHugePages(_ m: Machine<Self>, order: Int, count: Int) throws(MachineError) -> Int {
    m.setNrHugePages(order: order, count)
  }
  public static func mapPages(_ m: Machine<Self>, _ folio: Folio, _ range: Range<Int>, _ delta: Int) { m.mapPages(folio, range, delta) }
  public static func mapEntire(_ m: Machine<Self>, _ folio: Folio, _ delta: Int) { m.mapEntire(folio, delta) }
  public static func folioMapcount(_ m: Machine<Self>, _ folio: Folio) -> Int { m.folioMapcount(folio) }
  public static func pageMapcount(_ m: Machine<Self>, _ pfn: PFN) -> Int? { m.pageMapcount(pfn) }
}

/// Boots a machine of the configured era behind the one API.
public func bootModel(_ config: MachineConfig) throws(MachineError) -> any MemoryModel {
  try config.validate()
  switch config.era {
  case .classic: return try Machine<ClassicEncoding>(config)
  case .mask: return try Machine<MaskEncoding>(config)
  case .memdesc32: return try Machine<Memdesc32Format>(config)
  case .memdesc8: return try Machine<Memdesc8Format>(config)
  }
}
