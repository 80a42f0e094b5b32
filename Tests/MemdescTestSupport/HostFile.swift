#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Reads of host control files (tracefs, sysfs, procfs) made close-on-exec.
///
/// Foundation's `String(contentsOfFile:)` opens without `O_CLOEXEC`; with tests spawning
/// processes from other threads at the same time, a child can inherit that descriptor and
/// keep it for its whole life. A tracefs instance with a file open cannot be removed
/// (`rmdir` fails with EBUSY) and tracefs cannot be unmounted, so the recorder's cleanup
/// failed whenever a test happened to read the instance just before a spawn elsewhere.
public enum HostFile {
  /// The text of `path` (up to 1 MiB), or nil if it cannot be opened or read.
  public static func read(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while bytes.count < 1 << 20 {
      let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { return nil }
      if n == 0 { break }
      bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
