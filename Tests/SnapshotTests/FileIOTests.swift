import Foundation
import MemdescTestSupport
import PageModel
import Testing

@testable import Snapshot

/// Snapshot's FileIO as the CLI uses it: the bounded line reader behind `--trace`, the
/// readability probe, the output check and the atomic writer.
@Suite struct FileIOTests {
  func lines(_ path: String, maxLineBytes: Int = 64) throws -> [String] {
    var out: [String] = []
    try FileIO.forEachLine(path, maxLineBytes: maxLineBytes) { n, line in
      #expect(n == out.count + 1)
      out.append(String(line))
    }
    return out
  }

  @Test func linesSplitAtNewlineWithCRDropped() throws {
    try withScratchDirectory("fileio") { dir in
      try Data("a\r\nb\n\nlast".utf8).write(to: URL(fileURLWithPath: dir.file("t")))
      #expect(try lines(dir.file("t")) == ["a", "b", "", "last"])
      // A line over the bound is refused with its number, whatever the chunking.
      try Data((String(repeating: "x", count: 10) + "\n" + String(repeating: "y", count: 65) + "\n").utf8).write(to: URL(fileURLWithPath: dir.file("long")))
      expectSnapshotError(.badText, ["long: line 2 is longer than 64 bytes"]) { _ = try lines(dir.file("long")) }
      let big = String(repeating: "z", count: 200_000)
      try Data(big.utf8).write(to: URL(fileURLWithPath: dir.file("huge")))
      expectSnapshotError(.badText, ["huge: line 1 is longer than 65536 bytes"]) { _ = try lines(dir.file("huge"), maxLineBytes: 1 << 16) }
    }
  }

  @Test func onlyRegularFilesAreRead() throws {
    try withScratchDirectory("fileio-types") { dir in
      #expect(mkfifo(dir.file("fifo"), 0o600) == 0)
      let start = Date()
      expectSnapshotError(.wrongFileType, ["fifo: is not a regular file"]) { _ = try lines(dir.file("fifo")) }
      expectSnapshotError(.wrongFileType, ["/dev/zero: is not a regular file"]) { _ = try lines("/dev/zero") }
      expectSnapshotError(.wrongFileType, ["is a directory"]) { _ = try lines(dir.path) }
      expectSnapshotError(.notFound, ["nothing: no such file or directory"]) { _ = try lines(dir.file("nothing")) }
      #expect(Date().timeIntervalSince(start) < 1)
    }
  }

  @Test func probesAndOutputChecks() throws {
    try withScratchDirectory("fileio-out") { dir in
      try Data([1, 2, 3, 4, 5, 6, 7, 8]).write(to: URL(fileURLWithPath: dir.file("eight")))
      #expect(FileIO.canRead(dir.file("eight"), bytes: 8))
      #expect(!FileIO.canRead(dir.file("eight"), bytes: 9))
      #expect(!FileIO.canRead(dir.file("nothing")))
      expectSnapshotError(.notFound, ["an empty output path names no file"]) { try FileIO.checkOutput("") }
      expectSnapshotError(.notFound, ["directory '\(dir.file("missing"))' does not exist"]) { try FileIO.checkOutput(dir.file("missing/x")) }
      expectSnapshotError(.wrongFileType, ["is a directory"]) { try FileIO.checkOutput(dir.path) }
      expectSnapshotError(.wrongFileType, ["'\(dir.file("eight"))' is not a directory"]) { try FileIO.checkOutput(dir.file("eight/x")) }
      // A link chain resolves to its last target, relative to each link's directory.
      try FileManager.default.createSymbolicLink(atPath: dir.file("l1"), withDestinationPath: "l2")
      try FileManager.default.createSymbolicLink(atPath: dir.file("l2"), withDestinationPath: "eight")
      #expect(try FileIO.resolveLinks(dir.file("l1")) == dir.file("eight"))
      try FileIO.writeAtomically(dir.file("l1")) { write in try write(Array("new".utf8)) }
      #expect(try String(contentsOfFile: dir.file("eight"), encoding: .utf8) == "new")
      #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["eight", "l1", "l2"])
    }
  }

  /// A failing producer leaves neither the target nor a temporary name.
  @Test func failedWriteLeavesNothing() throws {
    struct Stop: Error {}
    try withScratchDirectory("fileio-fail") { dir in
      #expect(throws: Stop.self) { try FileIO.writeAtomically(dir.file("out")) { write in try write([1, 2]); throw Stop() } }
      try Data("old".utf8).write(to: URL(fileURLWithPath: dir.file("old")))
      #expect(throws: Stop.self) { try FileIO.writeAtomically(dir.file("old")) { write in try write([1, 2]); throw Stop() } }
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["old"])
      #expect(try String(contentsOfFile: dir.file("old"), encoding: .utf8) == "old")
    }
  }

  /// The trace parser behind `simulate --trace`: CRLF lines, and the same trace whether
  /// read whole or line by line.
  @Test func traceLineByLine() throws {
    let text = "alloc a folio 0 anon\r\nalloc b folio 9 file\r\nfree a\r\nhvo on\r\nhugepages 2M 10\r\n"
    let t = try Trace.parse(text, name: "t")
    #expect(t.ops.count == 5 && t.lines == [1, 2, 3, 4, 5])
    try withScratchDirectory("fileio-trace") { dir in
      try Data(text.utf8).write(to: URL(fileURLWithPath: dir.file("t")))
      var parser = TraceParser(name: "t")
      try FileIO.forEachLine(dir.file("t")) { n, line in try parser.add(line, number: n) }
      #expect(parser.finish() == t)
    }
    #expect(throws: TraceError.badLine(file: "t", line: 2, text: "free", why: "expected 'free ID'")) { _ = try Trace.parse("free a\r\nfree\r\n", name: "t") }
  }
}
