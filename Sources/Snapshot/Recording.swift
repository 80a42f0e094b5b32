import CZlib

/// A recording of the page allocator's events (`memdesc record`), as documented in
/// docs/recording-format.md: named sections (metadata, vmstat before and after, the start
/// and end snapshots as snapshot files) and the events, in time order, as zlib-compressed
/// chunks of 24-byte records.
public struct Recording: Sendable {
  public static let magic: [UInt8] = [0x89, 0x4D, 0x44, 0x52, 0x45, 0x43, 0x0A, 0x00]
  public static let version: UInt32 = 1
  static let nameSize = 16
  static let maxSections = 64
  /// Events per compressed chunk: 1.5 MiB uncompressed.
  public static let chunkEvents = 1 << 16

  /// `key=value` lines of the `meta` section, in order.
  public var meta: [(key: String, value: String)]
  /// The other sections by name (vmstat.start, vmstat.end, snapshot.start, snapshot.end).
  public var sections: [String: [UInt8]]
  /// The compressed event chunks: each holds `count` events.
  public var chunks: [(count: Int, compressed: [UInt8])]
  /// Events in all chunks.
  public var eventCount: Int { chunks.reduce(0) { $0 + $1.count } }

  public init(meta: [(key: String, value: String)] = [], sections: [String: [UInt8]] = [:]) {
    self.meta = meta
    self.sections = sections
    self.chunks = []
  }

  public func metaValue(_ key: String) -> String? { meta.last { $0.key == key }?.value }

  /// Appends events (in time order, after those already added), compressing them in
  /// chunks of `chunkEvents`.
  public mutating func append(events: [PageEvent]) {
    var start = 0
    while start < events.count {
      let end = min(events.count, start + Self.chunkEvents)
      var raw: [UInt8] = []
      raw.reserveCapacity((end - start) * PageEvent.size)
      for e in events[start..<end] { e.append(to: &raw) }
      chunks.append((end - start, Self.deflate(raw)))
      start = end
    }
  }

  /// The file's bytes.
  public func encode() -> [UInt8] {
    var metaText = ""
    for (k, v) in meta { metaText += "\(k)=\(v.replacingNewlines())\n" }
    var all: [(String, [UInt8])] = [("meta", Array(metaText.utf8))]
    for name in sections.keys.sorted() { all.append((name, sections[name]!)) }
    var events: [UInt8] = []
    for c in chunks {
      Self.appendLE(UInt64(c.count), 4, &events)
      Self.appendLE(UInt64(c.compressed.count), 4, &events)
      events += c.compressed
    }
    all.append(("events", events))
    var out = Self.magic
    Self.appendLE(UInt64(Self.version), 4, &out)
    Self.appendLE(UInt64(all.count), 4, &out)
    for (name, payload) in all {
      var n = Array(name.utf8.prefix(Self.nameSize))
      n += Array(repeating: 0, count: Self.nameSize - n.count)
      out += n
      Self.appendLE(UInt64(payload.count), 8, &out)
      Self.appendLE(UInt64(CRC32.checksum(payload)), 4, &out)
      Self.appendLE(0, 4, &out)
      out += payload
    }
    return out
  }

  /// Reads a recording file.
  public static func read(_ path: String) throws -> Recording {
    try parse(FileIO.readAll(path, limit: 1 << 34), path: path)
  }

  /// Parses a recording's bytes; every length and checksum is checked before use, and
  /// each chunk's size is checked when it is decompressed (`events(chunk:)`).
  public static func parse(_ bytes: [UInt8], path: String) throws -> Recording {
    func bad(_ at: Int, _ why: String) -> SnapshotError { SnapshotError(.badTrace, path: path, offset: UInt64(at), why) }
    guard bytes.count >= 16, Array(bytes[0..<8]) == magic else {
      throw SnapshotError(.badTrace, path: path, "not a Memdesc recording (no \\x89MDREC magic)")
    }
    let version = UInt32(truncatingIfNeeded: loadLE(bytes, 8, 4))
    guard version == Self.version else { throw bad(8, "recording format version \(version); this build reads version \(Self.version)") }
    let count = Int(loadLE(bytes, 12, 4))
    guard count >= 1, count <= maxSections else { throw bad(12, "section count \(count) is not from 1 to \(maxSections)") }
    var rec = Recording()
    var off = 16
    var sawEvents = false
    for _ in 0..<count {
      guard off + 32 <= bytes.count else { throw bad(off, "section header runs past the end of the file (\(bytes.count) bytes)") }
      let nameBytes = bytes[off..<(off + nameSize)].prefix { $0 != 0 }
      guard !nameBytes.isEmpty, nameBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { throw bad(off, "section name is empty or not printable ASCII") }
      let name = String(decoding: nameBytes, as: UTF8.self)
      let length = loadLE(bytes, off + nameSize, 8)
      let crc = UInt32(truncatingIfNeeded: loadLE(bytes, off + nameSize + 8, 4))
      let start = off + 32
      guard length <= UInt64(bytes.count - start) else { throw bad(off + nameSize, "section '\(name)' of \(length) bytes runs past the end of the file") }
      let payload = Array(bytes[start..<(start + Int(length))])
      guard CRC32.checksum(payload) == crc else { throw bad(start, "section '\(name)' fails its CRC-32 check (damaged file)") }
      guard name == "events" || rec.sections[name] == nil, !(name == "events" && sawEvents) else { throw bad(off, "section '\(name)' appears twice") }
      switch name {
      case "meta":
        for line in String(decoding: payload, as: UTF8.self).split(separator: "\n") {
          guard let eq = line.firstIndex(of: "=") else { throw bad(start, "meta line '\(line.prefix(80))' is not key=value") }
          rec.meta.append((String(line[..<eq]), String(line[line.index(after: eq)...])))
        }
        rec.sections["meta"] = []
      case "events":
        sawEvents = true
        var p = 0
        while p < payload.count {
          guard p + 8 <= payload.count else { throw bad(start + p, "event chunk header runs past the section") }
          let n = Int(loadLE(payload, p, 4)), c = Int(loadLE(payload, p + 4, 4))
          guard n >= 1, n <= chunkEvents else { throw bad(start + p, "event chunk of \(n) events; a chunk holds 1 to \(chunkEvents)") }
          guard c <= payload.count - p - 8 else { throw bad(start + p + 4, "event chunk of \(c) compressed bytes runs past the section") }
          rec.chunks.append((n, Array(payload[(p + 8)..<(p + 8 + c)])))
          p += 8 + c
        }
      default:
        rec.sections[name] = payload
      }
      off = start + Int(length)
    }
    rec.sections["meta"] = nil
    guard off == bytes.count else { throw bad(off, "\(bytes.count - off) bytes after the last section") }
    guard sawEvents else { throw SnapshotError(.badTrace, path: path, "no 'events' section") }
    return rec
  }

  /// The events of chunk `i`, decompressed into `buffer` (reused between calls: replay
  /// allocates nothing per chunk once it has grown); returns the bytes (24 per event).
  ///
  /// The chunk is a zlib stream; it is inflated raw, past its 2-byte header and without
  /// its Adler-32 trailer: the section's CRC-32, checked when the file is read, already
  /// covers these bytes, and the second checksum was a tenth of the replay's decoding.
  public func events(chunk i: Int, into buffer: inout [UInt8], path: String) throws -> Int {
    let want = chunks[i].count * PageEvent.size
    if buffer.count < want { buffer = Array(repeating: 0, count: want) }
    let compressed = chunks[i].compressed
    // CMF: deflate (8) with a window of at most 32 KiB; no preset dictionary (FLG bit 5).
    guard compressed.count >= 6, compressed[0] & 0x0f == 8, compressed[0] >> 4 <= 7, compressed[1] & 0x20 == 0,
      (UInt16(compressed[0]) << 8 | UInt16(compressed[1])) % 31 == 0
    else {
      throw SnapshotError(.badTrace, path: path, "event chunk \(i) is not a zlib stream (header \(compressed.prefix(2).map { String($0, radix: 16) }.joined(separator: " ")))")
    }
    var z = z_stream()
    var rc = inflateInit2_(&z, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    guard rc == Z_OK else { throw SnapshotError(.io, path: path, "zlib inflateInit2 failed (\(rc))") }
    defer { inflateEnd(&z) }
    var got = 0
    buffer.withUnsafeMutableBytes { out in
      compressed.withUnsafeBytes { inp in
        z.next_in = UnsafeMutablePointer(mutating: inp.baseAddress!.assumingMemoryBound(to: Bytef.self) + 2)
        z.avail_in = uInt(inp.count - 6)
        z.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
        z.avail_out = uInt(want)
        rc = inflate(&z, Z_FINISH)
        got = want - Int(z.avail_out)
      }
    }
    guard rc == Z_STREAM_END, got == want, z.avail_in == 0 else {
      throw SnapshotError(.badTrace, path: path, "event chunk \(i) does not inflate to its \(chunks[i].count) events (zlib status \(rc), \(got) bytes)")
    }
    return want
  }

  /// Calls `body` with every event in order, one chunk decompressed at a time.
  public func forEachEvent(path: String, _ body: (PageEvent) throws -> Void) throws {
    var buffer: [UInt8] = []
    for i in chunks.indices {
      let n = try events(chunk: i, into: &buffer, path: path)
      try buffer.withUnsafeBytes { p in
        for at in stride(from: 0, to: n, by: PageEvent.size) {
          if let e = PageEvent.load(p, at: at) { try body(e) }
        }
      }
    }
  }

  /// The times of the first and the last event (nil without events): the first and the
  /// last chunk decompressed, nothing else.
  public func timeSpan(path: String) throws -> (first: UInt64, last: UInt64)? {
    guard let lastChunk = chunks.indices.last else { return nil }
    var buffer: [UInt8] = []
    var n = try events(chunk: 0, into: &buffer, path: path)
    let first = buffer.withUnsafeBytes { PageEvent.load($0, at: 0)?.time }
    n = try events(chunk: lastChunk, into: &buffer, path: path)
    let last = buffer.withUnsafeBytes { PageEvent.load($0, at: n - PageEvent.size)?.time }
    guard let first, let last else { return nil }
    return (first, max(first, last))
  }

  static func deflate(_ raw: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Int(compressBound(uLong(raw.count))))
    var n = uLongf(out.count)
    let rc = out.withUnsafeMutableBytes { o in
      raw.withUnsafeBytes { i in
        compress2(o.baseAddress!.assumingMemoryBound(to: Bytef.self), &n, i.baseAddress?.assumingMemoryBound(to: Bytef.self) ?? UnsafePointer(bitPattern: 1)!, uLong(raw.count), 6)
      }
    }
    precondition(rc == Z_OK, "compress2 into compressBound bytes cannot fail")
    out.removeSubrange(Int(n)...)
    return out
  }

  static func appendLE(_ value: UInt64, _ bytes: Int, _ out: inout [UInt8]) {
    for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) }
  }
  static func loadLE(_ b: [UInt8], _ at: Int, _ bytes: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<bytes { v |= UInt64(b[at + i]) << UInt64(8 * i) }
    return v
  }
}
