import PageModel

/// Where a snapshot's RAM is: iomem's "System RAM" ranges when it has them, else the
/// 128 MiB sections with at least one non-zero kpageflags word (holes and sections whose
/// struct pages were never initialised then look the same, docs/kpageflags.md point 2).
public struct SnapshotRAM: Sendable, Equatable {
  /// RAM ranges clipped to the snapshot's PFNs, ascending.
  public var ranges: [PFNRange]
  /// Whether the ranges come from iomem.
  public var known: Bool

  public var pfns: Int { ranges.reduce(0) { $0 + $1.pageCount } }

  /// iomem's System RAM ranges, unclipped; nil when the snapshot has no iomem or it
  /// lists none.
  public static func systemRAM(_ snapshot: PageSnapshot) throws -> [PFNRange]? {
    guard let iomem = snapshot.texts["iomem"] else { return nil }
    return try ProcText.systemRAM(iomem, path: snapshot.describePath("iomem"), pageSize: snapshot.metadata.pageSize)
  }

  /// The RAM of `snapshot` without a census: iomem once, or one pass that only tests
  /// words for zero when there is no iomem.
  public static func of(_ snapshot: PageSnapshot) throws -> SnapshotRAM {
    if let ram = try systemRAM(snapshot) { return SnapshotRAM(ranges: clip(ram, pfns: snapshot.pfnCount), known: true) }
    let shift = Kernel.pfnSectionShift
    var nonzero = [Bool](repeating: false, count: (snapshot.pfnCount >> shift) + 1)
    try snapshot.kpageflags.forEachChunk { start, words in
      var i = 0
      while i < words.count {
        let section = (start + i) >> shift
        let end = min(words.count, ((section + 1) << shift) - start)
        if !nonzero[section] && words[i..<end].contains(where: { $0 != 0 }) { nonzero[section] = true }
        i = end
      }
    }
    return SnapshotRAM(ranges: sectionRanges(pfns: snapshot.pfnCount) { nonzero[$0] }, known: false)
  }

  static func clip(_ ram: [PFNRange], pfns: Int) -> [PFNRange] {
    let limit = PFN(pfns)
    return ram.compactMap { r in
      let hi = min(r.upperBound, limit)
      return r.lowerBound < hi ? r.lowerBound..<hi : nil
    }
  }

  /// The sections for which `nonzero` holds, merged into ranges.
  static func sectionRanges(pfns: Int, _ nonzero: (Int) -> Bool) -> [PFNRange] {
    let sectionPFNs = 1 << Kernel.pfnSectionShift
    var ranges: [PFNRange] = []
    for s in 0..<(pfns + sectionPFNs - 1) / sectionPFNs where nonzero(s) {
      let lo = PFN(s * sectionPFNs), hi = PFN(min(pfns, (s + 1) * sectionPFNs))
      if let last = ranges.last, last.upperBound == lo { ranges[ranges.count - 1] = last.lowerBound..<hi } else { ranges.append(lo..<hi) }
    }
    return ranges
  }

  /// The RAM as a model layout (one node: the cost does not depend on nodes).
  public func layout(path: String) throws -> PhysicalLayout {
    do {
      return try PhysicalLayout(ram: ranges, nodeCount: 1)
    } catch {
      throw SnapshotError(.badText, path: path, "cannot model this machine's RAM: \(error) (kpageflags reads all zero and there is no iomem?)")
    }
  }
}
