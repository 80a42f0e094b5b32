import CZlib

/// gzip (RFC 1952) decompression and CRC-32 through the system zlib: a hostile-input
/// decoder is better maintained (and fuzzed) once, by zlib, than again here.
///
/// Errors are `SnapshotError`s of kind `.badGzip` whose offset is a byte offset in the
/// *compressed* file (the message says so and how many bytes were decompressed by then).
/// Each member's CRC-32 and ISIZE are checked by zlib; concatenated members are decoded
/// one after another, as `gzip -d` does.
public enum Gzip {
  /// True when `bytes` starts with the gzip magic (1f 8b).
  public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
  }

  /// Decompresses a whole gzip file (one or more members) held in memory.
  public static func decompress(_ input: UnsafeRawBufferPointer, path: String, maxOutput: Int = 1 << 40) throws -> ByteStore {
    var pos = 0
    return try decompress(path: path, sizeHint: input.count, maxOutput: maxOutput) { buffer in
      let n = min(buffer.count, input.count - pos)
      if n > 0 { buffer.baseAddress!.copyMemory(from: input.baseAddress! + pos, byteCount: n) }
      pos += n
      return n
    }
  }

  public static func decompress(_ input: [UInt8], path: String, maxOutput: Int = 1 << 40) throws -> ByteStore {
    try input.withUnsafeBytes { try decompress($0, path: path, maxOutput: maxOutput) }
  }

  /// Decompresses the gzip file `fd` refers to, reading it in chunks, so that only the
  /// decompressed bytes are held in memory.
  static func decompress(fd: FileIO.Descriptor, path: String, size: UInt64, maxOutput: Int = 1 << 40) throws -> ByteStore {
    var offset: UInt64 = 0
    return try decompress(path: path, sizeHint: Int(clamping: size), maxOutput: maxOutput) { buffer in
      let n = try FileIO.pread(fd, path: path, into: buffer.baseAddress!, count: buffer.count, offset: offset)
      offset += UInt64(n)
      return n
    }
  }

  /// The decoder loop over any source of compressed bytes; `read` fills its buffer from
  /// the start and returns 0 at end of input.
  static func decompress(
    path: String, sizeHint: Int, maxOutput: Int, read: (UnsafeMutableRawBufferPointer) throws -> Int
  ) throws -> ByteStore {
    let stream = try InflateStream(path: path)
    // The deflate ratio of kpage dumps is high (mostly zero runs): start at 8x the input
    // and let the store grow geometrically.
    let out = ByteStore(capacity: min(max(sizeHint, 1) * 8, maxOutput) + 16)
    let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
    defer { input.deallocate() }
    var available = 0
    var consumed: UInt64 = 0  // compressed bytes before `input`
    var eof = false
    func refill() throws {
      guard !eof else { return }
      let n = try read(input)
      eof = n == 0
      available = n
      stream.setInput(input.baseAddress!, count: n)
    }
    try refill()
    guard available > 0 else { throw SnapshotError(.badGzip, path: path, "empty file, not gzip data") }
    guard available >= 2, input[0] == 0x1f, input[1] == 0x8b else {
      throw SnapshotError(.badGzip, path: path, offset: 0, "not a gzip file (no 1f 8b magic)")
    }
    var member = 0
    var memberStart = 0
    while true {
      if stream.availableIn == 0 && !eof {
        consumed += UInt64(available)
        try refill()
      }
      func offset() -> UInt64 { consumed + UInt64(available - stream.availableIn) }
      if stream.atMemberStart {
        if stream.availableIn == 0 { break }  // a clean end after a whole member
        let next = UnsafeRawBufferPointer(start: stream.nextIn, count: stream.availableIn)
        // Another member, or garbage after the last one (gzip -d says the same).
        guard member == 0 || (next[0] == 0x1f && (next.count < 2 || next[1] == 0x8b)) else {
          throw SnapshotError(.badGzip, path: path, offset: offset(), "trailing garbage after gzip member \(member)")
        }
        if next.count >= 4 { try checkHeader(next, path: path, offset: offset()) }
        memberStart = out.count
      }
      let room = min(1 << 20, maxOutput - out.count)
      out.reserve(out.count + room)
      let (status, produced) = stream.inflate(into: out.base + out.count, count: room)
      out.count += produced
      switch status {
      case Z_OK: continue
      case Z_STREAM_END:
        member += 1
        stream.reset()
      case Z_BUF_ERROR where room == 0:
        throw SnapshotError(.badGzip, path: path, offset: offset(), "decompressed data larger than the \(maxOutput)-byte limit (compressed offset; \(out.count) bytes decompressed)")
      case Z_BUF_ERROR where stream.availableIn == 0 && eof:
        throw SnapshotError(
          .badGzip, path: path, offset: offset(),
          "unexpected end of compressed data in gzip member \(member + 1) (truncated file?; compressed offset, \(out.count) bytes decompressed)")
      case Z_BUF_ERROR: continue
      default:
        throw stream.error(status, path: path, offset: offset(), member: member + 1, decompressed: out.count, memberBytes: out.count - memberStart)
      }
    }
    return out
  }

  /// The fixed part of a member header, checked before zlib so that the common mistakes
  /// are named precisely.
  static func checkHeader(_ h: UnsafeRawBufferPointer, path: String, offset: UInt64) throws {
    guard h[2] == 8 else {
      throw SnapshotError(.badGzip, path: path, offset: offset + 2, "unknown gzip compression method \(h[2]) (only 8, deflate, exists)")
    }
    guard h[3] & 0xe0 == 0 else {
      throw SnapshotError(.badGzip, path: path, offset: offset + 3, "reserved gzip flag bits set (0x\(String(h[3], radix: 16)))")
    }
  }
}

/// One zlib inflate stream in gzip mode; the `z_stream` lives at a fixed address, as
/// zlib keeps pointers into it.
final class InflateStream {
  private let z: UnsafeMutablePointer<z_stream>
  /// True before the first byte of a member has been consumed.
  private(set) var atMemberStart = true

  init(path: String) throws {
    z = .allocate(capacity: 1)
    z.initialize(to: z_stream())
    // windowBits 15 + 16: a gzip wrapper (not zlib's, not raw deflate), 32 KiB window.
    let rc = inflateInit2_(z, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    guard rc == Z_OK else {
      z.deallocate()
      throw SnapshotError(.io, path: path, "zlib inflateInit2 failed (\(rc))")
    }
  }

  deinit {
    inflateEnd(z)
    z.deallocate()
  }

  var availableIn: Int { Int(z.pointee.avail_in) }
  var nextIn: UnsafeRawPointer { UnsafeRawPointer(z.pointee.next_in) }

  func setInput(_ p: UnsafeMutableRawPointer, count: Int) {
    z.pointee.next_in = p.assumingMemoryBound(to: Bytef.self)
    z.pointee.avail_in = uInt(count)
  }

  func reset() {
    inflateReset(z)
    atMemberStart = true
  }

  /// Inflates into `dst`; returns zlib's status and the bytes written.
  func inflate(into dst: UnsafeMutableRawPointer, count: Int) -> (Int32, Int) {
    let before = availableIn
    z.pointee.next_out = dst.assumingMemoryBound(to: Bytef.self)
    z.pointee.avail_out = uInt(count)
    let rc = CZlib.inflate(z, Z_NO_FLUSH)
    if availableIn != before { atMemberStart = false }
    return (rc, count - Int(z.pointee.avail_out))
  }

  /// zlib's reason as one line; the checks zlib names tersely get the wording users know
  /// from gzip.
  func error(_ rc: Int32, path: String, offset: UInt64, member: Int, decompressed: Int, memberBytes: Int) -> SnapshotError {
    let reason = z.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
    let what: String
    switch reason {
    case "incorrect data check": what = "CRC-32 mismatch in gzip member \(member): the stored checksum does not match the \(memberBytes) decoded bytes"
    case "incorrect length check": what = "ISIZE mismatch in gzip member \(member): the stored length does not match the \(memberBytes) decoded bytes"
    default: what = "damaged gzip member \(member): \(reason)"
    }
    return SnapshotError(.badGzip, path: path, offset: offset, "\(what) (compressed offset; \(decompressed) bytes decompressed)")
  }
}

/// CRC-32 (IEEE 802.3), as gzip and the snapshot format use it, from zlib.
public enum CRC32 {
  /// The CRC of `bytes`, continuing from `crc` (0 for a fresh checksum).
  public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    guard var p = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return crc }
    var c = uLong(crc)
    var left = bytes.count
    // zlib's length is a uInt: feed sections above 4 GiB in pieces.
    while left > 0 {
      let n = min(left, 1 << 30)
      c = crc32(c, p, uInt(n))
      p += n
      left -= n
    }
    return UInt32(truncatingIfNeeded: c)
  }

  public static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0) }
  }
}
