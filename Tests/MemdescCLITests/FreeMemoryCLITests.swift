import Foundation
import MemdescTestSupport
import Testing

/// The live first screen (plain `memdesc` as root) tells free memory honestly: the free
/// lists beside MemFree, and the RAM that reads zero, before the census.
@Suite struct FreeMemoryCLITests {
  static let canReadLive = getuid() == 0 && FileManager.default.isReadableFile(atPath: "/proc/kpageflags")

  @Test(.enabled(if: canReadLive, "skipped: the live first screen needs root and a readable /proc/kpageflags"))
  func liveFirstScreen() throws {
    let r = try MemdescCLI().run([])
    let lines = r.stdout.split(separator: "\n").map(String.init)
    let census = try #require(lines.firstIndex(of: "census"), "\(r.stdout.prefix(600))")
    let head = lines[..<census]
    #expect(head.contains { $0.hasPrefix("read zero ") }, "\(head)")
    let free = try #require(head.first { $0.hasPrefix("free ") }, "\(head)")
    #expect(free.contains("on the free lists") && free.contains("MemFree"), "\(free)")
  }
}
