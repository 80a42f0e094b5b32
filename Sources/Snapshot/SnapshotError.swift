#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Why a page-state source cannot be read.
///
/// Every error names the file it is about and, where it applies, the byte offset or the
/// value that is wrong, so that one line tells a user what to fix. The description is
/// that line: `PATH[ at offset N]: MESSAGE`.
public struct SnapshotError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The broad class of the failure, for callers that react differently (tests, `capture`).
  public enum Kind: String, Sendable {
    /// The path does not exist.
    case notFound
    /// The operating system refused access (EACCES/EPERM).
    case permissionDenied
    /// A live /proc/kpage* file refused access: reading it needs root.
    case needsRoot
    /// A directory stands where a file is expected, or a file where a directory is.
    case wrongFileType
    /// A read, write or rename failed for another reason.
    case io
    /// A kpage file whose size is not a whole number of u64 words, or is empty.
    case badSize
    /// kpagecount or kpagecgroup does not cover the same PFNs as kpageflags.
    case lengthMismatch
    /// A gzip or DEFLATE stream is damaged or truncated.
    case badGzip
    /// A Memdesc snapshot file is damaged or truncated.
    case badSnapshot
    /// A Memdesc snapshot file of a version this build cannot read.
    case unsupportedVersion
    /// A flag word has a bit that the page-types name table does not know.
    case unknownFlagBit
    /// A text file (meminfo, hugepages, ...) has a value that cannot be read.
    case badText
    /// A tracefs layout, ring-buffer page or Memdesc recording is damaged or unexpected.
    case badTrace
  }

  public var kind: Kind
  /// The file (or directory) the error is about.
  public var path: String
  /// The byte offset in `path` where the problem is, when there is one.
  public var offset: UInt64?
  /// What is wrong, in words, without the path.
  public var message: String

  public init(_ kind: Kind, path: String, offset: UInt64? = nil, _ message: String) {
    self.kind = kind
    self.path = path
    self.offset = offset
    self.message = message
  }

  public var description: String {
    if let offset { return "\(path) at offset \(offset): \(message)" }
    return "\(path): \(message)"
  }

  /// The error for a failed system call on `path`, classified by `errno`.
  static func system(_ call: String, path: String, errno e: Int32) -> SnapshotError {
    let reason = String(cString: strerror(e))
    switch e {
    case ENOENT: return SnapshotError(.notFound, path: path, "no such file or directory")
    case EACCES, EPERM: return SnapshotError(.permissionDenied, path: path, "permission denied (\(call): \(reason))")
    case EISDIR: return SnapshotError(.wrongFileType, path: path, "is a directory, expected a file")
    case ENOTDIR: return SnapshotError(.wrongFileType, path: path, "a path component is not a directory")
    default: return SnapshotError(.io, path: path, "\(call) failed: \(reason)")
    }
  }
}
