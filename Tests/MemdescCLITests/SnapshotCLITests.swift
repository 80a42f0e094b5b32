import Foundation
import Testing

/// `memdesc snapshot ...` through the built binary.
@Suite struct SnapshotCLITests {
  let cli = CLITests()

  /// The fixtures live with the Snapshot tests; a clone has them at this path.
  static func fixture(_ scenario: String, _ name: String = "") -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("SnapshotTests/Fixtures/\(scenario)/\(name)").path
  }

  static func scratch() throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("memdesc-cli-snap-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    // Others (nobody, for the permission tests) may enter it.
    chmod(d, 0o777)
    return d
  }

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
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == expected)
    #expect(try cli.run(["snapshot", "summary", "--raw", dir]).stdout == expectedRaw)
    let tmp = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    let snap = tmp + "/\(scenario).mdsnap"
    let c = try cli.run(["snapshot", "capture", "--from", dir, "-o", snap])
    #expect(c.status == 0, "\(c.stderr)")
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
    let tmp = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    try Data(count: 13).write(to: URL(fileURLWithPath: tmp + "/odd"))
    try Data().write(to: URL(fileURLWithPath: tmp + "/empty"))
    var snap = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture("idle", "kpagecount.gz"))))
    snap.removeLast(snap.count / 3)
    try Data(snap).write(to: URL(fileURLWithPath: tmp + "/cut.gz"))
    let c = try cli.run(["snapshot", "capture", "--from", Self.fixture("idle"), "-o", tmp + "/v.mdsnap"])
    #expect(c.status == 0)
    var v = [UInt8](try Data(contentsOf: URL(fileURLWithPath: tmp + "/v.mdsnap")))
    v[8] = 9
    try Data(v).write(to: URL(fileURLWithPath: tmp + "/v9.mdsnap"))
    try FileManager.default.createDirectory(atPath: tmp + "/dir/kpageflags", withIntermediateDirectories: true)
    let cases: [([String], [String])] = [
      (["snapshot", "summary", tmp + "/odd"], [tmp + "/odd", "not a multiple of 8"]),
      (["snapshot", "summary", tmp + "/empty"], [tmp + "/empty", "empty file"]),
      (["snapshot", "summary", tmp + "/cut.gz"], [tmp + "/cut.gz", "truncated"]),
      (["snapshot", "summary", tmp + "/v9.mdsnap"], [tmp + "/v9.mdsnap", "version 9", "reads version 1"]),
      (["snapshot", "summary", tmp + "/missing"], [tmp + "/missing", "no such file"]),
      (["snapshot", "summary", tmp + "/dir"], [tmp + "/dir/kpageflags", "is a directory"]),
      (["snapshot", "summary"], ["SOURCE"]),
      (["snapshot", "capture", "--from", tmp + "/missing", "-o", tmp + "/x"], [tmp + "/missing", "no such file"]),
      (["snapshot", "capture", "--from", Self.fixture("idle"), "-o", tmp], [tmp, "is a directory"]),
      (["snapshot", "capture", "--from", Self.fixture("idle"), "-o", tmp + "/no/such/dir/x"], ["no such file"]),
    ]
    for (args, fragments) in cases {
      let r = try cli.run(args)
      #expect(r.status != 0 && r.status < 128, "\(args): status \(r.status)")
      for f in fragments { #expect(r.stderr.contains(f), "\(args): '\(r.stderr)' lacks '\(f)'") }
      #expect(!r.stderr.contains("Fatal error"))
    }
    // Nothing half-written.
    #expect(!FileManager.default.fileExists(atPath: tmp + "/x"))
  }

  /// Real EACCES: run as `nobody`. Capture says root is needed; a 0600 file owned by root
  /// is "permission denied".
  @Test(.enabled(if: isRoot && hasSetpriv, "skipped: needs root and setpriv to become nobody"))
  func withoutRoot() throws {
    let tmp = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    let secret = tmp + "/secret"
    try Data(count: 64).write(to: URL(fileURLWithPath: secret))
    chmod(secret, 0o600)
    func asNobody(_ args: [String]) throws -> CLITests.Result {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
      p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", CLITests.binary.path] + args
      let out = Pipe(), err = Pipe()
      p.standardOutput = out
      p.standardError = err
      try p.run()
      let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
      p.waitUntilExit()
      return CLITests.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
    let c = try asNobody(["snapshot", "capture", "-o", tmp + "/live.mdsnap"])
    // The binary may live where nobody cannot reach it: then there is nothing to test.
    try #require(!c.stderr.contains("Permission denied") || c.stderr.contains("kpageflags"), "binary not runnable as nobody: \(c.stderr)")
    #expect(c.status != 0 && c.status < 128)
    #expect(c.stderr.contains("/proc/kpageflags") && c.stderr.contains("root"), "\(c.stderr)")
    #expect(!FileManager.default.fileExists(atPath: tmp + "/live.mdsnap"))
    let s = try asNobody(["snapshot", "summary", secret])
    #expect(s.status != 0 && s.status < 128)
    #expect(s.stderr.contains(secret) && s.stderr.contains("permission denied"), "\(s.stderr)")
  }

  @Test(.enabled(if: isRoot && FileManager.default.isReadableFile(atPath: "/proc/kpageflags"), "skipped: live capture needs root"))
  func liveCaptureAndSummary() throws {
    let tmp = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    let c = try cli.run(["snapshot", "capture", "-o", tmp + "/live.mdsnap", "--threads", "2"])
    #expect(c.status == 0, "\(c.stderr)")
    let s = try cli.run(["snapshot", "summary", tmp + "/live.mdsnap"])
    #expect(s.status == 0)
    #expect(s.stdout.hasPrefix("             flags\tpage-count"))
    #expect(s.stdout.contains("             total\t"))
  }

  /// A capture killed half-way (SIGKILL once its temporary file exists) leaves nothing at
  /// the target path.
  @Test(.enabled(if: isRoot && FileManager.default.isReadableFile(atPath: "/proc/kpageflags"), "skipped: live capture needs root"))
  func killedCaptureLeavesNothing() throws {
    let tmp = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    let target = tmp + "/live.mdsnap"
    let p = Process()
    p.executableURL = CLITests.binary
    p.arguments = ["snapshot", "capture", "-o", target, "--threads", "1"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    var sawTemp = false
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline && p.isRunning {
      if (try? FileManager.default.contentsOfDirectory(atPath: tmp))?.contains(where: { $0.hasPrefix(".live.mdsnap.tmp-") }) == true {
        sawTemp = true
        break
      }
      usleep(500)
    }
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    #expect(sawTemp, "the capture should have been caught while writing")
    #expect(!FileManager.default.fileExists(atPath: target))
  }
}
