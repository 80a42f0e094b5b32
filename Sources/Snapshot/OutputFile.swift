#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Files that other programs read while Memdesc writes them: node_exporter's textfile
/// collector reads `*.prom` at every scrape, SQL engines list a row folder. A reader
/// sees the old file or the whole new one, never a part (`FileIO.writeAtomically`:
/// a temporary file beside it, then rename), and a failed write leaves the old file.
public enum OutputFile {
  /// Writes `path` atomically; `produce` hands the bytes to `write` in pieces. If
  /// `produce` throws, nothing is left at `path` beyond what was there.
  public static func write(_ path: String, mode: UInt32 = 0o644, produce: (_ write: ([UInt8]) throws -> Void) throws -> Void) throws {
    try FileIO.writeAtomically(path, mode: mode_t(mode), produce: produce)
  }

  /// Writes `text` to `path` atomically.
  public static func write(_ path: String, text: String, mode: UInt32 = 0o644) throws {
    try write(path, mode: mode) { w in try w(Array(text.utf8)) }
  }

  /// Creates `path` and its missing parents (`mkdir -p`, mode 0755). A component that
  /// exists and is not a directory is an error naming it.
  public static func makeDirectories(_ path: String) throws {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
      prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
      switch try FileIO.fileType(prefix) {
      case .directory: continue
      case .regular, .other: throw SnapshotError(.wrongFileType, path: prefix, "is not a directory")
      case nil:
        if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw SnapshotError.system("mkdir", path: prefix, errno: errno) }
      }
    }
  }
}
