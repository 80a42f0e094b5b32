/// Where RAM is in a machine's physical address space, and how the kernel divides it
/// into nodes, zones and sections.
///
/// The layout is pure description: booting a ``Machine`` from it builds the memmap.
public struct PhysicalLayout: Sendable, Equatable {
  /// RAM ranges ("System RAM" in /proc/iomem), sorted, disjoint, page-granular.
  public let ram: [PFNRange]
  /// Node spans, sorted, covering every RAM range. One entry per NUMA node.
  public let nodes: [PFNRange]

  /// Kernel: `max_pfn`, one past the highest RAM frame.
  public var endPFN: PFN { ram.last?.upperBound ?? 0 }
  /// Frames of RAM (holes excluded).
  public var ramPages: Int { ram.reduce(0) { $0 + $1.pageCount } }
  /// Bytes of RAM.
  public var ramBytes: UInt64 { UInt64(ramPages) << UInt64(Kernel.pageShift) }

  /// Sections that hold at least one RAM frame: the kernel populates the memmap of each
  /// of these in full (`sparse_init()`), holes inside them included.
  public var presentSections: [Int] {
    var result: [Int] = []
    for r in ram where !r.isEmpty {
      let first = r.lowerBound.sectionNumber
      let last = (r.upperBound + -1).sectionNumber
      for s in first...last where result.last != s { result.append(s) }
    }
    return result
  }

  /// The node that holds a PFN, by span.
  public func node(of pfn: PFN) -> Int? { nodes.firstIndex { $0.contains(pfn) } }

  /// The node that owns a section (nodes own whole sections).
  public func node(ofSection section: Int) -> Int {
    let start = PFN(UInt64(section) << UInt64(Kernel.pfnSectionShift))
    return node(of: Swift.max(start, nodes[0].lowerBound)) ?? 0
  }

  /// Whether `pfn` is RAM (not a hole).
  public func isRAM(_ pfn: PFN) -> Bool {
    var lo = 0, hi = ram.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if ram[mid].upperBound <= pfn { lo = mid + 1 } else { hi = mid }
    }
    return lo < ram.count && ram[lo].contains(pfn)
  }

  /// Zone spans of one node: the node's span cut at the fixed zone limits, keeping zones
  /// that hold RAM, as `/proc/zoneinfo` reports `start_pfn` and `spanned`
  /// (DMA32 spans to 4 GiB even across the PCI hole).
  public func zoneSpans(node: Int) -> [(zone: ZoneType, span: PFNRange)] {
    let nodeSpan = nodes[node]
    var result: [(ZoneType, PFNRange)] = []
    var lower: PFN = 0
    for zone in [ZoneType.dma, .dma32, .normal] {
      let upper = zone.pfnLimit
      let lo = max(lower, nodeSpan.lowerBound), hi = min(upper, nodeSpan.upperBound)
      lower = upper
      guard lo < hi, presentPages(in: lo..<hi) > 0 else { continue }
      result.append((zone, lo..<hi))
    }
    return result
  }

  /// RAM frames inside `range`.
  public func presentPages(in range: PFNRange) -> Int {
    ram.reduce(0) { total, r in
      let a = max(r.lowerBound, range.lowerBound), b = min(r.upperBound, range.upperBound)
      return a < b ? total + a.distance(to: b) : total
    }
  }

  /// Builds a layout from explicit RAM ranges, split into `nodeCount` nodes of about equal
  /// RAM at section boundaries.
  public init(ram: [PFNRange], nodeCount: Int = 1) throws(LayoutError) {
    let sorted = ram.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
    guard !sorted.isEmpty else { throw .noRAM }
    for (a, b) in zip(sorted, sorted.dropFirst()) where a.upperBound > b.lowerBound {
      throw .overlappingRanges(a, b)
    }
    guard nodeCount >= 1 else { throw .nodeCountBelowOne(nodeCount) }
    self.ram = sorted
    let sections = PhysicalLayout.sections(of: sorted)
    guard nodeCount <= sections.count else { throw .badNodeCount(nodeCount, sections: sections.count) }
    // Nodes own whole sections: split the present sections into runs of nearly equal length.
    var nodes: [PFNRange] = []
    var start = 0
    for n in 0..<nodeCount {
      let count = sections.count / nodeCount + (n < sections.count % nodeCount ? 1 : 0)
      let firstSection = sections[start], lastSection = sections[start + count - 1]
      let lo = n == 0 ? sorted[0].lowerBound : PFN(UInt64(firstSection) << UInt64(Kernel.pfnSectionShift))
      let hi = n == nodeCount - 1
        ? sorted.last!.upperBound : PFN(UInt64(lastSection + 1) << UInt64(Kernel.pfnSectionShift))
      nodes.append(lo..<hi)
      start += count
    }
    self.nodes = nodes
  }

  private static func sections(of ram: [PFNRange]) -> [Int] {
    var result: [Int] = []
    for r in ram {
      for s in r.lowerBound.sectionNumber...(r.upperBound + -1).sectionNumber where result.last != s {
        result.append(s)
      }
    }
    return result
  }

  /// A machine whose RAM starts at PFN 0 with no holes.
  public static func flat(ramBytes: UInt64, nodes: Int = 1) throws(LayoutError) -> PhysicalLayout {
    let pages = try pageCount(ramBytes)
    return try PhysicalLayout(ram: [PFN(0)..<PFN(pages)], nodeCount: nodes)
  }

  /// A PC's layout, as the fixtures' machine has it: PFN 0 and the legacy
  /// 0x9f-0xff window (VGA, option ROMs, BIOS) are not RAM, RAM below 4 GiB stops at
  /// 3 GiB (the PCI hole is 0xc0000-0xfffff), and the rest of the RAM sits above 4 GiB.
  ///
  /// `--ram 24G --layout pc` gives exactly the fixtures' System RAM ranges
  /// 0x1-0x9e, 0x100-0xbffff and 0x100000-0x63ffff.
  public static func pc(ramBytes: UInt64, nodes: Int = 1) throws(LayoutError) -> PhysicalLayout {
    let pages = try pageCount(ramBytes)
    let lowLimit: UInt64 = 0xc0000
    var ram: [PFNRange] = []
    let low = min(pages, lowLimit)
    ram.append(PFN(1)..<PFN(min(low, 0x9f)))
    if low > 0x100 { ram.append(PFN(0x100)..<PFN(low)) }
    if pages > lowLimit { ram.append(PFN(0x100000)..<PFN(0x100000 + pages - lowLimit)) }
    return try PhysicalLayout(ram: ram, nodeCount: nodes)
  }

  /// Parses explicit RAM ranges: `0x1-0x9e,0x100-0xbffff` (inclusive PFNs, as iomem-style
  /// listings print them).
  public static func parseRanges(_ text: String) throws(LayoutError) -> [PFNRange] {
    var result: [PFNRange] = []
    for part in text.split(separator: ",") {
      let ends = part.split(separator: "-", omittingEmptySubsequences: false)
      guard ends.count == 2, let a = parseUnsigned(String(ends[0])), let b = parseUnsigned(String(ends[1])),
        // PFNs of a 52-bit physical address space (the bound was once 2^52 PFNs, and a
        // range that large took the section walk beyond any time limit).
        a <= b, b < (UInt64(1) << 52) >> UInt64(Kernel.pageShift)
      else { throw .badRangeList(String(part)) }
      result.append(PFN(a)..<PFN(b + 1))
    }
    if result.isEmpty { throw .badRangeList(text) }
    return result
  }

  static func pageCount(_ ramBytes: UInt64) throws(LayoutError) -> UInt64 {
    guard ramBytes > 0 else { throw .zeroRAM }
    guard ramBytes % UInt64(Kernel.pageSize) == 0 else { throw .notPageMultiple(ramBytes) }
    // A 52-bit physical address space is x86-64's architectural limit (MAXPHYADDR).
    guard ramBytes <= (UInt64(1) << 52) else { throw .tooLarge(ramBytes) }
    return ramBytes >> UInt64(Kernel.pageShift)
  }
}

/// Why a physical layout cannot be built.
public enum LayoutError: Error, Equatable, CustomStringConvertible {
  case zeroRAM
  case noRAM
  case notPageMultiple(UInt64)
  case tooLarge(UInt64)
  case overlappingRanges(PFNRange, PFNRange)
  case badRangeList(String)
  case badNodeCount(Int, sections: Int)
  case nodeCountBelowOne(Int)

  public var description: String {
    switch self {
    case .zeroRAM: "RAM size must be more than 0 bytes"
    case .noRAM: "the layout has no RAM"
    case .notPageMultiple(let b): "RAM size \(b) bytes is not a multiple of the 4 KiB page size"
    case .tooLarge(let b): "RAM size \(ByteSize.format(b)) is beyond x86-64's 52-bit physical address space (4P)"
    case .overlappingRanges(let a, let b): "RAM ranges \(a) and \(b) overlap"
    case .badRangeList(let s): "cannot read RAM range '\(s)': expected FIRST-LAST PFNs such as 0x100-0xbffff"
    case .badNodeCount(let n, let s): "cannot split RAM into \(n) nodes: it spans \(s) memory section\(s == 1 ? "" : "s") of 128 MiB, and each node needs at least one"
    case .nodeCountBelowOne(let n): "cannot split RAM into \(n) nodes: a machine has at least one node"
    }
  }
}
