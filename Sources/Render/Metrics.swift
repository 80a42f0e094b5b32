import PageModel
import Snapshot

/// What a run knows beyond the analysis itself: who produced it, how long the census
/// took, and the snapshot's own metadata that `SnapshotAnalysis` does not carry (host,
/// capture time).
public struct RunInfo: Sendable {
  /// Memdesc's version (`memdesc --version`).
  public var version: String
  /// Seconds the snapshot's census and projection took in this run.
  public var scanSeconds: Double
  /// The machine's host name, when the snapshot recorded it (or the user gave it).
  public var hostName: String?
  /// Capture time, ISO 8601 UTC (`2026-11-27T16:20:00Z`), when recorded.
  public var capturedAt: String?
  /// Seconds the kpage files took to read at capture, when recorded.
  public var captureSeconds: Double?

  public init(version: String, scanSeconds: Double, hostName: String? = nil, capturedAt: String? = nil, captureSeconds: Double? = nil) {
    self.version = version
    self.scanSeconds = scanSeconds
    self.hostName = hostName
    self.capturedAt = capturedAt
    self.captureSeconds = captureSeconds
  }

  /// `capturedAt` as seconds since the epoch; nil when absent or not of the form
  /// `YYYY-MM-DDTHH:MM:SSZ` (the only form Memdesc writes).
  public var capturedAtEpochSeconds: Int? { capturedAt.flatMap(ISOTime.epochSeconds) }
}

/// ISO 8601 UTC times as Memdesc writes them, read back without Foundation's calendar.
public enum ISOTime {
  /// Seconds since 1970-01-01T00:00:00Z of `YYYY-MM-DDTHH:MM:SSZ`; nil for anything else.
  public static func epochSeconds(_ s: String) -> Int? {
    let b = Array(s.utf8)
    guard b.count == 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
          b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[19] == UInt8(ascii: "Z") else { return nil }
    func num(_ r: Range<Int>) -> Int? {
      var v = 0
      for i in r {
        guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
        v = v * 10 + Int(b[i] - 0x30)
      }
      return v
    }
    guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16), let sec = num(17..<19),
          (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61 else { return nil }
    return days(year: y, month: mo, day: d) * 86400 + h * 3600 + mi * 60 + sec
  }

  /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
  /// days_from_civil): eras of 400 years, each 146097 days.
  static func days(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
  }
}

/// The two exposition formats Memdesc writes, for the two kinds of reader.
public enum MetricsDialect: Sendable {
  /// OpenMetrics 1.0 text (`--format openmetrics`): `# UNIT` lines and the closing
  /// `# EOF`, for scrapers and `promtool check metrics`.
  case openMetrics
  /// The Prometheus text format 0.0.4 that node_exporter's textfile collector parses:
  /// the same families and samples without `# UNIT` and `# EOF`, which that parser
  /// does not know (it takes them as comments; the file stays the older format so that
  /// it means the same to every 0.0.4 reader).
  case prometheusText
}

/// `memdesc analyze --format openmetrics` and the textfile collector's `memdesc.prom`.
///
/// Every family is a gauge: a snapshot is a state, not a count since a start, so there
/// is no `_total`. The names and labels are documented in docs/metrics.md and are kept
/// stable; each label takes a bounded set of values (eras, kinds, orders 0-18, pools,
/// cross-check names), never a PFN.
public enum MetricsOutput {
  /// `extra` families follow the analysis's own (`analyze --by cgroup` adds its).
  public static func render(_ a: SnapshotAnalysis, run: RunInfo, dialect: MetricsDialect) -> String { render(a, run: run, dialect: dialect, extra: []) }

  static func render(_ a: SnapshotAnalysis, run: RunInfo, dialect: MetricsDialect, extra: [Family]) -> String {
    var out = ""
    for f in families(a, run: run) + extra where !f.samples.isEmpty {
      out += "# HELP \(f.name) \(escapeHelp(f.help))\n"
      out += "# TYPE \(f.name) gauge\n"
      if dialect == .openMetrics, let unit = f.unit { out += "# UNIT \(f.name) \(unit)\n" }
      for s in f.samples {
        out += f.name
        if !s.labels.isEmpty {
          out += "{" + s.labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        out += " " + s.value + "\n"
      }
    }
    if dialect == .openMetrics { out += "# EOF\n" }
    return out
  }

  /// One metric family: a gauge with its help text, unit and samples.
  struct Family {
    var name: String
    var help: String
    var unit: String?
    var samples: [(labels: [(String, String)], value: String)] = []

    init(_ name: String, unit: String? = nil, _ help: String) {
      self.name = name
      self.unit = unit
      self.help = help
    }

    mutating func add(_ labels: [(String, String)], _ value: some BinaryInteger) { samples.append((labels, String(value))) }
    mutating func add(_ value: some BinaryInteger) { add([], value) }
    mutating func add(seconds: Double) { samples.append(([], formatSeconds(seconds))) }
  }

  static func families(_ a: SnapshotAnalysis, run: RunInfo) -> [Family] {
    let c = a.census
    var fs: [Family] = []

    var build = Family("memdesc_build_info", "Memdesc's version and the analysed machine's kernel release; the value is always 1.")
    build.add([("version", run.version), ("kernel_release", a.kernelRelease ?? "unknown")], 1)
    fs.append(build)

    var stamp = Family("memdesc_snapshot_timestamp_seconds", unit: "seconds", "When the snapshot was captured, in seconds since the epoch (absent when the source does not record it).")
    if let t = run.capturedAtEpochSeconds { stamp.add(t) }
    fs.append(stamp)

    var capture = Family("memdesc_capture_duration_seconds", unit: "seconds", "Seconds the capture took to read the kpage files (absent when not recorded).")
    if let s = run.captureSeconds { capture.add(seconds: s) }
    fs.append(capture)

    var scan = Family("memdesc_scan_duration_seconds", unit: "seconds", "Seconds this run took for the census of the snapshot and the projection of every era.")
    scan.add(seconds: run.scanSeconds)
    fs.append(scan)

    var ram = Family("memdesc_ram_bytes", unit: "bytes", "RAM of the machine (iomem System RAM, or the non-zero sections), as the projection costs it.")
    ram.add(a.layout.ramBytes)
    fs.append(ram)

    var pages = Family("memdesc_pages", unit: "pages", "Base pages (PFNs) of the census by class.")
    for (cls, n) in censusClasses(c) { pages.add([("class", cls)], n) }
    fs.append(pages)

    var folios = Family("memdesc_folios", "Folios by kind and order.")
    var folioPages = Family("memdesc_folio_pages", unit: "pages", "Base pages in folios by kind and order.")
    for kind in CensusFolioKind.allCases {
      for (order, n) in (c.folios[kind] ?? [:]).sorted(by: { $0.key < $1.key }) where n > 0 {
        folios.add([("kind", kind.rawValue), ("order", String(order))], n)
        folioPages.add([("kind", kind.rawValue), ("order", String(order))], n << order)
      }
    }
    fs += [folios, folioPages]

    var slabs = Family("memdesc_slabs", "Slabs by order (a compound slab is one slab of its order).")
    for (order, n) in c.slabs.sorted(by: { $0.key < $1.key }) where n > 0 { slabs.add([("order", String(order))], n) }
    fs.append(slabs)

    var huge = Family("memdesc_hugetlb_huge_pages", unit: "pages", "HugeTLB huge pages found per pool (hstate) and HVO state (optimized: the vmemmap was optimised).")
    var pool = Family("memdesc_hugetlb_pool_huge_pages", unit: "pages", "The pool's nr_hugepages as the snapshot recorded it.")
    for h in c.hugetlb {
      huge.add([("pool", h.name), ("hvo", "optimized")], h.optimized)
      huge.add([("pool", h.name), ("hvo", "unoptimized")], h.folios - h.optimized)
      if let p = h.poolPages { pool.add([("pool", h.name)], p) }
    }
    fs += [huge, pool]

    var fake = Family("memdesc_hvo_fake_heads_corrected_pages", unit: "pages", "PFNs of HVO-optimised huge pages that read COMPOUND_HEAD without being heads, recognised and not counted as folios.")
    fake.add(c.hvoFakeHeadsCorrected)
    fs.append(fake)

    var kernelMemmap = Family("memdesc_kernel_memmap_bytes", unit: "bytes", "The real machine's memmap: vmstat nr_memmap_boot_pages + nr_memmap_pages (absent without vmstat).")
    if let v = a.vmstatMemmapPages { kernelMemmap.add(v * a.pageSize) }
    fs.append(kernelMemmap)

    var structPage = Family("memdesc_struct_page_bytes", unit: "bytes", "Size of one struct page in the era.")
    var memmap = Family("memdesc_memmap_bytes", unit: "bytes", "The era's memmap on this machine's RAM, with HVO as the snapshot had it.")
    var descriptors = Family("memdesc_descriptor_bytes", unit: "bytes", "Frames of the era's separately allocated descriptors, by descriptor type (0 in the 64-byte eras).")
    var saved = Family("memdesc_hvo_saved_bytes", unit: "bytes", "Memmap the era's HVO frees for the HugeTLB pages that had it, less the PTE tables of the vmemmap PMDs it splits.")
    var tables = Family("memdesc_hvo_pte_table_bytes", unit: "bytes", "Page-table frames of the vmemmap PMDs the era's HVO splits, one per PMD (outside vmstat's memmap counters).")
    var total = Family("memdesc_total_overhead_bytes", unit: "bytes", "The era's memmap plus descriptors plus HVO's PTE tables: what describing this machine's memory costs.")
    var totalAll = Family("memdesc_total_overhead_all_hvo_bytes", unit: "bytes", "The era's total overhead if every HugeTLB page had HVO.")
    for (e, all) in zip(a.eras, a.erasAllHVO) {
      let era = [("era", e.era.rawValue)]
      structPage.add(era, e.structPageBytes)
      memmap.add(era, e.memmapBytes)
      for kind in DescriptorKind.allCases { descriptors.add(era + [("type", kind.rawValue)], (e.descriptorFrames[kind] ?? 0) << Kernel.pageShift) }
      saved.add(era, e.hvoSavedBytes)
      tables.add(era, e.hvoPTETableBytes)
      total.add(era, e.totalOverheadBytes)
      totalAll.add(era, all.totalOverheadBytes)
    }
    fs += [structPage, memmap, descriptors, saved, tables, total, totalAll]

    var agree = Family("memdesc_crosscheck_agreement", "1 when the census agrees exactly with the kernel's own counter for the check, else 0.")
    for x in a.crosschecks { agree.add([("check", x.name)], x.agree ? 1 : 0) }
    fs.append(agree)
    return fs
  }

  /// The census classes of `memdesc_pages{class}`, each a field of `analyze --format json`'s census.
  static func censusClasses(_ c: Census) -> [(String, Int)] { c.classPages.map { ($0.name, $0.pages) } }

  /// Seconds with millisecond-or-better precision and no exponent.
  static func formatSeconds(_ s: Double) -> String { formatFixed(max(0, s), decimals: 6) }

  /// A label value: backslash, quote and newline escaped (both formats).
  static func escapeLabel(_ s: String) -> String {
    escaping(s) { $0 == "\\" ? "\\\\" : $0 == "\"" ? "\\\"" : $0 == "\n" ? "\\n" : nil }
  }

  /// HELP text: backslash and newline escaped.
  static func escapeHelp(_ s: String) -> String {
    escaping(s) { $0 == "\\" ? "\\\\" : $0 == "\n" ? "\\n" : nil }
  }
}

/// `s` with every scalar that `replace` maps replaced by its escape sequence.
func escaping(_ s: String, _ replace: (Unicode.Scalar) -> String?) -> String {
  var o = ""
  for u in s.unicodeScalars {
    if let r = replace(u) { o += r } else { o.unicodeScalars.append(u) }
  }
  return o
}
