/// The compression of one block of u64 words in a snapshot file: runs of identical
/// words, each run one token, values coded against a small move-to-front list.
///
/// kpage arrays are long runs (holes and uninitialised sections read 0, free blocks read
/// BUDDY on every page, a THP's 511 tails read the same word) drawn from a few hundred
/// distinct words, so a run costs about one byte:
///
///     block   := mode:u8 payload
///     mode 0  := count x u64 little-endian (raw words; chosen when smaller)
///     mode t  := token*                          (t = 1...6: tag bits)
///     token   := varint((runLength - 1) << t | tag) [varint(zigzag(value - previous))]
///
/// `tag < 2^t - 1` names the value as entry `tag` of the move-to-front list of recent
/// run values (the list is empty at the start of each block, so blocks decode
/// independently); `tag == 2^t - 1` is a literal: the value follows as the zigzag-coded
/// wrapping difference from the previous run's value (0 at block start). The value then
/// moves to the front of the list, which holds at most `2^t - 1` entries. Varints are
/// LEB128 (7 bits a byte, low first, at most 10 bytes). The encoder tries t = 3, 4, 5 and
/// raw, and keeps the smallest.
///
/// The decoder checks everything: mode, varint length and overflow, list indexes, run
/// lengths against the block's word count, and that the payload ends exactly where the
/// last run does.
public enum RunCodec {
  /// Encodes `words` as one block, appending to `out`.
  public static func encode(_ words: UnsafeBufferPointer<UInt64>, into out: inout [UInt8]) {
    var runs = Runs()
    runs.add(words)
    encode(runs, into: &out)
  }

  /// The runs of one block, gathered from its words piece by piece (a run may span
  /// pieces), so that a reader can hand over a block in pieces that stay in cache.
  public struct Runs {
    var values: [UInt64] = []
    var lengths: [Int] = []
    /// Words added so far.
    public private(set) var count = 0

    public init() {}

    /// Adds the block's next words.
    public mutating func add(_ words: UnsafeBufferPointer<UInt64>) {
      guard let p = words.baseAddress, !words.isEmpty else { return }
      var i = 0
      if let last = values.last, last == p[0] {
        i = KPageRuns.end(p, from: 0, count: words.count)
        lengths[lengths.count - 1] += i
      }
      while i < words.count {
        let j = KPageRuns.end(p, from: i, count: words.count)
        values.append(p[i])
        lengths.append(j - i)
        i = j
      }
      count += words.count
    }
  }

  /// Encodes the words of `runs` as one block, appending to `out`: the same bytes as
  /// encoding the words themselves.
  public static func encode(_ runs: Runs, into out: inout [UInt8]) {
    // Each candidate coding goes over the runs only.
    let values = runs.values, lengths = runs.lengths
    var best: [UInt8] = []
    var bestMode: UInt8 = 0
    for t in [UInt8(3), 4, 5] {
      var candidate: [UInt8] = []
      candidate.reserveCapacity(values.count * 2)
      encodeRuns(values, lengths, tagBits: Int(t), into: &candidate)
      if bestMode == 0 || candidate.count < best.count {
        best = candidate
        bestMode = t
      }
    }
    if best.count >= runs.count * 8 {
      out.append(0)
      for (w, n) in zip(values, lengths) {
        for _ in 0..<n { appendLE(w, to: &out) }
      }
      return
    }
    out.append(bestMode)
    out.append(contentsOf: best)
  }

  static func encodeRuns(_ values: [UInt64], _ lengths: [Int], tagBits t: Int, into out: inout [UInt8]) {
    let literal = (1 << t) - 1
    var mtf = [UInt64](repeating: 0, count: literal)
    var used = 0
    var previous: UInt64 = 0
    for (v, len) in zip(values, lengths) {
      var index = -1
      for i in 0..<used where mtf[i] == v {
        index = i
        break
      }
      let header = UInt64(len - 1) << UInt64(t)
      if index >= 0 {
        appendVarint(header | UInt64(index), to: &out)
        // Move to front.
        var i = index
        while i > 0 {
          mtf[i] = mtf[i - 1]
          i -= 1
        }
      } else {
        appendVarint(header | UInt64(literal), to: &out)
        appendVarint(zigzag(v &- previous), to: &out)
        if used < literal { used += 1 }
        var i = used - 1
        while i > 0 {
          mtf[i] = mtf[i - 1]
          i -= 1
        }
      }
      mtf[0] = v
      previous = v
    }
  }

  /// Decodes one block of exactly `count` words from `bytes` into `dst`.
  /// Throws a message (without path) describing the first inconsistency.
  public static func decode(_ bytes: UnsafeRawBufferPointer, count: Int, into dst: UnsafeMutablePointer<UInt64>) throws(RunCodecError) {
    guard bytes.count >= 1 else { throw RunCodecError(offset: 0, "empty block (no mode byte)") }
    let mode = Int(bytes[0])
    if mode == 0 {
      guard bytes.count - 1 == count * 8 else {
        throw RunCodecError(offset: 0, "raw block of \(bytes.count - 1) bytes, expected \(count * 8) for \(count) words")
      }
      for i in 0..<count { dst[i] = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 1 + 8 * i, as: UInt64.self)) }
      return
    }
    guard mode <= 6 else { throw RunCodecError(offset: 0, "unknown block mode \(mode) (expected 0-6)") }
    let literal = (1 << mode) - 1
    var recent = [UInt64](repeating: 0, count: literal)
    var used = 0
    var previous: UInt64 = 0
    var pos = 1
    var filled = 0
    let end = bytes.count
    try recent.withUnsafeMutableBufferPointer { (list: inout UnsafeMutableBufferPointer<UInt64>) throws(RunCodecError) in
      while filled < count {
        let tokenAt = pos
        let header = try readVarint(bytes, &pos, end)
        let tag = Int(header & UInt64(literal))
        let runMinusOne = header >> UInt64(mode)
        guard runMinusOne < UInt64(count - filled) else {
          throw RunCodecError(offset: tokenAt, "run of \(runMinusOne &+ 1) words passes the block's end (\(count - filled) words left)")
        }
        let run = Int(runMinusOne) + 1
        var value: UInt64
        if tag == literal {
          value = previous &+ unzigzag(try readVarint(bytes, &pos, end))
          if used < literal { used += 1 }
          var i = used - 1
          while i > 0 {
            list[i] = list[i - 1]
            i -= 1
          }
        } else {
          guard tag < used else { throw RunCodecError(offset: tokenAt, "recent-value index \(tag) but only \(used) values seen in this block") }
          value = list[tag]
          var i = tag
          while i > 0 {
            list[i] = list[i - 1]
            i -= 1
          }
        }
        list[0] = value
        previous = value
        (dst + filled).initialize(repeating: value, count: run)
        filled += run
      }
    }
    guard pos == end else { throw RunCodecError(offset: pos, "\(end - pos) bytes left over after the block's \(count) words") }
  }

  @inline(__always)
  static func readVarint(_ bytes: UnsafeRawBufferPointer, _ pos: inout Int, _ end: Int) throws(RunCodecError) -> UInt64 {
    var v: UInt64 = 0
    var shift: UInt64 = 0
    let start = pos
    while true {
      guard pos < end else { throw RunCodecError(offset: start, "varint runs past the end of the block") }
      let b = bytes[pos]
      pos += 1
      if shift == 63 && b > 1 { throw RunCodecError(offset: start, "varint overflows 64 bits") }
      v |= UInt64(b & 0x7f) << shift
      if b & 0x80 == 0 { return v }
      shift += 7
      if shift > 63 { throw RunCodecError(offset: start, "varint longer than 10 bytes") }
    }
  }

  static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
      out.append(UInt8(v & 0x7f) | 0x80)
      v >>= 7
    }
    out.append(UInt8(v))
  }

  static func appendLE(_ value: UInt64, to out: inout [UInt8]) {
    var v = value
    for _ in 0..<8 {
      out.append(UInt8(v & 0xff))
      v >>= 8
    }
  }

  @inline(__always) static func zigzag(_ d: UInt64) -> UInt64 { (d << 1) ^ UInt64(bitPattern: Int64(bitPattern: d) >> 63) }
  @inline(__always) static func unzigzag(_ z: UInt64) -> UInt64 { (z >> 1) ^ (0 &- (z & 1)) }
}

/// A damaged run-coded block: the offset within the block and what is wrong.
public struct RunCodecError: Error, Sendable {
  public var offset: Int
  public var message: String
  init(offset: Int, _ message: String) {
    self.offset = offset
    self.message = message
  }
}
