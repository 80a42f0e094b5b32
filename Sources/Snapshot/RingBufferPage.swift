/// One sub-buffer page of a tracefs ring buffer, as `per_cpu/cpuN/trace_pipe_raw` returns
/// it: a header (base time stamp, commit word) and variable-length records, each with a
/// 32-bit header of type_len (5 bits) and time_delta (27 bits).
///
/// Kernel: kernel/trace/ring_buffer.c (struct buffer_data_page, struct
/// ring_buffer_event, rb_event_length(), ring_buffer_read_page()).
public enum RingBufferPage {
  /// The commit word's flag: events were lost (overwritten or dropped) before this page.
  /// Kernel: RB_MISSED_EVENTS.
  public static let missedEvents: UInt64 = 1 << 31
  /// The commit word's flag: the number of lost events follows the data (a long).
  /// Kernel: RB_MISSED_STORED.
  public static let missedStored: UInt64 = 1 << 30
  /// The bits of an absolute time stamp record that are not stored (taken from the page).
  /// Kernel: TS_MSB.
  static let timeStampHighBits: UInt64 = 0xf8 << 56
  static let timeDeltaShift: UInt64 = 27

  /// What a page's header says.
  public struct Info: Equatable, Sendable {
    /// The page's base time stamp (trace clock, ns).
    public var timestamp: UInt64
    /// Bytes of records.
    public var length: Int
    /// Whether events were lost before this page.
    public var missedEvents: Bool
    /// How many, when the kernel could store the count.
    public var missedCount: UInt64?
    /// Data records in the page.
    public var records: Int
  }

  /// Walks the records of `page` (a whole page, `header.pageSize` bytes or more), calling
  /// `body` with each data record's time stamp and payload. Every length is checked against
  /// the page before it is used; a damaged page is an error naming `path` and the byte
  /// offset (`pageOffset` is the page's offset in what `path` names).
  public static func read(
    _ page: UnsafeRawBufferPointer, header: TracefsLayout.PageHeader, path: String, pageOffset: UInt64 = 0,
    _ body: (_ timestamp: UInt64, _ payload: UnsafeRawBufferPointer) throws -> Void
  ) throws -> Info {
    func bad(_ at: Int, _ why: String) -> SnapshotError {
      SnapshotError(.badTrace, path: path, offset: pageOffset + UInt64(at), why)
    }
    guard page.count >= header.dataOffset else { throw bad(0, "ring-buffer page of \(page.count) bytes is shorter than its header (\(header.dataOffset) bytes)") }
    let base = header.timestampSize == 8 ? load64(page, header.timestampOffset) : UInt64(load32(page, header.timestampOffset))
    let commit = header.commitSize == 8 ? load64(page, header.commitOffset) : UInt64(load32(page, header.commitOffset))
    let length = Int(commit & (missedStored - 1))
    let capacity = min(header.dataSize, page.count - header.dataOffset)
    guard commit >> 32 == 0, length <= capacity else {
      throw bad(header.commitOffset, "commit word \(hexWord(commit)) gives \(length) bytes of records; the page holds at most \(capacity)")
    }
    var info = Info(timestamp: base, length: length, missedEvents: commit & missedEvents != 0, missedCount: nil, records: 0)
    if commit & missedStored != 0 {
      let at = header.dataOffset + length
      guard at + 8 <= page.count else { throw bad(at, "the lost-event count runs past the page") }
      info.missedCount = load64(page, at)
    }
    var time = base
    var off = 0
    let data = header.dataOffset
    while off < length {
      guard off + 4 <= length else { throw bad(data + off, "record header runs past the page's \(length) bytes of records") }
      let word = load32(page, data + off)
      let typeLen = word & 31
      let delta = UInt64(word >> 5)
      switch typeLen {
      case 29:
        // Padding: with no delta it fills the rest of the page; otherwise it is a
        // discarded event whose length follows.
        if delta == 0 { return info }
        guard off + 8 <= length else { throw bad(data + off, "padding record runs past the page") }
        let skip = 4 + Int(load32(page, data + off + 4))
        guard skip >= 8, off + skip <= length else { throw bad(data + off, "padding of \(skip) bytes runs past the page") }
        off += skip
      case 30, 31:
        guard off + 8 <= length else { throw bad(data + off, "time record runs past the page") }
        let stamp = UInt64(load32(page, data + off + 4)) << timeDeltaShift | delta
        if typeLen == 30 { time &+= stamp } else { time = (base & timeStampHighBits) | stamp }
        off += 8
      case 0:
        guard off + 8 <= length else { throw bad(data + off, "long record runs past the page") }
        let stored = Int(load32(page, data + off + 4))
        guard stored >= 4, off + 4 + stored <= length else { throw bad(data + off, "record of \(stored) bytes runs past the page") }
        time &+= delta
        info.records += 1
        try body(time, UnsafeRawBufferPointer(rebasing: page[(data + off + 8)..<(data + off + 4 + stored)]))
        off += 4 + stored
      default:
        let size = Int(typeLen) * 4
        guard off + 4 + size <= length else { throw bad(data + off, "record of \(size) bytes runs past the page") }
        time &+= delta
        info.records += 1
        try body(time, UnsafeRawBufferPointer(rebasing: page[(data + off + 4)..<(data + off + 4 + size)]))
        off += 4 + size
      }
    }
    return info
  }

  @inline(__always) static func load32(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
    UInt32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt32.self))
  }
  @inline(__always) static func load64(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
    UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self))
  }
  static func hexWord(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}
