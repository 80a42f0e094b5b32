import ArgumentParser
import PageModel
import Render
import Snapshot

extension Memdesc {
  struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a self-contained HTML report of a machine's pages: memory map, era costs, folios, HVO, cross-checks.",
      discussion: helpDiscussion(
        """
        Answers at a glance where a machine's memory is and what its memmap costs: one \
        HTML file with inline SVG and CSS and no script or network access, written \
        atomically to FILE (default memdesc-report.html): a map of physical memory (one \
        cell per 2 MiB, coloured by what most of it is), the per-era cost of the memmap \
        beside the machine's own vmstat figure, the folio census, HVO in each era on a \
        model of one huge page, and the cross-checks. The pages come from a SOURCE, this \
        machine with --live (root), or the built-in demonstration with --demo. With \
        --by-cgroup it adds the memory cgroups with the most pages, as bars of their cost \
        in each era. With --page-ext it draws the page_ext tables of those clients beside \
        each era's bar (a snapshot does not say which the kernel runs).
        """,
        terms: [.snapshot, .pfn, .memmap, .era, .folio, .hugetlb, .hvo, .crosscheck, .cgroup, .pageExt],
        examples: [
          "memdesc report Tests/SnapshotTests/Fixtures/hvo-hugetlb.mdsnap -o hvo.html",
          "memdesc report Tests/SnapshotTests/Fixtures/idle",
          "memdesc report Tests/SnapshotTests/Fixtures/idle --by-cgroup -o cg.html",
          "memdesc report Tests/SnapshotTests/Fixtures/idle --page-ext owner",
          "memdesc report --live -o host.html   # needs root",
        ]))

    @OptionGroup var options: AnalysisOptions

    @Option(name: .shortAndLong, help: "The HTML file to write.")
    var output: String = "memdesc-report.html"

    @Flag(name: .customLong("by-cgroup"), help: "Add the memory cgroups with the most pages and their cost in each era (reads kpagecgroup: one more pass).")
    var byCgroup = false

    func validate() throws { try validateOutputArgument(output) }

    func run() throws {
      // Before any work: an unusable -o is refused before the source is read.
      do {
        try FileIO.checkOutput(output)
      } catch let e as SnapshotError {
        throw SnapshotError(e.kind, path: output, "cannot write the report: \(e.message)")
      }
      let snapshot = try options.source.open()
      var report = try SnapshotReport.of(snapshot, eras: options.eras.eras, pageExt: options.pageExt.value, hvo: HVOPicture.all(), preface: options.source.preface, threads: try options.threads.count())
      if byCgroup { report.cgroups = try CgroupCensus.of(snapshot, census: report.analysis.census) }
      let html = report.html()
      try SnapshotReport.write(html, to: output)
      writeStdout("wrote \(output): \(html.utf8.count) bytes, \(report.map.cells) map cells of 2 MiB in \(report.map.runs.count) runs\n")
    }
  }
}
