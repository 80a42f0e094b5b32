import PageModel

/// What one kpageflags word says a page is: the one classifier behind the census, the
/// report's map and `explain`.
///
/// The rules, first match wins (facts from docs/kpageflags.md):
/// 1. 0 or KPF_NOPAGE alone: `.zero`. A hole, a section whose struct pages were not
///    initialised (point 2), a kernel allocation without flags, or a free page on a
///    per-CPU list (point 7); which one needs the RAM layout, so the caller decides. NOPAGE
///    is how kernels up to 6.15 mark a PFN without an online struct page (`KernelDecode`).
/// 2. HUGE: `.hugetlb`. HUGE is only set on HugeTLB folios, and it comes before every
///    other bit because a free HugeTLB page in its pool shows neither BUDDY nor LRU.
/// 3. BUDDY: `.free`, on every page of a free block (point 7).
/// 4. SLAB: `.slab`, before ANON and KSM: struct slab overlays the mapping word, so slab
///    pages may show both (point 6).
/// 5. PGTABLE, ZERO_PAGE, OFFLINE, RESERVED: those classes, in that order.
/// 6. ANON: `.anon` (KSM pages included).
/// 7. SWAPBACKED without ANON: `.shmem`.
/// 8. LRU, MMAP, UPTODATE, DIRTY, WRITEBACK or THP: `.file`, page cache. THP is only set on
///    large rmappable folios (point 5), so it adds large page-cache folios not on the LRU
///    and changes nothing for order-0 pages.
/// 9. Anything else: `.other` (flags, but no type: kmalloc_large and other compound
///    pages without a type bit, point 11).
///
/// COMPOUND_HEAD and COMPOUND_TAIL do not change the class: a tail carries its folio's
/// flags (point 4), so every page of a folio has the folio's class. The extent of a folio is
/// `PageClassifier.extent`'s business.
public enum PageClass: UInt8, CaseIterable, Sendable {
  case zero, hugetlb, free, slab, pageTable, zeroPage, offline, reserved, anon, shmem, file, other

  /// Whether pages of this class are folios that `explain` can place in a model
  /// (anonymous, shmem or page cache).
  public var isUserFolio: Bool { self == .anon || self == .shmem || self == .file }
}

public enum PageClassifier {
  static let fileMask = KPF.lru.mask | KPF.mmap.mask | KPF.uptodate.mask | KPF.dirty.mask | KPF.writeback.mask | KPF.thp.mask
  public static let compoundMask = KPF.compoundHead.mask | KPF.compoundTail.mask

  /// The class of one kpageflags word (rules in ``PageClass``).
  @inline(__always)
  public static func classify(_ w: UInt64) -> PageClass {
    if w == 0 || w == KPF.noPage.mask { return .zero }
    if w & KPF.huge.mask != 0 { return .hugetlb }
    if w & KPF.buddy.mask != 0 { return .free }
    if w & KPF.slab.mask != 0 { return .slab }
    if w & KPF.pgtable.mask != 0 { return .pageTable }
    if w & KPF.zeroPage.mask != 0 { return .zeroPage }
    if w & KPF.offline.mask != 0 { return .offline }
    if w & KPF.reserved.mask != 0 { return .reserved }
    if w & KPF.anon.mask != 0 { return .anon }
    if w & KPF.swapbacked.mask != 0 { return .shmem }
    if w & fileMask != 0 { return .file }
    return .other
  }

  /// The word every tail of the folio headed by a page reading `head` reads: the same
  /// flags with COMPOUND_TAIL for COMPOUND_HEAD.
  @inline(__always)
  public static func tailWord(ofHead head: UInt64) -> UInt64 { (head & ~KPF.compoundHead.mask) | KPF.compoundTail.mask }

  /// The PFNs per vmemmap page of 64-byte struct pages: with HVO a HugeTLB page reads as
  /// runs of one head and 63 tails, every head after the first a fake one (point 3).
  public static let hvoFakeHeadStride = 64
}

/// A page of a snapshot with the folio or HugeTLB page around it.
public struct PageExtent: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    /// A page on its own (order 0, or a compound page whose extent could not be read).
    case single
    /// A folio of `order` headed at `head`.
    case folio(head: Int, order: Int)
    /// A HugeTLB page of `order` headed at `head`; `hvo` when its fake heads show.
    case hugetlb(head: Int, order: Int, hvo: Bool)
  }

  public var pfn: Int
  public var word: UInt64
  public var pageClass: PageClass
  public var kind: Kind
}

extension PageClassifier {
  /// The page `pfn` of `snapshot` and its extent, reading a few words around it.
  ///
  /// - A HugeTLB page is taken as 2 MiB when its 2 MiB-aligned block starts with a head,
  ///   else as 1 GiB. With HVO a 1 GiB page also reads a (fake) head at each 2 MiB
  ///   boundary, so an HVO 1 GiB page reads as 2 MiB pages here, as the census's
  ///   ambiguous blocks do without the pools' counts. HVO shows as a HUGE head 64 PFNs
  ///   after the block's start.
  /// - A folio's head is the nearest head at most 1023 PFNs back; its tails are the run
  ///   of `tailWord(ofHead:)` after it. A run that is not an aligned power of two
  ///   containing `pfn` (a folio that changed while it was read, point 8) leaves the
  ///   page `.single`.
  public static func extent(of pfn: Int, in s: PageSnapshot) throws -> PageExtent {
    func words(_ lo: Int, _ hi: Int) throws -> [UInt64] {
      let a = max(0, lo), b = min(s.pfnCount, hi)
      guard a < b else { return [] }
      var buf = [UInt64](repeating: 0, count: b - a)
      try buf.withUnsafeMutableBufferPointer { try s.kpageflags.read(a..<b, into: $0.baseAddress!) }
      return buf
    }
    let w = try words(pfn, pfn + 1)[0]
    let cls = classify(w)
    let head = KPF.compoundHead.mask
    var extent = PageExtent(pfn: pfn, word: w, pageClass: cls, kind: .single)
    if cls == .hugetlb {
      let block = pfn & ~((1 << Hstate.pmd) - 1)
      let bw = try words(block, block + hvoFakeHeadStride + 1)
      let order = bw.first.map { $0 & head == 0 } ?? false ? Hstate.pud : Hstate.pmd
      let hvo = bw.count > hvoFakeHeadStride && bw[hvoFakeHeadStride] & head != 0 && bw[hvoFakeHeadStride] & KPF.huge.mask != 0
      extent.kind = .hugetlb(head: pfn & ~((1 << order) - 1), order: order, hvo: hvo)
    } else if w & compoundMask != 0 && cls.isUserFolio {
      let maxPages = 1 << Kernel.maxPageOrder
      let back = try words(pfn - (maxPages - 1), pfn + 1)
      var h = pfn
      if w & head == 0, let i = back.lastIndex(where: { $0 & head != 0 }) { h = pfn - (back.count - 1 - i) }
      let fwd = try words(h, h + maxPages)
      let tw = tailWord(ofHead: fwd[0])
      var n = 1
      while n < fwd.count && fwd[n] == tw { n += 1 }
      if n & (n - 1) == 0, h & (n - 1) == 0, pfn < h + n { extent.kind = .folio(head: h, order: n.trailingZeroBitCount) }
    }
    return extent
  }
}
