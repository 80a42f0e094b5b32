/// Where a flag lives once folios are separately allocated.
public enum FlagHome: String, Sendable {
  /// Stays in `page->flags`: a property of each page.
  case page
  /// Lives only in `folio->flags`.
  case folio
  /// Goes away.
  case gone
}

/// The page flags of the seed email's split (Wilcox, 9 Jan 2026), as data the eras
/// enforce: in the memdesc eras a folio flag cannot be set on a page, and a gone flag
/// cannot be set at all.
public enum MemFlag: String, CaseIterable, Sendable {
  case hwPoison, reserved, anonExclusive
  case writeback, referenced, uptodate, dirty, lru, active, workingset, owner1, owner2
  case reclaim, swapbacked, unevictable, dropbehind, mlocked, young, idle
  case hasHWPoisoned, largeRmappable, partiallyMapped
  case head, `private`, private2

  public var home: FlagHome {
    switch self {
    case .hwPoison, .reserved, .anonExclusive: .page
    case .head, .private, .private2: .gone
    default: .folio
    }
  }

  /// The `PG_*` bit that holds the flag in the 64-byte eras (on the page, the head, or
  /// the first tail, as `onFirstTail` says).
  public var pageFlag: PageFlag {
    switch self {
    case .hwPoison: .hwPoison
    case .reserved: .reserved
    case .anonExclusive: .owner2
    case .writeback: .writeback
    case .referenced: .referenced
    case .uptodate: .uptodate
    case .dirty: .dirty
    case .lru: .lru
    case .active: .active
    case .workingset: .workingset
    case .owner1: .ownerPriv1
    case .owner2: .owner2
    case .reclaim: .reclaim
    case .swapbacked: .swapbacked
    case .unevictable: .unevictable
    case .dropbehind: .dropbehind
    case .mlocked: .mlocked
    case .young: .young
    case .idle: .idle
    case .hasHWPoisoned: .hasHWPoisoned
    case .largeRmappable: .largeRmappable
    case .partiallyMapped: .partiallyMapped
    case .head: .head
    case .private: .private
    case .private2: .private2
    }
  }

  /// Kernel: the `PF_SECOND` flags, kept in the first tail's flags (aliases of active,
  /// workingset and reclaim there).
  public var onFirstTail: Bool { self == .hasHWPoisoned || self == .largeRmappable || self == .partiallyMapped }

  /// The bit in a memdesc-era `folio->flags`: the page-flag bit, except that the three
  /// first-tail flags, which alias other bits today, get bits of their own (24-26).
  public var folioBit: UInt64 {
    switch self {
    case .hasHWPoisoned: 1 << 24
    case .largeRmappable: 1 << 25
    case .partiallyMapped: 1 << 26
    default: pageFlag.mask
    }
  }

  /// Flags a caller may set on a folio (folio-home flags).
  public static let folioFlags = allCases.filter { $0.home == .folio }
  /// Flags that stay per page.
  public static let pageFlags = allCases.filter { $0.home == .page }
}

/// An operation the era's rules refuse, or a kernel `BUG()`: a typed error tests observe.
public enum MemdescBug: Error, Equatable, CustomStringConvertible {
  /// Kernel (memdesc plan): `compound_head()` on a page owned by a folio, slab or other
  /// memdesc is a BUG; callers must use `page_folio()`.
  case compoundHeadOnOwnedPage(PFN, MemdescType)
  /// A folio flag set (or cleared) on a page: in the memdesc eras it exists only in the folio.
  case folioFlagOnPage(MemFlag, PFN)
  /// A flag that no longer exists in this era.
  case goneFlag(MemFlag)
  /// A per-page flag on an era whose struct page has no flags word.
  case noPageFlags(MemFlag, Era)
  /// A page that is not in a folio, where a folio is needed.
  case notAFolio(PFN)
  /// A first-tail (`PF_SECOND`) flag on a folio of one page.
  case notLarge(MemFlag, PFN)
  /// A per-page flag other than HWPoison on a tail of a HugeTLB folio: HugeTLB keeps it
  /// on the head. Kernel: `VM_BUG_ON_PGFLAGS(PageHuge(page) && !PageHead(page))` in
  /// `SetPageAnonExclusive()`.
  case hugetlbTailFlag(MemFlag, PFN)
  /// HWPoison on a free page of the 8-byte era: the retype needs the page off the free
  /// lists (`take_page_off_buddy()`), which the model does not do.
  case hwPoisonFreePage(PFN)
  /// No memory for the descriptor the operation needs.
  case noDescriptorMemory(DescriptorKind)

  public var description: String {
    switch self {
    case .compoundHeadOnOwnedPage(let pfn, let t): "BUG: compound_head() on PFN \(pfn), which belongs to a memdesc of type \(t); use page_folio()"
    case .folioFlagOnPage(let f, let pfn): "\(f) is a folio flag in this era: set it on the folio, not on page \(pfn)"
    case .goneFlag(let f): "\(f) does not exist in this era"
    case .noPageFlags(let f, let era): "era \(era.rawValue) has no per-page flags word for \(f)"
    case .notAFolio(let pfn): "PFN \(pfn) is not in a folio"
    case .notLarge(let f, let pfn): "\(f) is a large-folio flag and the folio at \(pfn) has one page"
    case .hugetlbTailFlag(let f, let pfn): "\(f) of a HugeTLB folio lives on its head page, not on tail \(pfn)"
    case .hwPoisonFreePage(let pfn): "PFN \(pfn) is free: the 8-byte era poisons only pages taken off the free lists"
    case .noDescriptorMemory(let k): "no memory for a \(k.rawValue) descriptor"
    }
  }
}

/// What a folio is for.
public enum FolioKind: String, CaseIterable, Sendable {
  case anon, file
}
