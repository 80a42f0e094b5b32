
#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The page state of one machine at one moment: the three kpage arrays, the /proc and
/// /sys text files read with them, and what is known about the capture.
///
/// Open one from any of the four sources with `PageSnapshot.open(_:)` (auto-detected) or
/// the specific initialisers; `PageSnapshot.live()` reads this machine.
public struct PageSnapshot: Sendable {
  /// The kind of source a snapshot was read from.
  public enum Origin: Equatable, Sendable, CustomStringConvertible {
    /// This machine's /proc and /sys.
    case live
    /// A directory in the fixtures' layout.
    case rawDirectory(String)
    /// A bare kpageflags dump, as `page-types -F` reads it.
    case kpageflagsDump(String)
    /// A Memdesc snapshot file.
    case snapshotFile(String)
    /// A bare kpageflags dump read once from a pipe: `standard input` or a FIFO's path.
    case kpageflagsStream(String)

    public var description: String {
      switch self {
      case .live: "live"
      case .rawDirectory(let p): "raw directory \(p)"
      case .kpageflagsDump(let p): "kpageflags dump \(p)"
      case .snapshotFile(let p): "snapshot file \(p)"
      case .kpageflagsStream(let p): "kpageflags stream \(p)"
      }
    }
  }

  public var origin: Origin
  public var kpageflags: KPageArray
  public var kpagecount: KPageArray?
  public var kpagecgroup: KPageArray?
  /// Text files by name (`meminfo`, `vmstat`, `zoneinfo`, `buddyinfo`, `iomem`,
  /// `hugepages`, and where present `pagetypeinfo`, `slabinfo`, `meminfo.after`,
  /// `vmstat.after`), verbatim.
  public var texts: [String: String]
  public var metadata: SnapshotMetadata
  /// The kernel to decode kpageflags as, given by the user (`--kernel`); nil: the
  /// snapshot's own release decides.
  public var kernelOverride: KernelDecode?

  /// How this snapshot's kpageflags are read: `kernelOverride`, else the release's.
  public var kernelDecode: KernelDecode { kernelOverride ?? KernelDecode.of(release: metadata.kernelRelease) }

  /// The text files a source may carry, in the order a capture reads and stores them.
  /// The `.after` copies are read right after the kpage files (docs/kpageflags.md point 8).
  public static let textNames = [
    "meminfo", "vmstat", "zoneinfo", "buddyinfo", "iomem", "pagetypeinfo", "slabinfo", "hugepages", "meminfo.after", "vmstat.after", "cgroups",
    "memory-blocks",
  ]

  /// Number of PFNs (the length of kpageflags in words).
  public var pfnCount: Int { kpageflags.count }

  /// Whether kpageflags words with a bit that page-types has no name for are read as
  /// they are (true) or refused with an error naming the file, PFN and bit (false, the
  /// default: such a word means the file is not kpageflags, or comes from a kernel newer
  /// than page-types' table). See `KPageArray.refusedBits`.
  public var acceptsUnknownFlags: Bool {
    get { kpageflags.refusedBits == 0 }
    nonmutating set { kpageflags.refusedBits = newValue ? 0 : PageTypesSummary.unnamedBits }
  }

  /// The kpage arrays present, kpageflags first.
  public var arrays: [KPageArray] { [kpageflags] + [kpagecount, kpagecgroup].compactMap { $0 } }

  /// The parsed `hugepages` text, if the source has one.
  public func hugepages() throws -> HugepagesInfo? {
    guard let text = texts["hugepages"] else { return nil }
    return try HugepagesInfo.parse(text, path: describePath("hugepages"))
  }

  func describePath(_ name: String) -> String {
    switch origin {
    case .live: name
    case .rawDirectory(let d): FileIO.join(d, name)
    case .kpageflagsDump(let p), .snapshotFile(let p), .kpageflagsStream(let p): "\(p) (\(name))"
    }
  }

  public init(origin: Origin, kpageflags: KPageArray, kpagecount: KPageArray? = nil, kpagecgroup: KPageArray? = nil, texts: [String: String] = [:], metadata: SnapshotMetadata = SnapshotMetadata()) throws {
    self.origin = origin
    self.kpageflags = kpageflags
    self.kpagecount = kpagecount
    self.kpagecgroup = kpagecgroup
    self.texts = texts
    self.metadata = metadata
    for other in [kpagecount, kpagecgroup].compactMap({ $0 }) where other.count != kpageflags.count {
      throw SnapshotError(
        .lengthMismatch, path: other.path,
        "\(other.file.rawValue) has \(other.count) PFNs (\(other.count * 8) bytes) but kpageflags has \(kpageflags.count) PFNs (\(kpageflags.count * 8) bytes); the three files must cover the same PFNs")
    }
  }

  // MARK: opening sources

  /// Whether `path` names a stream for `open(_:streams:)`: `-` (standard input) or a FIFO.
  public static func isStream(_ path: String) throws -> Bool {
    if path == "-" { return true }
    guard try FileIO.fileType(path) == .other else { return false }
    var st = stat()
    return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO
  }

  /// Opens any source, telling the kind from the path: a directory is a raw directory, a
  /// file starting with the snapshot magic is a Memdesc snapshot, any other file is a bare
  /// kpageflags dump (gzip if it starts with 1f 8b, else raw). With `streams`, `-` and a
  /// FIFO are bare dumps read once as a stream (`openStream`); without, they are refused
  /// (the caller reads its source more than once, or needs its length first).
  public static func open(_ path: String, streams: Bool = false) throws -> PageSnapshot {
    if try isStream(path) {
      guard streams else {
        throw SnapshotError(.wrongFileType, path: path == "-" ? "standard input" : path, "is a stream, which is read once, front to back; only 'analyze' and 'snapshot summary' read one: save it to a file first")
      }
      return try openStream(path)
    }
    switch try FileIO.fileType(path) {
    case nil: throw SnapshotError(.notFound, path: path, "no such file or directory")
    case .directory: return try openRawDirectory(path)
    case .other: throw SnapshotError(.wrongFileType, path: path, "is neither a regular file, a directory nor a FIFO")
    case .regular:
      var head = [UInt8](repeating: 0, count: SnapshotFormat.magic.count)
      let n = try FileIO.withFile(path) { fd in
        try head.withUnsafeMutableBytes { try FileIO.pread(fd, path: path, into: $0.baseAddress!, count: $0.count, offset: 0) }
      }
      if n == head.count && head == SnapshotFormat.magic { return try SnapshotFormat.read(path) }
      return try openKPageflagsDump(path)
    }
  }

  /// Opens a bare kpageflags dump (raw, or gzip by its magic) on standard input (`-`) or a
  /// FIFO, to be read once: its kpageflags array `isStream`, its PFN count is 0 until a
  /// scan (the census, the page-types histogram) has read it all, and a look-up by PFN is
  /// refused. The first bytes are read here (an empty stream, or a snapshot file, is refused).
  public static func openStream(_ path: String) throws -> PageSnapshot {
    let stream = try KPageStream.open(path)
    return try PageSnapshot(origin: .kpageflagsStream(stream.path), kpageflags: KPageArray(stream: stream))
  }

  /// Opens a bare kpageflags dump (raw, or gzip by its magic), as `page-types -F` reads it.
  public static func openKPageflagsDump(_ path: String) throws -> PageSnapshot {
    let flags = try openKPageFile(.kpageflags, path: path)
    return try PageSnapshot(origin: .kpageflagsDump(path), kpageflags: flags)
  }

  /// Opens a directory in the fixtures' layout: `kpageflags` or `kpageflags.gz`
  /// (required), `kpagecount[.gz]`, `kpagecgroup[.gz]`, the text files named in
  /// `textNames`, and `kernel-release` (all optional).
  public static func openRawDirectory(_ dir: String) throws -> PageSnapshot {
    switch try FileIO.fileType(dir) {
    case nil: throw SnapshotError(.notFound, path: dir, "no such directory")
    case .directory: break
    default: throw SnapshotError(.wrongFileType, path: dir, "is not a directory")
    }
    var arrays: [KPageFile: KPageArray] = [:]
    for file in KPageFile.allCases {
      for name in [file.rawValue, file.rawValue + ".gz"] {
        let p = FileIO.join(dir, name)
        if try FileIO.fileType(p) != nil {
          arrays[file] = try openKPageFile(file, path: p)
          break
        }
      }
    }
    guard let flags = arrays[.kpageflags] else {
      throw SnapshotError(.notFound, path: dir, "no kpageflags or kpageflags.gz in this directory (a raw snapshot directory needs at least kpageflags)")
    }
    var texts: [String: String] = [:]
    for name in textNames {
      let p = FileIO.join(dir, name)
      if try FileIO.fileType(p) != nil { texts[name] = try FileIO.readText(p) }
    }
    var meta = SnapshotMetadata()
    let release = FileIO.join(dir, "kernel-release")
    if try FileIO.fileType(release) != nil {
      meta.kernelRelease = try FileIO.readText(release).trimmingWhitespace()
    }
    return try PageSnapshot(origin: .rawDirectory(dir), kpageflags: flags, kpagecount: arrays[.kpagecount], kpagecgroup: arrays[.kpagecgroup], texts: texts, metadata: meta)
  }

  /// Opens one kpage file: gzip (by its magic) is read as a stream (decoded once here to
  /// learn its size and check it, then again as the words are read, never held whole:
  /// `GzipWords`); a raw file is read on demand with `pread`. The size must be a non-zero
  /// multiple of 8.
  public static func openKPageFile(_ file: KPageFile, path: String) throws -> KPageArray {
    let fd = try FileIO.openForReading(path)
    var owned = true
    defer { if owned { try? fd.close() } }
    let size = try FileIO.size(fd, path: path)
    guard size > 0 else {
      throw SnapshotError(.badSize, path: path, "empty file: a \(file.rawValue) dump holds one 8-byte word per PFN")
    }
    var head = [UInt8](repeating: 0, count: 2)
    let n = try head.withUnsafeMutableBytes { try FileIO.pread(fd, path: path, into: $0.baseAddress!, count: 2, offset: 0) }
    if n == 2 && head == [0x1f, 0x8b] {
      let words = try GzipWords(fd: fd, path: path)
      owned = false  // the stream closes it
      guard words.size > 0 else { throw SnapshotError(.badSize, path: path, "decompresses to nothing: a \(file.rawValue) dump holds one 8-byte word per PFN") }
      guard words.size % 8 == 0 else {
        throw SnapshotError(.badSize, path: path, offset: UInt64(words.size - words.size % 8), "decompressed size \(words.size) bytes is not a multiple of 8 (one u64 per PFN)")
      }
      return KPageArray(file: file, path: path, count: words.size / 8, chunkWords: 1 << 14, backing: .gzip(words))
    }
    guard size % 8 == 0 else {
      throw SnapshotError(.badSize, path: path, offset: size - size % 8, "size \(size) bytes is not a multiple of 8 (one u64 per PFN)")
    }
    owned = false
    // 128 KiB chunks: the copy from the page cache and the scan stay in the L2 cache.
    return KPageArray(file: file, path: path, count: Int(size / 8), chunkWords: 1 << 14, backing: .file(fd: fd))
  }
}

/// What is known about a snapshot besides its data.
public struct SnapshotMetadata: Equatable, Sendable {
  /// `uname -r` of the machine.
  public var kernelRelease: String?
  /// The machine's host name.
  public var hostName: String?
  /// Capture time, ISO 8601 UTC (`2026-11-27T16:20:00Z`).
  public var capturedAt: String?
  /// Seconds the kpage files took to read.
  public var captureSeconds: Double?
  /// The machine's page size in bytes (4096 unless recorded otherwise).
  public var pageSize: Int = 4096
  /// Key/value pairs this version does not interpret, kept as read.
  public var extra: [(String, String)] = []

  public init() {}

  public static func == (a: SnapshotMetadata, b: SnapshotMetadata) -> Bool {
    a.kernelRelease == b.kernelRelease && a.hostName == b.hostName && a.capturedAt == b.capturedAt
      && a.captureSeconds == b.captureSeconds && a.pageSize == b.pageSize
      && a.extra.map { "\($0)=\($1)" } == b.extra.map { "\($0)=\($1)" }
  }
}

/// The HugeTLB pools: one entry per hstate and `vm.hugetlb_optimize_vmemmap`, from
/// /sys/kernel/mm/hugepages/*/ and /proc/sys/vm, in the fixtures' `hugepages` text form:
///
///     hugepages-2048kB nr_hugepages=N free_hugepages=N resv_hugepages=N surplus_hugepages=N nr_overcommit_hugepages=N
///     vm.hugetlb_optimize_vmemmap=N
///
/// Kernel: mm/hugetlb_sysfs.c (the per-hstate attributes) and mm/hugetlb_vmemmap.c
/// (`hugetlb_optimize_vmemmap` sysctl).
public struct HugepagesInfo: Equatable, Sendable {
  public struct Hstate: Equatable, Sendable {
    /// The sysfs directory name without `hugepages-`: `2048kB`, `1048576kB`.
    public var name: String
    public var sizeKB: Int
    public var nrHugepages: Int
    public var freeHugepages: Int
    public var resvHugepages: Int
    public var surplusHugepages: Int
    public var nrOvercommitHugepages: Int
  }

  public var hstates: [Hstate]
  /// `vm.hugetlb_optimize_vmemmap`, nil where not recorded.
  public var optimizeVmemmap: Int?

  public static let attributes = ["nr_hugepages", "free_hugepages", "resv_hugepages", "surplus_hugepages", "nr_overcommit_hugepages"]

  /// Parses the `hugepages` text; a line that cannot be read is an error naming it.
  public static func parse(_ text: String, path: String) throws -> HugepagesInfo {
    var info = HugepagesInfo(hstates: [], optimizeVmemmap: nil)
    for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingWhitespace()
      if line.isEmpty { continue }
      func bad(_ why: String) -> SnapshotError { SnapshotError(.badText, path: path, "line \(n + 1) '\(line)': \(why)") }
      if line.hasPrefix("vm.hugetlb_optimize_vmemmap=") {
        guard let v = Int(line.dropFirst("vm.hugetlb_optimize_vmemmap=".count)) else { throw bad("not a number") }
        info.optimizeVmemmap = v
        continue
      }
      let fields = line.split(separator: " ")
      guard let first = fields.first, first.hasPrefix("hugepages-"), first.hasSuffix("kB"),
        let size = Int(first.dropFirst("hugepages-".count).dropLast(2)), size > 0
      else { throw bad("expected 'hugepages-<size>kB key=value ...' or 'vm.hugetlb_optimize_vmemmap=N'") }
      // Bounded so that sizes in bytes and pages cannot overflow (the largest hstate of any architecture is 16 GiB).
      guard size <= 1 << 40 else { throw bad("huge page size \(size) kB is larger than 1 PiB") }
      var values: [String: Int] = [:]
      for f in fields.dropFirst() {
        let kv = f.split(separator: "=", maxSplits: 1)
        guard kv.count == 2, let v = Int(kv[1]), v >= 0 else { throw bad("cannot read '\(f)' as key=count") }
        values[String(kv[0])] = v
      }
      info.hstates.append(
        Hstate(
          name: String(first.dropFirst("hugepages-".count)), sizeKB: size, nrHugepages: values["nr_hugepages"] ?? 0,
          freeHugepages: values["free_hugepages"] ?? 0, resvHugepages: values["resv_hugepages"] ?? 0,
          surplusHugepages: values["surplus_hugepages"] ?? 0, nrOvercommitHugepages: values["nr_overcommit_hugepages"] ?? 0))
    }
    return info
  }
}

extension StringProtocol {
  func trimmingWhitespace() -> String {
    var s = Substring(self)
    while let f = s.first, f.isWhitespace { s = s.dropFirst() }
    while let l = s.last, l.isWhitespace { s = s.dropLast() }
    return String(s)
  }
}
