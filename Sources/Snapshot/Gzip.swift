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
    let reader = try GzipReader(path: path, maxOutput: maxOutput) { buffer, offset in
      guard offset < UInt64(input.count) else { return 0 }
      let n = min(buffer.count, input.count - Int(offset))
      buffer.baseAddress!.copyMemory(from: input.baseAddress! + Int(offset), byteCount: n)
      return n
    }
    // The deflate ratio of kpage dumps is high (mostly zero runs): start at 8x the input
    // and let the store grow geometrically.
    let out = ByteStore(capacity: min(max(input.count, 1) * 8, maxOutput) + 16)
    while true {
      out.reserve(out.count + (1 << 20))
      let n = try reader.read(into: out.base + out.count, count: 1 << 20)
      out.count += n
      if n < 1 << 20 { return out }
    }
  }

  public static func decompress(_ input: [UInt8], path: String, maxOutput: Int = 1 << 40) throws -> ByteStore {
    try input.withUnsafeBytes { try decompress($0, path: path, maxOutput: maxOutput) }
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

  /// A second stream in the same state as `other` (zlib's `inflateCopy`: the window
  /// and the decoder state, about 40 KiB), to resume decoding from there later.
  init(copying other: InflateStream, path: String) throws {
    z = .allocate(capacity: 1)
    z.initialize(to: z_stream())
    let rc = inflateCopy(z, other.z)
    guard rc == Z_OK else {
      z.deallocate()
      throw SnapshotError(.io, path: path, "zlib inflateCopy failed (\(rc))")
    }
    atMemberStart = other.atMemberStart
    // The copy's input pointer is the other stream's buffer: it must get its own.
    z.pointee.next_in = nil
    z.pointee.avail_in = 0
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
