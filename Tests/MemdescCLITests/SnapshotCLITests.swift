import Foundation
import MemdescTestSupport
import Testing

/// `memdesc snapshot ...` through the built binary.
@Suite struct SnapshotCLITests {
  let cli = MemdescCLI()

  /// The fixtures live with the Snapshot tests; a clone has them at this path.
  static func fixture(_ scenario: String, _ name: String = "") -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("SnapshotTests/Fixtures/\(scenario)/\(name)").path
  }

  /// Others (nobody, for the permission tests) may enter it.
  static func scratch() throws -> ScratchDirectory { try ScratchDirectory("cli-snapshot", mode: 0o777) }

  static var isRoot: Bool { getuid() == 0 }
  static var hasSetpriv: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") }

  /// Acceptance: `snapshot summary` prints exactly page-types' tables for the fixtures,
  /// from the raw directory and from a converted snapshot file.
  @Test(arguments: ["idle", "thp-anon"])
  func summaryMatchesPageTypes(scenario: String) throws {
    let dir = Self.fixture(scenario)
    let expected = try String(contentsOfFile: Self.fixture(scenario, "page-types.txt"), encoding: .utf8)
    let expectedRaw = try String(contentsOfFile: Self.fixture(scenario, "page-types-raw.txt"), encoding: .utf8)
    let r = try cli.run(["snapshot", "summary", dir])
    #expect(r.stdout == expected)
    #expect(try cli.run(["snapshot", "summary", "--raw", dir]).stdout == expectedRaw)
    let scratch = try Self.scratch()
    defer { scratch.remove() }
    let tmp = scratch.path
    let snap = tmp + "/\(scenario).mdsnap"
    let c = try cli.run(["snapshot", "capture", "--from", dir, "-o", snap])
    #expect(c.stdout.contains("wrote \(snap)"))
    #expect(c.stderr.isEmpty, "no progress bar when stderr is not a terminal")
    #expect(try cli.run(["snapshot", "summary", snap]).stdout == expected)
    #expect(try cli.run(["snapshot", "summary", "-r", snap]).stdout == expectedRaw)
    // A bare dump (page-types -F's input) gives the same table.
    #expect(try cli.run(["snapshot", "summary", dir + "/kpageflags.gz"]).stdout == expected)
    let info = try cli.json(try cli.run(["snapshot", "info", snap, "--format", "json"]).stdout)
    #expect(info["pfns"] as? Int == 6_553_600)
    #expect(info["kernel_release"] as? String == "6.18.44-fc-v595")
    let sections = try #require(info["sections"] as? [[String: Any]])
    #expect(sections.map { $0["name"] as? String }.contains("kpageflags"))
  }

  @Test func badInput() throws {
    let scratch = try Self.scratch()
    defer { scratch.remove() }
    let tmp = scratch.path
    try Data(count: 13).write(to: URL(fileURLWithPath: tmp + "/odd"))
    try Data().write(to: URL(fileURLWithPath: tmp + "/empty"))
    var snap = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture("idle", "kpagecount.gz"))))
    snap.removeLast(snap.count / 3)
    try Data(snap).write(to: URL(fileURLWithPath: tmp + "/cut.gz"))
    try cli.run(["snapshot", "capture", "--from", Self.fixture("idle"), "-o", tmp + "/v.mdsnap"])
    var v = [UInt8](try Data(contentsOf: URL(fileURLWithPath: tmp + "/v.mdsnap")))
    v[8] = 9
    try Data(v).write(to: URL(fileURLWithPath: tmp + "/v9.mdsnap"))
    try FileManager.default.createDirectory(atPath: tmp + "/dir/kpageflags", withIntermediateDirectories: true)
    let cases: [([String], CLIExit, String)] = [
      (["snapshot", "summary", tmp + "/odd"], .failure, "memdesc: error: \(tmp)/odd at offset 8: size 13 bytes is not a multiple of 8 (one u64 per PFN)"),
      (["snapshot", "summary", tmp + "/empty"], .failure, "memdesc: error: \(tmp)/empty: empty file: a kpageflags dump holds one 8-byte word per PFN"),
      (["snapshot", "summary", tmp + "/cut.gz"], .failure, "memdesc: error: \(tmp)/cut.gz at offset 70778: unexpected end of compressed data in gzip member 1 (truncated file?; compressed offset, 18953888 bytes decompressed)"),
      (["snapshot", "summary", tmp + "/v9.mdsnap"], .failure, "memdesc: error: \(tmp)/v9.mdsnap at offset 8: snapshot format version 9; this memdesc reads versions 1-3 (written by a newer memdesc?)"),
      (["snapshot", "summary", tmp + "/missing"], .failure, "memdesc: error: \(tmp)/missing: no such file or directory"),
      (["snapshot", "summary", tmp + "/dir"], .failure, "memdesc: error: \(tmp)/dir/kpageflags: is a directory, expected a file"),
      (["snapshot", "summary"], .usage, "Error: give a SOURCE (snapshot file, raw directory or kpageflags dump) or --live"),
      (["snapshot", "capture", "--from", tmp + "/missing", "-o", tmp + "/x"], .failure, "memdesc: error: \(tmp)/missing: no such file or directory"),
      (["snapshot", "capture", "--from", Self.fixture("idle"), "-o", tmp], .failure, "memdesc: error: \(tmp): is a directory; give a file name to write to"),
      (["snapshot", "capture", "--from", Self.fixture("idle"), "-o", tmp + "/no/such/dir/x"], .failure, "memdesc: error: \(tmp)/no/such/dir/x: directory '\(tmp)/no/such/dir' does not exist (no such file or directory)"),
    ]
    for (args, exit, line) in cases {
      let r = try cli.run(args, exit: exit, stderrLine: line)
      #expect(!r.stderr.contains("Fatal error"))
    }
    // Nothing half-written.
    #expect(!FileManager.default.fileExists(atPath: tmp + "/x"))
  }

  /// Real EACCES: run as `nobody`. Capture says root is needed; a 0600 file owned by root
  /// is "permission denied".
  @Test(.enabled(if: isRoot && hasSetpriv, "skipped: needs root and setpriv to become nobody"))
  func withoutRoot() throws {
    let scratch = try Self.scratch()
    defer { scratch.remove() }
    let tmp = scratch.path
    let secret = tmp + "/secret"
    try Data(count: 64).write(to: URL(fileURLWithPath: secret))
    chmod(secret, 0o600)
    let nobody = MemdescCLI(launcher: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    let c = try nobody.run(["snapshot", "capture", "-o", tmp + "/live.mdsnap"], exit: nil)
    // The binary may live where nobody cannot reach it: then there is nothing to test.
    try #require(!c.stderr.contains("Permission denied") || c.stderr.contains("kpageflags"), "binary not runnable as nobody: \(c.stderr)")
    #expect(c.status == CLIExit.failure.rawValue, "\(c.stderr)")
    #expect(c.stderr.contains("/proc/kpageflags") && c.stderr.contains("root"), "\(c.stderr)")
    #expect(!FileManager.default.fileExists(atPath: tmp + "/live.mdsnap"))
    let s = try nobody.run(["snapshot", "summary", secret], exit: .failure)
    #expect(s.stderr.contains(secret) && s.stderr.contains("permission denied"), "\(s.stderr)")
  }

  @Test(.enabled(if: isRoot && FileManager.default.isReadableFile(atPath: "/proc/kpageflags"), "skipped: live capture needs root"))
  func liveCaptureAndSummary() throws {
    let scratch = try Self.scratch()
    defer { scratch.remove() }
    let tmp = scratch.path
    try cli.run(["snapshot", "capture", "-o", tmp + "/live.mdsnap", "--threads", "2"])
    let s = try cli.run(["snapshot", "summary", tmp + "/live.mdsnap"])
    #expect(s.stdout.hasPrefix("             flags\tpage-count"))
    #expect(s.stdout.contains("             total\t"))
  }

  /// A capture killed half-way leaves nothing in the target's directory: its bytes go to
  /// an unnamed file (O_TMPFILE) that only gets a name once whole (AtomicOutputCLITests
  /// kills captures and reports at ten points).
  @Test(.enabled(if: isRoot && FileManager.default.isReadableFile(atPath: "/proc/kpageflags"), "skipped: live capture needs root"))
  func killedCaptureLeavesNothing() throws {
    let scratch = try Self.scratch()
    defer { scratch.remove() }
    let tmp = scratch.path
    let target = tmp + "/live.mdsnap"
    let p = Process()
    p.executableURL = MemdescCLI.binary
    p.arguments = ["snapshot", "capture", "-o", target, "--threads", "1"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    usleep(300_000)
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    #expect(p.terminationReason == .uncaughtSignal, "the capture ended before it was killed")
    #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
  }
}
