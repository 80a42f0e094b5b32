import Foundation

/// A fresh directory of its own under the system temporary directory (mkdtemp), for one
/// test: `let dir = try ScratchDirectory("label"); defer { dir.remove() }`.
public struct ScratchDirectory: Sendable, CustomStringConvertible {
  public let path: String

  /// Creates `memdesc-LABEL-XXXXXX`; `mode` (for instance 0o777, so that other users
  /// may enter it) is applied after creation.
  public init(_ label: String, mode: mode_t? = nil) throws {
    var template = Array((FileManager.default.temporaryDirectory.path + "/memdesc-\(label)-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: String(cString: template), NSLocalizedDescriptionKey: "mkdtemp: \(String(cString: strerror(errno)))"])
    }
    path = String(cString: made)
    if let mode { chmod(path, mode) }
  }

  /// `path/name`.
  public func file(_ name: String) -> String { path + "/" + name }

  /// Removes the directory and everything in it.
  public func remove() { try? FileManager.default.removeItem(atPath: path) }

  public var description: String { path }
}

/// Runs `body` with a fresh scratch directory and removes it afterwards.
public func withScratchDirectory<T>(_ label: String, _ body: (ScratchDirectory) throws -> T) throws -> T {
  let dir = try ScratchDirectory(label)
  defer { dir.remove() }
  return try body(dir)
}
