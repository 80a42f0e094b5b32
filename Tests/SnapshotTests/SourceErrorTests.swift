import Foundation
import MemdescTestSupport
import Snapshot
import Testing

/// Bad input: each a clear error naming the file (and the offset or value where it
/// applies), never a trap.
@Suite final class SourceErrorTests {
  let scratch: ScratchDirectory
  var dir: String { scratch.path }

  /// Each test gets its own directory, removed when the test ends.
  init() throws { scratch = try ScratchDirectory("errors") }
  deinit { scratch.remove() }

  func file(_ name: String, _ bytes: [UInt8]) throws -> String {
    let p = dir + "/" + name
    try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Fixture.write(bytes, to: p)
    return p
  }

  func words(_ w: [UInt64]) -> [UInt8] { w.withUnsafeBytes { Array($0) } }

  @Test func sizeNotAMultipleOfEight() throws {
    let p = try file("odd", [UInt8](repeating: 0, count: 13))
    expectSnapshotError(.badSize, [p, "at offset 8", "13 bytes", "multiple of 8"]) { _ = try PageSnapshot.open(p) }
    // The same inside a raw directory and after gzip.
    let d = dir + "/rawodd"
    _ = try file("rawodd/kpageflags", [UInt8](repeating: 0, count: 20))
    expectSnapshotError(.badSize, ["rawodd/kpageflags", "20 bytes"]) { _ = try PageSnapshot.open(d) }
  }

  @Test func kpagecountOfAnotherLength() throws {
    let d = dir + "/mismatch"
    _ = try file("mismatch/kpageflags", words(Array(repeating: 0, count: 16)))
    _ = try file("mismatch/kpagecount", words(Array(repeating: 1, count: 8)))
    expectSnapshotError(.lengthMismatch, ["mismatch/kpagecount", "8 PFNs", "16 PFNs"]) { _ = try PageSnapshot.open(d) }
  }

  @Test func emptyFile() throws {
    let p = try file("empty", [])
    expectSnapshotError(.badSize, [p, "empty file"]) { _ = try PageSnapshot.open(p) }
  }

  @Test func garbageFiles() throws {
    // Words whose bits page-types does not name: the summary says which bit and PFN.
    let g = try file("garbage", words([0, 0xdead_beef_dead_beef]))
    let snap = try PageSnapshot.open(g)
    expectSnapshotError(.unknownFlagBit, [g, "PFN 1", "0xdeadbeefdeadbeef"]) { _ = try PageTypesSummary.of(snap.kpageflags, mode: .raw) }
    // Text is not a dump.
    let t = try file("text", Array("hello world\n".utf8))
    expectSnapshotError(.badSize, [t, "12 bytes"]) { _ = try PageSnapshot.open(t) }
    // gzip magic followed by junk.
    let z = try file("junk.gz", [0x1f, 0x8b, 0x08, 0x00] + Array(repeating: 0xff, count: 40))
    expectSnapshotError(.badGzip, [z]) { _ = try PageSnapshot.open(z) }
  }

  @Test func truncatedGzip() throws {
    let full = try Fixture.bytes(Fixture.file("idle", "kpageflags.gz"))
    let p = try file("cut/kpageflags.gz", Array(full.prefix(full.count / 2)))
    expectSnapshotError(.badGzip, [p, "truncated"]) { _ = try PageSnapshot.open(dir + "/cut") }
  }

  @Test func wrongSnapshotVersion() throws {
    var (bytes, _) = try SnapshotFormat.encode(PageSnapshot.open(Fixture.dir("idle")))
    bytes[8] = 7
    let p = try file("v7.mdsnap", bytes)
    expectSnapshotError(.unsupportedVersion, [p, "at offset 8", "version 7", "reads versions 1-3"]) { _ = try PageSnapshot.open(p) }
  }

  @Test func truncatedSnapshot() throws {
    let (bytes, _) = try SnapshotFormat.encode(PageSnapshot.open(Fixture.dir("idle")))
    let p = try file("cut.mdsnap", Array(bytes.prefix(bytes.count - 1000)))
    expectSnapshotError(.badSnapshot, [p, "truncated"]) { _ = try PageSnapshot.open(p) }
  }

  @Test func missingPaths() throws {
    expectSnapshotError(.notFound, [dir + "/nowhere", "no such"]) { _ = try PageSnapshot.open(dir + "/nowhere") }
    expectSnapshotError(.notFound, [dir + "/nowhere", "no such directory"]) { _ = try PageSnapshot.openRawDirectory(dir + "/nowhere") }
    // A directory without kpageflags.
    try FileManager.default.createDirectory(atPath: dir + "/bare", withIntermediateDirectories: true)
    expectSnapshotError(.notFound, [dir + "/bare", "no kpageflags"]) { _ = try PageSnapshot.open(dir + "/bare") }
  }

  /// We run as root, so mode 000 does not stop a read; an unreadable path is made another
  /// way: a directory where the kpage file is expected (EISDIR on read). The CLI tests
  /// check real EACCES by running the binary as `nobody` with setpriv.
  @Test func unreadablePathWhereAFileIsExpected() throws {
    try FileManager.default.createDirectory(atPath: dir + "/dirs/kpageflags", withIntermediateDirectories: true)
    expectSnapshotError(.wrongFileType, [dir + "/dirs/kpageflags", "is a directory"]) { _ = try PageSnapshot.open(dir + "/dirs") }
    _ = try file("dirs2/kpageflags", words([0]))
    try FileManager.default.createDirectory(atPath: dir + "/dirs2/meminfo", withIntermediateDirectories: true)
    expectSnapshotError(.wrongFileType, [dir + "/dirs2/meminfo", "is a directory"]) { _ = try PageSnapshot.open(dir + "/dirs2") }
  }
}
