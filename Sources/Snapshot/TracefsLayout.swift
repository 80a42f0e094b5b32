/// The layouts tracefs publishes at run time, parsed: the ring buffer's page header
/// (`events/header_page`), its record header (`events/header_event`) and each event's
/// record (`events/SYSTEM/EVENT/format`). Nothing here is hard-coded from one kernel: field
/// offsets and event IDs differ between kernels and boots.
public enum TracefsLayout {
  /// One `field:TYPE NAME; offset:N; size:N; signed:N;` line of a format file.
  public struct Field: Equatable, Sendable {
    public var name: String
    public var type: String
    public var offset: Int
    public var size: Int
    public var isSigned: Bool
  }

  /// The page header of `per_cpu/cpuN/trace_pipe_raw` pages.
  /// Kernel: ring_buffer_print_page_header() (struct buffer_data_page).
  public struct PageHeader: Equatable, Sendable {
    /// Offset and size of the page's base time stamp.
    public var timestampOffset: Int
    public var timestampSize: Int
    /// Offset and size of `commit` (local_t): the data length in its low bits, the
    /// missed-events flags in the two above the length.
    public var commitOffset: Int
    public var commitSize: Int
    /// Where the records start, and how many bytes they may take.
    public var dataOffset: Int
    public var dataSize: Int
    /// The size of one sub-buffer page as read from trace_pipe_raw.
    public var pageSize: Int { dataOffset + dataSize }
  }

  /// The record header's constants, checked against `events/header_event`.
  /// Kernel: ring_buffer_print_entry_header() (struct ring_buffer_event).
  public struct EventHeader: Equatable, Sendable {
    public var typeLenBits = 5
    public var timeDeltaBits = 27
    public var padding: UInt32 = 29
    public var timeExtend: UInt32 = 30
    public var timeStamp: UInt32 = 31
    public var dataMaxTypeLen: UInt32 = 28
  }

  /// One event's record layout: `format` of `events/SYSTEM/EVENT`.
  public struct Event: Equatable, Sendable {
    public var name: String
    public var id: Int
    public var fields: [Field]

    public func field(_ name: String) -> Field? { fields.first { $0.name == name } }
  }

  /// Parses `header_page`. The fields `timestamp`, `commit` and `data` must be there.
  public static func pageHeader(_ text: String, path: String) throws -> PageHeader {
    let fields = try parseFields(text, path: path)
    func need(_ name: String) throws -> Field {
      guard let f = fields.first(where: { $0.name == name }) else {
        throw SnapshotError(.badTrace, path: path, "no field '\(name)' in the ring buffer's page header")
      }
      return f
    }
    let ts = try need("timestamp"), commit = try need("commit"), data = try need("data")
    guard ts.size == 8, commit.size == 4 || commit.size == 8, ts.offset >= 0, commit.offset >= 0,
      data.offset >= max(ts.offset + ts.size, commit.offset + commit.size),
      data.size > 0, data.offset + data.size <= 1 << 24
    else {
      throw SnapshotError(.badTrace, path: path, "page header layout not understood (timestamp \(ts.offset)+\(ts.size), commit \(commit.offset)+\(commit.size), data \(data.offset)+\(data.size))")
    }
    return PageHeader(
      timestampOffset: ts.offset, timestampSize: ts.size, commitOffset: commit.offset,
      commitSize: commit.size, dataOffset: data.offset, dataSize: data.size)
  }

  /// Parses `header_event` and checks that it describes the record header the ring-page
  /// reader follows (a different one is an error, not a guess).
  public static func eventHeader(_ text: String, path: String) throws -> EventHeader {
    var h = EventHeader()
    var seen = Set<String>()
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(" \t")
      // "type_len    :    5 bits", "padding     : type == 29": the first number.
      func number() throws -> UInt32 {
        guard let n = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" || $0 == "=" }).lazy.compactMap({ UInt32($0) }).first
        else { throw SnapshotError(.badTrace, path: path, "line \(i + 1): cannot read '\(line.prefix(80))'") }
        return n
      }
      if line.hasPrefix("type_len") { h.typeLenBits = Int(try number()); seen.insert("type_len") }
      else if line.hasPrefix("time_delta") { h.timeDeltaBits = Int(try number()); seen.insert("time_delta") }
      else if line.hasPrefix("padding") { h.padding = try number(); seen.insert("padding") }
      else if line.hasPrefix("time_extend") { h.timeExtend = try number(); seen.insert("time_extend") }
      else if line.hasPrefix("time_stamp") { h.timeStamp = try number(); seen.insert("time_stamp") }
      else if line.hasPrefix("data max type_len") { h.dataMaxTypeLen = try number(); seen.insert("data") }
    }
    guard seen.count == 6 else {
      throw SnapshotError(.badTrace, path: path, "the record header lacks \(["type_len", "time_delta", "padding", "time_extend", "time_stamp", "data"].filter { !seen.contains($0) }.joined(separator: ", "))")
    }
    guard h == EventHeader() else {
      throw SnapshotError(.badTrace, path: path, "record header not the one this reader follows (type_len \(h.typeLenBits) bits, time_delta \(h.timeDeltaBits) bits, padding \(h.padding), time_extend \(h.timeExtend), time_stamp \(h.timeStamp), data max \(h.dataMaxTypeLen))")
    }
    return h
  }

  /// Parses an event's `format` file: its name, ID and fields.
  public static func event(_ text: String, path: String) throws -> Event {
    var name: String?
    var id: Int?
    for raw in text.split(separator: "\n") {
      let line = raw.trimmingCharacters(" \t")
      if line.hasPrefix("name:") { name = line.dropFirst(5).trimmingCharacters(" \t") }
      if line.hasPrefix("ID:") {
        guard let n = Int(line.dropFirst(3).trimmingCharacters(" \t")), n > 0, n <= Int(UInt16.max) else {
          throw SnapshotError(.badTrace, path: path, "event ID '\(line.dropFirst(3).prefix(40))' is not a number from 1 to 65535")
        }
        id = n
      }
    }
    guard let name, !name.isEmpty else { throw SnapshotError(.badTrace, path: path, "no 'name:' line") }
    guard let id else { throw SnapshotError(.badTrace, path: path, "no 'ID:' line") }
    return Event(name: name, id: id, fields: try parseFields(text, path: path))
  }

  /// The `field:` lines of a format or header file.
  static func parseFields(_ text: String, path: String) throws -> [Field] {
    var fields: [Field] = []
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(" \t")
      guard line.hasPrefix("field:") else { continue }
      func bad(_ why: String) -> SnapshotError {
        SnapshotError(.badTrace, path: path, "line \(i + 1): \(why): '\(line.prefix(120))'")
      }
      var decl = "", offset: Int?, size: Int?, signed: Int?
      for part in line.split(separator: ";") {
        let p = part.trimmingCharacters(" \t")
        if p.hasPrefix("field:") { decl = p.dropFirst(6).trimmingCharacters(" \t") }
        else if p.hasPrefix("offset:") { offset = Int(p.dropFirst(7)) }
        else if p.hasPrefix("size:") { size = Int(p.dropFirst(5)) }
        else if p.hasPrefix("signed:") { signed = Int(p.dropFirst(7)) }
      }
      guard let offset, let size, offset >= 0, size >= 0, offset <= 1 << 24, size <= 1 << 24 else {
        throw bad("offset or size missing or out of range")
      }
      // "unsigned long pfn", "char data[4080]", "struct folio * folio": the name is the
      // last word, without an array suffix or a leading '*'.
      var last = decl.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.map(String.init) ?? ""
      if let b = last.firstIndex(of: "[") { last = String(last[..<b]) }
      while last.hasPrefix("*") { last.removeFirst() }
      guard !last.isEmpty else { throw bad("no field name") }
      let type = String(decl.dropLast(min(decl.count, last.count))).trimmingCharacters(" \t")
      fields.append(Field(name: last, type: type, offset: offset, size: size, isSigned: signed == 1))
    }
    return fields
  }
}

extension StringProtocol {
  func trimmingCharacters(_ set: String) -> String {
    let s = Array(set.utf8)
    var u = Substring(self).utf8[...]
    while let f = u.first, s.contains(f) { u = u.dropFirst() }
    while let l = u.last, s.contains(l) { u = u.dropLast() }
    return String(Substring(u))
  }
}
