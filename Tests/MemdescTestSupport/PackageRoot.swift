import Foundation

/// The package's own tree, found from this file's path (Tests/MemdescTestSupport/...).
public enum PackageRoot {
  public static let path: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

  /// `root/relative`.
  public static func file(_ relative: String) -> String { path + "/" + relative }
}
