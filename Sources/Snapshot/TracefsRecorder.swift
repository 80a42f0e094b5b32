import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Records the page allocator's tracepoints from tracefs into a `Recording`, in a private
/// tracing instance (`instances/memdesc-PID`) so that nothing else that traces (the top
/// instance, perf, other instances) is disturbed, with a snapshot of the machine's page
/// state at the start and at the end.
///
/// The machine is put back on every path that returns or throws: the instance is
/// removed and tracefs unmounted if this run mounted it. A run killed by a signal it
/// cannot catch leaves its instance; the next run removes every `memdesc-PID` instance
/// whose PID is gone.
public enum TracefsRecorder {
  /// Where tracefs is mounted (or is mounted by the recorder).
  public static let defaultRoot = "/sys/kernel/tracing"

  /// The events a recording enables: the four of the allocator itself, and three that
  /// tell what an allocation became (page cache, LRU list with its anon/file/swap-backed
  /// flags). See docs/recording-format.md for why these and not others.
  public static let kinds = PageEvent.Kind.allCases

  public struct Options: Sendable {
    public var root = TracefsRecorder.defaultRoot
    public var proc = "/proc"
    public var sys = "/sys"
    /// Seconds to record; nil until `stop` is set.
    public var duration: Double?
    /// Ring buffer per CPU.
    public var bufferKiB = 8192
    /// Events kept in memory at most (24 bytes each); the recording stops when reached.
    public var maxEvents = 1 << 24
    /// Take the start and end snapshots (tests of the stream alone skip them).
    public var snapshots = true
    public init() {}
  }

  /// What happened during a recording, beside the events.
  public struct Summary: Sendable {
    public var seconds: Double = 0
    public var cpus = 0
    public var events = 0
    public var byKind: [PageEvent.Kind: Int] = [:]
    /// Overruns and drops the kernel counted (per_cpu/cpuN/stats), the events lost.
    public var lostEvents = 0
    /// Pages whose header said events were lost before them.
    public var pagesAfterLoss = 0
    /// Allocations that failed (pfn -1): no page changed hands.
    public var failedAllocations = 0
    /// Pages read from the ring buffers.
    public var pages = 0
    /// CPU time the recorder used between tracing on and off (user + system).
    public var recorderCPUSeconds = 0.0
    /// Whether the recording stopped because `maxEvents` was reached.
    public var full = false
    /// Whether tracefs was mounted by this run (and unmounted again).
    public var mounted = false
    /// Orphaned instances of earlier runs that were removed.
    public var removedOrphans: [String] = []
  }

  /// Set (by a signal handler, say) to end a recording early, even before it started.
  public static let stop = Atomic<Bool>(false)

  /// Progress: (seconds so far, events so far, lost events so far).
  public typealias Progress = (Double, Int, Int) -> Void

  /// Records until `options.duration` has passed or `stop` is set.
  public static func record(_ options: Options, progress: Progress? = nil) throws -> (Recording, Summary) {
    var summary = Summary()
    guard geteuid() == 0 else {
      throw SnapshotError(.needsRoot, path: options.root, "recording needs root (tracefs instances and /proc/kpageflags)")
    }
    let root = options.root
    summary.mounted = try mountIfNeeded(root)
    defer { if summary.mounted { _ = umount2(root, 0) } }
    summary.removedOrphans = removeOrphans(root)
    // Every event and layout is read before the instance is made: a kernel that lacks
    // one is refused with nothing created.
    let events = FileIO.join(root, "events")
    var layouts: [PageEvent.Kind: TracefsLayout.Event] = [:]
    for kind in kinds {
      let path = FileIO.join(events, kind.tracepoint + "/format")
      guard FileIO.canRead(path) else {
        throw SnapshotError(.notFound, path: path, "this kernel has no tracepoint \(String(kind.tracepoint.map { $0 == "/" ? ":" : $0 })) (needed to record)")
      }
      layouts[kind] = try TracefsLayout.event(FileIO.readText(path), path: path)
    }
    let header = try TracefsLayout.pageHeader(FileIO.readText(FileIO.join(events, "header_page")), path: FileIO.join(events, "header_page"))
    _ = try TracefsLayout.eventHeader(FileIO.readText(FileIO.join(events, "header_event")), path: FileIO.join(events, "header_event"))
    let decoder = try PageEventDecoder(layouts, path: events)
    let instance = FileIO.join(root, "instances/memdesc-\(getpid())")
    guard mkdir(instance, 0o700) == 0 else {
      throw SnapshotError.system("mkdir", path: instance, errno: errno)
    }
    var readers: [CPUReader] = []
    defer {
      for r in readers { r.close() }
      _ = try? writeFile(FileIO.join(instance, "tracing_on"), "0")
      _ = rmdir(instance)
    }
    try writeFile(FileIO.join(instance, "tracing_on"), "0")
    try writeFile(FileIO.join(instance, "buffer_size_kb"), "\(options.bufferKiB)")
    // CLOCK_MONOTONIC, so that the end snapshot's start can be placed in the stream.
    let monoClock = (try? writeFile(FileIO.join(instance, "trace_clock"), "mono")) != nil
    for kind in kinds { try writeFile(FileIO.join(instance, "events/\(kind.tracepoint)/enable"), "1") }

    let cpuList = try onlineCPUs(FileIO.join(instance, "per_cpu"))
    summary.cpus = cpuList.count
    let budget = EventBudget(options.maxEvents)
    for cpu in cpuList {
      readers.append(try CPUReader(path: FileIO.join(instance, "per_cpu/cpu\(cpu)/trace_pipe_raw"), cpu: UInt16(cpu), header: header, decoder: decoder, budget: budget))
    }
    var recording = Recording(meta: [("format", "memdesc-recording")])
    if options.snapshots {
      recording.sections["snapshot.start"] = try SnapshotFormat.encode(PageSnapshot.live(proc: options.proc, sys: options.sys)).0
    }
    let started = HostInfo.isoTimeNow()
    for r in readers { r.start() }
    let cpuBefore = processCPUSeconds()
    recording.sections["vmstat.start"] = try FileIO.readAll(FileIO.join(options.proc, "vmstat"))
    try writeFile(FileIO.join(instance, "tracing_on"), "1")
    let t0 = HostInfo.monotonicSeconds()
    var nextProgress = 0.5
    while !stop.load(ordering: .relaxed) {
      let now = HostInfo.monotonicSeconds() - t0
      if let d = options.duration, now >= d { break }
      if budget.left.load(ordering: .relaxed) <= 0 { summary.full = true; break }
      if let failure = readers.lazy.compactMap({ $0.failure }).first { throw failure }
      if now >= nextProgress {
        progress?(now, readers.reduce(0) { $0 + $1.count.load(ordering: .relaxed) }, try lostEvents(instance, cpuList))
        nextProgress = now + 0.5
      }
      usleep(20_000)
    }
    // The end snapshot is taken with tracing still on: an allocation made before it
    // started and not freed until tracing is off was allocated for the whole read, so the
    // snapshot must show it (what `RecordingAttribution` compares).
    var endSnapshotStart: UInt64?
    if options.snapshots {
      endSnapshotStart = monotonicNanoseconds()
      recording.sections["snapshot.end"] = try SnapshotFormat.encode(PageSnapshot.live(proc: options.proc, sys: options.sys)).0
    }
    try writeFile(FileIO.join(instance, "tracing_on"), "0")
    summary.seconds = HostInfo.monotonicSeconds() - t0
    recording.sections["vmstat.end"] = try FileIO.readAll(FileIO.join(options.proc, "vmstat"))
    for r in readers { r.finish() }
    summary.recorderCPUSeconds = processCPUSeconds() - cpuBefore
    if let failure = readers.lazy.compactMap({ $0.failure }).first { throw failure }
    summary.lostEvents = try lostEvents(instance, cpuList)
    for r in readers {
      summary.pages += r.pages
      summary.pagesAfterLoss += r.pagesAfterLoss
      summary.failedAllocations += r.failedAllocations
    }
    let merged = merge(readers.map(\.events))
    summary.events = merged.count
    for e in merged { summary.byKind[e.kind, default: 0] += 1 }
    recording.append(events: merged)
    var meta: [(String, String)] = [("format", "memdesc-recording")]
    if let u = HostInfo.uname() { meta += [("kernel_release", u.release), ("host_name", u.hostName)] }
    meta += [
      ("page_size", "\(sysconf(Int32(_SC_PAGESIZE)))"), ("started_at", started),
      ("seconds", String(summary.seconds)), ("cpus", "\(summary.cpus)"),
      ("trace_clock", (try? FileIO.readText(FileIO.join(instance, "trace_clock")))?.trimmingCharacters(" \n") ?? ""),
      ("events", "\(summary.events)"), ("lost_events", "\(summary.lostEvents)"),
      ("pages_after_loss", "\(summary.pagesAfterLoss)"), ("failed_allocations", "\(summary.failedAllocations)"),
      ("recorder_cpu_seconds", String(summary.recorderCPUSeconds)), ("buffer_kib", "\(options.bufferKiB)"),
      ("stopped_full", summary.full ? "1" : "0"),
    ]
    if monoClock, let t = endSnapshotStart { meta.append(("end_snapshot_started_ns", "\(t)")) }
    for kind in kinds { meta.append(("event_id.\(kind.tracepoint)", "\(layouts[kind]!.id)")) }
    recording.meta = meta
    return (recording, summary)
  }

  /// Merges per-CPU streams (each in time order) into one, by time, then CPU.
  static func merge(_ streams: [[PageEvent]]) -> [PageEvent] {
    var out: [PageEvent] = []
    out.reserveCapacity(streams.reduce(0) { $0 + $1.count })
    var next = Array(repeating: 0, count: streams.count)
    while true {
      var best = -1
      for s in streams.indices where next[s] < streams[s].count {
        if best < 0 || streams[s][next[s]].time < streams[best][next[best]].time { best = s }
      }
      if best < 0 { return out }
      out.append(streams[best][next[best]])
      next[best] += 1
    }
  }

  /// Mounts tracefs at `root` unless it is mounted there; true if this call mounted it.
  static func mountIfNeeded(_ root: String) throws -> Bool {
    if FileIO.canRead(FileIO.join(root, "events/header_page"), bytes: 1) { return false }
    guard mount("nodev", root, "tracefs", 0, nil) == 0 else {
      let e = errno
      throw SnapshotError(.notFound, path: root, "tracefs is not mounted and cannot be mounted there (\(String(cString: strerror(e))))")
    }
    return true
  }

  /// Removes instances named `memdesc-PID` whose process is gone; returns their names.
  /// One whose process lives (another recording) is left alone.
  public static func removeOrphans(_ root: String) -> [String] {
    let dir = FileIO.join(root, "instances")
    guard let d = opendir(dir) else { return [] }
    var names: [String] = []
    while let entry = readdir(d) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      names.append(name)
    }
    closedir(d)
    var removed: [String] = []
    for name in names where name.hasPrefix("memdesc-") {
      guard let pid = Int32(name.dropFirst(8)), pid > 0, pid != getpid() else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH, rmdir(FileIO.join(dir, name)) == 0 { removed.append(name) }
    }
    return removed
  }

  /// The CPUs with a per_cpu directory.
  static func onlineCPUs(_ perCPU: String) throws -> [Int] {
    guard let d = opendir(perCPU) else { throw SnapshotError.system("opendir", path: perCPU, errno: errno) }
    defer { closedir(d) }
    var cpus: [Int] = []
    while let entry = readdir(d) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name.hasPrefix("cpu"), let n = Int(name.dropFirst(3)) { cpus.append(n) }
    }
    return cpus.sorted()
  }

  /// Sum of overruns and dropped events over the CPUs' stats.
  static func lostEvents(_ instance: String, _ cpus: [Int]) throws -> Int {
    var lost = 0
    for cpu in cpus {
      let path = FileIO.join(instance, "per_cpu/cpu\(cpu)/stats")
      for line in try FileIO.readText(path).split(separator: "\n") {
        let parts = line.split(separator: ":")
        guard parts.count == 2, parts[0] == "overrun" || parts[0] == "dropped events" else { continue }
        guard let n = Int(parts[1].trimmingCharacters(" \t")) else {
          throw SnapshotError(.badTrace, path: path, "cannot read '\(line)'")
        }
        lost += n
      }
    }
    return lost
  }

  static func writeFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
    guard fd >= 0 else { throw SnapshotError.system("open", path: path, errno: errno) }
    defer { Glibc.close(fd) }
    let bytes = Array(text.utf8)
    guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
      throw SnapshotError.system("write '\(text)' to", path: path, errno: errno)
    }
  }

  static func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }

  static func processCPUSeconds() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return s(u.ru_utime) + s(u.ru_stime)
  }
}

/// What the readers share: how many more events may be kept.
final class EventBudget: Sendable {
  let left: Atomic<Int>
  init(_ n: Int) { left = Atomic(n) }
}

/// One CPU's raw pipe, read on a thread of its own into a growing array of events.
final class CPUReader: @unchecked Sendable {
  let path: String
  let cpu: UInt16
  let header: TracefsLayout.PageHeader
  let decoder: PageEventDecoder
  let budget: EventBudget
  var fd: Int32
  var thread: pthread_t?
  /// Set after tracing is off: read what is left, then end.
  let finishing = Atomic<Bool>(false)
  let count = Atomic<Int>(0)
  // Written by the thread only; read after it is joined.
  var events: [PageEvent] = []
  var pages = 0
  var pagesAfterLoss = 0
  var failedAllocations = 0
  let failureBox = Mutex<SnapshotError?>(nil)
  var failure: SnapshotError? { failureBox.withLock { $0 } }

  init(path: String, cpu: UInt16, header: TracefsLayout.PageHeader, decoder: PageEventDecoder, budget: EventBudget) throws {
    self.path = path
    self.cpu = cpu
    self.header = header
    self.decoder = decoder
    self.budget = budget
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw SnapshotError.system("open", path: path, errno: errno) }
  }

  func start() {
    var t = pthread_t()
    let me = Unmanaged.passRetained(self).toOpaque()
    let rc = pthread_create(&t, nil, { arg in
      let reader = Unmanaged<CPUReader>.fromOpaque(arg!).takeRetainedValue()
      reader.run()
      return nil
    }, me)
    if rc == 0 { thread = t } else {
      Unmanaged<CPUReader>.fromOpaque(me).release()
      failureBox.withLock { $0 = SnapshotError.system("pthread_create for", path: path, errno: rc) }
    }
  }

  /// Tells the thread that tracing is off and waits for it to drain the buffer.
  func finish() {
    finishing.store(true, ordering: .relaxed)
    if let t = thread { pthread_join(t, nil); thread = nil }
  }

  func close() {
    if thread != nil { finish() }
    if fd >= 0 { Glibc.close(fd); fd = -1 }
  }

  func run() {
    let size = header.pageSize
    let page = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
    defer { page.deallocate() }
    var offset: UInt64 = 0
    while true {
      // Read the flag before the read: an empty read after tracing was turned off means
      // the buffer is drained.
      let last = finishing.load(ordering: .relaxed)
      let n = read(fd, page.baseAddress, size)
      if n > 0 {
        do {
          try handle(UnsafeRawBufferPointer(rebasing: page[0..<n]), offset: offset)
        } catch let e as SnapshotError {
          failureBox.withLock { $0 = e }
          return
        } catch { return }
        offset += UInt64(n)
        continue
      }
      if n < 0 && errno != EAGAIN && errno != EINTR {
        let e = errno
        failureBox.withLock { $0 = SnapshotError.system("read", path: path, errno: e) }
        return
      }
      if last { return }
      usleep(n == 0 ? 1000 : 5000)
    }
  }

  func handle(_ page: UnsafeRawBufferPointer, offset: UInt64) throws {
    let before = events.count
    let info = try RingBufferPage.read(page, header: header, path: path, pageOffset: offset) { time, payload in
      switch decoder.decode(payload, time: time, cpu: cpu) {
      case .event(let e): events.append(e)
      case .failedAlloc: failedAllocations += 1
      case .other, .short: break
      }
    }
    pages += 1
    if info.missedEvents { pagesAfterLoss += 1 }
    // The page's events are taken from the budget all readers share, in one exchange:
    // each reader taking what it saw as left let two CPUs keep twice the limit.
    let want = events.count - before
    var left = budget.left.load(ordering: .relaxed)
    var take = 0
    while true {
      take = min(want, max(0, left))
      let (done, now) = budget.left.compareExchange(expected: left, desired: left - take, ordering: .relaxed)
      if done { break }
      left = now
    }
    if take < want { events.removeLast(want - take) }
    count.add(take, ordering: .relaxed)
  }
}
