import PageModel

/// The memory blocks of /sys/devices/system/memory at capture, as the snapshot's
/// `memory-blocks` section stores them (format version 3):
///
///     block_size_bytes 8000000
///     memory0 0 online
///     memory32 20 offline
///
/// The first line is `block_size_bytes` as sysfs prints it (hex, no `0x`); then one line
/// per block directory: its name, its `phys_index` (hex: the first memory section of the
/// block) and its `state` (`online`, `offline` or `going-offline`).
///
/// Kernel: drivers/base/memory.c (`block_size_bytes_show()`, `phys_index_show()`,
/// `state_show()`).
public struct MemoryBlocks: Equatable, Sendable {
  public struct Block: Equatable, Sendable {
    public var id: Int
    /// The block's first section.
    public var firstSection: Int
    public var state: String
    public var isOnline: Bool { state == "online" }
  }

  public var blockBytes: Int
  public var blocks: [Block]
  public static let states = ["online", "offline", "going-offline"]
  /// Sections per block, at least 1.
  public var sectionsPerBlock: Int { max(1, blockBytes >> (Kernel.pfnSectionShift + Kernel.pageShift)) }

  /// The section text this value is read from.
  public var text: String {
    "block_size_bytes \(String(blockBytes, radix: 16))\n"
      + blocks.map { "memory\($0.id) \(String($0.firstSection, radix: 16)) \($0.state)\n" }.joined()
  }

  /// Reads the section; every malformed line is an error naming the line.
  public static func parse(_ text: String, path: String) throws -> MemoryBlocks {
    let sectionBytes = 1 << (Kernel.pfnSectionShift + Kernel.pageShift)
    // 52-bit physical addresses bound every section number and block size.
    let maxSections = 1 << (52 - Kernel.pfnSectionShift - Kernel.pageShift)
    var result = MemoryBlocks(blockBytes: 0, blocks: [])
    var ids = Set<Int>()
    for (n, raw) in try ProcText.lines(text, path: path) {
      let f = ProcText.fields(raw)
      if n == 1 {
        guard f.count == 2, f[0] == "block_size_bytes", let v = hex(f[1]), v >= sectionBytes, v <= 1 << 52, v & (v - 1) == 0 else {
          throw ProcText.bad(path, n, raw, "expected 'block_size_bytes HEX', a power of two from one section (\(sectionBytes) bytes) to 2^52")
        }
        result.blockBytes = v
        continue
      }
      guard f.count == 3, f[0].hasPrefix("memory"), let id = Int(f[0].dropFirst(6)), f[0].dropFirst(6).allSatisfy({ $0.isASCII && $0.isNumber }),
        id < maxSections, let first = hex(f[1]), first < maxSections, states.contains(String(f[2]))
      else {
        throw ProcText.bad(path, n, raw, "expected 'memoryN PHYS_INDEX STATE' with N decimal, PHYS_INDEX a hex section number below 2^\(52 - Kernel.pfnSectionShift - Kernel.pageShift) and STATE one of \(states.joined(separator: ", "))")
      }
      guard ids.insert(id).inserted else { throw ProcText.bad(path, n, raw, "memory\(id) is listed twice") }
      result.blocks.append(Block(id: id, firstSection: first, state: String(f[2])))
    }
    guard result.blockBytes > 0 else { throw SnapshotError(.badText, path: path, "empty: the first line must be 'block_size_bytes HEX'") }
    return result
  }

  static func hex(_ s: Substring) -> Int? {
    guard !s.isEmpty, s.count <= 16, s.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { return nil }
    return Int(s, radix: 16)
  }

  /// One bit per section of `sectionCount` sections, set where the section is in a block
  /// that is not online.
  public func offlineSections(sectionCount: Int) -> [UInt64] {
    var bits = [UInt64](repeating: 0, count: (sectionCount + 63) / 64)
    for b in blocks where !b.isOnline {
      let lo = b.firstSection, hi = min(sectionCount, b.firstSection + sectionsPerBlock)
      guard lo < hi else { continue }
      for s in lo..<hi { bits[s >> 6] |= 1 << UInt64(s & 63) }
    }
    return bits
  }

  /// The blocks of a live machine, from `sys`/devices/system/memory; nil when the kernel
  /// has no memory hotplug directory (CONFIG_MEMORY_HOTPLUG off).
  public static func live(sys: String = "/sys") throws -> MemoryBlocks? {
    let dir = FileIO.join(sys, "devices/system/memory")
    guard let sizeText = try? FileIO.readText(FileIO.join(dir, "block_size_bytes")) else { return nil }
    var lines = ["block_size_bytes \(sizeText.trimmingWhitespace())"]
    let names = PageSnapshot.directoryEntries(dir).filter { $0.hasPrefix("memory") && Int($0.dropFirst(6)) != nil }
    for name in names.sorted(by: { Int($0.dropFirst(6))! < Int($1.dropFirst(6))! }) {
      let d = FileIO.join(dir, name)
      // A block removed while the directory is read is left out.
      guard let phys = try? FileIO.readText(FileIO.join(d, "phys_index")), let state = try? FileIO.readText(FileIO.join(d, "state")) else { continue }
      lines.append("\(name) \(phys.trimmingWhitespace()) \(state.trimmingWhitespace())")
    }
    let text = lines.map { $0 + "\n" }.joined()
    return try parse(text, path: dir)
  }
}

extension PageSnapshot {
  /// The parsed `memory-blocks` section, if the snapshot has one.
  public func memoryBlocks() throws -> MemoryBlocks? {
    guard let t = texts["memory-blocks"] else { return nil }
    return try MemoryBlocks.parse(t, path: describePath("memory-blocks"))
  }
}
