import Foundation
import MemdescTestSupport
import Testing

/// Hostile input over every command: the reproducers of the hostile-input issue, each
/// pinned to its answer, and a few hundred generated bad inputs (damaged /proc text files
/// in a raw directory, bad option values, files that are not what they should be), each
/// of which must end in the documented exit status with one line naming the file, line
/// or value: 1 and exactly `memdesc: error: ...` for bad data or environment, 64 and
/// `Error: ...` (then the usage text) for a usage error; never a signal.
@Suite struct HostileCLITests {
  let cli = MemdescCLI()

  /// A small raw directory: the 32768-PFN kpageflags of the fuzz fixture (128 MiB) and
  /// short valid text files, which `damaged` then breaks one at a time.
  static let texts: [String: String] = [
    "meminfo": "MemTotal: 131072 kB\nMemFree: 1000 kB\nHugetlb: 0 kB\nAnonHugePages: 0 kB\nShmemHugePages: 0 kB\nShmem: 0 kB\nHugePages_Total: 0\n",
    "vmstat": "nr_free_pages 250\nnr_memmap_boot_pages 512\n",
    "buddyinfo": "Node 0, zone      DMA      1      1      1      1      1      1      1      1      1      1      1\n",
    "iomem": "00000000-00000fff : Reserved\n00001000-07ffffff : System RAM\n  01000000-01ffffff : Kernel code\n",
    "zoneinfo": "Node 0, zone      DMA\n  per-node stats\n      nr_inactive_anon 35035\n  pages free     3840\n        protection: (0, 2953, 23889, 23889, 23889)\n",
    "hugepages": "hugepages-2048kB nr_hugepages=0 free_hugepages=0 resv_hugepages=0 surplus_hugepages=0 nr_overcommit_hugepages=0\nvm.hugetlb_optimize_vmemmap=0\n",
    "kernel-release": "6.18.0-test\n",
  ]

  static func makeSource(_ dir: String, replacing file: String? = nil, with text: String? = nil) throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: PackageRoot.file("Tests/SnapshotTests/Fixtures/fuzz/kpageflags-32k.gz"), toPath: dir + "/kpageflags.gz")
    for (name, t) in texts { try Data((name == file ? text! : t).utf8).write(to: URL(fileURLWithPath: dir + "/" + name)) }
  }

  /// One damage: the file, the bad line (inserted at a random line, or the whole file
  /// for kernel-release) and a fragment the error must contain.
  static let damages: [(file: String, line: String, fragment: String)] = [
    ("meminfo", "MemFree: 99999999999999999999 kB", "does not fit in 63 bits"),
    ("meminfo", "Shmem: lots kB", "'lots' is not a count"),
    ("meminfo", "Cached: -4 kB", "'-4' is not a count"),
    ("meminfo", "Buffers: 4 MB", "unit 'MB' is not kB"),
    ("meminfo", "MemTotal: 1 kB", "'MemTotal' appears twice"),
    ("vmstat", "nr_memmap_pages 4611686018427387904", "more pages of memmap than the machine has pages (32768)"),
    ("vmstat", "nr_memmap_pages -5", "'-5' is not a count"),
    ("vmstat", "nr_dirty 18446744073709551616", "does not fit in 63 bits"),
    ("vmstat", "nr_dirty 1 2", "expected 'Key: value [kB]' or 'key value'"),
    ("buddyinfo", "Node 0, zone Normal " + Array(repeating: "1", count: 65).joined(separator: " "), "65 counts of free blocks; x86-64 has 11 orders"),
    ("buddyinfo", "Node 0, zone Normal 1 x", "'x' is not a count"),
    ("buddyinfo", "Node 0, zone Normal 0 0 0 0 0 0 0 0 0 0 9223372036854775807", "more memory than a 52-bit physical address space holds"),
    ("buddyinfo", "Node 0 zone Normal 1", "expected 'Node N, zone NAME count...'"),
    ("iomem", "NT9mu7wMhGyUIIUcCSGVhgIvTRSOU5gVW+SJAxZ7r8GMj6", "expected 'START-END : NAME' in hex"),
    ("iomem", "10-zz : System RAM", "is not START-END in hex"),
    ("iomem", "20000000-10000000 : System RAM", "range starts after it ends"),
    ("iomem", "00000000-00ffffff : System RAM", "System RAM overlaps the range of line"),
    ("zoneinfo", "Node zero", "expected 'Node N, zone NAME'"),
    ("zoneinfo", "nr_free_pages 5", "expected 'Node N, zone NAME'"),
    ("hugepages", "hugepages-2048kB nr_hugepages=x", "cannot read 'nr_hugepages=x' as key=count"),
    ("hugepages", "hugepages-99999999999999kB nr_hugepages=1", "larger than 1 PiB"),
    ("hugepages", "garbage", "expected 'hugepages-<size>kB key=value ...'"),
    ("kernel-release", "two words", "'two words' is not a kernel release"),
    ("kernel-release", String(repeating: "6", count: 65), "is not a kernel release"),
  ]

  /// The commands that read a SOURCE, with where they would write.
  static func sourceCommands(_ src: String, out: String) -> [[String]] {
    [["analyze", src, "--format", "json"], ["report", src, "-o", out + "/r.html"], ["explain", "0x10", src],
     ["snapshot", "info", src], ["snapshot", "summary", src], ["snapshot", "capture", "--from", src, "-o", out + "/c.mdsnap"]]
  }

  struct Case: Sendable {
    var args: [String]
    var exit: CLIExit
    /// The first stderr line must start with this and contain `fragment`.
    var prefix: String
    var fragment: String
  }

  /// Runs the cases a few at a time (process launches wait on the kernel more than on
  /// the CPU) and checks each: no signal, the exit status, one line for status 1.
  final class Outcome: @unchecked Sendable {
    let lock = NSLock()
    var failures: [String] = []
    var slowest = 0.0
    var slowestCase: [String] = []
  }

  func runAll(_ cases: [Case]) throws {
    let outcome = Outcome()
    let queue = DispatchQueue(label: "hostile", attributes: .concurrent)
    let group = DispatchGroup()
    let slots = DispatchSemaphore(value: 6)
    for c in cases {
      slots.wait()
      queue.async(group: group) {
        defer { slots.signal() }
        var problem: String?
        do {
          let r = try runProcess(MemdescCLI.binary, c.args)
          let first = r.stderrLines.first ?? ""
          if r.killedBySignal {
            problem = "killed by signal \(r.status)"
          } else if r.status != c.exit.rawValue {
            problem = "exited \(r.status), expected \(c.exit)"
          } else if c.exit == .failure && r.stderrLines.count != 1 {
            problem = "\(r.stderrLines.count) lines on stderr, expected one"
          } else if !first.hasPrefix(c.prefix) || !(c.fragment.isEmpty || first.contains(c.fragment)) {
            problem = "first stderr line does not start with '\(c.prefix)' and contain '\(c.fragment)'"
          }
          outcome.lock.lock()
          if r.seconds > outcome.slowest { (outcome.slowest, outcome.slowestCase) = (r.seconds, c.args) }
          outcome.lock.unlock()
          if let p = problem { problem = p + "; stderr: \(r.stderr.prefix(300))" }
        } catch {
          problem = "could not run: \(error)"
        }
        if let problem {
          outcome.lock.lock()
          outcome.failures.append("memdesc \(c.args.joined(separator: " ")): \(problem)")
          outcome.lock.unlock()
        }
      }
    }
    group.wait()
    print("HostileCLITests: \(cases.count) cases, slowest \(Int(outcome.slowest * 1000)) ms (\(outcome.slowestCase.joined(separator: " ")))")
    for f in outcome.failures { Issue.record(Comment(rawValue: f)) }
  }

  /// The small source itself is read by every command (so the failures below are the
  /// damage's, not the base's).
  @Test func smallSourceIsGood() throws {
    try withScratchDirectory("hostile-good") { dir in
      try Self.makeSource(dir.file("src"))
      for args in Self.sourceCommands(dir.file("src"), out: dir.path) { try cli.run(args, exit: .success) }
    }
  }

  /// At least 200 generated hostile cases over all commands.
  @Test func generatedHostileCases() throws {
    var rng = SplitMix64(seed: testSeed("HostileCLITests.generated"))
    try withScratchDirectory("hostile") { dir in
      var cases: [Case] = []
      // 1. Each damage of a text file, through every command that reads a SOURCE.
      for (i, d) in Self.damages.enumerated() {
        let src = dir.file("d\(i)")
        var text: String
        if d.file == "kernel-release" {
          text = d.line + "\n"
        } else {
          var lines = Self.texts[d.file]!.split(separator: "\n").map(String.init)
          // The overlap and zoneinfo cases need the line after the first.
          let at = d.file == "zoneinfo" || d.fragment.contains("overlaps") ? lines.count : Int(rng.next() % UInt64(lines.count + 1))
          lines.insert(d.line, at: at)
          text = lines.joined(separator: "\n") + "\n"
        }
        try Self.makeSource(src, replacing: d.file, with: text)
        // Four of the six commands, chosen by the seed (every command refuses every damage
        // the same way; all 144 pairs would cost more process launches than they tell).
        var commands = Self.sourceCommands(src, out: dir.path)
        commands.shuffle(using: &rng)
        for args in commands.prefix(4) {
          cases.append(Case(args: args, exit: .failure, prefix: "memdesc: error: \(src)/\(d.file): ", fragment: d.fragment))
        }
      }
      // 2. Option values, each named in the message.
      let good = dir.file("good")
      try Self.makeSource(good)
      let machines: [[String]] = [["boot"], ["hvo", "--hugepages", "2M:1"], ["simulate", "--workload", "anon-order0"], ["explain", "0x10"]]
      for m in machines {
        for v in ["-1", "banana", "1Q", "99999999999999999999G", "-0x10", "4G4"] {
          cases.append(Case(args: m + ["--ram", v], exit: .usage, prefix: "Error: ", fragment: "cannot read RAM size '\(v)'"))
        }
      }
      for m in [["boot", "--ram", "1G"], ["hvo", "--ram", "1G", "--hugepages", "2M:1"]] {
        cases.append(Case(args: m + ["--nodes", "-1"], exit: .failure, prefix: "memdesc: error: ", fragment: "-1 nodes"))
        cases.append(Case(args: m + ["--nodes", "x"], exit: .usage, prefix: "Error: ", fragment: "'x'"))
        for v in ["-0x10", "zz", "0x10-0x1", "0x1-"] {
          cases.append(Case(args: m + ["--ram-ranges", v], exit: .failure, prefix: "memdesc: error: ", fragment: "'\(v)'"))
        }
        for v in ["-1", "0xzz", "ffff"] {
          cases.append(Case(args: m + ["--vmemmap-base", v], exit: .usage, prefix: "Error: ", fragment: "'\(v)'"))
        }
      }
      for m in [["simulate", "--ram", "1G", "--workload", "anon-order0"], ["analyze", good], ["report", good, "-o", dir.file("e.html")]] {
        for v in ["classic, bogus", "-mask", "sideways"] {
          let word = v.hasPrefix("classic") ? "bogus" : v
          cases.append(Case(args: m + ["--eras", v], exit: .usage, prefix: "Error: ", fragment: "unknown era '\(word)'"))
        }
        cases.append(Case(args: m + ["--eras", ","], exit: .usage, prefix: "Error: ", fragment: "--eras names no era"))
      }
      for v in ["2M:1000,2M:5", "1G:1,1G:1"] {
        cases.append(Case(args: ["hvo", "--ram", "1G", "--hugepages", v], exit: .usage, prefix: "Error: ", fragment: "pool twice"))
      }
      for v in ["3M:1", "2M:-1", "-1", "2M", "2M:99999999999999999999", ""] {
        let named = v.isEmpty ? "''" : v.hasSuffix("9999") ? "99999999999999999999" : v.hasPrefix("3M") ? "'3M'" : "'\(v)"
        cases.append(Case(args: ["hvo", "--ram", "1G", "--hugepages", v], exit: .usage, prefix: "Error: ", fragment: named))
      }
      for v in ["-1", "0", "999"] {
        for m in [["snapshot", "summary", good], ["analyze", good], ["report", good, "-o", dir.file("t.html")], ["export", good, "--textfile-dir", dir.path]] {
          cases.append(Case(args: m + ["--threads", v], exit: .usage, prefix: "Error: ", fragment: "got \(v)"))
        }
      }
      cases.append(Case(args: ["simulate", "--ram", "1G", "--workload", "anon-order0", "--seed", "-1"], exit: .usage, prefix: "Error: ", fragment: "'-1'"))
      for v in ["0xzz", "banana"] {
        cases.append(Case(args: ["explain", v, good], exit: .usage, prefix: "Error: ", fragment: "'\(v)'"))
      }
      for v in ["0x8000000000000000", "0xffffffffffffffff", "32768"] {
        cases.append(Case(args: ["explain", v, good], exit: .failure, prefix: "memdesc: error: ", fragment: "PFN \(v) is beyond the snapshot's 32768 PFNs"))
        if v != "32768" {
          cases.append(Case(args: ["explain", v, "--ram", "1G"], exit: .failure, prefix: "memdesc: error: ", fragment: "PFN \(v) is not RAM in the model machine"))
        }
      }
      // 3. Outputs: empty (usage), a missing directory, a directory (before any work).
      for m in [["report", good], ["snapshot", "capture", "--from", good]] {
        cases.append(Case(args: m + ["-o", ""], exit: .usage, prefix: "Error: ", fragment: "-o '' names no file"))
        cases.append(Case(args: m + ["-o", dir.file("missing/x")], exit: .failure, prefix: "memdesc: error: ", fragment: "directory '\(dir.file("missing"))' does not exist"))
        cases.append(Case(args: m + ["-o", dir.path], exit: .failure, prefix: "memdesc: error: \(dir.path): ", fragment: "is a directory"))
      }
      // 4. Files that are not what they should be, as SOURCE and as --trace.
      let fifo = dir.file("fifo")
      #expect(mkfifo(fifo, 0o600) == 0)
      try Data().write(to: URL(fileURLWithPath: dir.file("empty")))
      try Data([0x1f, 0x8b, 8, 0, 0, 0]).write(to: URL(fileURLWithPath: dir.file("short.gz")))
      try FileManager.default.createDirectory(atPath: dir.file("nokpage"), withIntermediateDirectories: true)
      for cmd in [["analyze"], ["snapshot", "info"], ["snapshot", "summary"], ["explain", "0x1"]] {
        for (path, fragment) in [(dir.file("nothing"), "no such file or directory"), ("/dev/null", "is neither a regular file, a directory nor a FIFO"),
                                 (dir.file("empty"), ""), (dir.file("short.gz"), ""),
                                 (dir.file("nokpage"), "no kpageflags or kpageflags.gz")] {
          cases.append(Case(args: cmd + [path], exit: .failure, prefix: "memdesc: error: \(path)", fragment: fragment))
        }
      }
      // A FIFO is a stream: analyze and summary read it (StreamCLITests, with a writer);
      // the commands that look twice refuse it before opening it.
      for cmd in [["snapshot", "info"], ["explain", "0x1"]] {
        cases.append(Case(args: cmd + [fifo], exit: .failure, prefix: "memdesc: error: \(fifo)", fragment: "is a stream, which is read once"))
      }
      for (path, fragment) in [(dir.file("nothing"), "no such file or directory"), ("/dev/zero", "is not a regular file"), (fifo, "is not a regular file"), (dir.path, "is a directory")] {
        cases.append(Case(args: ["simulate", "--ram", "1G", "--trace", path], exit: .failure, prefix: "memdesc: error: \(path): ", fragment: fragment))
        // A recording is read whole: a FIFO or a device is refused before it is opened.
        cases.append(Case(args: ["replay", path], exit: .failure, prefix: "memdesc: error: \(path): ", fragment: fragment))
      }
      let badLines = ["alloc a folio 11 anon", "alloc a folio 0 anonymous", "free", "hugepages 3M 1", "hugepages 2M -1", "hvo maybe", "jump a", "alloc a slab 9", "alloc a pagetable extra",
                      "free never-allocated", "hugepages 2M 99999999999"]
      for (i, bad) in badLines.enumerated() {
        let trace = dir.file("t\(i).trace")
        let before = Int(rng.next() % 3)
        let text = Array(repeating: "alloc x\(i) folio 0 anon\r\nfree x\(i)\r\n", count: before).joined() + bad + "\r\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: trace))
        cases.append(Case(args: ["simulate", "--ram", "64M", "--trace", trace], exit: .failure, prefix: "memdesc: error: \(trace):\(before * 2 + 1): ", fragment: ""))
      }
      #expect(cases.count >= 200, "only \(cases.count) generated cases")
      try runAll(cases)
      // Nothing was written by any failed command.
      #expect(!FileManager.default.fileExists(atPath: dir.file("r.html")) && !FileManager.default.fileExists(atPath: dir.file("c.mdsnap")))
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }.isEmpty)
    }
  }

  // MARK: the issue's reproducers, each pinned

  @Test func iomemWholeAddressSpace() throws {
    try withScratchDirectory("hostile-iomem") { dir in
      let src = dir.file("src")
      try Self.makeSource(src, replacing: "iomem", with: "00000000-ffffffffffffffff : System RAM\n")
      let j = try cli.json(try cli.run(["analyze", src, "--format", "json"]).stdout)
      let census = try #require(j["census"] as? [String: Any])
      #expect(census["ram_pfns"] as? Int == 32768 && census["ram_known"] as? Bool == true)
      try cli.run(["report", src, "-o", dir.file("r.html")])
      try cli.run(["explain", "0x10", src, "--era", "mask"])
      try cli.run(["snapshot", "capture", "--from", src, "-o", dir.file("s.mdsnap")])
      try cli.run(["analyze", dir.file("s.mdsnap")])
    }
  }

  @Test func crlfTraceReadsAsLines() throws {
    try withScratchDirectory("hostile-crlf") { dir in
      try Data("alloc a folio 0 anon\r\nalloc b folio 9 file\r\nfree a\r\nhvo on\r\nhugepages 2M 10\r\nhugepages 2M 0\r\n".utf8).write(to: URL(fileURLWithPath: dir.file("r.trace")))
      let j = try cli.json(try cli.run(["simulate", "--ram", "1G", "--trace", dir.file("r.trace"), "--format", "json"]).stdout)
      #expect(j["operations"] as? Int == 6)
    }
  }

  @Test func traceFromStandardInputOnlyWithDash() throws {
    let r = try cli.run(["simulate", "--ram", "64M", "--trace", "/dev/stdin", "--eras", "mask"], exit: .failure)
    #expect(r.stderrLines == ["memdesc: error: /dev/stdin: is not a regular file (a FIFO or a device); give a text file, or - for standard input"])
  }

  @Test func hugeTLBPoolThatGotNothingIsListed() throws {
    let j = try cli.json(try cli.run(["hvo", "--ram", "64M", "--hugepages", "1G:1", "--format", "json"]).stdout)
    let pools = try #require(j["hstates"] as? [[String: Any]])
    #expect(pools.count == 1 && pools[0]["requested"] as? Int == 1 && pools[0]["count"] as? Int == 0)
  }

  /// A limit known at the start is found before any era runs (it used to fail after 14 s
  /// of simulation); the host's free memory is in the message, so only its start is fixed.
  @Test func simulateRefusesAHostTooSmallAtOnce() throws {
    let r = try cli.run(["simulate", "--ram", "64T", "--workload", "anon-thp"], exit: .failure)
    #expect(r.stderrLines.count == 1)
    #expect(r.stderr.hasPrefix("memdesc: error: the memmap of this machine needs 1 TiB of host memory but this host has "))
  }

  @Test(arguments: [
    (["hvo", "--ram", "64M", "--hugepages", "2M:1000,2M:5"], CLIExit.usage, "Error: --hugepages gives the 2M pool twice ('2M:1000' and '2M:5'): give each size once"),
    (["explain", "0x3ffff", "--ram", "1G", "--hugetlb", "1G"], .failure,
     "memdesc: error: the model machine of era 'classic' has no free memory for a 1 GiB HugeTLB page (PFNs 0x0-0x3ffff span zones DMA and DMA32; a huge page or folio lies in one zone; nowhere else either)"),
    (["snapshot", "capture", "-o", ""], .usage, "Error: -o '' names no file: give the file to write"),
    (["boot", "--ram", "-1"], .usage, "Error: cannot read RAM size '-1': expected a number with an optional K, M, G or T suffix, such as 4G"),
    (["boot", "--ram", "1G", "--nodes", "-1"], .failure, "memdesc: error: cannot split RAM into -1 nodes: a machine has at least one node"),
    (["boot", "--ram", "1G", "--ram-ranges", "-0x10"], .failure, "memdesc: error: cannot read RAM range '-0x10': expected FIRST-LAST PFNs such as 0x100-0xbffff"),
    // The argument fuzzer's first finding: 2^52 PFNs were accepted and walked section by section.
    (["boot", "--ram", "4G", "--ram-ranges", "0-88888999888888"], .failure, "memdesc: error: cannot read RAM range '0-88888999888888': expected FIRST-LAST PFNs such as 0x100-0xbffff"),
    (["simulate", "--ram", "1G", "--workload", "anon-order0", "--eras", "classic, bogus"], .usage, "Error: unknown era 'bogus' in --eras; expected some of: classic, mask, memdesc32, memdesc8"),
  ])
  func reproducer(args: [String], exit: CLIExit, line: String) throws {
    let r = try cli.run(args, exit: exit, stderrLine: line)
    #expect(r.seconds < 5, "took \(r.seconds) s")
  }

  /// A 1 GiB page at PFN 0 of a 4 GiB machine would span DMA and DMA32: explain says so
  /// (it said the PFN held the model's memmap).
  @Test func explainNamesTheRealObstacle() throws {
    let r = try cli.run(["explain", "0x1", "--ram", "4G", "--hugetlb", "1G", "--era", "mask"])
    #expect(r.stdout.contains("at PFN 0x80000 (not at PFN 0x0: PFNs 0x0-0x3ffff span zones DMA and DMA32; a huge page or folio lies in one zone)"), "\(r.stdout)")
  }

  /// `--eras "classic, mask"` trims the spaces; a repeated era is costed once.
  @Test func erasTrimmedAndDeduplicated() throws {
    let j = try cli.json(try cli.run(["simulate", "--ram", "256M", "--workload", "anon-order0", "--eras", " classic, mask,classic ", "--format", "json"]).stdout)
    let eras = try #require(j["eras"] as? [[String: Any]])
    #expect(eras.map { $0["era"] as? String } == ["classic", "mask"])
  }
}
