#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

import SystemPackage

/// The one file-access layer of the readers and writers (over swift-system): every call
/// names its path in the error it throws, and nothing here traps on a failed system call.
public enum FileIO {
  public typealias Descriptor = FileDescriptor
  public enum FileType: Sendable { case regular, directory, other }

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
  public static func fileType(_ path: String) throws -> FileType? {
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

  /// Memory for a system call to copy file or pipe data into, aligned to a page. The
  /// kernel's copy to user space (`rep movsb`) ran 4x slower into a destination 16 bytes
  /// past a page, which is where malloc puts every block above its mmap threshold, than
  /// into an aligned one on this VM's AMD EPYC: 2 GiB of `pread` in 128 KiB pieces took
  /// 0.80 s of system time against 0.20 s (docs/benchmarks.md). Freed with `deallocate()`.
  static func allocateReadBuffer(bytes: Int) -> UnsafeMutableRawPointer {
    .allocate(byteCount: max(1, bytes), alignment: 4096)
  }

  /// `allocateReadBuffer(bytes:)` for `words` kpage words.
  static func allocateReadBuffer(words: Int) -> UnsafeMutablePointer<UInt64> {
    let words = max(1, words)
    return allocateReadBuffer(bytes: words * 8).bindMemory(to: UInt64.self, capacity: words)
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
    // Opening a FIFO blocks until a writer comes: refuse what is not a regular file first.
    switch try fileType(path) {
    case .directory: throw SnapshotError(.wrongFileType, path: path, "is a directory, not a file")
    case .other: throw SnapshotError(.wrongFileType, path: path, "is not a regular file")
    case .regular, nil: break
    }
    return try withFile(path) { fd in
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

  /// `O_TMPFILE` on x86-64 and most Linux architectures (`__O_TMPFILE | O_DIRECTORY`,
  /// 0o20000000 | 0o200000); Swift does not import the composite macro.
  static let oTmpfile: Int32 = 0o20_200_000

  /// Checks, before any work, that `path` can be written by `writeAtomically`: not
  /// empty, its directory exists and is writable, and it is not a directory. A symbolic
  /// link is checked at the file it points to.
  public static func checkOutput(_ path: String) throws {
    guard !path.isEmpty else { throw SnapshotError(.notFound, path: path, "an empty output path names no file") }
    let target = try resolveLinks(path)
    let dir = directoryName(target)
    switch try fileType(dir) {
    case nil: throw SnapshotError(.notFound, path: path, "directory '\(dir)' does not exist (no such file or directory)")
    case .directory: break
    default: throw SnapshotError(.wrongFileType, path: path, "'\(dir)' is not a directory")
    }
    if try fileType(target) == .directory {
      throw SnapshotError(.wrongFileType, path: path, "is a directory; give a file name to write to")
    }
    guard access(dir, W_OK | X_OK) == 0 else { throw error("access", path: dir, Errno(rawValue: errno)) }
  }

  /// The file a path names after following symbolic links in its last component (a
  /// chain of them, relative ones against their own directory); `path` itself when it
  /// is not a link. A dangling link resolves to the path it points to, which is where a
  /// new file is created.
  static func resolveLinks(_ path: String) throws -> String {
    var current = path
    for _ in 0..<40 {  // the kernel's MAXSYMLINKS
      var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
      let n = readlink(current, &buffer, buffer.count - 1)
      if n < 0 {
        // Not a link, not there yet, or under a non-directory: the checks that follow name it.
        if errno == EINVAL || errno == ENOENT || errno == ENOTDIR { return current }
        throw error("readlink", path: current, Errno(rawValue: errno))
      }
      let link = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      current = link.hasPrefix("/") ? link : join(directoryName(current), link)
    }
    throw error("readlink", path: path, Errno(rawValue: ELOOP))
  }

  /// Writes to `path` atomically: a killed writer leaves neither a partial `path` nor a
  /// temporary file, and `path` through a symbolic link replaces the file it points to.
  ///
  /// The bytes go into an unnamed file (`O_TMPFILE`) in the target's directory, which
  /// is flushed (`fsync`) and only then given a name: `linkat` of its /proc/self/fd
  /// entry straight to the target when there is none, else to `.NAME.tmp-PID-N` and
  /// `rename` over the target. A writer killed before the link leaves nothing (the
  /// kernel frees an unnamed file with its last descriptor); one killed in the
  /// microseconds between link and rename leaves a `.NAME.tmp-PID-N` whose PID is dead,
  /// which the next write to the same directory removes. Where `O_TMPFILE` is not
  /// supported (some file systems), the temporary file is named from the start.
  /// On any error nothing is left at `path` (an old file there stays).
  public static func writeAtomically(_ path: String, mode: mode_t = 0o644, produce: (_ write: ([UInt8]) throws -> Void) throws -> Void) throws {
    try checkOutput(path)
    let target = try resolveLinks(path)
    let dir = directoryName(target)
    let base = baseName(target)
    removeStaleTemporaries(dir: dir, base: base)
    let dfd = try call("open", dir) { try Descriptor.open(FilePath(dir), .readOnly, options: [.directory, .closeOnExec]) }
    defer { try? dfd.close() }
    var named: String?
    var raw = openat(dfd.rawValue, ".", oTmpfile | O_WRONLY | O_CLOEXEC, mode)
    if raw < 0 {
      guard [EOPNOTSUPP, EISDIR, EINVAL, ENOENT].contains(errno) else { throw error("open(O_TMPFILE)", path: dir, Errno(rawValue: errno)) }
      (raw, named) = try createNamedTemporary(dir: dfd, dirPath: dir, base: base, mode: mode)
    }
    let fd = Descriptor(rawValue: raw)
    var open = true
    var linked: String? = named
    defer {
      if open { try? fd.close() }
      if let linked { unlinkat(dfd.rawValue, linked, 0) }
    }
    let shown = named.map { join(dir, $0) } ?? target
    try produce { bytes in
      _ = try call("write", shown) { try fd.writeAll(bytes) }
    }
    guard fsync(fd.rawValue) == 0 else { throw SnapshotError.system("fsync", path: shown, errno: errno) }
    if named == nil {
      let proc = "/proc/self/fd/\(fd.rawValue)"
      if linkat(AT_FDCWD, proc, dfd.rawValue, base, AT_SYMLINK_FOLLOW) == 0 {
        open = false
        try call("close", target) { try fd.close() }
        _ = fsync(dfd.rawValue)
        return
      }
      guard errno == EEXIST else { throw SnapshotError.system("linkat", path: target, errno: errno) }
      let tmp = try linkTemporary(proc, dir: dfd, dirPath: dir, base: base)
      linked = tmp
    }
    open = false
    try call("close", shown) { try fd.close() }
    guard renameat(dfd.rawValue, linked!, dfd.rawValue, base) == 0 else { throw SnapshotError.system("rename", path: target, errno: errno) }
    linked = nil
    // Make the new name durable.
    _ = fsync(dfd.rawValue)
  }

  /// Writes `text` to `path` atomically (as `writeAtomically(_:mode:produce:)`).
  public static func writeAtomically(_ path: String, text: String, mode: mode_t = 0o644) throws {
    try writeAtomically(path, mode: mode) { write in try write(Array(text.utf8)) }
  }

  /// Creates `path` and its missing parents (`mkdir -p`, mode 0755). A component that
  /// exists and is not a directory is an error naming it.
  public static func makeDirectories(_ path: String) throws {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
      prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
      switch try fileType(prefix) {
      case .directory: continue
      case .regular, .other: throw SnapshotError(.wrongFileType, path: prefix, "is not a directory")
      case nil:
        if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw SnapshotError.system("mkdir", path: prefix, errno: errno) }
      }
    }
  }

  static func temporaryName(_ base: String, attempt: Int) -> String { ".\(base).tmp-\(getpid())-\(attempt)" }

  /// Links an unnamed file to a free temporary name in the directory.
  static func linkTemporary(_ proc: String, dir: Descriptor, dirPath: String, base: String) throws -> String {
    for attempt in 0..<100 {
      let name = temporaryName(base, attempt: attempt)
      if linkat(AT_FDCWD, proc, dir.rawValue, name, AT_SYMLINK_FOLLOW) == 0 { return name }
      guard errno == EEXIST else { throw SnapshotError.system("linkat", path: join(dirPath, name), errno: errno) }
    }
    throw SnapshotError(.io, path: dirPath, "cannot name a temporary file next to \(base)")
  }

  /// The fallback where `O_TMPFILE` is unsupported: a named, exclusive temporary file.
  static func createNamedTemporary(dir: Descriptor, dirPath: String, base: String, mode: mode_t) throws -> (Int32, String) {
    for attempt in 0..<100 {
      let name = temporaryName(base, attempt: attempt)
      let fd = openat(dir.rawValue, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
      if fd >= 0 { return (fd, name) }
      guard errno == EEXIST else { throw SnapshotError.system("open", path: join(dirPath, name), errno: errno) }
    }
    throw SnapshotError(.io, path: dirPath, "cannot create a temporary file next to \(base)")
  }

  /// Removes `.BASE.tmp-PID-N` files in `dir` whose PID no longer runs: what a writer
  /// killed between link and rename (or in the named fallback) left.
  static func removeStaleTemporaries(dir: String, base: String) {
    guard let d = opendir(dir) else { return }
    defer { closedir(d) }
    let prefix = ".\(base).tmp-"
    while let entry = readdir(d) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      guard name.hasPrefix(prefix) else { continue }
      let rest = name.dropFirst(prefix.count).split(separator: "-")
      guard rest.count == 2, let pid = pid_t(rest[0]), Int(rest[1]) != nil, pid > 0 else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH { unlink(join(dir, name)) }
    }
  }

  /// Whether the first `bytes` bytes of `path` can be read (the live kpage files need root).
  public static func canRead(_ path: String, bytes: Int = 8) -> Bool {
    guard let fd = try? Descriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .nonBlocking]) else { return false }
    defer { try? fd.close() }
    var buffer = [UInt8](repeating: 0, count: bytes)
    let n = try? buffer.withUnsafeMutableBytes { try pread(fd, path: path, into: $0.baseAddress!, count: bytes, offset: 0) }
    return n == bytes
  }

  /// Reads a text file line by line with bounded memory: one line at a time (split at
  /// '\n', a '\r' before it dropped), each at most `maxLineBytes`, the file at most
  /// `maxBytes`. Only a regular file is read, refused at once otherwise (a FIFO would
  /// block, a device need never end); `-` reads standard input. `body` gets the line
  /// number (from 1) and the line.
  public static func forEachLine(_ path: String, maxLineBytes: Int = 1 << 16, maxBytes: UInt64 = 1 << 30, _ body: (Int, Substring) throws -> Void) throws {
    let shown = path == "-" ? "standard input" : path
    let fd: Descriptor
    var close = false
    if path == "-" {
      fd = Descriptor(rawValue: STDIN_FILENO)
    } else {
      switch try fileType(path) {
      case nil: throw SnapshotError(.notFound, path: path, "no such file or directory")
      case .directory: throw SnapshotError(.wrongFileType, path: path, "is a directory, expected a text file")
      case .other: throw SnapshotError(.wrongFileType, path: path, "is not a regular file (a FIFO or a device); give a text file, or - for standard input")
      case .regular: break
      }
      // Non-blocking: a FIFO swapped in after the check must not block the open.
      fd = try call("open", path) { try Descriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .nonBlocking]) }
      close = true
      guard (try? fd.stat().type) == .regular else {
        try? fd.close()
        throw SnapshotError(.wrongFileType, path: path, "is not a regular file; give a text file, or - for standard input")
      }
    }
    defer { if close { try? fd.close() } }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var line: [UInt8] = []
    var number = 0
    var total: UInt64 = 0
    func emit() throws {
      number += 1
      if line.last == 13 { line.removeLast() }
      try body(number, Substring(decoding: line, as: UTF8.self))
      line.removeAll(keepingCapacity: true)
    }
    while true {
      let n = try call("read", shown) { try chunk.withUnsafeMutableBytes { try fd.read(into: $0) } }
      if n == 0 { break }
      total += UInt64(n)
      guard total <= maxBytes else { throw SnapshotError(.badSize, path: shown, "is longer than \(maxBytes) bytes") }
      var start = 0
      for i in 0..<n where chunk[i] == 10 {
        line.append(contentsOf: chunk[start..<i])
        guard line.count <= maxLineBytes else { throw SnapshotError(.badText, path: shown, "line \(number + 1) is longer than \(maxLineBytes) bytes") }
        try emit()
        start = i + 1
      }
      line.append(contentsOf: chunk[start..<n])
      guard line.count <= maxLineBytes else { throw SnapshotError(.badText, path: shown, "line \(number + 1) is longer than \(maxLineBytes) bytes") }
    }
    if !line.isEmpty { try emit() }
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
