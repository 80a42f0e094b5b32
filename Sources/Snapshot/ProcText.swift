import PageModel

/// Readers of the /proc text files a snapshot carries. Each error names the file and
/// the line.
public enum ProcText {
  /// The "System RAM" ranges of /proc/iomem as PFN ranges (whole pages inside each
  /// range), or nil when iomem lists none or shows them as zero (read without root,
  /// the kernel hides the addresses).
  ///
  /// Kernel: kernel/resource.c (`r_show()`): `start-end : name`, nested entries indented.
  public static func systemRAM(_ text: String, path: String, pageSize: Int = 4096) throws -> [PFNRange]? {
    var ranges: [PFNRange] = []
    for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      guard let first = raw.first, first != " ", raw.hasSuffix(" : System RAM") else { continue }
      let span = raw.prefix { $0 != " " }
      let ends = span.split(separator: "-")
      guard ends.count == 2, let a = UInt64(ends[0], radix: 16), let b = UInt64(ends[1], radix: 16), a <= b else {
        throw SnapshotError(.badText, path: path, "line \(n + 1) '\(raw)': expected 'START-END : System RAM' in hex")
      }
      if a == 0 && b == 0 { continue }
      let ps = UInt64(pageSize)
      let lo = (a + ps - 1) / ps, hi = (b + 1) / ps
      if lo < hi { ranges.append(PFN(lo)..<PFN(hi)) }
    }
    if ranges.isEmpty { return nil }
    ranges.sort { $0.lowerBound < $1.lowerBound }
    return ranges
  }

  /// Free blocks per order (0-10) from /proc/buddyinfo, summed over nodes and zones.
  ///
  /// Kernel: mm/vmstat.c (`frag_show_print()`): `Node N, zone NAME c0 c1 ... c10`.
  public static func buddyinfo(_ text: String, path: String) throws -> [Int] {
    var total = [Int](repeating: 0, count: Kernel.maxPageOrder + 1)
    for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let fields = raw.split(separator: " ")
      if fields.isEmpty { continue }
      guard fields.count >= 5, fields[0] == "Node", fields[2] == "zone" else {
        throw SnapshotError(.badText, path: path, "line \(n + 1) '\(raw)': expected 'Node N, zone NAME count...'")
      }
      for (order, f) in fields.dropFirst(4).enumerated() {
        guard let v = Int(f), v >= 0 else { throw SnapshotError(.badText, path: path, "line \(n + 1): cannot read '\(f)' as a count") }
        if order >= total.count { total.append(contentsOf: repeatElement(0, count: order + 1 - total.count)) }
        total[order] += v
      }
    }
    return total
  }

  /// `Key: value [kB]` lines (meminfo) or `key value` lines (vmstat) as a dictionary of
  /// numbers; lines that are not `key number` are skipped.
  public static func counters(_ text: String) -> [String: Int] {
    var result: [String: Int] = [:]
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count >= 2, let v = Int(fields[1]) else { continue }
      var key = fields[0]
      if key.last == ":" { key = key.dropLast() }
      result[String(key)] = v
    }
    return result
  }

  /// The memmap's pages from vmstat counters: `nr_memmap_boot_pages + nr_memmap_pages`
  /// (docs/kpageflags.md point 10), nil when either is missing.
  public static func memmapPages(_ vmstat: [String: Int]) -> Int? {
    guard let boot = vmstat["nr_memmap_boot_pages"], let pages = vmstat["nr_memmap_pages"] else { return nil }
    return boot + pages
  }
}
