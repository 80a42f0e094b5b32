#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Thin POSIX file access for the readers and the writer: every call names its path in
/// the error it throws, and nothing here traps on a failed system call.
enum FileIO {
  enum FileType { case regular, directory, other }

  /// The type of `path` (following symlinks), or nil if it does not exist.
  static func fileType(_ path: String) throws -> FileType? {
    var st = stat()
    guard stat(path, &st) == 0 else {
      if errno == ENOENT || errno == ENOTDIR { return nil }
      throw SnapshotError.system("stat", path: path, errno: errno)
    }
    switch st.st_mode & S_IFMT {
    case S_IFREG: return .regular
    case S_IFDIR: return .directory
    default: return .other
    }
  }

  /// Opens `path` read-only; a directory is refused with a clear error.
  static func openForReading(_ path: String) throws -> Int32 {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SnapshotError.system("open", path: path, errno: errno) }
    var st = stat()
    if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
      close(fd)
      throw SnapshotError(.wrongFileType, path: path, "is a directory, expected a file")
    }
    return fd
  }

  /// The size in bytes of an open file as `fstat` reports it (0 for /proc files).
  static func size(_ fd: Int32, path: String) throws -> UInt64 {
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw SnapshotError.system("fstat", path: path, errno: errno) }
    return UInt64(max(0, st.st_size))
  }

  /// Reads `count` bytes at `offset` into `buffer`, looping over short reads. Returns the
  /// number of bytes read, less than `count` only at end of file.
  static func pread(_ fd: Int32, path: String, into buffer: UnsafeMutableRawPointer, count: Int, offset: UInt64) throws -> Int {
    var done = 0
    while done < count {
      let n = Glibc.pread(fd, buffer + done, count - done, off_t(offset) + off_t(done))
      if n < 0 {
        if errno == EINTR { continue }
        throw SnapshotError.system("pread", path: path, errno: errno)
      }
      if n == 0 { break }
      done += n
    }
    return done
  }

  /// Reads a whole file into memory. Files with no size (/proc) are read until EOF.
  /// Fails with a clear error above `limit` bytes.
  static func readAll(_ path: String, limit: UInt64 = 1 << 40) throws -> [UInt8] {
    let fd = try openForReading(path)
    defer { close(fd) }
    let size = try Self.size(fd, path: path)
    guard size <= limit else { throw SnapshotError(.badSize, path: path, "file of \(size) bytes is larger than the \(limit)-byte limit") }
    var bytes = [UInt8](repeating: 0, count: Int(size))
    var filled = 0
    if size > 0 {
      filled = try bytes.withUnsafeMutableBytes { try pread(fd, path: path, into: $0.baseAddress!, count: Int(size), offset: 0) }
    }
    bytes.removeSubrange(filled...)
    // Keep reading past st_size: /proc files say 0, and a file may grow while read.
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = try chunk.withUnsafeMutableBytes { try pread(fd, path: path, into: $0.baseAddress!, count: $0.count, offset: UInt64(bytes.count)) }
      if n == 0 { break }
      bytes.append(contentsOf: chunk[0..<n])
      guard UInt64(bytes.count) <= limit else { throw SnapshotError(.badSize, path: path, "file is larger than the \(limit)-byte limit") }
    }
    return bytes
  }

  /// Reads a small text file whole (a /proc or /sys file, or its saved copy).
  static func readText(_ path: String) throws -> String {
    String(decoding: try readAll(path, limit: 1 << 26), as: UTF8.self)
  }

  /// Writes `chunks` to `path` atomically: into a new temporary file in the same
  /// directory, flushed to disk, then renamed over `path`. A writer killed half-way
  /// leaves at most the temporary file (`.NAME.tmp-PID-N`), never a partial `path`.
  /// The temporary file exists before `produce` runs.
  static func writeAtomically(_ path: String, mode: mode_t = 0o644, produce: (_ write: ([UInt8]) throws -> Void) throws -> Void) throws {
    let dir = directoryName(path)
    let base = baseName(path)
    switch try fileType(dir) {
    case nil: throw SnapshotError(.notFound, path: path, "directory '\(dir)' does not exist (no such file or directory)")
    case .directory: break
    default: throw SnapshotError(.wrongFileType, path: path, "'\(dir)' is not a directory")
    }
    if try fileType(path) == .directory {
      throw SnapshotError(.wrongFileType, path: path, "is a directory; give a file name to write to")
    }
    var tmp = ""
    var fd: Int32 = -1
    for attempt in 0..<100 {
      tmp = dir + "/." + base + ".tmp-\(getpid())-\(attempt)"
      fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
      if fd >= 0 { break }
      if errno != EEXIST { throw SnapshotError.system("open", path: tmp, errno: errno) }
    }
    guard fd >= 0 else { throw SnapshotError(.io, path: dir, "cannot create a temporary file next to \(base)") }
    var ok = false
    defer {
      if fd >= 0 { close(fd) }
      if !ok { unlink(tmp) }
    }
    try produce { bytes in
      try bytes.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
          let n = write(fd, raw.baseAddress! + done, raw.count - done)
          if n < 0 {
            if errno == EINTR { continue }
            throw SnapshotError.system("write", path: tmp, errno: errno)
          }
          done += n
        }
      }
    }
    guard fsync(fd) == 0 else { throw SnapshotError.system("fsync", path: tmp, errno: errno) }
    guard close(fd) == 0 else {
      fd = -1
      throw SnapshotError.system("close", path: tmp, errno: errno)
    }
    fd = -1
    guard rename(tmp, path) == 0 else { throw SnapshotError.system("rename", path: path, errno: errno) }
    ok = true
    // Make the rename itself durable.
    let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dfd >= 0 {
      _ = fsync(dfd)
      close(dfd)
    }
  }

  static func directoryName(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let d = String(path[..<slash])
    return d.isEmpty ? "/" : d
  }

  static func baseName(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
  }

  static func join(_ dir: String, _ name: String) -> String {
    dir.hasSuffix("/") ? dir + name : dir + "/" + name
  }
}
