/// The x86-64 memory zones.
///
/// Kernel: `enum zone_type` (include/linux/mmzone.h). `rawValue` is the zone number
/// stored in `page->flags`.
public enum ZoneType: Int, CaseIterable, Sendable, Comparable {
  /// Kernel: `ZONE_DMA`, physical memory below 16 MiB.
  case dma = 0
  /// Kernel: `ZONE_DMA32`, physical memory below 4 GiB.
  case dma32 = 1
  /// Kernel: `ZONE_NORMAL`.
  case normal = 2
  /// Kernel: `ZONE_MOVABLE` (empty unless `movablecore=` asks for it; not modelled).
  case movable = 3
  /// Kernel: `ZONE_DEVICE` (not modelled).
  case device = 4

  /// The name `/proc/zoneinfo` prints.
  public var name: String {
    switch self {
    case .dma: "DMA"
    case .dma32: "DMA32"
    case .normal: "Normal"
    case .movable: "Movable"
    case .device: "Device"
    }
  }

  /// First PFN above this zone's fixed upper limit (x86-64 `MAX_DMA_PFN`, `MAX_DMA32_PFN`).
  public var pfnLimit: PFN {
    switch self {
    case .dma: PFN(0x1000)  // 16 MiB
    case .dma32: PFN(0x100000)  // 4 GiB
    default: PFN(UInt64.max >> 12)
    }
  }

  /// The zone whose fixed PFN limits hold `pfn` (DMA, DMA32 or Normal).
  /// Kernel: the zone boundaries `zone_sizes_init()` sets from `MAX_DMA_PFN` and `MAX_DMA32_PFN`.
  @inlinable @inline(__always)
  public static func of(_ pfn: PFN) -> ZoneType {
    pfn.rawValue < 0x1000 ? .dma : pfn.rawValue < 0x100000 ? .dma32 : .normal
  }

  public static func < (a: ZoneType, b: ZoneType) -> Bool { a.rawValue < b.rawValue }
}
