/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as gzip (RFC 1952) and the
/// snapshot format use it. Slicing-by-8: eight 256-entry tables, eight bytes per step.
public enum CRC32 {
  static let tables: [UInt32] = {
    var t = [UInt32](repeating: 0, count: 8 * 256)
    for i in 0..<256 {
      var c = UInt32(i)
      for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
      t[i] = c
    }
    for k in 1..<8 {
      for i in 0..<256 {
        let prev = t[(k - 1) * 256 + i]
        t[k * 256 + i] = (prev >> 8) ^ t[Int(prev & 0xff)]
      }
    }
    return t
  }()

  /// The CRC of `bytes`, continuing from `crc` (0 for a fresh checksum).
  public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    guard let base = bytes.baseAddress else { return crc }
    return tables.withUnsafeBufferPointer { tp in
      let t = tp.baseAddress!
      var c = ~crc
      var p = base
      var n = bytes.count
      while n >= 8 {
        let lo = p.loadUnaligned(as: UInt32.self).littleEndian ^ c
        let hi = (p + 4).loadUnaligned(as: UInt32.self).littleEndian
        c = t[7 * 256 + Int(lo & 0xff)] ^ t[6 * 256 + Int((lo >> 8) & 0xff)]
          ^ t[5 * 256 + Int((lo >> 16) & 0xff)] ^ t[4 * 256 + Int(lo >> 24)]
          ^ t[3 * 256 + Int(hi & 0xff)] ^ t[2 * 256 + Int((hi >> 8) & 0xff)]
          ^ t[1 * 256 + Int((hi >> 16) & 0xff)] ^ t[Int(hi >> 24)]
        p += 8
        n -= 8
      }
      while n > 0 {
        c = t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xff)] ^ (c >> 8)
        p += 1
        n -= 1
      }
      return ~c
    }
  }

  public static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0) }
  }
}
