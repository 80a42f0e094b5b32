import PageModel

/// Everything the HTML report shows: the analysis, the physical map (from the same
/// pass over kpageflags as the census), and the HVO picture of each era from the model
/// (made by the caller: this reader module boots no model). Render draws it.
public struct SnapshotReport: Sendable {
  public var analysis: SnapshotAnalysis
  public var map: PhysicalMap
  public var hvo: [HVOPicture]
  public var metadata: SnapshotMetadata
  /// A sentence shown at the top (the demo says what it is).
  public var preface: String?
  /// The census by memory cgroup, when the report shows it (`report --by-cgroup`).
  public var cgroups: CgroupCensus? = nil

  /// Analyses `snapshot` and builds its map in one pass over kpageflags, with iomem read
  /// once: the census's workers count each chunk's map cells where they scan it, and the
  /// census's merger assembles them in PFN order (``MapSidePass``).
  public static func of(_ snapshot: PageSnapshot, eras: [Era] = Era.allCases, pageExt: PageExt = .none, hvo: [HVOPicture], maxRuns: Int = PhysicalMapBuilder.defaultMaxRuns, preface: String? = nil, threads: Int = Parallel.defaultThreads) throws -> SnapshotReport {
    let ram = try SnapshotRAM.systemRAM(snapshot)
    let builder = PhysicalMapBuilder(pfns: snapshot.pfnCount, ram: ram, pageSize: snapshot.metadata.pageSize, maxRuns: maxRuns)
    let analysis = try SnapshotAnalysis.of(snapshot, eras: eras, pageExt: pageExt, systemRAM: ram, threads: threads, side: MapSidePass(builder))
    return SnapshotReport(analysis: analysis, map: builder.finish(), hvo: hvo, metadata: snapshot.metadata, preface: preface)
  }

  /// Writes `html` to `path` atomically (temporary file in the same directory, fsync,
  /// rename): on any error nothing is left at `path` (an old file there stays).
  public static func write(_ html: String, to path: String) throws {
    do {
      try FileIO.writeAtomically(path, text: html)
    } catch let e as SnapshotError {
      throw SnapshotError(e.kind, path: path, "cannot write the report: \(e.message)")
    }
  }
}
