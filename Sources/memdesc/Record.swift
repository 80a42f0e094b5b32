import ArgumentParser
import Render
import Snapshot

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Memdesc {
  struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record this machine's page allocations and frees from tracefs into a recording file (needs root).",
      discussion: helpDiscussion(
        """
        Answers how many pages a real workload allocates and frees per second, for 'memdesc \
        replay' to cost in each era. The kernel's page-allocator tracepoints (kmem:mm_page_alloc, \
        mm_page_free, mm_page_free_batched, mm_page_pcpu_drain) and three that say what a page \
        became (filemap:mm_filemap_add_to_page_cache and _delete_from_page_cache, \
        pagemap:mm_lru_insertion) are read from the per-CPU binary ring buffers of a private \
        tracing instance, so other tracing on the host is not disturbed; snapshots of the page \
        state are taken at the start and at the end. Ctrl-C stops early and still writes FILE; a \
        killed recorder leaves no file, and the next run removes its tracing instance. \
        --max-events stops the recording when that many events are kept (exactly that many). \
        The recorded page counts are checked against /proc/vmstat's pgalloc and pgfree.
        """,
        terms: [.tracefs, .tracepoint, .pfn, .lostEvents],
        examples: [
          "memdesc record --duration 1 -o example.mdrec   # needs root",
        ]))

    @Option(name: .shortAndLong, help: "The recording to write (default: memdesc-HOST-TIME.mdrec).")
    var output: String?

    @Option(help: "Seconds to record (default: until Ctrl-C).")
    var duration: Double?

    @Option(help: "Ring buffer per CPU, in KiB.")
    var bufferKib = 8192

    @Option(help: "Events kept at most (24 bytes each in memory); recording stops when reached.")
    var maxEvents = 1 << 24

    @Option(help: "Where tracefs is mounted, or is to be mounted.")
    var tracefs = TracefsRecorder.defaultRoot

    @Flag(inversion: .prefixedNo, help: "Take the start and end snapshots of the page state.")
    var snapshots = true

    @Flag(inversion: .prefixedNo, help: "Show progress on stderr (default: when stderr is a terminal).")
    var progress: Bool?

    func validate() throws {
      try validateOutputArgument(output)
      if let d = duration, !(d > 0 && d <= 86_400) { throw ValidationError("--duration must be more than 0 and at most 86400 seconds, got \(d)") }
      guard bufferKib >= 4 && bufferKib <= 1 << 20 else { throw ValidationError("--buffer-kib must be from 4 to 1048576, got \(bufferKib)") }
      guard !tracefs.isEmpty else { throw ValidationError("--tracefs must name a directory, got an empty path") }
      guard maxEvents >= 1 && maxEvents <= 1 << 28 else { throw ValidationError("--max-events must be from 1 to \(1 << 28), got \(maxEvents)") }
    }

    func run() throws {
      let path = output ?? defaultName()
      try FileIO.checkOutput(path)
      var options = TracefsRecorder.Options()
      options.root = tracefs
      options.duration = duration
      options.bufferKiB = bufferKib
      options.maxEvents = maxEvents
      options.snapshots = snapshots
      signal(SIGINT) { _ in TracefsRecorder.stop.store(true, ordering: .relaxed) }
      signal(SIGTERM) { _ in TracefsRecorder.stop.store(true, ordering: .relaxed) }
      // A parent may have started us with them blocked (the mask is inherited).
      var set = sigset_t()
      sigemptyset(&set)
      sigaddset(&set, SIGINT)
      sigaddset(&set, SIGTERM)
      pthread_sigmask(SIG_UNBLOCK, &set, nil)
      let show = progress ?? (isatty(STDERR_FILENO) == 1)
      let (recording, summary) = try TracefsRecorder.record(options, progress: show ? { s, n, lost in
        writeStderr(RecordingOutput.progress(seconds: s, events: n, lost: lost))
      } : nil)
      if show { writeStderr("\n") }
      try FileIO.writeAtomically(path) { write in try write(recording.encode()) }
      let check = try RecordingCheck(recording, path: path)
      writeStdout(RecordingOutput.recorded(summary, check: check, path: path))
    }

    func defaultName() -> String {
      let stamp = String(HostInfo.isoTimeNow().filter { $0 != "-" && $0 != ":" })
      return "memdesc-\(HostInfo.uname()?.hostName ?? "host")-\(stamp).mdrec"
    }
  }
}
