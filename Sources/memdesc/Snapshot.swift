import ArgumentParser
import PageModel
import Render
import Snapshot

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Memdesc {
  struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Capture a real machine's page state, and read saved ones (page-types summary, info).",
      discussion: helpDiscussion(
        """
        Keeps a machine's page state so that it can be analysed later or elsewhere: \
        'capture' saves this machine (root), 'summary' prints page-types' table of a \
        source, 'info' says what a source holds. A raw directory is in the fixtures' \
        layout (kpageflags[.gz] required; kpagecount[.gz], kpagecgroup[.gz], meminfo, \
        vmstat, zoneinfo, buddyinfo, iomem, hugepages, kernel-release optional); a bare \
        dump is read as 'page-types -F' reads it (raw or gzip).
        """,
        terms: [.snapshot, .kpageflags, .pfn, .pageTypes],
        examples: [
          "memdesc snapshot capture -o host.mdsnap   # needs root",
          "memdesc snapshot summary Tests/SnapshotTests/Fixtures/idle",
          "memdesc snapshot info Tests/SnapshotTests/Fixtures/hvo-hugetlb.mdsnap",
        ]),
      subcommands: [Capture.self, Summary.self, Info.self])
  }
}

/// For `summary` and `info`: a SOURCE or --live, not both.
func requireSource(_ source: String?, live: Bool) throws {
  if source == nil && !live { throw ValidationError("give a SOURCE (snapshot file, raw directory or kpageflags dump) or --live") }
  if source != nil && live { throw ValidationError("give either a SOURCE or --live, not both") }
}

/// Every text file of a source read by its validating reader first, so that any command
/// refuses a damaged one in the same words (and `capture --from` never copies one).
func validated(_ s: PageSnapshot) throws -> PageSnapshot {
  try s.validateTexts()
  return s
}

/// Opens a SOURCE argument, or this machine with --live.
/// With `streams`, `-` and a FIFO are read once as a stream (the command reads its source
/// in one pass); without, they are refused before they are opened.
func openSource(_ source: String?, live: Bool, streams: Bool = false) throws -> PageSnapshot {
  switch (source, live) {
  case (nil, true): return try validated(PageSnapshot.live())
  case (let s?, false): return try validated(PageSnapshot.open(s, streams: streams))
  case (nil, false): throw DataError("give a SOURCE (snapshot file, raw directory or kpageflags dump) or --live")
  case (_?, true): throw DataError("give either a SOURCE or --live, not both")
  }
}

extension Memdesc.Snapshot {
  struct Capture: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Read this machine's kpage files and /proc state into one snapshot file (needs root).",
      discussion: helpDiscussion(
        """
        Saves this machine's page state in one file to analyse later or elsewhere: the \
        three kpage files (flags, map counts and memory cgroups per PFN) read in parallel \
        chunks and compressed as they arrive, and the /proc text files the analysis \
        cross-checks against. The file is written atomically (a capture killed half-way \
        leaves nothing at FILE); without -o it is memdesc-HOST-TIME.mdsnap in the current \
        folder. With --from it converts a saved source instead (no root needed).
        """,
        terms: [.kpageflags, .pfn, .snapshot],
        examples: [
          "memdesc snapshot capture -o host.mdsnap   # needs root",
          "memdesc snapshot capture --from Tests/SnapshotTests/Fixtures/idle",
        ]))

    @Option(name: .shortAndLong, help: "The snapshot file to write (default: memdesc-HOST-TIME.mdsnap).")
    var output: String?

    @Option(parsing: .unconditional, help: "Convert this saved source instead of capturing the live machine.")
    var from: String?

    @Flag(inversion: .prefixedNo, help: "Show a progress bar on stderr (default: when stderr is a terminal).")
    var progress: Bool?

    @OptionGroup var threads: ThreadOptions

    @OptionGroup var flags: UnknownFlagsOption

    func validate() throws { try validateOutputArgument(output) }

    func run() throws {
      let threadCount = try threads.count()
      // Before any work: an unusable -o is refused before the machine is read.
      if let output { try FileIO.checkOutput(output) }
      let showProgress = progress ?? (isatty(STDERR_FILENO) == 1)
      let bar = showProgress ? ProgressBar(label: from == nil ? "capture" : "convert") : nil
      let start = HostInfo.monotonicSeconds()
      let report: SnapshotFormat.WriteReport
      var pfns = 0
      if let from {
        let source = try validated(flags.apply(PageSnapshot.open(from)))
        pfns = source.pfnCount
        report = try SnapshotFormat.write(source, to: output ?? defaultName(source.metadata.hostName), threads: threadCount, progress: bar?.update)
      } else {
        report = try SnapshotCapture.capture(to: output ?? defaultName(HostInfo.uname()?.hostName), threads: threadCount, progress: bar?.update)
        pfns = report.sections.first { $0.name == "kpageflags" }.map { $0.decodedBytes / 8 } ?? 0
      }
      bar?.finish()
      let seconds = HostInfo.monotonicSeconds() - start
      writeStdout(SnapshotOutput.written(report, pfns: pfns, seconds: seconds))
    }

    func defaultName(_ host: String?) -> String {
      let stamp = String(HostInfo.isoTimeNow().filter { $0 != "-" && $0 != ":" })
      return "memdesc-\(host ?? "host")-\(stamp).mdsnap"
    }
  }

  struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the table that the kernel's 'page-types -F FILE' (or '-r') prints for a source's kpageflags.",
      discussion: helpDiscussion(
        """
        Answers which combinations of page flags a machine has and how many pages carry \
        each, in the words of the kernel's own tool: the same header, rows (flags, \
        page-count, MB, symbolic flags, long names) in page-types' own order, and total, \
        byte for byte. MB uses the snapshot's page size (4096 for a bare dump). A SOURCE \
        of - or a FIFO is a bare dump (raw or gzip) read once from a pipe, as \
        'page-types -F' reads one.
        """,
        terms: [.kpageflags, .pageTypes, .snapshot],
        examples: [
          "memdesc snapshot summary Tests/SnapshotTests/Fixtures/idle",
          "memdesc snapshot summary --raw Tests/SnapshotTests/Fixtures/thp-anon",
          "memdesc snapshot summary - < Tests/SnapshotTests/Fixtures/idle/kpageflags.gz",
          "memdesc snapshot summary --live   # needs root",
        ]))

    @Argument(help: "Snapshot file, raw directory or kpageflags dump; - or a FIFO: a dump read from a pipe.")
    var source: String?

    @Flag(help: "Read this machine's /proc/kpageflags (needs root).")
    var live = false

    @Flag(name: [.short, .long], help: "Raw mode, as 'page-types -r': every bit, overloaded bits decoded.")
    var raw = false

    @OptionGroup var threads: ThreadOptions

    @OptionGroup var flags: UnknownFlagsOption

    func validate() throws { try requireSource(source, live: live) }

    func run() throws {
      let snapshot = try flags.apply(openSource(source, live: live, streams: true))
      let summary = try PageTypesSummary.of(snapshot.kpageflags, mode: raw ? .raw : .wellKnown, pageSize: snapshot.metadata.pageSize, threads: threads.count())
      writeStdout(summary.rendered())
    }
  }

  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Describe a source: kind, metadata, PFNs, files present; for a snapshot file its sections and sizes.",
      discussion: helpDiscussion(
        """
        Answers what a source is before it is analysed: which kind it is, the kernel, \
        host and time it records, how many PFNs it covers, which files it holds, and for \
        a snapshot file each section's size before and after compression.
        """,
        terms: [.snapshot, .pfn],
        examples: [
          "memdesc snapshot info Tests/SnapshotTests/Fixtures/hvo-hugetlb.mdsnap",
          "memdesc snapshot info Tests/SnapshotTests/Fixtures/idle --format json",
        ]))

    @Argument(help: "Snapshot file, raw directory or kpageflags dump.")
    var source: String?

    @Flag(help: "Describe this machine's live sources (needs root).")
    var live = false

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    @OptionGroup var flags: UnknownFlagsOption

    func validate() throws { try requireSource(source, live: live) }

    func run() throws {
      let s = try flags.apply(openSource(source, live: live))
      // info describes a source it would analyse: words that would be refused are refused here too.
      try s.kpageflags.checkAllWords()
      var sections: [SnapshotFormat.SectionInfo] = []
      if case .snapshotFile(let path) = s.origin { sections = try SnapshotFormat.sections(path) }
      writeStdout(format == .json ? try SnapshotOutput.infoJSON(s, sections: sections) + "\n" : SnapshotOutput.infoText(s, sections: sections))
    }
  }
}

/// A one-line progress bar on stderr, redrawn when the percentage changes.
final class ProgressBar: @unchecked Sendable {
  let label: String
  var lastPercent = -1

  init(label: String) { self.label = label }

  /// Called serialised by the library after each block.
  func update(_ done: Int, _ total: Int) {
    let percent = total > 0 ? done * 100 / total : 100
    guard percent != lastPercent else { return }
    lastPercent = percent
    writeStderr(SnapshotOutput.progress(label: label, percent: percent, done: done, total: total))
  }

  func finish() { writeStderr("\n") }
}

func writeStderr(_ s: String) {
  var s = s
  s.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

/// Writes a large text to stdout in one go (print is line-buffered and slower).
func writeStdout(_ s: String) {
  var s = s
  s.withUTF8 { buf in
    var done = 0
    while done < buf.count {
      let n = write(STDOUT_FILENO, buf.baseAddress! + done, buf.count - done)
      if n <= 0 { break }
      done += n
    }
  }
}
