#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A growable, 16-byte-aligned byte buffer owned by a class, so that decoded kpage data
/// (tens of MiB to GiB) is held once and shared without copies. The bytes are read as
/// little-endian u64 words in place (this module assumes a little-endian host, as x86-64
/// and arm64 Linux are).
public final class ByteStore: @unchecked Sendable {
  public private(set) var base: UnsafeMutableRawPointer
  public private(set) var capacity: Int
  /// Bytes in use.
  public var count: Int

  public init(capacity: Int) {
    let cap = max(capacity, 64)
    guard let p = malloc(cap) else { fatalError("out of memory allocating \(cap) bytes") }
    base = p
    self.capacity = cap
    count = 0
  }

  deinit { free(base) }

  /// Makes room for at least `needed` bytes in total, growing geometrically.
  @inline(__always)
  func reserve(_ needed: Int) {
    if needed > capacity { grow(needed) }
  }

  @inline(never)
  func grow(_ needed: Int) {
    var cap = capacity
    while cap < needed { cap = cap > Int.max / 2 ? needed : cap * 2 }
    guard let p = realloc(base, cap) else { fatalError("out of memory growing a buffer to \(cap) bytes") }
    base = p
    capacity = cap
  }

  /// The bytes in use as u64 words (`count / 8` of them).
  public var words: UnsafeBufferPointer<UInt64> {
    UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt64.self), count: count / 8)
  }
}
