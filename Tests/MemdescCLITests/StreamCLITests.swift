import Foundation
import MemdescTestSupport
import Testing

/// Issue 16: `analyze -` and `snapshot summary -` read a bare kpageflags dump from a real
/// pipe or a FIFO in one pass, print what the file gives, and refuse bad streams with one
/// line and exit 1; the commands that read a source twice refuse a stream before reading it.
@Suite struct StreamCLITests {
  let cli = MemdescCLI()
  static let fixture = PackageRoot.file("Tests/SnapshotTests/Fixtures/thp-anon")

  /// The fixture's kpageflags, decompressed, as a bare dump in `dir`; and its gzip bytes.
  static func dumps(_ dir: ScratchDirectory) throws -> (raw: String, gz: Data) {
    let gz = try Data(contentsOf: URL(fileURLWithPath: fixture + "/kpageflags.gz"))
    let raw = dir.file("kpageflags")
    let r = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "gzip -dc \(fixture)/kpageflags.gz > \(raw)"])
    #expect(r.status == 0, "gzip -dc: \(r.stderr)")
    return (raw, gz)
  }

  /// The JSON without its `source` line, which names the file or the stream.
  static func sourceless(_ json: String) -> String {
    json.split(separator: "\n").filter { !$0.contains("\"source\" : ") }.joined(separator: "\n")
  }

  @Test func aPipeGivesWhatTheFileGives() throws {
    try withScratchDirectory("cli-stream") { dir in
      let (raw, gz) = try Self.dumps(dir)
      let bytes = try Data(contentsOf: URL(fileURLWithPath: raw))
      let file = try cli.run(["analyze", raw, "--format", "json"]).stdout
      for (input, what) in [(bytes, "raw"), (gz, "gzip")] {
        let piped = try cli.run(["analyze", "-", "--format", "json"], stdin: .pipe(input))
        #expect(Self.sourceless(piped.stdout) == Self.sourceless(file), "\(what) through a pipe")
        #expect(piped.stdout.contains("\"source\" : \"kpageflags stream standard input\""))
        #expect(piped.stderr.isEmpty, "\(what): \(piped.stderr)")
      }
      // One worker (the census in order) and more workers than cores give the same counts.
      for threads in ["1", "3"] {
        let args = ["analyze", "--threads", threads, "--format", "json"]
        #expect(try cli.run(args + [raw]).stdout == file, "the file on \(threads) threads")
        #expect(Self.sourceless(try cli.run(args + ["-"], stdin: .pipe(bytes)).stdout) == Self.sourceless(file), "the pipe on \(threads) threads")
      }
      // The text form names the stream; every other line is the file's.
      let text = try cli.run(["analyze", raw]).stdout.split(separator: "\n").dropFirst()
      let pipedText = try cli.run(["analyze", "-"], stdin: .pipe(bytes)).stdout.split(separator: "\n")
      #expect(pipedText.first == "source          kpageflags stream standard input")
      #expect(Array(pipedText.dropFirst()) == Array(text))
      // page-types' table, byte for byte, in both modes.
      for (flags, expected) in [([String](), "page-types.txt"), (["--raw"], "page-types-raw.txt")] {
        let want = try String(contentsOfFile: Self.fixture + "/" + expected, encoding: .utf8)
        #expect(try cli.run(["snapshot", "summary", "-"] + flags, stdin: .pipe(gz)).stdout == want, "summary \(flags) of a gzip pipe")
      }
      // Standard input redirected from a file is a stream too.
      #expect(Self.sourceless(try cli.run(["analyze", "-", "--format", "json"], stdin: .file(raw)).stdout) == Self.sourceless(file))
    }
  }

  @Test func aFIFOIsAStream() throws {
    try withScratchDirectory("cli-stream-fifo") { dir in
      let (raw, _) = try Self.dumps(dir)
      let fifo = dir.file("fifo")
      #expect(mkfifo(fifo, 0o600) == 0)
      let file = try cli.run(["analyze", raw, "--format", "json"]).stdout
      // The writer: `cat` into the FIFO (its open waits for memdesc's).
      let writer = Process()
      writer.executableURL = URL(fileURLWithPath: "/bin/sh")
      writer.arguments = ["-c", "cat \(raw) > \(fifo)"]
      try writer.run()
      let r = try cli.run(["analyze", fifo, "--format", "json"])
      writer.waitUntilExit()
      #expect(Self.sourceless(r.stdout) == Self.sourceless(file))
      #expect(r.stdout.contains("\"source\" : \"kpageflags stream \(fifo)\""))
      // A bad word through the FIFO is named by the FIFO's path, offset, PFN and bit.
      var words = [UInt64](repeating: 0x28, count: 70_000)
      words[65_537] |= 1 << 52
      try words.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: dir.file("bad"))) }
      let bad = Process()
      bad.executableURL = URL(fileURLWithPath: "/bin/sh")
      bad.arguments = ["-c", "cat \(dir.file("bad")) > \(fifo) 2>/dev/null"]
      try bad.run()
      try cli.run(["analyze", fifo], exit: .failure, stderrLine: "memdesc: error: \(fifo) at offset \(65_537 * 8): PFN 65537 has flags 0x10000000000028 with bit 52, which page-types has no name for (it stops with \"unknown flag bit 52\"); --accept-unknown-flags reads such words as they are")
      bad.waitUntilExit()
      // Commands that look twice refuse the FIFO without opening it (no writer: no wait).
      for args in [["snapshot", "info", fifo], ["explain", "0x1", fifo], ["report", fifo, "-o", dir.file("r.html")], ["diff", fifo, raw]] {
        let r = try cli.run(args, exit: .failure)
        #expect(r.stderr.contains("\(fifo): is a stream, which is read once"), "\(args): \(r.stderr)")
      }
      #expect(!FileManager.default.fileExists(atPath: dir.file("r.html")))
    }
  }

  @Test func badStreamsAreOneLine() throws {
    try withScratchDirectory("cli-stream-bad") { dir in
      let (raw, gz) = try Self.dumps(dir)
      let bytes = try Data(contentsOf: URL(fileURLWithPath: raw))
      var unknown = bytes.prefix(800_000)
      unknown.append(contentsOf: [0, 0, 0, 8, 0, 0, 0, 0] as [UInt8])  // bit 27
      unknown.append(bytes.suffix(8_000))
      let snapshotFile = try Data(contentsOf: URL(fileURLWithPath: PackageRoot.file("Tests/SnapshotTests/Fixtures/hvo-on.mdsnap")))
      let cases: [(Data, String)] = [
        (Data(), "memdesc: error: standard input: empty stream: a kpageflags dump holds one 8-byte word per PFN"),
        (bytes.prefix(1_000_001), "memdesc: error: standard input at offset 1000000: stream ended after 1000001 bytes, not a multiple of 8 (one u64 per PFN)"),
        (bytes.prefix(3), "memdesc: error: standard input at offset 0: stream ended after 3 bytes, not a multiple of 8 (one u64 per PFN)"),
        (unknown, "memdesc: error: standard input at offset 800000: PFN 100000 has flags 0x8000000 with bit 27, which page-types has no name for (it stops with \"unknown flag bit 27\"); --accept-unknown-flags reads such words as they are"),
        (snapshotFile, "memdesc: error: standard input: is a Memdesc snapshot file, which is read by sections, not front to back: give its path instead of a stream"),
      ]
      for (input, line) in cases {
        for args in [["analyze", "-"], ["analyze", "-", "--format", "json"]] {
          let r = try cli.run(args, exit: .failure, stderrLine: line, stdin: .pipe(input))
          #expect(r.stdout.isEmpty && r.stderrLines.count == 1, "\(args): \(r.stderr)")
        }
      }
      // A gzip stream that ends inside its member; in the summary too.
      for args in [["analyze", "-"], ["snapshot", "summary", "-"]] {
        let r = try cli.run(args, exit: .failure, stdin: .pipe(gz.prefix(5000)))
        #expect(r.stderrLines.count == 1 && r.stderr.hasPrefix("memdesc: error: standard input at offset ") && r.stderr.contains("unexpected end of compressed data in gzip member 1"), "\(args): \(r.stderr)")
      }
      // The override reads the unknown word as it is.
      try cli.run(["analyze", "-", "--accept-unknown-flags"], stdin: .pipe(unknown))
      // Commands that read a source twice, or need its length first, refuse `-` at once.
      for args in [["snapshot", "info", "-"], ["explain", "0x1", "-"], ["report", "-", "-o", dir.file("r.html")], ["snapshot", "capture", "--from", "-", "-o", dir.file("c.mdsnap")]] {
        let r = try cli.run(args, exit: .failure, stdin: .pipe(bytes.prefix(8192)))
        #expect(r.stderr.hasPrefix("memdesc: error: standard input: is a stream, which is read once"), "\(args): \(r.stderr)")
      }
      #expect(!FileManager.default.fileExists(atPath: dir.file("r.html")) && !FileManager.default.fileExists(atPath: dir.file("c.mdsnap")))
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }.isEmpty, "no temporary file left")
    }
  }
}
