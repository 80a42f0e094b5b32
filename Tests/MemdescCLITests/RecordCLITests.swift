import Foundation
import MemdescTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `memdesc record` on this machine's tracefs: the recorded page counts against vmstat,
/// Ctrl-C, SIGKILL and the orphan it leaves, and the host's tracing state put back.
/// Needs root and a kernel with tracefs; the tests run one at a time (one tracefs).
@Suite(.serialized) struct RecordCLITests {
  let cli = MemdescCLI()
  static let root = "/sys/kernel/tracing"
  static let canRecord = geteuid() == 0 && FileManager.default.fileExists(atPath: root)
    && FileManager.default.isReadableFile(atPath: "/proc/kpageflags")

  /// What a recording must leave as it found it.
  struct TracingState: Equatable, CustomStringConvertible {
    var mounted: Bool
    var instances: [String] = []
    var setEvent = ""
    var tracingOn = ""

    static func now() -> TracingState {
      let mounts = HostFile.read("/proc/self/mounts") ?? ""
      let mounted = mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first == Substring(root) && $0.contains(" tracefs ") }
      var s = TracingState(mounted: mounted)
      guard mounted else { return s }
      s.instances = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/instances")) ?? []).sorted()
      s.setEvent = HostFile.read(root + "/set_event") ?? "?"
      s.tracingOn = HostFile.read(root + "/tracing_on") ?? "?"
      return s
    }
    var description: String { "mounted \(mounted), instances \(instances), set_event '\(setEvent)', tracing_on '\(tracingOn)'" }
  }

  /// Puts back what a failed or killed run may have left: its instances, the mount.
  static func restore(_ before: TracingState) {
    let now = TracingState.now()
    if now.mounted {
      for name in now.instances where name.hasPrefix("memdesc-") && !before.instances.contains(name) {
        rmdir(root + "/instances/" + name)
      }
      // Lazily if busy: a process spawned while a file of it was open may still hold it.
      if !before.mounted && umount2(root, 0) != 0 { umount2(root, Int32(MNT_DETACH)) }
    }
  }

  /// Starts `memdesc args` without waiting for it.
  static func start(_ args: [String]) throws -> Process {
    let p = Process()
    p.executableURL = MemdescCLI.binary
    p.arguments = args
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
  }

  /// Waits until the recorder's instance has tracing on (retrying: no fixed sleep).
  static func waitForInstance(of p: Process) -> Bool {
    // A new instance starts with tracing on; the recorder turns it off, enables its
    // events, and turns it on again: both together mean it is recording.
    let dir = root + "/instances/memdesc-\(p.processIdentifier)/"
    func read(_ f: String) -> String? { HostFile.read(dir + f) }
    for _ in 0..<1000 where p.isRunning {
      if read("events/kmem/mm_page_alloc/enable") == "1\n" && read("tracing_on") == "1\n" { return true }
      usleep(20_000)
    }
    return false
  }

  /// "pages allocated N recorded, M by vmstat ..." -> (N, M).
  static func counts(_ stdout: String, _ label: String) -> (Int, Int)? {
    guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix(label) }) else { return nil }
    let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    return numbers.count >= 2 ? (numbers[0], numbers[1]) : nil
  }

  @Test(.enabled(if: canRecord, "skipped: recording needs root and tracefs (/sys/kernel/tracing)"))
  func recordedPagesMatchVmstatAndTheHostIsPutBack() throws {
    TracefsLock.lock()
    defer { TracefsLock.unlock() }
    let before = TracingState.now()
    defer { Self.restore(before) }
    try withScratchDirectory("record") { dir in
      // The load reads a file through the page cache: written here, so it is cached
      // anew only if evicted; the anonymous part allocates either way.
      try Data(repeating: 7, count: 8 << 20).write(to: URL(fileURLWithPath: dir.file("load.dat")))
      let out = dir.file("load.mdrec")
      let stdoutPipe = Pipe()
      let p = Process()
      p.executableURL = MemdescCLI.binary
      p.arguments = ["record", "--duration", "2", "--no-snapshots", "-o", out]
      p.standardOutput = stdoutPipe
      p.standardError = FileHandle.nullDevice
      try p.run()
      #expect(Self.waitForInstance(of: p), "the recorder's instance never turned tracing on")
      let load = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", PackageRoot.file("Tests/MemdescCLITests/Helpers/pageload.py"), "64", dir.file("load.dat")])
      #expect(load.status == 0, "the load failed: \(load.stderr)")
      let text = String(decoding: stdoutPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      p.waitUntilExit()
      #expect(p.terminationReason == .exit && p.terminationStatus == 0, "record exited \(p.terminationStatus)")
      let alloc = try #require(Self.counts(text, "pages allocated"), "no allocation line in: \(text)")
      let free = try #require(Self.counts(text, "pages freed"), "no free line in: \(text)")
      let lost = try #require(Self.counts(text, "lost events")).0
      // The load alone allocates 16 Ki pages; fewer means nothing was recorded.
      #expect(alloc.1 >= 16_384 && free.1 >= 16_384, "\(text)")
      // A lost event can hide an allocation of up to 2^10 pages (MAX_PAGE_ORDER).
      let slack = Double(max(lost, 0) * 1024)
      #expect(Double(abs(alloc.0 - alloc.1)) <= 0.01 * Double(alloc.1) + slack, "\(text)")
      #expect(Double(abs(free.0 - free.1)) <= 0.01 * Double(free.1) + slack, "\(text)")
      #expect(FileManager.default.fileExists(atPath: out))
    }
    #expect(TracingState.now() == before, "tracing state changed")
  }

  @Test(.enabled(if: canRecord, "skipped: recording needs root and tracefs (/sys/kernel/tracing)"))
  func ctrlCStopsTheRecordingAndWritesIt() throws {
    TracefsLock.lock()
    defer { TracefsLock.unlock() }
    let before = TracingState.now()
    defer { Self.restore(before) }
    try withScratchDirectory("record-int") { dir in
      let out = dir.file("int.mdrec")
      let p = try Self.start(["record", "--no-snapshots", "-o", out])
      #expect(Self.waitForInstance(of: p))
      kill(p.processIdentifier, SIGINT)
      p.waitUntilExit()
      #expect(p.terminationReason == .exit && p.terminationStatus == 0)
      #expect(FileManager.default.fileExists(atPath: out))
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["int.mdrec"])
    }
    #expect(TracingState.now() == before, "tracing state changed")
  }

  @Test(.enabled(if: canRecord, "skipped: recording needs root and tracefs (/sys/kernel/tracing)"))
  func sigkillLeavesNoFileAndTheNextRunRemovesTheOrphan() throws {
    TracefsLock.lock()
    defer { TracefsLock.unlock() }
    let before = TracingState.now()
    defer { Self.restore(before) }
    try withScratchDirectory("record-kill") { dir in
      let p = try Self.start(["record", "--no-snapshots", "-o", dir.file("killed.mdrec")])
      #expect(Self.waitForInstance(of: p))
      let orphan = "memdesc-\(p.processIdentifier)"
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "a file or temporary was left")
      #expect(FileManager.default.fileExists(atPath: Self.root + "/instances/" + orphan))
      let next = try cli.run(["record", "--duration", "0.1", "--no-snapshots", "-o", dir.file("next.mdrec")])
      #expect(next.stdout.contains("removed orphaned tracing instances: \(orphan)"), "\(next.stdout)")
      #expect(!FileManager.default.fileExists(atPath: Self.root + "/instances/" + orphan))
    }
  }

  @Test(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "skipped: needs root and setpriv to become nobody"))
  func withoutRootOneLineAndExit1() throws {
    let nobody = MemdescCLI(launcher: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    try nobody.run(["record", "--duration", "1", "-o", "/tmp/memdesc-nobody-\(getpid()).mdrec"], exit: .failure,
      stderrLine: "memdesc: error: /sys/kernel/tracing: recording needs root (tracefs instances and /proc/kpageflags)")
  }

  /// A fake tracefs from the fixtures' formats, without `missing` (SYSTEM/EVENT).
  static func fakeTracefs(_ dir: ScratchDirectory, missing: String) throws -> String {
    let root = dir.file("tracing")
    let fm = FileManager.default
    let fixtures = PackageRoot.file("Tests/SnapshotTests/Fixtures/tracefs")
    try fm.createDirectory(atPath: root + "/instances", withIntermediateDirectories: true)
    for f in ["header_page", "header_event"] {
      try fm.createDirectory(atPath: root + "/events", withIntermediateDirectories: true)
      try fm.copyItem(atPath: fixtures + "/" + f, toPath: root + "/events/" + f)
    }
    for event in ["kmem/mm_page_alloc", "kmem/mm_page_free", "kmem/mm_page_free_batched", "kmem/mm_page_pcpu_drain",
                  "filemap/mm_filemap_add_to_page_cache", "filemap/mm_filemap_delete_from_page_cache", "pagemap/mm_lru_insertion"] where event != missing {
      try fm.createDirectory(atPath: root + "/events/" + event, withIntermediateDirectories: true)
      try fm.copyItem(atPath: fixtures + "/" + event.split(separator: "/")[1] + ".format", toPath: root + "/events/" + event + "/format")
    }
    return root
  }

  @Test(.enabled(if: geteuid() == 0, "skipped: the checks after the root check need root"))
  func tracefsMissingOrAnEventMissingIsOneLineAndExit1() throws {
    try withScratchDirectory("record-fake") { dir in
      let out = dir.file("x.mdrec")
      // No directory to mount tracefs on (a kernel without tracefs fails the same mount).
      try cli.run(["record", "--tracefs", dir.file("none"), "--duration", "1", "--no-snapshots", "-o", out], exit: .failure,
        stderrLine: "memdesc: error: \(dir.file("none")): tracefs is not mounted and cannot be mounted there (No such file or directory)")
      let root = try Self.fakeTracefs(dir, missing: "pagemap/mm_lru_insertion")
      try cli.run(["record", "--tracefs", root, "--duration", "1", "--no-snapshots", "-o", out], exit: .failure,
        stderrLine: "memdesc: error: \(root)/events/pagemap/mm_lru_insertion/format: this kernel has no tracepoint pagemap:mm_lru_insertion (needed to record)")
      // Refused before anything was made: no instance, no file, no temporary.
      #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/instances").isEmpty)
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["tracing"])
      try cli.run(["record", "--tracefs", "", "--duration", "1", "-o", out], exit: .usage,
        stderrLine: "Error: --tracefs must name a directory, got an empty path")
    }
  }

  @Test(.enabled(if: canRecord, "skipped: recording needs root and tracefs (/sys/kernel/tracing)"))
  func maxEventsStopsAtExactlyN() throws {
    TracefsLock.lock()
    defer { TracefsLock.unlock() }
    let before = TracingState.now()
    defer { Self.restore(before) }
    try withScratchDirectory("record-max") { dir in
      let out = dir.file("max.mdrec")
      // Load on both CPUs, so that both readers race for the budget.
      let load = try Self.start(["simulate", "--ram", "512M", "--workload", "anon-order0"])
      defer { load.waitUntilExit() }
      let r = try cli.run(["record", "--max-events", "2000", "--duration", "20", "--no-snapshots", "-o", out])
      #expect(r.stdout.hasPrefix("wrote \(out): 2000 events in "), "\(r.stdout)")
      #expect(r.stdout.contains("note: stopped early: the event limit (--max-events) was reached"), "\(r.stdout)")
      let json = try cli.json(cli.run(["replay", out, "--ram", "256M", "--eras", "classic", "--format", "json"]).stdout)
      let eras = try #require(json["eras"] as? [[String: Any]])
      #expect(eras.first?["events"] as? Int == 2000)
    }
    #expect(TracingState.now() == before, "tracing state changed")
  }
}
