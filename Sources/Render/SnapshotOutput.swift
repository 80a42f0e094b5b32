import PageModel
import Snapshot

/// `memdesc snapshot info`, `capture` and `summary`.
public enum SnapshotOutput {
  /// The files a source holds: kpage arrays, then the text files present.
  static func files(_ s: PageSnapshot) -> [String] {
    s.arrays.map(\.file.rawValue) + PageSnapshot.textNames.filter { s.texts[$0] != nil }
  }

  public static func infoText(_ s: PageSnapshot, sections: [SnapshotFormat.SectionInfo]) -> String {
    let m = s.metadata
    var out = ""
    func line(_ t: String) { out += t + "\n" }
    line("source          \(s.origin)")
    line("kernel release  \(m.kernelRelease ?? "unknown")")
    if let h = m.hostName { line("host name       \(h)") }
    if let t = m.capturedAt { line("captured at     \(t)\(m.captureSeconds.map { " (kpage files read in \($0) s)" } ?? "")") }
    line("page size       \(m.pageSize)")
    line("PFNs            \(s.pfnCount) (\(hex(s.pfnCount)), \(Fmt.bytes(UInt64(s.pfnCount) * UInt64(m.pageSize))) of physical address space)")
    line("kpage files     \(s.arrays.map(\.file.rawValue).joined(separator: ", "))")
    line("text files      \(PageSnapshot.textNames.filter { s.texts[$0] != nil }.joined(separator: ", "))")
    if !sections.isEmpty {
      line("sections        name          stored bytes   decoded bytes")
      for sec in sections {
        line("                \(sec.name.rightPadded(13)) \(String(sec.storedBytes).leftPadded(12))   \(String(sec.decodedBytes).leftPadded(13))")
      }
    }
    return out
  }

  public static func infoJSON(_ s: PageSnapshot, sections: [SnapshotFormat.SectionInfo]) throws -> String {
    try JSONOutput.render(InfoJSON(s, sections: sections))
  }

  struct InfoJSON: Encodable {
    struct Section: Encodable {
      var name, encoding: String
      var storedBytes, decodedBytes: Int
      enum CodingKeys: String, CodingKey { case name, encoding, storedBytes = "stored_bytes", decodedBytes = "decoded_bytes" }
    }
    var source: String
    @Nullable var kernelRelease: String?
    @Nullable var hostName: String?
    @Nullable var capturedAt: String?
    @Nullable var captureSeconds: Double?
    var pageSize, pfns: Int
    var files: [String]
    var sections: [Section]
    enum CodingKeys: String, CodingKey {
      case source, kernelRelease = "kernel_release", hostName = "host_name", capturedAt = "captured_at", captureSeconds = "capture_seconds"
      case pageSize = "page_size", pfns, files, sections
    }
    init(_ s: PageSnapshot, sections: [SnapshotFormat.SectionInfo]) {
      source = s.origin.description
      kernelRelease = s.metadata.kernelRelease
      hostName = s.metadata.hostName
      capturedAt = s.metadata.capturedAt
      captureSeconds = s.metadata.captureSeconds
      pageSize = s.metadata.pageSize
      pfns = s.pfnCount
      files = SnapshotOutput.files(s)
      self.sections = sections.map { Section(name: $0.name, encoding: $0.encoding == .words ? "u64-runs" : "bytes", storedBytes: $0.storedBytes, decodedBytes: $0.decodedBytes) }
    }
  }

  /// What `capture` prints when the file is written.
  public static func written(_ report: SnapshotFormat.WriteReport, pfns: Int, seconds: Double) -> String {
    var out = "wrote \(report.path): \(report.fileBytes) bytes, \(pfns) PFNs, \(formatFixed(seconds, decimals: 2)) s\n"
    for s in report.sections where s.encoding == .words {
      out += "  \(s.name.rightPadded(12)) \(String(s.storedBytes).leftPadded(10)) bytes for \(s.decodedBytes) (\(formatFixed(Double(s.decodedBytes) / Double(max(1, s.storedBytes)), decimals: 1)):1)\n"
    }
    return out
  }

  /// The progress bar line (redrawn in place with a carriage return).
  public static func progress(label: String, percent: Int, done: Int, total: Int) -> String {
    let width = 30
    let filled = percent * width / 100
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    return "\r\(label) [\(bar)] \(String(percent).leftPadded(3))% \(formatFixed(Double(done) / 1e6, decimals: 1))/\(formatFixed(Double(total) / 1e6, decimals: 1)) M entries"
  }
}

extension PageTypesSummary {
  /// The table exactly as page-types prints it, ending with a newline.
  ///
  /// Kernel: tools/mm/page-types.c `show_summary()`.
  public func rendered() -> String {
    var out = "             flags\tpage-count       MB  symbolic-flags\t\t\tlong-symbolic-flags\n"
    for r in rows {
      out += "0x" + hexDigits(r.flags, minimumDigits: 16) + "\t" + String(r.pages).leftPadded(10) + " "
        + String(megabytes(r.pages)).leftPadded(8) + "  " + Self.symbolic(r.flags) + "\t" + Self.longNames(r.flags) + "\n"
    }
    out += "             total\t" + String(totalPages).leftPadded(10) + " " + String(megabytes(totalPages)).leftPadded(8) + "\n"
    return out
  }
}
