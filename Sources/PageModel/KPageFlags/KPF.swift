/// Bits of a `/proc/kpageflags` word.
///
/// Kernel: include/uapi/linux/kernel-page-flags.h (bits 0-26) and
/// include/linux/kernel-page-flags.h (the "kernel hacking" bits from 32).
public enum KPF: Int, CaseIterable, Sendable {
  case locked = 0
  case error = 1
  case referenced = 2
  case uptodate = 3
  case dirty = 4
  case lru = 5
  case active = 6
  case slab = 7
  case writeback = 8
  case reclaim = 9
  case buddy = 10
  case mmap = 11
  case anon = 12
  case swapcache = 13
  case swapbacked = 14
  case compoundHead = 15
  case compoundTail = 16
  /// Kernel: `KPF_HUGE` (hugetlb).
  case huge = 17
  case unevictable = 18
  case hwPoison = 19
  case noPage = 20
  case ksm = 21
  /// Kernel: `KPF_THP`: any large rmappable folio, not only PMD-sized ones.
  case thp = 22
  case offline = 23
  case zeroPage = 24
  case idle = 25
  case pgtable = 26
  case reserved = 32
  case mlocked = 33
  case owner2 = 34
  case `private` = 35
  case private2 = 36
  case ownerPrivate = 37
  case arch = 38
  case uncached = 39
  case softDirty = 40
  case arch2 = 41
  case arch3 = 42

  @inlinable public var mask: UInt64 { 1 << UInt64(rawValue) }
}
