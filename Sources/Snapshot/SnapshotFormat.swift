import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Memdesc's snapshot file: one file holding a machine's kpage arrays (compressed), its
/// /proc text files verbatim and the capture's metadata. docs/snapshot-format.md is the
/// specification; in short (all integers little-endian):
///
///     header   magic "\x89MDSNAP\n" | u32 version | u32 section count
///              u64 file length | u32 CRC-32 of the section table | u32 0
///     table    per section, 64 bytes: name[32] (ASCII, NUL-padded) | u32 encoding
///              u32 0 | u64 offset | u64 length | u32 CRC-32 of the payload | u32 0
///     payloads encoding 0: bytes verbatim (text files, `meta`)
///              encoding 1: u64 words: u64 count | u32 block words | u32 block count
///                          u32 length of each block | blocks (`RunCodec`)
public enum SnapshotFormat {
  public static let magic: [UInt8] = [0x89, 0x4d, 0x44, 0x53, 0x4e, 0x41, 0x50, 0x0a]
  /// The version this build writes; it reads every version from `oldestVersion` to it.
  /// Version 2 added the `cgroups` section (the cgroup map); version 1 files are read as
  /// before and have no cgroup map. Version 3 added `memory-blocks` (which memory blocks
  /// were offline); older files have none, and their all-zero sections' cause is decided
  /// without it.
  public static let version: UInt32 = 3
  public static let oldestVersion: UInt32 = 1
  public static let headerSize = 32
  public static let entrySize = 64
  public static let nameSize = 32
  /// Words per compressed block (1 Mi: 8 MiB decoded), also the largest block a reader
  /// accepts: a block is decoded whole, so this bounds a reader's memory.
  public static let blockWords = 1 << 20
  /// Sections above this count are refused (a damaged count).
  public static let maxSections = 4096

  public enum Encoding: UInt32, Sendable {
    case bytes = 0
    case words = 1
  }

  /// One section as stored, for `info` reports.
  public struct SectionInfo: Equatable, Sendable {
    public var name: String
    public var encoding: Encoding
    public var offset: Int
    /// Stored (compressed) bytes.
    public var storedBytes: Int
    /// Decoded bytes (8 per word for word sections).
    public var decodedBytes: Int
  }

  // MARK: writing

  /// What a write produced.
  public struct WriteReport: Sendable {
    public var path: String
    public var fileBytes: Int
    public var sections: [SectionInfo]
  }

  /// Progress of an encode: words read and coded so far, and the total.
  public typealias Progress = @Sendable (_ doneWords: Int, _ totalWords: Int) -> Void

  /// Encodes `snapshot` into the bytes of a snapshot file. The kpage arrays are read and
  /// compressed block by block on `threads` threads (for a live source these are the
  /// parallel `pread`s of /proc/kpage*); `progress` is called (serialised) after each block.
  /// `finishing` runs after the arrays are read and before the text and `meta` sections
  /// are laid out: a capture uses it to add files read after the kpage files.
  /// `blockWords` (a power of two) sets the block size; tests use small blocks.
  public static func encode(
    _ snapshot: PageSnapshot, threads: Int = Parallel.defaultThreads, progress: Progress? = nil,
    blockWords: Int = SnapshotFormat.blockWords,
    finishing: ((inout PageSnapshot) throws -> Void)? = nil
  ) throws -> (bytes: [UInt8], sections: [SectionInfo]) {
    precondition(
      blockWords > 0 && blockWords <= SnapshotFormat.blockWords
        && blockWords & (blockWords - 1) == 0, "blockWords must be a power of two up to 2^20")
    var sections: [(name: String, encoding: Encoding, payload: [UInt8], decoded: Int)] = []
    // Work items: (array, block), interleaved so that threads read different files. An
    // array that need not be read where kpageflags shows no mapped page (live kpagecount,
    // `zeroUnlessMapped`) has no items of its own: the kpageflags item of the same block
    // reads it piece by piece beside the flags that say which PFNs to read.
    let arrays = snapshot.arrays
    let blockCounts = arrays.map { ($0.count + blockWords - 1) / blockWords }
    let firstResult = blockCounts.indices.map { blockCounts[..<$0].reduce(0, +) }
    let flags = arrays[0]
    let companion = arrays.indices.dropFirst().first { arrays[$0].zeroUnlessMapped && arrays[$0].count == flags.count }
    var items: [(array: Int, block: Int)] = []
    for b in 0..<(blockCounts.max() ?? 0) {
      for a in arrays.indices where b < blockCounts[a] && a != companion { items.append((a, b)) }
    }
    let encoded = BlockResults(count: blockCounts.reduce(0, +))
    let total = arrays.reduce(0) { $0 + $1.count }
    let done = Mutex<Int>(0)
    let frozenItems = items
    // A gzip array decodes in PFN order only: then one thread reads the items in order.
    let readers = arrays.contains { $0.isSequential } ? 1 : threads
    // A file (a /proc kpage file above all) is read a cache-sized piece at a time: the
    // kernel's stores and the run search then stay in L2, not 8 MiB apart. Other
    // backings decode whole blocks, so they are read a block at a time.
    let pieceWords = arrays.allSatisfy(\.readsInPieces) ? min(blockWords, KPageArray.pieceWords) : blockWords
    try Parallel.forEach(count: items.count, threads: readers, bufferWords: 2 * pieceWords) {
      _, i, buffer in
      let (a, b) = frozenItems[i]
      let array = arrays[a]
      // The array this item also reads, beside kpageflags.
      let also = a == 0 ? companion : nil
      let second = also.map { arrays[$0] }
      let r = b * blockWords..<min(array.count, (b + 1) * blockWords)
      var runs = RunCodec.Runs(), secondRuns = RunCodec.Runs()
      var at = r.lowerBound
      while at < r.upperBound {
        let n = min(pieceWords, r.upperBound - at)
        try array.read(at..<(at + n), into: buffer)
        runs.add(UnsafeBufferPointer(start: buffer, count: n))
        if let second {
          try second.read(at..<(at + n), into: buffer + pieceWords, mappedBy: buffer)
          secondRuns.add(UnsafeBufferPointer(start: buffer + pieceWords, count: n))
        }
        at += n
      }
      var out: [UInt8] = []
      RunCodec.encode(runs, into: &out)
      encoded.set(firstResult[a] + b, out)
      if let also {
        out = []
        RunCodec.encode(secondRuns, into: &out)
        encoded.set(firstResult[also] + b, out)
      }
      if let progress {
        done.withLock { d in
          d += r.count * (also == nil ? 1 : 2)
          progress(d, total)
        }
      }
    }
    var snapshot = snapshot
    try finishing?(&snapshot)
    sections.append(("meta", .bytes, Array(metaText(snapshot.metadata).utf8), 0))
    for name in PageSnapshot.textNames {
      if let t = snapshot.texts[name] { sections.append((name, .bytes, Array(t.utf8), 0)) }
    }
    for name in snapshot.texts.keys.sorted() where !PageSnapshot.textNames.contains(name) {
      sections.append((name, .bytes, Array(snapshot.texts[name]!.utf8), 0))
    }
    for (a, array) in arrays.enumerated() {
      let blocks = (0..<blockCounts[a]).map { encoded.get(firstResult[a] + $0) }
      var payload: [UInt8] = []
      appendLE(UInt64(array.count), 8, &payload)
      appendLE(UInt64(blockWords), 4, &payload)
      appendLE(UInt64(blocks.count), 4, &payload)
      for blk in blocks { appendLE(UInt64(blk.count), 4, &payload) }
      for blk in blocks { payload.append(contentsOf: blk) }
      sections.append((array.file.rawValue, .words, payload, array.count * 8))
    }
    // Layout: header, table, payloads in order.
    var offset = headerSize + sections.count * entrySize
    var table: [UInt8] = []
    var infos: [SectionInfo] = []
    for s in sections {
      var name = Array(s.name.utf8)
      guard validName(name) else {
        throw SnapshotError(
          .badSnapshot, path: "<snapshot>",
          "'\(s.name)' cannot be a section name (1-32 of a-z 0-9 . - _)")
      }
      name += [UInt8](repeating: 0, count: nameSize - name.count)
      table += name
      appendLE(UInt64(s.encoding.rawValue), 4, &table)
      appendLE(0, 4, &table)
      appendLE(UInt64(offset), 8, &table)
      appendLE(UInt64(s.payload.count), 8, &table)
      appendLE(UInt64(CRC32.checksum(s.payload)), 4, &table)
      appendLE(0, 4, &table)
      infos.append(
        SectionInfo(
          name: s.name, encoding: s.encoding, offset: offset, storedBytes: s.payload.count,
          decodedBytes: s.encoding == .words ? s.decoded : s.payload.count))
      offset += s.payload.count
    }
    var file = magic
    appendLE(UInt64(version), 4, &file)
    appendLE(UInt64(sections.count), 4, &file)
    appendLE(UInt64(offset), 8, &file)
    appendLE(UInt64(CRC32.checksum(table)), 4, &file)
    appendLE(0, 4, &file)
    file.reserveCapacity(offset)
    file += table
    for s in sections { file += s.payload }
    return (file, infos)
  }

  /// Encodes `snapshot` and writes it to `path` atomically (temporary file in the same
  /// directory, fsync, rename): an interrupted write leaves nothing at `path`.
  public static func write(
    _ snapshot: PageSnapshot, to path: String, threads: Int = Parallel.defaultThreads,
    progress: Progress? = nil,
    finishing: ((inout PageSnapshot) throws -> Void)? = nil
  ) throws -> WriteReport {
    var report = WriteReport(path: path, fileBytes: 0, sections: [])
    // Create the temporary file first, so that a kill during the (slow) reads leaves
    // only it behind.
    try FileIO.writeAtomically(path, mode: 0o600) { write in
      let (bytes, sections) = try encode(
        snapshot, threads: threads, progress: progress, finishing: finishing)
      try write(bytes)
      report.fileBytes = bytes.count
      report.sections = sections
    }
    return report
  }

  /// The `meta` section: `key=value` lines.
  static func metaText(_ m: SnapshotMetadata) -> String {
    var lines: [String] = ["format=memdesc-snapshot", "page_size=\(m.pageSize)"]
    if let v = m.kernelRelease { lines.append("kernel_release=\(v)") }
    if let v = m.hostName { lines.append("host_name=\(v)") }
    if let v = m.capturedAt { lines.append("captured_at=\(v)") }
    if let v = m.captureSeconds { lines.append("capture_seconds=\(v)") }
    for (k, v) in m.extra { lines.append("\(k)=\(v)") }
    return lines.map { $0.replacingNewlines() }.joined(separator: "\n") + "\n"
  }

  /// Section names: 1-32 bytes of a-z 0-9 . - _.
  static func validName(_ name: [UInt8]) -> Bool {
    !name.isEmpty && name.count <= nameSize
      && name.allSatisfy {
        ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2e || $0 == 0x2d
          || $0 == 0x5f
      }
  }

  static func appendLE(_ value: UInt64, _ bytes: Int, _ out: inout [UInt8]) {
    for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) }
  }

  // MARK: reading

  /// Opens and validates a snapshot file, reading it with `pread` as needed: the header,
  /// the table, the text sections and the block directories are read here, and every
  /// section's CRC-32 is checked in a streamed pass (1 MiB at a time); kpage blocks are
  /// read and decoded when their words are. Memory use does not grow with the file.
  public static func read(_ path: String) throws -> PageSnapshot {
    try parse(SnapshotBytes(path: path), path: path)
  }

  /// Validates a snapshot file's bytes and returns the snapshot (word sections decode on
  /// demand). Every structural fact is checked before use: magic, version, header and
  /// table bounds, CRCs, section bounds, names, encodings, block directories, and equal
  /// PFN counts; any failure is a `SnapshotError` naming `path` and the offset.
  public static func parse(_ bytes: [UInt8], path: String) throws -> PageSnapshot {
    try parse(SnapshotBytes(bytes), path: path)
  }

  static func parse(_ file: SnapshotBytes, path: String) throws -> PageSnapshot {
    let (sections, _) = try parseTable(file, path: path)
    var texts: [String: String] = [:]
    var arrays: [KPageFile: KPageArray] = [:]
    var meta = SnapshotMetadata()
    var sawMeta = false
    for s in sections {
      let payload = s.offset..<(s.offset + s.storedBytes)
      switch s.encoding {
      case .bytes:
        guard s.storedBytes <= maxTextBytes else {
          throw SnapshotError(
            .badSnapshot, path: path, offset: UInt64(s.offset),
            "section '\(s.name)' of \(s.storedBytes) bytes is above the \(maxTextBytes)-byte limit for a text section"
          )
        }
        let text = String(decoding: try file.bytes(payload, path: path), as: UTF8.self)
        if s.name == "meta" {
          meta = try parseMeta(text, path: path, offset: s.offset)
          sawMeta = true
        } else {
          texts[s.name] = text
        }
      case .words:
        guard let kind = KPageFile(rawValue: s.name) else {
          continue  // A word section a later version added: skip it.
        }
        let blocks = try EncodedBlocks(file: kind, bytes: file, section: s, path: path)
        arrays[kind] = KPageArray(
          file: kind, path: "\(path) (\(s.name))", count: blocks.count,
          chunkWords: blocks.blockWords, backing: .blocks(blocks))
      }
    }
    guard sawMeta else { throw SnapshotError(.badSnapshot, path: path, "no 'meta' section") }
    guard let flags = arrays[.kpageflags] else {
      throw SnapshotError(.badSnapshot, path: path, "no 'kpageflags' section")
    }
    return try PageSnapshot(
      origin: .snapshotFile(path), kpageflags: flags, kpagecount: arrays[.kpagecount],
      kpagecgroup: arrays[.kpagecgroup], texts: texts, metadata: meta)
  }

  /// Text sections above this are refused (they are /proc files: 64 MiB is far above any).
  public static let maxTextBytes = 1 << 26

  /// Reads and checks the header and section table; returns the sections.
  public static func parseTable(_ file: SnapshotBytes, path: String) throws -> (
    [SectionInfo], version: UInt32
  ) {
    let size = file.size
    func bad(_ offset: Int, _ message: String) -> SnapshotError {
      SnapshotError(.badSnapshot, path: path, offset: UInt64(offset), message)
    }
    let header = try file.bytes(0..<min(size, headerSize), path: path)
    guard header.count >= magic.count, Array(header[0..<magic.count]) == magic else {
      throw bad(0, "not a Memdesc snapshot (no \\x89MDSNAP magic)")
    }
    guard header.count >= headerSize else {
      throw bad(size, "truncated header: \(size) bytes, a header has \(headerSize)")
    }
    let version = UInt32(le(header, 8, 4))
    guard version >= oldestVersion && version <= SnapshotFormat.version else {
      throw SnapshotError(
        .unsupportedVersion, path: path, offset: 8,
        "snapshot format version \(version); this memdesc reads versions \(oldestVersion)-\(SnapshotFormat.version)\(version > SnapshotFormat.version ? " (written by a newer memdesc?)" : "")"
      )
    }
    let count = Int(le(header, 12, 4))
    guard count <= maxSections else {
      throw bad(12, "section count \(count) is above the limit of \(maxSections)")
    }
    let length = le(header, 16, 8)
    guard length == UInt64(size) else {
      throw bad(
        16,
        "header says the file has \(length) bytes but it has \(size)\(length > UInt64(size) ? " (truncated?)" : "")"
      )
    }
    let tableEnd = headerSize + count * entrySize
    guard tableEnd <= size else {
      throw bad(headerSize, "section table of \(count) entries runs past the end of the file")
    }
    let table = try file.bytes(headerSize..<tableEnd, path: path)
    let tableCRC = UInt32(le(header, 24, 4))
    let actual = CRC32.checksum(table)
    guard tableCRC == actual else {
      throw bad(
        24,
        "section table CRC-32 mismatch: stored 0x\(String(tableCRC, radix: 16)), table gives 0x\(String(actual, radix: 16))"
      )
    }
    var sections: [SectionInfo] = []
    var names = Set<String>()
    var expectedOffset = tableEnd
    for i in 0..<count {
      let t = i * entrySize
      let e = headerSize + t
      let rawName = table[t..<(t + nameSize)]
      let nameBytes = rawName.prefix { $0 != 0 }
      guard validName(Array(nameBytes)), rawName.dropFirst(nameBytes.count).allSatisfy({ $0 == 0 })
      else {
        throw bad(
          e, "section \(i) has an invalid name (expected 1-32 of a-z 0-9 . - _, NUL-padded)")
      }
      let name = String(decoding: nameBytes, as: UTF8.self)
      guard names.insert(name).inserted else {
        throw bad(e, "section name '\(name)' appears twice")
      }
      let rawEncoding = UInt32(le(table, t + 32, 4))
      guard let encoding = Encoding(rawValue: rawEncoding) else {
        throw bad(e + 32, "section '\(name)' has unknown encoding \(rawEncoding)")
      }
      let offset = le(table, t + 40, 8)
      let len = le(table, t + 48, 8)
      guard offset == UInt64(expectedOffset) else {
        throw bad(
          e + 40,
          "section '\(name)' starts at \(offset), expected \(expectedOffset) (sections are stored in table order with no gaps)"
        )
      }
      guard len <= UInt64(size - expectedOffset) else {
        throw bad(
          e + 48,
          "section '\(name)' of \(len) bytes at offset \(offset) runs past the end of the file (\(size) bytes)"
        )
      }
      let crc = UInt32(le(table, t + 56, 4))
      let start = Int(offset)
      let end = start + Int(len)
      let sectionCRC = try file.checksum(start..<end, path: path)
      guard crc == sectionCRC else {
        throw bad(
          start,
          "section '\(name)' CRC-32 mismatch: stored 0x\(String(crc, radix: 16)), data gives 0x\(String(sectionCRC, radix: 16)) (damaged file)"
        )
      }
      sections.append(
        SectionInfo(
          name: name, encoding: encoding, offset: start, storedBytes: Int(len),
          decodedBytes: Int(len)))
      expectedOffset = end
    }
    guard expectedOffset == size else {
      throw bad(expectedOffset, "\(size - expectedOffset) bytes after the last section")
    }
    return (sections, version)
  }

  /// The little-endian integer of `size` bytes at `offset` of `bytes` (bounds checked by the caller).
  static func le(_ bytes: [UInt8], _ offset: Int, _ size: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<size { v |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
    return v
  }

  static func parseMeta(_ text: String, path: String, offset: Int) throws -> SnapshotMetadata {
    var m = SnapshotMetadata()
    for line in text.split(separator: "\n") {
      guard let eq = line.firstIndex(of: "=") else {
        throw SnapshotError(
          .badSnapshot, path: path, offset: UInt64(offset), "meta line '\(line)' is not key=value")
      }
      let key = String(line[..<eq])
      let value = String(line[line.index(after: eq)...])
      switch key {
      case "format": break
      case "kernel_release": m.kernelRelease = value
      case "host_name": m.hostName = value
      case "captured_at": m.capturedAt = value
      case "capture_seconds": m.captureSeconds = Double(value)
      case "page_size":
        guard let size = Int(value), size >= 512, size <= 1 << 22, size & (size - 1) == 0 else {
          throw SnapshotError(
            .badSnapshot, path: path, offset: UInt64(offset),
            "meta page_size '\(value)' is not a power of two between 512 and 4 MiB")
        }
        m.pageSize = size
      default: m.extra.append((key, value))
      }
    }
    return m
  }

  /// `bytes` with every section CRC-32 and the table CRC-32 recomputed, wherever the
  /// header and table can be read (anything else is left as it is). For fuzzing and for
  /// tools that patch a file on purpose: a mutation then reaches the structure checks and
  /// the block decoder behind the CRCs.
  public static func recomputingChecksums(_ bytes: [UInt8]) -> [UInt8] {
    var b = bytes
    guard b.count >= headerSize else { return b }
    func le(_ o: Int, _ n: Int) -> UInt64 {
      (0..<n).reduce(UInt64(0)) { $0 | UInt64(b[o + $1]) << UInt64(8 * $1) }
    }
    func put(_ o: Int, _ v: UInt32) {
      for k in 0..<4 { b[o + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
    }
    let count = Int(le(12, 4))
    guard count <= maxSections, headerSize + count * entrySize <= b.count else { return b }
    for i in 0..<count {
      let e = headerSize + i * entrySize
      let off = le(e + 40, 8)
      let len = le(e + 48, 8)
      guard off <= UInt64(b.count), len <= UInt64(b.count) - off else { continue }
      put(
        e + 56,
        b.withUnsafeBytes {
          CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[Int(off)..<Int(off + len)]))
        })
    }
    put(
      24,
      b.withUnsafeBytes {
        CRC32.checksum(
          UnsafeRawBufferPointer(rebasing: $0[headerSize..<(headerSize + count * entrySize)]))
      })
    return b
  }

  /// The sections of a snapshot file with their stored and decoded sizes, for reports.
  public static func sections(_ path: String) throws -> [SectionInfo] {
    let file = try SnapshotBytes(path: path)
    var (sections, _) = try parseTable(file, path: path)
    for i in sections.indices where sections[i].encoding == .words {
      let s = sections[i]
      if s.storedBytes >= 8 {
        sections[i].decodedBytes =
          Int(clamping: le(try file.bytes(s.offset..<(s.offset + 8), path: path), 0, 8)) &* 8
      }
    }
    return sections
  }
}

/// A snapshot file's bytes, shared by the arrays that decode from them: in memory
/// (`SnapshotFormat.parse`, the fuzzer, tests) or an open file read with `pread`.
public final class SnapshotBytes: @unchecked Sendable {
  enum Storage {
    case memory([UInt8])
    case file(FileIO.Descriptor)
  }

  let storage: Storage
  public let size: Int

  init(_ bytes: [UInt8]) {
    storage = .memory(bytes)
    size = bytes.count
  }

  init(path: String) throws {
    let fd = try FileIO.openForReading(path)
    do {
      let size = try FileIO.size(fd, path: path)
      guard size <= 1 << 46 else {
        throw SnapshotError(
          .badSize, path: path, "file of \(size) bytes is implausibly large for a snapshot")
      }
      self.size = Int(size)
    } catch {
      try? fd.close()
      throw error
    }
    storage = .file(fd)
  }

  deinit {
    if case .file(let fd) = storage { try? fd.close() }
  }

  /// Copies `range` (inside the file) to `dst`.
  func copy(_ range: Range<Int>, into dst: UnsafeMutableRawPointer, path: String) throws {
    precondition(
      range.lowerBound >= 0 && range.upperBound <= size, "snapshot byte range out of bounds")
    switch storage {
    case .memory(let b):
      b.withUnsafeBytes {
        dst.copyMemory(from: $0.baseAddress! + range.lowerBound, byteCount: range.count)
      }
    case .file(let fd):
      let n = try FileIO.pread(
        fd, path: path, into: dst, count: range.count, offset: UInt64(range.lowerBound))
      guard n == range.count else {
        throw SnapshotError(
          .badSnapshot, path: path, offset: UInt64(range.lowerBound + n),
          "file ended early: it had \(size) bytes when opened (did it shrink while being read?)")
      }
    }
  }

  /// The bytes of `range` (a small part: a header, a table, a text section).
  func bytes(_ range: Range<Int>, path: String) throws -> [UInt8] {
    if case .memory(let b) = storage { return Array(b[range]) }
    var out = [UInt8](repeating: 0, count: range.count)
    if !range.isEmpty {
      try out.withUnsafeMutableBytes { try copy(range, into: $0.baseAddress!, path: path) }
    }
    return out
  }

  /// Calls `body` with the bytes of `range`: in place in memory, else read into `buffer`
  /// (which must hold `range.count` bytes).
  func withBytes<R>(
    _ range: Range<Int>, buffer: UnsafeMutableRawPointer, path: String,
    _ body: (UnsafeRawBufferPointer) throws -> R
  ) throws -> R {
    if case .memory(let b) = storage {
      return try b.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
    try copy(range, into: buffer, path: path)
    return try body(UnsafeRawBufferPointer(start: buffer, count: range.count))
  }

  /// The CRC-32 of `range`, read 1 MiB at a time from a file.
  func checksum(_ range: Range<Int>, path: String) throws -> UInt32 {
    if case .memory(let b) = storage {
      return b.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
    let piece = 1 << 20
    let buffer = FileIO.allocateReadBuffer(bytes: piece)
    defer { buffer.deallocate() }
    var crc: UInt32 = 0
    var at = range.lowerBound
    while at < range.upperBound {
      let n = min(piece, range.upperBound - at)
      try copy(at..<(at + n), into: buffer, path: path)
      crc = CRC32.checksum(UnsafeRawBufferPointer(start: buffer, count: n), continuing: crc)
      at += n
    }
    return crc
  }
}

/// A word section's block directory, validated, and the decoder over it.
final class EncodedBlocks: @unchecked Sendable {
  let file: SnapshotBytes
  let path: String
  let name: String
  let count: Int
  let blockWords: Int
  /// Byte range of each block in the file.
  let blocks: [Range<Int>]

  init(
    file kpage: KPageFile, bytes file: SnapshotBytes, section s: SnapshotFormat.SectionInfo,
    path: String
  ) throws {
    self.file = file
    self.path = path
    self.name = s.name
    func bad(_ offset: Int, _ message: String) -> SnapshotError {
      SnapshotError(
        .badSnapshot, path: path, offset: UInt64(offset), "section '\(s.name)': \(message)")
    }
    let base = s.offset
    let end = s.offset + s.storedBytes
    guard s.storedBytes >= 16 else {
      throw bad(base, "\(s.storedBytes) bytes, too short for a word-section header (16)")
    }
    let header = try file.bytes(base..<(base + 16), path: path)
    let words = SnapshotFormat.le(header, 0, 8)
    let blockWords = SnapshotFormat.le(header, 8, 4)
    let blockCount = SnapshotFormat.le(header, 12, 4)
    guard words > 0 else { throw bad(base, "has 0 PFNs") }
    guard words <= 1 << 40 else {
      throw bad(base, "PFN count \(words) is implausible (above 2^40)")
    }
    guard blockWords > 0, blockWords <= UInt64(SnapshotFormat.blockWords),
      blockWords & (blockWords - 1) == 0
    else {
      throw bad(base + 8, "block size \(blockWords) words is not a power of two up to 2^20")
    }
    let expectedBlocks = (words + blockWords - 1) / blockWords
    guard blockCount == expectedBlocks else {
      throw bad(
        base + 12,
        "\(blockCount) blocks, but \(words) PFNs in blocks of \(blockWords) need \(expectedBlocks)")
    }
    let dirEnd = base + 16 + Int(blockCount) * 4
    guard dirEnd <= end else {
      throw bad(base + 16, "block directory of \(blockCount) entries runs past the section's end")
    }
    // The directory is in the file, 4 bytes a block: holding it costs no more than it does.
    let directory = try file.bytes((base + 16)..<dirEnd, path: path)
    var ranges: [Range<Int>] = []
    ranges.reserveCapacity(Int(blockCount))
    var at = dirEnd
    // A raw block (mode 0) is the largest coding: the encoder never writes a bigger one,
    // and a reader holds one block's bytes at a time.
    let largest = Int(blockWords) * 8 + 1
    for i in 0..<Int(blockCount) {
      let len = Int(SnapshotFormat.le(directory, 4 * i, 4))
      guard len <= end - at else {
        throw bad(base + 16 + 4 * i, "block \(i) of \(len) bytes runs past the section's end")
      }
      guard len <= largest else {
        throw bad(
          base + 16 + 4 * i,
          "block \(i) of \(len) bytes is larger than a raw block of \(blockWords) words (\(largest) bytes)"
        )
      }
      ranges.append(at..<(at + len))
      at += len
    }
    guard at == end else { throw bad(at, "\(end - at) bytes after the last block") }
    self.count = Int(words)
    self.blockWords = Int(blockWords)
    self.blocks = ranges
    storedBytes = ranges.map(\.count).max() ?? 0
  }

  /// Decodes block `i` (all of its words) into `dst`; a file's block is read into
  /// `stored` (a buffer of at least `storedBytes` bytes) first.
  func decodeBlock(
    _ i: Int, into dst: UnsafeMutablePointer<UInt64>, stored: UnsafeMutableRawPointer
  ) throws {
    let words = min(blockWords, count - i * blockWords)
    let r = blocks[i]
    let failure = try file.withBytes(r, buffer: stored, path: path) { raw -> RunCodecError? in
      do throws(RunCodecError) {
        try RunCodec.decode(raw, count: words, into: dst)
        return nil
      } catch {
        return error
      }
    }
    if let error = failure {
      throw SnapshotError(
        .badSnapshot, path: path, offset: UInt64(r.lowerBound + error.offset),
        "section '\(name)' block \(i): \(error.message)")
    }
  }

  /// The largest stored block, in bytes.
  let storedBytes: Int
  /// Buffers for stored blocks read from a file, reused (one per thread reading).
  /// (Addresses: a pointer is not Sendable.)
  private let spare = Mutex<[UInt]>([])

  deinit { spare.withLock { for b in $0 { UnsafeMutableRawPointer(bitPattern: b)?.deallocate() } } }

  func withStoredBuffer<R>(_ body: (UnsafeMutableRawPointer) throws -> R) throws -> R {
    let b =
      spare.withLock { $0.popLast() }.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
      ?? FileIO.allocateReadBuffer(bytes: storedBytes)
    defer { spare.withLock { $0.append(UInt(bitPattern: b)) } }
    return try body(b)
  }

  func read(_ pfns: Range<Int>, into dst: UnsafeMutablePointer<UInt64>, file: KPageFile) throws {
    var pfn = pfns.lowerBound
    var scratch: UnsafeMutablePointer<UInt64>?
    defer { scratch?.deallocate() }
    try withStoredBuffer { storedBuffer in
      while pfn < pfns.upperBound {
        let b = pfn / blockWords
        let blockStart = b * blockWords
        let blockEnd = min(count, blockStart + blockWords)
        let take = min(blockEnd, pfns.upperBound) - pfn
        if pfn == blockStart && take == blockEnd - blockStart {
          try decodeBlock(b, into: dst + (pfn - pfns.lowerBound), stored: storedBuffer)
        } else {
          if scratch == nil { scratch = .allocate(capacity: blockWords) }
          try decodeBlock(b, into: scratch!, stored: storedBuffer)
          (dst + (pfn - pfns.lowerBound)).update(from: scratch! + (pfn - blockStart), count: take)
        }
        pfn += take
      }
    }
  }
}

/// Per-item results filled concurrently (each index written by one worker).
final class BlockResults: @unchecked Sendable {
  private var items: [[UInt8]]
  private let lock = Mutex<Void>(())
  init(count: Int) { items = Array(repeating: [], count: count) }
  func set(_ i: Int, _ v: [UInt8]) { lock.withLock { _ in items[i] = v } }
  func get(_ i: Int) -> [UInt8] { lock.withLock { _ in items[i] } }
}

extension String {
  func replacingNewlines() -> String {
    String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
  }
}
