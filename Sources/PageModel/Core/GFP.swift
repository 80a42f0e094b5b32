/// Allocation flags: which zone a request may use and what to prepare.
///
/// Kernel: `gfp_t` (include/linux/gfp_types.h). Only the bits the model acts on exist.
public struct GFP: OptionSet, Sendable, Hashable {
  public let rawValue: UInt32
  @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// Kernel: `__GFP_DMA`: ZONE_DMA only.
  @inlinable public static var dma: GFP { GFP(rawValue: 1 << 0) }
  /// Kernel: `__GFP_DMA32`: ZONE_DMA32 and below.
  @inlinable public static var dma32: GFP { GFP(rawValue: 1 << 2) }
  /// Kernel: `__GFP_MOVABLE`.
  @inlinable public static var movable: GFP { GFP(rawValue: 1 << 3) }
  /// Kernel: `__GFP_COMP`: make a compound page of a multi-page block.
  @inlinable public static var comp: GFP { GFP(rawValue: 1 << 18) }
  /// Kernel: `__GFP_THISNODE`: no fallback to other nodes.
  @inlinable public static var thisNode: GFP { GFP(rawValue: 1 << 21) }

  /// Kernel: `GFP_KERNEL` (zone bits only: Normal and below).
  @inlinable public static var kernel: GFP { [] }
  /// Kernel: `GFP_HIGHUSER_MOVABLE`.
  @inlinable public static var highUserMovable: GFP { [.movable] }

  /// The highest zone the flags allow. Kernel: `gfp_zone()` (ZONE_MOVABLE is empty in the
  /// model, so movable requests start at Normal).
  @inlinable public var highestZone: ZoneType {
    if contains(.dma) { return .dma }
    if contains(.dma32) { return .dma32 }
    return .normal
  }
}
