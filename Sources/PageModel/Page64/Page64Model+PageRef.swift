/// Speculative references, as PFN walkers (compaction, memory failure) take them.
extension Page64Model {
  /// Adds `nr` to a page's refcount unless it is `u`; returns whether it did.
  ///
  /// In the classic era a fake head mirrors the real head's (possibly non-zero)
  /// refcount from a read-only frame, so the kernel first asks
  /// `page_count_writable()`: with the static key on, a page whose count is `u`, or a
  /// fake head, is not written. In the mask era every read-only struct page is a plain
  /// tail with refcount 0, so the test on the count alone keeps the add away from it.
  /// A write that reaches a read-only frame anyway is a ``VmemmapFault``.
  ///
  /// Kernel: `page_ref_add_unless()` (include/linux/page_ref.h), with
  /// `page_count_writable()` before the fake-head series.
  public func pageRefAddUnless(_ pfn: PFN, _ nr: Int, _ u: Int) throws(VmemmapFault) -> Bool {
    let p = page(pfn)
    let count = Int(memmap.load(p, StructPageLayout.refcount, as: UInt32.self))
    if Format.hvoAliasesHead && counters.pointee.hugetlbOptimizeVmemmapKey != 0 {
      if count == u || pageFixedFakeHead(p) != p { return false }
    }
    guard count != u else { return false }
    try memmap.store(p, StructPageLayout.refcount, UInt32(truncatingIfNeeded: count + nr))
    return true
  }
}
