/// Free memory as the snapshot shows it three ways, and the RAM that reads zero.
///
/// The census sees only pages on the free lists (PageBuddy); buddyinfo counts the same
/// lists. MemFree is the zone counter `NR_FREE_PAGES` as meminfo reports it, and a kernel
/// that initialises struct pages lazily (deferred struct-page init) may count memory as
/// free before it is on any list: those sections read zero in kpageflags, so a free-page
/// figure from kpageflags alone would miss most of the free RAM.
public struct FreeMemory: Sendable, Equatable {
  /// Free (BUDDY) pages the census found.
  public var buddyPages: Int
  /// buddyinfo's free blocks, in pages, when the snapshot has it.
  public var buddyinfoPages: Int?
  /// meminfo MemFree in pages, when the snapshot has it.
  public var memFreePages: Int?
  /// RAM in whole sections that read zero, and how many such sections.
  public var zeroSectionPages: Int
  public var zeroSections: Int
  /// The causes of those sections (`ZeroSectionCause` order).
  public var zeroCauses: [ZeroSectionCause]
  /// RAM reading zero outside those sections (kernel pages without flags, per-CPU lists).
  public var noFlagPages: Int

  public init(census c: Census, memFreePages: Int?) {
    buddyPages = c.buddyPages
    buddyinfoPages = c.buddyinfoPages
    self.memFreePages = memFreePages
    zeroSectionPages = c.zeroSectionRAMPFNs
    zeroSections = c.zeroRAMSections
    zeroCauses = ZeroSectionCause.allCases.filter { c.zeroSectionCauses[$0] != nil }
    noFlagPages = c.noFlagRAMPFNs
  }

  /// Free pages MemFree counts beyond the free lists (buddyinfo, else the census).
  public var offListPages: Int? { memFreePages.map { max(0, $0 - (buddyinfoPages ?? buddyPages)) } }

  /// Whether the pages MemFree counts off the free lists fit in the all-zero sections,
  /// so that those sections explain them (their memory is free but not initialised).
  public var zeroSectionsExplainOffList: Bool {
    guard let off = offListPages, zeroSections > 0 else { return false }
    return off > 0 && off <= zeroSectionPages
  }

  /// Whether most of the free RAM is where kpageflags cannot see it: a free-page figure
  /// from the census (or buddyinfo) is then only a part of what is free.
  public var mostFreeUnseen: Bool { (offListPages ?? 0) > (buddyinfoPages ?? buddyPages) }
}
