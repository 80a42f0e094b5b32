/// How a tail `struct page` of the 64-byte eras finds its head.
///
/// Implementations are enums with static methods so that the machine is specialised per
/// era at compile time (the kernel's `compound_info_has_mask()` is a compile-time
/// constant too) and `compoundHead` has no era switch in it.
public protocol CompoundEncoding: ListHeadAtOffset8 {
  /// The `compound_info` word of every tail of a compound page of `order` whose head
  /// struct page is at `headAddress`. Kernel: `set_compound_head()`.
  static func tailInfo(headAddress: UInt64, order: Int) -> UInt64
  /// The head struct page address of the page at `pageAddress` whose word at offset 8 is
  /// `info`, branch-free. Kernel: `_compound_head()` (v7 16/18 form).
  static func head(ofPageAt pageAddress: UInt64, info: UInt64) -> UInt64
  /// The same decode with the branches the kernel had before it went branch-free.
  static func headBranchy(ofPageAt pageAddress: UInt64, info: UInt64) -> UInt64
  /// Whether HVO makes fake heads in this era (tail vmemmap pages alias the head's frame).
  static var hvoAliasesHead: Bool { get }
}

/// The classic encoding: a tail stores its head's address with bit 0 set.
///
/// Kernel: `set_compound_head()` before the fake-head series: `(unsigned long)head + 1`.
public enum ClassicEncoding: CompoundEncoding {
  public static let era = Era.classic
  public static let hvoAliasesHead = true

  @inlinable @inline(__always)
  public static func tailInfo(headAddress: UInt64, order: Int) -> UInt64 { headAddress | 1 }

  /// Kernel: `_compound_head()` with `!compound_info_has_mask()`:
  /// `(info & 1) ? info - 1 : page`, as a select.
  @inlinable @inline(__always)
  public static func head(ofPageAt pageAddress: UInt64, info: UInt64) -> UInt64 {
    let tail = 0 &- (info & 1)  // all ones for a tail
    return (pageAddress & ~tail) | ((info &- 1) & tail)
  }

  @inlinable
  public static func headBranchy(ofPageAt pageAddress: UInt64, info: UInt64) -> UInt64 {
    if info & 1 != 0 { return info &- 1 }
    return pageAddress
  }
}

/// The mask encoding of Linux 7.1: a tail stores `GENMASK(63, order + 6) | 1` and the
/// head is the tail's own address with the low bits masked off.
///
/// Kernel: `set_compound_head()` / `_compound_head()` with `compound_info_has_mask()`.
public enum MaskEncoding: CompoundEncoding {
  public static let era = Era.mask
  public static let hvoAliasesHead = false

  /// Kernel: `GENMASK(BITS_PER_LONG - 1, order + order_base_2(sizeof(struct page))) | 1`.
  @inlinable @inline(__always)
  public static func tailInfo(headAddress: UInt64, order: Int) -> UInt64 {
    (UInt64.max << UInt64(order + Kernel.structPageShift)) | 1
  }

  /// Kernel: `_compound_head()`, branch-free: `m = (info & 1) - 1; m |= info; page & m`.
  /// A non-tail has bit 0 clear, so `m` is all ones; a tail's `m` is its mask, whose bit
  /// 0 the page address (64-byte aligned) never has.
  @inlinable @inline(__always)
  public static func head(ofPageAt pageAddress: UInt64, info: UInt64) -> UInt64 {
    var m = (info & 1) &- 1
    m |= info
    return pageAddress & m
  }

  @inlinable
  public static func headBranchy(ofPageAt pageAddress: UInt64, info: UInt64) -> UInt64 {
    if info & 1 == 0 { return pageAddress }
    return pageAddress & info
  }
}
