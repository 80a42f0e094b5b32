/// Per-page flags of HugeTLB pages, written once for every era.
///
/// The kernel never writes a tail's struct page of a HugeTLB folio for them, because
/// with HVO that struct page is read-only:
///
/// - HWPoison of any page of the folio sets the folio's HWPoison (the head's flag) and
///   records the raw page in a list hung off the folio (`_hugetlb_hwpoison`); the raw
///   pages get the flag only when the folio is dissolved, after its vmemmap is restored.
///   Kernel: `folio_set_hugetlb_hwpoison()`, `is_raw_hwpoison_page_in_hugepage()`,
///   `folio_clear_hugetlb_hwpoison()` (mm/memory-failure.c).
/// - AnonExclusive is kept on the head page only ("HugeTLB stores this information on
///   the head page", `PageAnonExclusive()`; setting it on a tail is a `VM_BUG_ON`).
///
/// So every write these make lands in the head's vmemmap page, which HVO keeps writable
/// in every era.
extension HugetlbFamily {
  /// The HugeTLB pool folio that holds `pfn`, if any.
  public func hugetlbFolio(containing pfn: PFN) -> Folio? {
    guard let f = folio(containing: pfn), isHugetlbFolio(f) else { return nil }
    return f
  }

  /// Sets or clears a per-page flag on a page of a HugeTLB folio, as the kernel does
  /// (see the extension's comment); a tail's AnonExclusive or Reserved is refused.
  func setHugetlbPageFlag(_ folio: Folio, _ pfn: PFN, _ flag: MemFlag, _ on: Bool) throws(MemdescBug) {
    guard flag == .hwPoison else {
      guard pfn == folio.pfn else { throw .hugetlbTailFlag(flag, pfn) }
      return try setHeadPageFlag(folio, flag, on)
    }
    var raw = hugetlb.rawHWPoison[folio.pfn] ?? []
    if on { raw.insert(pfn) } else { raw.remove(pfn) }
    hugetlb.rawHWPoison[folio.pfn] = raw.isEmpty ? nil : raw
    try setHeadPageFlag(folio, .hwPoison, !raw.isEmpty)
  }

  /// Whether a per-page flag is set on a page of a HugeTLB folio: HWPoison from the
  /// folio's raw list, the others from the head.
  func testHugetlbPageFlag(_ folio: Folio, _ pfn: PFN, _ flag: MemFlag) -> Bool {
    if flag == .hwPoison { return hugetlb.rawHWPoison[folio.pfn]?.contains(pfn) ?? false }
    return pfn == folio.pfn && testHeadPageFlag(folio, flag)
  }
}
