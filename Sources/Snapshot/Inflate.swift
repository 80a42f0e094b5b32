/// gzip (RFC 1952) and DEFLATE (RFC 1951) decompression in pure Swift, so that reading
/// a `.gz` kpage dump needs no zlib on the machine.
///
/// The decoder checks every bound: a damaged, truncated or hostile stream gives a
/// `SnapshotError` of kind `.badGzip` naming the byte offset in the compressed file where
/// decoding failed, never a trap or an out-of-bounds access. Each gzip member's CRC-32
/// and ISIZE are verified; concatenated members are decoded one after another, as
/// `gzip -d` does.
///
/// Speed: Huffman codes of up to 10 bits decode with one table look-up; longer ones
/// (rare) fall back to a canonical bit-by-bit decode. Matches copy 8 bytes at a time, and
/// runs of one byte (distance 1, the zero runs of kpage dumps) use `memset`.
public enum Gzip {
  /// True when `bytes` starts with the gzip magic (1f 8b).
  public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
  }

  /// Decompresses a whole gzip file (one or more members).
  ///
  /// - Parameters:
  ///   - input: the compressed bytes.
  ///   - path: the file name used in errors.
  ///   - maxOutput: refuse to produce more than this many bytes.
  /// - Returns: the decompressed bytes.
  public static func decompress(_ input: UnsafeRawBufferPointer, path: String, maxOutput: Int = 1 << 40) throws -> ByteStore {
    guard input.count > 0 else { throw SnapshotError(.badGzip, path: path, "empty file, not gzip data") }
    guard hasMagic(input) else { throw SnapshotError(.badGzip, path: path, offset: 0, "not a gzip file (no 1f 8b magic)") }
    // ISIZE of the last member is the output size mod 2^32: a good first guess for the
    // buffer, bounded by the largest ratio DEFLATE can reach (1032:1).
    var hint = input.count * 4
    if input.count >= 18 {
      let isize = Int(input.loadUnaligned(fromByteOffset: input.count - 4, as: UInt32.self).littleEndian)
      hint = max(hint, min(isize, input.count * 1032))
    }
    let out = ByteStore(capacity: min(hint, maxOutput) + 16)
    var d = Inflater(input: input, out: out, path: path, maxOutput: maxOutput)
    var member = 0
    while true {
      try d.gzipMember(index: member)
      member += 1
      if d.pos >= input.count { break }
      guard input.count - d.pos >= 2, input[d.pos] == 0x1f, input[d.pos + 1] == 0x8b else {
        throw SnapshotError(.badGzip, path: path, offset: UInt64(d.pos), "trailing garbage after gzip member \(member)")
      }
    }
    return out
  }

  public static func decompress(_ input: [UInt8], path: String, maxOutput: Int = 1 << 40) throws -> ByteStore {
    try input.withUnsafeBytes { try decompress($0, path: path, maxOutput: maxOutput) }
  }
}

/// A canonical Huffman code: a direct look-up table for codes of up to `fastBits` bits,
/// and counts/symbols for the bit-by-bit decode of longer ones.
///
/// Kernel: none; RFC 1951 section 3.2.2.
struct HuffmanTable {
  static let fastBits = 10
  static let fastSize = 1 << fastBits
  /// `(symbol << 4) | length` for codes of at most fastBits bits, 0 elsewhere.
  var fast: [UInt16]
  /// Number of codes of each length 0...15.
  var counts: [UInt16]
  /// Symbols ordered by code.
  var symbols: [UInt16]

  init() {
    fast = [UInt16](repeating: 0, count: HuffmanTable.fastSize)
    counts = [UInt16](repeating: 0, count: 16)
    symbols = [UInt16](repeating: 0, count: 320)
  }

  /// Builds the code from per-symbol lengths (0 = unused). Over-subscribed sets are
  /// rejected; incomplete ones are accepted and an unused code fails when met.
  /// Returns false for an over-subscribed set.
  mutating func build(lengths: UnsafeBufferPointer<UInt8>) -> Bool {
    for i in 0..<16 { counts[i] = 0 }
    for l in lengths { counts[Int(l)] += 1 }
    counts[0] = 0
    var left = 1
    for len in 1...15 {
      left <<= 1
      left -= Int(counts[len])
      if left < 0 { return false }
    }
    var offsets = [Int](repeating: 0, count: 16)
    for len in 1..<15 { offsets[len + 1] = offsets[len] + Int(counts[len]) }
    for (sym, l) in lengths.enumerated() where l != 0 {
      symbols[offsets[Int(l)]] = UInt16(sym)
      offsets[Int(l)] += 1
    }
    for i in 0..<HuffmanTable.fastSize { fast[i] = 0 }
    // Canonical codes: assign in order of (length, symbol); fill the fast table with the
    // bit-reversed code (DEFLATE sends Huffman codes most significant bit first).
    var code = 0
    var index = 0
    for len in 1...15 {
      let n = Int(counts[len])
      if len <= HuffmanTable.fastBits {
        for k in 0..<n {
          let sym = symbols[index + k]
          var rev = 0
          var c = code + k
          for _ in 0..<len {
            rev = (rev << 1) | (c & 1)
            c >>= 1
          }
          let entry = UInt16(sym) << 4 | UInt16(len)
          var i = rev
          while i < HuffmanTable.fastSize {
            fast[i] = entry
            i += 1 << len
          }
        }
      }
      index += n
      code = (code + n) << 1
    }
    return true
  }
}

/// The DEFLATE decoder state: input position and bit buffer, output store.
struct Inflater {
  let input: UnsafeRawBufferPointer
  let out: ByteStore
  let path: String
  let maxOutput: Int
  var pos = 0
  var bitbuf: UInt64 = 0
  var bitcnt = 0
  /// Output offset where the current member started: matches may not reach before it.
  var memberStart = 0
  var lit = HuffmanTable()
  var dist = HuffmanTable()
  var lens = HuffmanTable()

  static let lengthBase: [UInt16] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
  static let lengthExtra: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
  static let distBase: [UInt16] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
  static let distExtra: [UInt8] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
  static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

  init(input: UnsafeRawBufferPointer, out: ByteStore, path: String, maxOutput: Int) {
    self.input = input
    self.out = out
    self.path = path
    self.maxOutput = maxOutput
  }

  func fail(_ message: String) -> SnapshotError {
    // The byte being decoded: the bit buffer holds up to 7 bytes read ahead.
    SnapshotError(.badGzip, path: path, offset: UInt64(max(0, pos - bitcnt / 8)), message)
  }

  // MARK: bits

  @inline(__always)
  mutating func refill() {
    while bitcnt <= 56 && pos < input.count {
      bitbuf |= UInt64(input[pos]) << UInt64(bitcnt)
      pos += 1
      bitcnt += 8
    }
  }

  /// Makes sure `n` (at most 57) bits are buffered, or fails as truncated.
  @inline(__always)
  mutating func need(_ n: Int) throws {
    if bitcnt < n {
      refill()
      if bitcnt < n { throw fail("unexpected end of compressed data (truncated file?)") }
    }
  }

  @inline(__always)
  mutating func bits(_ n: Int) throws -> Int {
    try need(n)
    let v = Int(bitbuf & ((1 << UInt64(n)) - 1))
    bitbuf >>= UInt64(n)
    bitcnt -= n
    return v
  }

  /// Decodes one symbol of `table`.
  @inline(__always)
  mutating func decode(_ table: UnsafePointer<UInt16>, _ counts: UnsafePointer<UInt16>, _ symbols: UnsafePointer<UInt16>) throws -> Int {
    if bitcnt < 15 { refill() }
    let e = table[Int(bitbuf & UInt64(HuffmanTable.fastSize - 1))]
    let len = Int(e & 15)
    if len != 0 && len <= bitcnt {
      bitbuf >>= UInt64(len)
      bitcnt -= len
      return Int(e >> 4)
    }
    return try decodeSlow(counts, symbols)
  }

  @inline(never)
  mutating func decodeSlow(_ counts: UnsafePointer<UInt16>, _ symbols: UnsafePointer<UInt16>) throws -> Int {
    var code = 0
    var first = 0
    var index = 0
    for len in 1...15 {
      if len > bitcnt {
        refill()
        if len > bitcnt { throw fail("unexpected end of compressed data (truncated file?)") }
      }
      code |= Int((bitbuf >> UInt64(len - 1)) & 1)
      let count = Int(counts[len])
      if code - first < count {
        bitbuf >>= UInt64(len)
        bitcnt -= len
        return Int(symbols[index + code - first])
      }
      index += count
      first = (first + count) << 1
      code <<= 1
    }
    throw fail("invalid Huffman code")
  }

  // MARK: bytes

  mutating func byte() throws -> UInt8 {
    guard pos < input.count else { throw SnapshotError(.badGzip, path: path, offset: UInt64(pos), "unexpected end of gzip header or trailer (truncated file?)") }
    defer { pos += 1 }
    return input[pos]
  }

  mutating func le32() throws -> UInt32 {
    var v: UInt32 = 0
    for i in 0..<4 { v |= UInt32(try byte()) << UInt32(8 * i) }
    return v
  }

  // MARK: gzip

  /// Decodes one gzip member starting at `pos`: header, DEFLATE data, CRC-32 and ISIZE.
  mutating func gzipMember(index: Int) throws {
    let start = pos
    guard try byte() == 0x1f, try byte() == 0x8b else {
      throw SnapshotError(.badGzip, path: path, offset: UInt64(start), "not a gzip member (no 1f 8b magic)")
    }
    let method = try byte()
    guard method == 8 else { throw SnapshotError(.badGzip, path: path, offset: UInt64(start + 2), "unknown gzip compression method \(method) (only 8, deflate, exists)") }
    let flags = try byte()
    guard flags & 0xe0 == 0 else { throw SnapshotError(.badGzip, path: path, offset: UInt64(start + 3), "reserved gzip flag bits set (0x\(String(flags, radix: 16)))") }
    pos += 6  // MTIME, XFL, OS
    guard pos <= input.count else { throw SnapshotError(.badGzip, path: path, offset: UInt64(input.count), "truncated gzip header") }
    if flags & 4 != 0 {  // FEXTRA
      let xlen = Int(try byte()) | Int(try byte()) << 8
      pos += xlen
      guard pos <= input.count else { throw SnapshotError(.badGzip, path: path, offset: UInt64(input.count), "truncated gzip extra field") }
    }
    for flag in [UInt8(8), 16] where flags & flag != 0 {  // FNAME, FCOMMENT: zero-terminated
      while try byte() != 0 {}
    }
    if flags & 2 != 0 { pos += 2 }  // FHCRC
    guard pos <= input.count else { throw SnapshotError(.badGzip, path: path, offset: UInt64(input.count), "truncated gzip header") }
    memberStart = out.count
    try inflate()
    // Back to byte alignment; give back whole bytes still in the bit buffer.
    pos -= bitcnt / 8
    bitbuf = 0
    bitcnt = 0
    let trailer = pos
    let crc = try le32()
    let isize = try le32()
    let produced = out.count - memberStart
    let actual = CRC32.checksum(UnsafeRawBufferPointer(start: out.base + memberStart, count: produced))
    guard crc == actual else {
      throw SnapshotError(.badGzip, path: path, offset: UInt64(trailer), "CRC-32 mismatch in gzip member \(index + 1): stored 0x\(String(crc, radix: 16)), data gives 0x\(String(actual, radix: 16))")
    }
    guard isize == UInt32(truncatingIfNeeded: produced) else {
      throw SnapshotError(.badGzip, path: path, offset: UInt64(trailer + 4), "ISIZE mismatch in gzip member \(index + 1): stored \(isize), decoded \(produced) bytes")
    }
  }

  // MARK: deflate

  mutating func inflate() throws {
    var last = false
    while !last {
      last = try bits(1) == 1
      switch try bits(2) {
      case 0: try storedBlock()
      case 1:
        try fixedTables()
        try codes()
      case 2:
        try dynamicTables()
        try codes()
      default: throw fail("invalid DEFLATE block type 3")
      }
    }
  }

  mutating func storedBlock() throws {
    // Drop to a byte boundary, then hand whole buffered bytes back to the input.
    bitbuf >>= UInt64(bitcnt & 7)
    bitcnt -= bitcnt & 7
    pos -= bitcnt / 8
    bitbuf = 0
    bitcnt = 0
    let at = pos
    let len = Int(try byte()) | Int(try byte()) << 8
    let nlen = Int(try byte()) | Int(try byte()) << 8
    guard len == ~nlen & 0xffff else { throw SnapshotError(.badGzip, path: path, offset: UInt64(at), "stored block length \(len) does not match its complement") }
    guard input.count - pos >= len else { throw SnapshotError(.badGzip, path: path, offset: UInt64(input.count), "unexpected end of compressed data in a stored block (truncated file?)") }
    try room(len)
    (out.base + out.count).copyMemory(from: input.baseAddress! + pos, byteCount: len)
    out.count += len
    pos += len
  }

  @inline(__always)
  mutating func room(_ n: Int) throws {
    let needed = out.count + n
    guard needed <= maxOutput else { throw fail("decompressed data larger than the \(maxOutput)-byte limit") }
    out.reserve(needed + 8)
  }

  mutating func fixedTables() throws {
    var l = [UInt8](repeating: 8, count: 288)
    for i in 144..<256 { l[i] = 9 }
    for i in 256..<280 { l[i] = 7 }
    _ = l.withUnsafeBufferPointer { lit.build(lengths: $0) }
    let d = [UInt8](repeating: 5, count: 30)
    _ = d.withUnsafeBufferPointer { dist.build(lengths: $0) }
  }

  mutating func dynamicTables() throws {
    let nlen = try bits(5) + 257
    let ndist = try bits(5) + 1
    let ncode = try bits(4) + 4
    guard nlen <= 286, ndist <= 30 else { throw fail("too many length (\(nlen)) or distance (\(ndist)) codes") }
    var cl = [UInt8](repeating: 0, count: 19)
    for i in 0..<ncode { cl[Inflater.codeLengthOrder[i]] = UInt8(try bits(3)) }
    guard cl.withUnsafeBufferPointer({ lens.build(lengths: $0) }) else { throw fail("over-subscribed code-length code") }
    var lengths = [UInt8](repeating: 0, count: nlen + ndist)
    var i = 0
    while i < nlen + ndist {
      let sym = try lens.fast.withUnsafeBufferPointer { f in
        try lens.counts.withUnsafeBufferPointer { c in
          try lens.symbols.withUnsafeBufferPointer { s in try decode(f.baseAddress!, c.baseAddress!, s.baseAddress!) }
        }
      }
      if sym < 16 {
        lengths[i] = UInt8(sym)
        i += 1
        continue
      }
      var value: UInt8 = 0
      var repeatCount: Int
      switch sym {
      case 16:
        guard i > 0 else { throw fail("code-length repeat with no previous length") }
        value = lengths[i - 1]
        repeatCount = 3 + (try bits(2))
      case 17: repeatCount = 3 + (try bits(3))
      default: repeatCount = 11 + (try bits(7))
      }
      guard i + repeatCount <= nlen + ndist else { throw fail("code-length repeat runs past the end of the lengths") }
      for _ in 0..<repeatCount {
        lengths[i] = value
        i += 1
      }
    }
    guard lengths[256] != 0 else { throw fail("no end-of-block code in a dynamic block") }
    let ok = lengths.withUnsafeBufferPointer { all in
      lit.build(lengths: UnsafeBufferPointer(rebasing: all[0..<nlen]))
        && dist.build(lengths: UnsafeBufferPointer(rebasing: all[nlen...]))
    }
    guard ok else { throw fail("over-subscribed literal/length or distance code") }
  }

  /// Decodes the symbols of one compressed block until end-of-block.
  mutating func codes() throws {
    let litFast = lit.fast, litCounts = lit.counts, litSymbols = lit.symbols
    let distFast = dist.fast, distCounts = dist.counts, distSymbols = dist.symbols
    try litFast.withUnsafeBufferPointer { lf in
      try litCounts.withUnsafeBufferPointer { lc in
        try litSymbols.withUnsafeBufferPointer { ls in
          try distFast.withUnsafeBufferPointer { df in
            try distCounts.withUnsafeBufferPointer { dc in
              try distSymbols.withUnsafeBufferPointer { ds in
                try codes(lf.baseAddress!, lc.baseAddress!, ls.baseAddress!, df.baseAddress!, dc.baseAddress!, ds.baseAddress!)
              }
            }
          }
        }
      }
    }
  }

  @inline(__always)
  mutating func codes(
    _ lf: UnsafePointer<UInt16>, _ lc: UnsafePointer<UInt16>, _ ls: UnsafePointer<UInt16>,
    _ df: UnsafePointer<UInt16>, _ dc: UnsafePointer<UInt16>, _ ds: UnsafePointer<UInt16>
  ) throws {
    while true {
      let sym = try decode(lf, lc, ls)
      if sym < 256 {
        try room(1)
        out.base.storeBytes(of: UInt8(truncatingIfNeeded: sym), toByteOffset: out.count, as: UInt8.self)
        out.count += 1
        continue
      }
      if sym == 256 { return }
      let li = sym - 257
      guard li < 29 else { throw fail("invalid literal/length symbol \(sym)") }
      let length = Int(Inflater.lengthBase[li]) + (try bits(Int(Inflater.lengthExtra[li])))
      let dsym = try decode(df, dc, ds)
      guard dsym < 30 else { throw fail("invalid distance symbol \(dsym)") }
      let distance = Int(Inflater.distBase[dsym]) + (try bits(Int(Inflater.distExtra[dsym])))
      guard distance <= out.count - memberStart else {
        throw fail("match distance \(distance) reaches before the start of the data (\(out.count - memberStart) bytes decoded)")
      }
      try room(length)
      let dst = out.base + out.count
      let src = dst - distance
      if distance >= 8 {
        // Forward 8-byte copies; `room` left 8 bytes of slack past the end.
        var k = 0
        while k < length {
          (dst + k).storeBytes(of: (src + k).loadUnaligned(as: UInt64.self), as: UInt64.self)
          k += 8
        }
      } else if distance == 1 {
        dst.initializeMemory(as: UInt8.self, repeating: src.load(as: UInt8.self), count: length)
      } else {
        for k in 0..<length { (dst + k).storeBytes(of: (src + k).load(as: UInt8.self), as: UInt8.self) }
      }
      out.count += length
    }
  }
}
