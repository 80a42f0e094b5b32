/// Bits of a `/proc/kpageflags` word.
///
/// Kernel: include/uapi/linux/kernel-page-flags.h (bits 0-26) and
/// include/linux/kernel-page-flags.h (the "kernel hacking" bits from 32).
/// Each case is the kernel's `KPF_*` name in Swift case (`compoundHead` is
/// `KPF_COMPOUND_HEAD`); the numbers run on from the first of each line.
public enum KPF: Int, CaseIterable, Sendable {
  case locked = 0, error, referenced, uptodate, dirty, lru, active, slab, writeback, reclaim, buddy
  case mmap = 11, anon, swapcache, swapbacked, compoundHead, compoundTail
  /// Kernel: `KPF_HUGE` (hugetlb).
  case huge = 17
  case unevictable = 18, hwPoison, noPage, ksm
  /// Kernel: `KPF_THP`: any large rmappable folio, not only PMD-sized ones.
  case thp = 22
  case offline = 23, zeroPage, idle, pgtable
  // Kernel-internal bits, reported from bit 32.
  case reserved = 32, mlocked, owner2, `private`, private2, ownerPrivate, arch, uncached, softDirty, arch2, arch3

  @inlinable public var mask: UInt64 { 1 << UInt64(rawValue) }
}
