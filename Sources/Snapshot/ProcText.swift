import PageModel

/// The one validating reader of the kernel's text files a snapshot carries (meminfo,
/// vmstat, buddyinfo, zoneinfo, iomem, hugepages, kernel-release).
///
/// The kernel writes these files in fixed formats, so anything else means the copy was
/// damaged or is not what its name says: every malformed line is an error naming the
/// file, the line and the value (`SnapshotError.badText`, exit status 1), never a line
/// skipped. All arithmetic on the values is checked: a value that does not fit, or a
/// count of pages larger than the machine can have, is an error too.
public enum ProcText {
  /// The most 4 KiB pages an x86-64 machine can have: a 52-bit physical address space.
  public static let maxPages = 1 << (52 - Kernel.pageShift)
  /// Orders buddyinfo prints: `NR_PAGE_ORDERS` (MAX_PAGE_ORDER + 1 = 11 on x86-64).
  public static let pageOrders = Kernel.maxPageOrder + 1
  /// `__NEW_UTS_LEN`: the longest `uname -r` the kernel keeps.
  public static let maxReleaseLength = 64
  /// The longest line accepted in any of these files.
  public static let maxLineBytes = 4096

  /// The lines of `text` split at '\n' only (a "\r\n" pair is one Character in Swift, so
  /// splitting the String would glue such lines together), numbered from 1, with a final
  /// empty line after the last '\n' left out. A line longer than `maxLineBytes` is an
  /// error: the kernel's lines are short, and the per-line checks need not be linear.
  static func lines(_ text: String, path: String) throws -> [(number: Int, text: Substring)] {
    var out: [(Int, Substring)] = []
    var n = 0
    for piece in text.utf8.split(separator: 10, omittingEmptySubsequences: false) {
      n += 1
      guard piece.count <= maxLineBytes else {
        throw SnapshotError(.badText, path: path, "line \(n) is \(piece.count) bytes long; lines of this file are at most \(maxLineBytes)")
      }
      out.append((n, Substring(piece)))
    }
    if let last = out.last, last.1.isEmpty { out.removeLast() }
    return out
  }

  static func bad(_ path: String, _ line: Int, _ text: Substring, _ why: String) -> SnapshotError {
    SnapshotError(.badText, path: path, "line \(line) '\(text.prefix(80))': \(why)")
  }

  /// A decimal count as the kernel prints it (`%lu`): digits only, no sign, fits in an Int.
  static func count(_ s: Substring, path: String, line: Int, text: Substring) throws -> Int {
    guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
      throw bad(path, line, text, "'\(s.prefix(40))' is not a count (unsigned decimal)")
    }
    guard let v = Int(s) else { throw bad(path, line, text, "count '\(s.prefix(40))' does not fit in 63 bits") }
    return v
  }

  /// Fields of a line split at spaces and tabs.
  static func fields(_ s: Substring) -> [Substring] { s.split(whereSeparator: { $0 == " " || $0 == "\t" }) }

  // MARK: iomem

  /// The "System RAM" ranges of /proc/iomem as PFN ranges (whole pages inside each
  /// range), or nil when iomem lists none or shows them as zero (read without root,
  /// the kernel hides the addresses). Every line, nested or not, must be
  /// `START-END : NAME` in hex with START <= END; top-level System RAM ranges must not
  /// overlap.
  ///
  /// Kernel: kernel/resource.c (`r_show()`): `start-end : name`, nested entries indented.
  public static func systemRAM(_ text: String, path: String, pageSize: Int = 4096) throws -> [PFNRange]? {
    guard pageSize > 0, pageSize & (pageSize - 1) == 0 else {
      throw SnapshotError(.badText, path: path, "page size \(pageSize) is not a power of two")
    }
    var ranges: [(PFNRange, Int)] = []
    let ps = UInt64(pageSize)
    for (n, raw) in try lines(text, path: path) {
      let body = raw.drop { $0 == " " }
      if body.isEmpty { continue }
      guard let colon = body.indices.first(where: { body[$0...].hasPrefix(" : ") }) else {
        throw bad(path, n, raw, "expected 'START-END : NAME' in hex")
      }
      let span = body[..<colon], name = body[body.index(colon, offsetBy: 3)...]
      let ends = span.split(separator: "-", omittingEmptySubsequences: false)
      guard ends.count == 2, ends.allSatisfy({ !$0.isEmpty && $0.count <= 16 }),
        let a = UInt64(ends[0], radix: 16), let b = UInt64(ends[1], radix: 16)
      else { throw bad(path, n, raw, "'\(span.prefix(40))' is not START-END in hex (at most 16 digits each)") }
      guard a <= b else { throw bad(path, n, raw, "range starts after it ends") }
      guard !name.isEmpty else { throw bad(path, n, raw, "resource has no name") }
      guard body.startIndex == raw.startIndex, name == "System RAM" else { continue }
      if a == 0 && b == 0 { continue }
      // Whole pages inside [a, b], without forming b + 1 (b may be 2^64 - 1).
      let lo = a / ps + (a % ps == 0 ? 0 : 1)
      let hi = b / ps + (b % ps == ps - 1 ? 1 : 0)
      if lo < hi { ranges.append((PFN(lo)..<PFN(hi), n)) }
    }
    if ranges.isEmpty { return nil }
    ranges.sort { $0.0.lowerBound < $1.0.lowerBound }
    for i in ranges.indices.dropFirst() where ranges[i].0.lowerBound < ranges[i - 1].0.upperBound {
      throw SnapshotError(.badText, path: path, "line \(ranges[i].1): System RAM overlaps the range of line \(ranges[i - 1].1)")
    }
    return ranges.map(\.0)
  }

  // MARK: buddyinfo

  /// Free blocks per order (0-10) from /proc/buddyinfo, summed over nodes and zones.
  /// A line must be `Node N, zone NAME` and 1 to 11 counts; the free pages they add up
  /// to must fit a 52-bit physical address space.
  ///
  /// Kernel: mm/vmstat.c (`frag_show_print()`): `Node N, zone NAME c0 c1 ... c10`.
  public static func buddyinfo(_ text: String, path: String) throws -> [Int] {
    var total = [Int](repeating: 0, count: pageOrders)
    var pages = 0
    for (n, raw) in try lines(text, path: path) {
      let f = fields(raw)
      if f.isEmpty { continue }
      guard f.count >= 5, f[0] == "Node", f[1].hasSuffix(","), f[1].dropLast().allSatisfy(\.isNumber), !f[1].dropLast().isEmpty, f[2] == "zone" else {
        throw bad(path, n, raw, "expected 'Node N, zone NAME count...'")
      }
      let counts = f.dropFirst(4)
      guard counts.count <= pageOrders else {
        throw bad(path, n, raw, "\(counts.count) counts of free blocks; x86-64 has \(pageOrders) orders (0-\(pageOrders - 1))")
      }
      for (order, field) in counts.enumerated() {
        let v = try count(field, path: path, line: n, text: raw)
        guard v <= maxPages >> order else { throw bad(path, n, raw, "\(v) free blocks of order \(order) is more memory than a 52-bit physical address space holds") }
        total[order] += v
        pages += v << order
        guard pages <= maxPages else { throw bad(path, n, raw, "the free blocks so far add up to more pages (\(pages)) than a 52-bit physical address space holds") }
      }
    }
    return total
  }

  // MARK: meminfo and vmstat

  /// `Key: value [kB]` lines (meminfo) or `key value` lines (vmstat) as a dictionary of
  /// counts. A line of another shape, a value that is not an unsigned count or does not
  /// fit, a unit other than `kB`, or a key given twice is an error naming the line.
  ///
  /// Kernel: fs/proc/meminfo.c (`show_val_kb()`), mm/vmstat.c (`vmstat_show()`).
  public static func counters(_ text: String, path: String) throws -> [String: Int] {
    var result: [String: Int] = [:]
    for (n, raw) in try lines(text, path: path) {
      let f = fields(raw)
      if f.isEmpty { continue }
      guard f.count == 2 || (f.count == 3 && f[0].hasSuffix(":")) else {
        throw bad(path, n, raw, "expected 'Key: value [kB]' or 'key value'")
      }
      if f.count == 3 && f[2] != "kB" { throw bad(path, n, raw, "unit '\(f[2].prefix(20))' is not kB") }
      var key = f[0]
      if key.last == ":" { key = key.dropLast() }
      guard !key.isEmpty, key.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
        throw bad(path, n, raw, "key is not printable ASCII")
      }
      let v = try count(f[1], path: path, line: n, text: raw)
      guard result.updateValue(v, forKey: String(key)) == nil else { throw bad(path, n, raw, "'\(key)' appears twice") }
    }
    return result
  }

  /// The memmap's pages from vmstat counters: `nr_memmap_boot_pages + nr_memmap_pages`
  /// (docs/kpageflags.md point 10), nil when either is missing. More than `limit` pages
  /// (the machine's PFNs: a memmap is a 64th of the memory it describes) is an error.
  public static func memmapPages(_ vmstat: [String: Int], path: String, limit: Int = maxPages) throws -> Int? {
    guard let boot = vmstat["nr_memmap_boot_pages"], let pages = vmstat["nr_memmap_pages"] else { return nil }
    let (sum, overflow) = boot.addingReportingOverflow(pages)
    guard !overflow, sum <= limit else {
      throw SnapshotError(
        .badText, path: path,
        "nr_memmap_boot_pages \(boot) + nr_memmap_pages \(pages) is more pages of memmap than the machine has pages (\(limit))")
    }
    return sum
  }

  // MARK: zoneinfo and kernel-release

  /// Checks /proc/zoneinfo's shape: the first line and every unindented line is
  /// `Node N, zone NAME`; the others are indented `key value...` lines of printable
  /// ASCII. Returns the number of zones. (Nothing reads the values yet: the check is
  /// that the copy is a zoneinfo at all.)
  ///
  /// Kernel: mm/vmstat.c (`zoneinfo_show_print()`).
  @discardableResult
  public static func zoneinfo(_ text: String, path: String) throws -> Int {
    var zones = 0
    for (n, raw) in try lines(text, path: path) {
      if raw.isEmpty { continue }
      guard raw.unicodeScalars.allSatisfy({ ($0.value >= 32 && $0.value < 127) || $0 == "\t" }) else {
        throw bad(path, n, raw, "not printable ASCII")
      }
      if raw.first == " " || raw.first == "\t" {
        guard zones > 0 else { throw bad(path, n, raw, "indented line before the first 'Node N, zone NAME'") }
        continue
      }
      let f = fields(raw)
      guard f.count == 4, f[0] == "Node", f[1].hasSuffix(","), !f[1].dropLast().isEmpty, f[1].dropLast().allSatisfy(\.isNumber), f[2] == "zone" else {
        throw bad(path, n, raw, "expected 'Node N, zone NAME'")
      }
      zones += 1
    }
    return zones
  }

  /// Checks a `uname -r` string: one word of printable ASCII, at most 64 bytes.
  public static func kernelRelease(_ release: String, path: String) throws {
    guard !release.isEmpty, release.utf8.count <= maxReleaseLength,
      release.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 })
    else {
      throw SnapshotError(.badText, path: path, "'\(release.prefix(80))' is not a kernel release (one word of printable ASCII, at most \(maxReleaseLength) bytes)")
    }
  }
}

extension PageSnapshot {
  /// Reads every text file the snapshot carries with its validating reader, so that a
  /// damaged one is refused before any work (and before `capture --from` copies it).
  /// pagetypeinfo and slabinfo are kept verbatim and not read.
  public func validateTexts() throws {
    for name in ["meminfo", "meminfo.after", "vmstat", "vmstat.after"] {
      guard let t = texts[name] else { continue }
      let c = try ProcText.counters(t, path: describePath(name))
      if name.hasPrefix("vmstat") { _ = try ProcText.memmapPages(c, path: describePath(name), limit: pfnCount) }
    }
    if let t = texts["buddyinfo"] { _ = try ProcText.buddyinfo(t, path: describePath("buddyinfo")) }
    if let t = texts["zoneinfo"] { try ProcText.zoneinfo(t, path: describePath("zoneinfo")) }
    _ = try SnapshotRAM.systemRAM(self)
    _ = try hugepages()
    _ = try cgroupMap()
    _ = try memoryBlocks()
    if let r = metadata.kernelRelease { try ProcText.kernelRelease(r, path: describePath("kernel-release")) }
  }

  /// vmstat's counters and the memmap they give, read once for the analysis.
  func vmstatMemmap() throws -> (counters: [String: Int]?, memmap: Int?) {
    guard let t = texts["vmstat"] else { return (nil, nil) }
    let c = try ProcText.counters(t, path: describePath("vmstat"))
    return (c, try ProcText.memmapPages(c, path: describePath("vmstat"), limit: pfnCount))
  }

  /// meminfo MemFree in pages, when the snapshot has it.
  func memFreePages() throws -> Int? {
    guard let t = texts["meminfo"], let kB = try ProcText.counters(t, path: describePath("meminfo"))["MemFree"] else { return nil }
    return kB / max(1, metadata.pageSize / 1024)
  }
}
