/// A page frame number: the index of a 4 KiB frame of physical memory.
///
/// Kernel: `unsigned long pfn`, as used by `pfn_to_page()` and `page_to_pfn()`.
@frozen
public struct PFN: RawRepresentable, Hashable, Comparable, Strideable, Sendable,
  ExpressibleByIntegerLiteral, CustomStringConvertible
{
  public var rawValue: UInt64

  @inlinable @inline(__always)
  public init(rawValue: UInt64) { self.rawValue = rawValue }
  @inlinable @inline(__always)
  public init(_ value: UInt64) { self.rawValue = value }
  @inlinable @inline(__always)
  public init(_ value: Int) { self.rawValue = UInt64(truncatingIfNeeded: value) }
  @inlinable @inline(__always)
  public init(integerLiteral value: UInt64) { self.rawValue = value }

  /// The physical address of the frame's first byte.
  @inlinable public var physicalAddress: UInt64 { rawValue << UInt64(Kernel.pageShift) }
  /// The 128 MiB memory section that holds the frame. Kernel: `pfn_to_section_nr()`.
  @inlinable public var sectionNumber: Int { Int(rawValue >> UInt64(Kernel.pfnSectionShift)) }
  /// Whether the frame is aligned to a block of `1 << order` frames.
  @inlinable @inline(__always)
  public func isAligned(toOrder order: Int) -> Bool { rawValue & ((1 << UInt64(order)) &- 1) == 0 }

  @inlinable @inline(__always)
  public static func < (a: PFN, b: PFN) -> Bool { a.rawValue < b.rawValue }
  @inlinable @inline(__always)
  public func distance(to other: PFN) -> Int { Int(bitPattern: UInt(other.rawValue &- rawValue)) }
  @inlinable @inline(__always)
  public func advanced(by n: Int) -> PFN { PFN(rawValue: rawValue &+ UInt64(bitPattern: Int64(n))) }
  @inlinable @inline(__always)
  public static func + (a: PFN, n: Int) -> PFN { a.advanced(by: n) }

  public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// A half-open range of PFNs, `[start, end)`.
public typealias PFNRange = Range<PFN>

extension Range where Bound == PFN {
  /// Number of frames in the range.
  @inlinable public var pageCount: Int { lowerBound.distance(to: upperBound) }
}
