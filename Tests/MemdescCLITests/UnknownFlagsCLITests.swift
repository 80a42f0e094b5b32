import Foundation
import MemdescTestSupport
import Testing

/// Issue 10 point 3: every command that reads a SOURCE refuses a kpageflags word with a
/// bit page-types has no name for, naming the file, PFN and bit, unless
/// `--accept-unknown-flags` is given.
@Suite struct UnknownFlagsCLITests {
  let cli = MemdescCLI()

  /// 65,536 page-cache pages (LRU | UPTODATE); PFN 3 also has bit 52.
  static func writeDump(_ path: String) throws {
    var words = [UInt64](repeating: 0x28, count: 1 << 16)
    words[3] |= 1 << 52
    try words.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
  }

  @Test func everyCommandRefusesAndTheOverrideAccepts() throws {
    try withScratchDirectory("cli-unknown-flags") { dir in
      let dump = dir.file("dump")
      try Self.writeDump(dump)
      let line = "memdesc: error: \(dump) at offset 24: PFN 3 has flags 0x10000000000028 with bit 52, which page-types has no name for (it stops with \"unknown flag bit 52\"); --accept-unknown-flags reads such words as they are"
      let commands: [[String]] = [
        ["analyze", dump], ["analyze", dump, "--format", "json"], ["report", dump, "-o", dir.file("r.html")],
        ["explain", "0x10", dump], ["snapshot", "info", dump], ["snapshot", "capture", "--from", dump, "-o", dir.file("c.mdsnap")],
        ["snapshot", "summary", dump], ["snapshot", "summary", "-r", dump],
      ]
      for args in commands {
        try cli.run(args, exit: .failure, stderrLine: line)
      }
      #expect(!FileManager.default.fileExists(atPath: dir.file("r.html")), "nothing written")
      #expect(!FileManager.default.fileExists(atPath: dir.file("c.mdsnap")), "nothing written")
      for args in commands {
        let r = try cli.run(args + ["--accept-unknown-flags"])
        #expect(r.stderr.isEmpty, "\(args): \(r.stderr)")
      }
      let raw = try cli.run(["snapshot", "summary", "-r", dump, "--accept-unknown-flags"]).stdout
      #expect(raw.contains("0x0010000000000028\t         1 "), "the word is counted as it is: \(raw)")
      // The converted file keeps the word: reading it without the override refuses it again.
      try cli.run(["analyze", dir.file("c.mdsnap")], exit: .failure)
    }
  }

  /// The reproducer: 1 MiB of random bytes is no machine.
  @Test func randomBytesAreRefused() throws {
    try withScratchDirectory("cli-random-source") { dir in
      var rng = SplitMix64(seed: TestSeed.seed("randomBytesAreRefused"))
      let words = (0..<(1 << 17)).map { _ in rng.next() }
      let path = dir.file("random.bin")
      try words.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
      for args in [["analyze", path], ["report", path, "-o", dir.file("r.html")], ["explain", "5", path], ["snapshot", "info", path], ["snapshot", "capture", "--from", path, "-o", dir.file("x.mdsnap")]] {
        let r = try cli.run(args, exit: .failure)
        #expect(r.stderrLines.count == 1 && r.stderr.contains("\(path) at offset ") && r.stderr.contains("which page-types has no name for"), "\(args): \(r.stderr)")
      }
    }
  }
}
