/// A HugeTLB page size and its pool.
///
/// Kernel: `struct hstate` (include/linux/hugetlb.h).
public struct Hstate: Sendable, Equatable {
  /// Kernel: `huge_page_order()`: 9 for 2 MiB, 18 for 1 GiB.
  public let order: Int
  /// Free huge pages in the pool. Kernel: `h->hugepage_freelists`.
  public internal(set) var folios: [Folio] = []

  public init(order: Int) { self.order = order }

  /// Kernel: `pages_per_huge_page()`.
  public var pagesPerHugePage: Int { 1 << order }
  /// Size in KiB, as sysfs names it (`hugepages-2048kB`).
  public var sizeKB: Int { pagesPerHugePage * Kernel.pageSize / 1024 }
  /// Kernel: the sysfs directory name, `hugepages-<size>kB`.
  public var name: String { "hugepages-\(sizeKB)kB" }
  /// Kernel: `h->nr_huge_pages`.
  public var nrHugePages: Int { folios.count }
  /// vmemmap pages that describe one huge page in an era: 8 for 2 MiB and 4096 for
  /// 1 GiB with the 64-byte struct page, 4 and 2048 with 32 bytes, 1 and 512 with 8.
  /// Kernel: `hugetlb_vmemmap_size(h) / PAGE_SIZE`.
  public func vmemmapPages(_ era: Era) -> Int { Self.vmemmapPages(order: order, structPageBytes: era.structPageBytes) }
  /// The one copy of that formula: vmemmap pages of a block of 2^order struct pages of
  /// `structPageBytes` each (at least one).
  static func vmemmapPages(order: Int, structPageBytes: Int) -> Int { max((structPageBytes << order) >> Kernel.pageShift, 1) }

  /// Frames an optimised huge page keeps mapped of its own: the head's writable vmemmap
  /// page in every era, and in the memdesc eras the folio's read-only copy of its tail
  /// vmemmap pages (classic tails map the head frame; the mask era's shared tail frame
  /// belongs to the zone and is counted apart).
  public static func hvoKeptPages(_ era: Era) -> Int {
    switch era {
    case .classic, .mask: 1
    case .memdesc32, .memdesc8: 2
    }
  }

  /// vmemmap pages HVO frees per huge page, net: 7 and 4095 in the 64-byte eras, 2 and
  /// 2046 in memdesc32, 0 and 510 in memdesc8; none where the page has no more vmemmap
  /// pages than HVO keeps. Kernel: `hugetlb_vmemmap_optimizable_size(h) / PAGE_SIZE`.
  public func optimizablePages(_ era: Era) -> Int { Self.optimizablePages(order: order, era) }
  /// The same for a huge page of `order`, without a pool.
  public static func optimizablePages(order: Int, _ era: Era) -> Int {
    max(vmemmapPages(order: order, structPageBytes: era.structPageBytes) - hvoKeptPages(era), 0)
  }

  /// The two x86-64 huge page sizes.
  public static let pmd = 9
  public static let pud = 18
}

/// The HugeTLB state of a machine: the pools and the `hugetlb_optimize_vmemmap` switch.
public final class HugetlbState {
  /// Kernel: `HPG_vmemmap_optimized`, a bit of the hugetlb folio's private flags.
  public static let hpgVmemmapOptimized: UInt64 = 1 << 4

  /// Pools by order: 2 MiB and 1 GiB.
  public internal(set) var hstates: [Hstate] = [Hstate(order: Hstate.pmd), Hstate(order: Hstate.pud)]
  /// Kernel: sysctl `vm.hugetlb_optimize_vmemmap`; applies to huge pages allocated after
  /// it is set.
  public var optimizeVmemmap = false
  /// Folios whose vmemmap is optimised. Kernel: `HPG_vmemmap_optimized`.
  public internal(set) var optimized = Set<PFN>()
  /// Raw HWPoison pages of each HugeTLB folio, by folio. Kernel: the `raw_hwp_page`
  /// list at `folio->_hugetlb_hwpoison`.
  public internal(set) var rawHWPoison: [PFN: Set<PFN>] = [:]
  /// The mask era's shared read-only tail frames. Kernel: `zone->vmemmap_tails[order - 7]`.
  public internal(set) var vmemmapTails: [Key: PFN] = [:]
  /// Pages asked for at boot, by order (`hugepages=` on the command line).
  public internal(set) var bootRequested: [Int: Int] = [:]
  public struct Key: Hashable, Sendable {
    public let zone: Int
    public let order: Int
  }

  init() {}

  func index(ofOrder order: Int) -> Int? { hstates.firstIndex { $0.order == order } }
}
