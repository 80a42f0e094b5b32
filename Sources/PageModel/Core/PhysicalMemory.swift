#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The bytes of a model machine's physical frames.
///
/// One private anonymous mapping as large as the physical address space, reserved but not
/// committed (`MAP_NORESERVE`): only frames the model writes (memmap, and later descriptor
/// slabs) take host memory, so a 1 TiB model costs what its metadata costs. Frame `pfn`
/// lives at byte `pfn << PAGE_SHIFT`. Kernel: the direct map, `__va(PFN_PHYS(pfn))`.
public final class PhysicalMemory {
  /// Host address of frame 0.
  public let base: UnsafeMutableRawPointer
  /// Size of the mapping in bytes.
  public let byteCount: Int

  public init(frames: UInt64) throws(MachineError) {
    let (bytes, overflow) = frames.multipliedReportingOverflow(by: UInt64(Kernel.pageSize))
    guard !overflow, bytes <= UInt64(Int.max) else { throw .hostMapFailed(bytes: bytes, errno: EOVERFLOW) }
    let len = Int(max(bytes, UInt64(Kernel.pageSize)))
    let p = mmap(nil, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    guard let p, p != MAP_FAILED else { throw .hostMapFailed(bytes: UInt64(len), errno: errno) }
    base = p
    byteCount = len
  }

  /// The userfaultfd handler that builds the boot memmap's frames on first touch, when
  /// boot left them to it (``MemmapInit/lazy``).
  var lazyMemmap: LazyMemmapHandler?

  deinit {
    // Nothing touches the frames any more, so no fault waits on the handler.
    lazyMemmap?.stop()
    munmap(base, byteCount)
  }

  /// Host address of a frame's first byte.
  @inlinable @inline(__always)
  public func frame(_ pfn: PFN) -> UnsafeMutableRawPointer {
    base + Int(pfn.rawValue << UInt64(Kernel.pageShift))
  }

  /// Backs a run of frames that will be written in full (the boot memmap) before the
  /// model writes it: 2 MiB host pages where the host has them, then every host page
  /// faulted in by one `madvise(MADV_POPULATE_WRITE)` instead of one trap per 4 KiB on
  /// first touch, which on a virtual machine costs several microseconds each. Scattered
  /// frames (descriptor slabs) are left alone: a huge page each would zero 512 times
  /// what they use. A kernel without MADV_POPULATE_WRITE (before 5.14) refuses it and
  /// the frames fault in on first touch as before.
  public func populate(_ range: PFNRange) {
    let start = frame(range.lowerBound), bytes = range.pageCount << Kernel.pageShift
    _ = madvise(start, bytes, MADV_HUGEPAGE)
    _ = madvise(start, bytes, Self.madvPopulateWrite)
  }

  /// Linux's `MADV_POPULATE_WRITE`, which older C headers do not define.
  static let madvPopulateWrite: Int32 = 23
}

/// Facts about the machine the model runs on.
public enum HostMemory {
  /// `MemAvailable` from /proc/meminfo, in bytes; nil where it cannot be read.
  public static func availableBytes(meminfo path: String = "/proc/meminfo") -> UInt64? {
    guard let text = readSmallFile(path) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      if fields.count >= 2, let kb = UInt64(fields[1]) { return kb * 1024 }
    }
    return nil
  }
}

/// Reads a small text file (a /proc file) whole; nil if it cannot be opened.
func readSmallFile(_ path: String, limit: Int = 1 << 24) -> String? {
  let fd = open(path, O_RDONLY)
  guard fd >= 0 else { return nil }
  defer { close(fd) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while bytes.count < limit {
    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if n < 0 { return nil }
    if n == 0 { break }
    bytes.append(contentsOf: chunk[0..<n])
  }
  return String(decoding: bytes, as: UTF8.self)
}
