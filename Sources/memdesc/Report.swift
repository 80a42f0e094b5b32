import ArgumentParser
import PageModel
import Render
import Snapshot

extension Memdesc {
  struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a self-contained HTML report of a machine's pages: memory map, era costs, folios, HVO, cross-checks.",
      discussion: """
        Writes one HTML file, atomically to FILE, with inline SVG and CSS and no script or \
        network access: a map of physical memory (one cell per 2 MiB, coloured by what most \
        of it is), the per-era cost of the memmap beside the machine's own vmstat figure, \
        the folio census, the HVO picture of each era and the cross-checks. The pages come \
        from a SOURCE (snapshot file, raw directory or kpageflags dump), from this machine \
        with --live (root), or from the built-in demonstration with --demo. With \
        --by-cgroup it adds the memory cgroups (groups of processes whose memory the \
        kernel charges together) with the most pages, as bars of their cost in each era.

        Examples:
          memdesc report Tests/SnapshotTests/Fixtures/thp-anon -o /tmp/memdesc-report.html
          memdesc report Tests/SnapshotTests/Fixtures/idle --by-cgroup -o /tmp/memdesc-report.html
        """)

    @OptionGroup var options: AnalysisOptions

    @Option(name: .shortAndLong, help: "The HTML file to write.")
    var output: String

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
      var report = try SnapshotReport.of(snapshot, eras: options.eras.eras, hvo: HVOPicture.all(), preface: options.source.preface)
      if byCgroup { report.cgroups = try CgroupCensus.of(snapshot, census: report.analysis.census) }
      let html = report.html()
      try SnapshotReport.write(html, to: output)
      writeStdout("wrote \(output): \(html.utf8.count) bytes, \(report.map.cells) map cells of 2 MiB in \(report.map.runs.count) runs\n")
    }
  }
}
