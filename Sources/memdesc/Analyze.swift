import ArgumentParser
import PageModel
import Render
import Snapshot

extension Memdesc {
  struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Census of a real machine's pages, and what its memmap costs in each era.",
      discussion: helpDiscussion(
        """
        Answers what a real machine's pages are and what describing them costs now and \
        in each era. It reads a SOURCE, this machine with --live (root), or a built-in \
        demonstration with --demo. The census counts RAM and holes, free, slab, \
        page-table, reserved and HugeTLB pages (HVO fake heads corrected where the \
        snapshot's kernel shows them: 6.17 to 7.0) and folios by kind and order, and \
        labels RAM sections that read zero by cause (offline memory, deferred init, \
        unknown); --kernel decodes the snapshot as another kernel than its release. The \
        projection costs that population in each era on the machine's RAM (with \
        --page-ext, the page_ext tables of those clients beside it: a snapshot does not \
        say which the kernel runs); the cross-checks set the census beside meminfo, vmstat and \
        buddyinfo; kpagecount gives how often each class's pages are mapped. With --by \
        cgroup it counts the same pages per memory cgroup instead: pages by class, folios \
        by kind and order, and what each cgroup's pages cost in each era, for the --top \
        cgroups with the most pages and the rest as one "other" row. A SOURCE of - (standard \
        input) or a FIFO is a bare kpageflags dump (raw or gzip) read once from a pipe: the \
        census takes it in one pass on every core with bounded memory, and the PFN count is \
        known at its end.
        """,
        terms: [.snapshot, .kpageflags, .pfn, .readZero, .buddy, .folio, .hugetlb, .hvo, .fakeHead, .era, .crosscheck, .mapcount, .cgroup, .pageExt],
        examples: [
          "memdesc analyze Tests/SnapshotTests/Fixtures/hvo-hugetlb.mdsnap",
          "memdesc analyze Tests/SnapshotTests/Fixtures/idle --eras classic,memdesc8",
          "memdesc analyze Tests/SnapshotTests/Fixtures/idle --by cgroup --top 5",
          "memdesc analyze Tests/SnapshotTests/Fixtures/hvo-hugetlb.mdsnap --kernel 7.1",
          "memdesc analyze - < Tests/SnapshotTests/Fixtures/idle/kpageflags.gz",
          "memdesc analyze --demo --page-ext owner   # 72 bytes a page",
          "memdesc analyze --demo                  # no root needed",
          "memdesc analyze --live   # needs root",
        ]))

    @OptionGroup var options: AnalysisOptions

    @Option(help: "Output format.")
    var format: AnalyzeFormat = .text

    @Option(help: "Break the census down by 'cgroup' (memory cgroup, from kpagecgroup).")
    var by: Breakdown?

    @Option(parsing: .unconditional, help: "With --by cgroup: the cgroups shown (most pages first); the rest are summed as 'other'.")
    var top: Int = 20

    enum Breakdown: String, ExpressibleByArgument, CaseIterable { case cgroup }

    func validate() throws {
      guard top >= 1 && top <= 10_000 else { throw ValidationError("--top \(top) is not a count from 1 to 10000") }
      if by != nil && format == .jsonl { throw ValidationError("--by cgroup has no jsonl form; use text, json, csv or openmetrics") }
    }

    func run() throws {
      // One pass over kpageflags: a stream (-, a FIFO) serves as well as a file.
      let snapshot = try options.source.open(streams: true)
      let start = HostInfo.monotonicSeconds()
      let analysis = try SnapshotAnalysis.of(snapshot, eras: options.eras.eras, pageExt: options.pageExt.value, threads: try options.threads.count())
      if by == .cgroup {
        let groups = try CgroupCensus.of(snapshot, census: analysis.census)
        let run = RunInfo(snapshot, scanSeconds: HostInfo.monotonicSeconds() - start)
        let eras = options.eras.eras
        switch format {
        case .openmetrics: writeStdout(CgroupOutput.metrics(analysis, groups, top: top, eras: eras, run: run, dialect: .openMetrics))
        case .json: print(try CgroupOutput.json(analysis, groups, top: top, eras: eras))
        case .csv: writeStdout(CgroupOutput.csv(groups, top: top, eras: eras))
        case .text, .jsonl: writeStdout(CgroupOutput.text(analysis, groups, top: top, eras: eras))
        }
        return
      }
      let run = RunInfo(snapshot, scanSeconds: HostInfo.monotonicSeconds() - start)
      switch format {
      case .openmetrics: writeStdout(MetricsOutput.render(analysis, run: run, dialect: .openMetrics))
      case .jsonl: writeStdout(try FleetRows.line(analysis, run: run))
      case .json: print(try AnalysisOutput.json(analysis))
      case .csv: writeStdout(AnalysisOutput.csv(analysis))
      case .text:
        if let preface = options.source.preface { writeStdout(preface + "\n\n") }
        writeStdout(AnalysisOutput.text(analysis))
      }
    }
  }
}

extension Memdesc {
  /// What plain `memdesc` runs: `analyze --live` when /proc/kpageflags can be read, the
  /// built-in demonstration otherwise, saying which.
  struct Default: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "default", abstract: "analyze --live when /proc/kpageflags is readable (root), else the demo.", shouldDisplay: false)

    func run() throws {
      if Self.kpageflagsReadable() {
        writeStdout("memdesc: /proc/kpageflags is readable: analysing this machine (memdesc analyze --live)\n\n")
        let analyze = try Analyze.parse(["--live"])
        try analyze.run()
      } else {
        print("memdesc: /proc/kpageflags is not readable (it needs root): running the built-in demonstration (memdesc demo); 'memdesc analyze --demo' analyses a model machine's kpageflags\n")
        try Demo().run()
      }
    }

    static func kpageflagsReadable(_ path: String = "/proc/kpageflags") -> Bool { FileIO.canRead(path, bytes: 8) }
  }
}
