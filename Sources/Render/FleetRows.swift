import PageModel
import Snapshot

/// `memdesc analyze --format jsonl` and the rows `memdesc export --rows-dir` writes: one
/// flat JSON object per snapshot, one line, for SQL engines that read JSON Lines
/// (docs/fleet-rows.md has the schema; contrib/fleet.py checks it).
///
/// Flat because engines infer and prune columns, not nested paths, the same way: every
/// row has every column of its schema version, in the schema's order, with `null` for
/// what the snapshot does not know. A column is only ever added with a new version.
public enum FleetRows {
  /// Bump when a column is added, removed, renamed or changes meaning.
  public static let schemaVersion = 2

  /// The HugeTLB pools that have columns: x86-64's with 4 KiB pages.
  static let pools: [(name: String, column: String)] = [("2048kB", "2m"), ("1048576kB", "1g")]

  /// A value of one column.
  enum Value {
    case int(Int)
    case string(String)
    case null
  }

  /// The row's columns in schema order. Eras not in the analysis are null.
  /// Throws for a HugeTLB pool that schema 1 has no column for.
  static func columns(_ a: SnapshotAnalysis, run: RunInfo, date: String?) throws -> [(String, Value)] {
    let c = a.census
    func str(_ s: String?) -> Value { s.map(Value.string) ?? .null }
    var row: [(String, Value)] = [
      ("schema_version", .int(schemaVersion)),
      ("host", str(run.hostName)),
      ("date", str(date ?? run.capturedAt.map { String($0.prefix(10)) })),
      ("captured_at", str(run.capturedAt)),
      ("kernel_release", str(a.kernelRelease)),
      ("memdesc_version", .string(run.version)),
      ("source", .string(a.source)),
      ("ram_bytes", .int(Int(a.layout.ramBytes))),
      ("pfns", .int(c.pfns)),
      ("present_sections", .int(a.layout.presentSections.count)),
    ]
    for (cls, n) in MetricsOutput.censusClasses(c) { row.append(("\(cls)_pages", .int(n))) }
    for kind in CensusFolioKind.allCases { row.append(("folios_\(kind.rawValue)", .int(c.folioCount(kind)))) }
    for kind in CensusFolioKind.allCases { row.append(("folio_pages_\(kind.rawValue)", .int(c.folioPages(kind)))) }
    for h in c.hugetlb where !pools.contains(where: { $0.name == h.name }) {
      throw RowError(description: "HugeTLB pool \(h.name) has no column in fleet row schema \(schemaVersion) (it has \(pools.map(\.name).joined(separator: " and ")))")
    }
    for p in pools {
      let h = c.hugetlb.first { $0.name == p.name }
      row.append(("hugetlb_\(p.column)_huge_pages", .int(h?.folios ?? 0)))
      row.append(("hugetlb_\(p.column)_hvo_huge_pages", .int(h?.optimized ?? 0)))
    }
    row.append(("hvo_fake_heads_corrected_pages", .int(c.hvoFakeHeadsCorrected)))
    row.append(("kernel_memmap_bytes", a.vmstatMemmapPages.map { .int($0 * a.pageSize) } ?? .null))
    row.append(("crosschecks", .int(a.crosschecks.count)))
    row.append(("crosschecks_agree", .int(a.crosschecks.filter(\.agree).count)))
    for era in Era.allCases {
      let i = a.eras.firstIndex { $0.era == era }
      func v(_ f: (EraCost) -> UInt64) -> Value { i.map { .int(Int(f(a.eras[$0]))) } ?? .null }
      row.append(("\(era.rawValue)_struct_page_bytes", v { UInt64($0.structPageBytes) }))
      row.append(("\(era.rawValue)_memmap_bytes", v(\.memmapBytes)))
      row.append(("\(era.rawValue)_descriptor_bytes", v(\.descriptorBytes)))
      row.append(("\(era.rawValue)_hvo_saved_bytes", v(\.hvoSavedBytes)))
      row.append(("\(era.rawValue)_hvo_pte_table_bytes", v(\.hvoPTETableBytes)))
      row.append(("\(era.rawValue)_total_overhead_bytes", v(\.totalOverheadBytes)))
      row.append(("\(era.rawValue)_total_overhead_all_hvo_bytes", i.map { .int(Int(a.erasAllHVO[$0].totalOverheadBytes)) } ?? .null))
    }
    return row
  }

  /// The column names of schema `schemaVersion`, in order.
  public static var columnNames: [String] {
    var names = ["schema_version", "host", "date", "captured_at", "kernel_release", "memdesc_version", "source", "ram_bytes", "pfns", "present_sections"]
    names += MetricsOutput.censusClasses(Census()).map { "\($0.0)_pages" }
    names += CensusFolioKind.allCases.map { "folios_\($0.rawValue)" } + CensusFolioKind.allCases.map { "folio_pages_\($0.rawValue)" }
    names += pools.flatMap { ["hugetlb_\($0.column)_huge_pages", "hugetlb_\($0.column)_hvo_huge_pages"] }
    names += ["hvo_fake_heads_corrected_pages", "kernel_memmap_bytes", "crosschecks", "crosschecks_agree"]
    for era in Era.allCases {
      names += ["struct_page_bytes", "memmap_bytes", "descriptor_bytes", "hvo_saved_bytes", "hvo_pte_table_bytes", "total_overhead_bytes", "total_overhead_all_hvo_bytes"].map { "\(era.rawValue)_\($0)" }
    }
    return names
  }

  /// One row as one JSON line (with its newline). `date` overrides the capture date.
  public static func line(_ a: SnapshotAnalysis, run: RunInfo, date: String? = nil) throws -> String {
    var out = "{"
    for (i, (key, value)) in try columns(a, run: run, date: date).enumerated() {
      if i > 0 { out += "," }
      out += jsonString(key) + ":"
      switch value {
      case .int(let n): out += String(n)
      case .string(let s): out += jsonString(s)
      case .null: out += "null"
      }
    }
    return out + "}\n"
  }

  /// A JSON string literal (RFC 8259: quote, backslash and control characters escaped).
  static func jsonString(_ s: String) -> String {
    "\"" + escaping(s) { u in
      switch u {
      case "\"": return "\\\""
      case "\\": return "\\\\"
      case "\n": return "\\n"
      case "\r": return "\\r"
      case "\t": return "\\t"
      default:
        guard u.value < 0x20 else { return nil }
        let hex = String(u.value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      }
    } + "\""
  }

  /// A row that cannot be written under this schema.
  public struct RowError: Error, CustomStringConvertible {
    public var description: String
  }
}
