#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

import SystemPackage

/// The one file-access layer of the readers and writers (over swift-system): every call
/// names its path in the error it throws, and nothing here traps on a failed system call.
enum FileIO {
  typealias Descriptor = FileDescriptor
  enum FileType { case regular, directory, other }

  static func error(_ call: String, path: String, _ e: Errno) -> SnapshotError {
    SnapshotError.system(call, path: path, errno: e.rawValue)
  }

  /// Runs one system call, turning its `Errno` into an error naming `path`.
  static func call<R>(_ name: String, _ path: String, _ body: () throws -> R) throws -> R {
    do {
      return try body()
    } catch let e as Errno {
      throw error(name, path: path, e)
    }
  }

  /// The type of `path` (following symlinks), or nil if it does not exist.
  static func fileType(_ path: String) throws -> FileType? {
    let st: Stat
    do {
      st = try FilePath(path).stat()
    } catch {
      if error == .noSuchFileOrDirectory || error == .notDirectory { return nil }
      throw Self.error("stat", path: path, error)
    }
    switch st.type {
    case .regular: return .regular
    case .directory: return .directory
    default: return .other
    }
  }

  /// Opens `path` read-only; a directory is refused with a clear error.
  static func openForReading(_ path: String) throws -> Descriptor {
    let fd = try call("open", path) { try Descriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) }
    if (try? fd.stat().type) == .directory {
      try? fd.close()
      throw SnapshotError(.wrongFileType, path: path, "is a directory, expected a file")
    }
    return fd
  }

  /// Opens `path` read-only, runs `body` and closes the file whatever `body` does.
  static func withFile<R>(_ path: String, _ body: (Descriptor) throws -> R) throws -> R {
    let fd = try openForReading(path)
    defer { try? fd.close() }
    return try body(fd)
  }

  /// The size in bytes of an open file as `fstat` reports it (0 for /proc files).
  static func size(_ fd: Descriptor, path: String) throws -> UInt64 {
    try call("fstat", path) { UInt64(max(0, try fd.stat().size)) }
  }

  /// Reads `count` bytes at `offset` into `buffer`, looping over short reads. Returns the
  /// number of bytes read, less than `count` only at end of file.
  static func pread(_ fd: Descriptor, path: String, into buffer: UnsafeMutableRawPointer, count: Int, offset: UInt64) throws -> Int {
    var done = 0
    while done < count {
      let n = try call("pread", path) {
        try fd.read(fromAbsoluteOffset: Int64(offset) + Int64(done), into: UnsafeMutableRawBufferPointer(start: buffer + done, count: count - done))
      }
      if n == 0 { break }
      done += n
    }
    return done
  }

  /// Reads a whole file into memory. Files with no size (/proc) are read until EOF.
  /// Fails with a clear error above `limit` bytes.
  static func readAll(_ path: String, limit: UInt64 = 1 << 40) throws -> [UInt8] {
    try withFile(path) { fd in
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
  }

  /// Reads a small text file whole (a /proc or /sys file, or its saved copy).
  static func readText(_ path: String) throws -> String {
    String(decoding: try readAll(path, limit: 1 << 26), as: UTF8.self)
  }

  /// Writes `chunks` to `path` atomically: into a new temporary file in the same
  /// directory, flushed to disk, then renamed over `path`. A writer killed half-way
  /// leaves at most the temporary file (`.NAME.tmp-PID-N`), never a partial `path`.
  /// The temporary file exists before `produce` runs; it is removed on any error.
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
    var created: Descriptor?
    for attempt in 0..<100 {
      tmp = dir + "/." + base + ".tmp-\(getpid())-\(attempt)"
      do {
        created = try .open(FilePath(tmp), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec], permissions: FilePermissions(rawValue: mode))
        break
      } catch let e as Errno where e == .fileExists {
        continue
      } catch let e as Errno {
        throw Self.error("open", path: tmp, e)
      }
    }
    guard let fd = created else { throw SnapshotError(.io, path: dir, "cannot create a temporary file next to \(base)") }
    var open = true
    var ok = false
    defer {
      if open { try? fd.close() }
      if !ok { unlink(tmp) }
    }
    try produce { bytes in
      _ = try call("write", tmp) { try fd.writeAll(bytes) }
    }
    guard fsync(fd.rawValue) == 0 else { throw SnapshotError.system("fsync", path: tmp, errno: errno) }
    open = false
    try call("close", tmp) { try fd.close() }
    guard rename(tmp, path) == 0 else { throw SnapshotError.system("rename", path: path, errno: errno) }
    ok = true
    // Make the rename itself durable.
    if let dfd = try? Descriptor.open(FilePath(dir), .readOnly, options: [.directory, .closeOnExec]) {
      _ = fsync(dfd.rawValue)
      try? dfd.close()
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
