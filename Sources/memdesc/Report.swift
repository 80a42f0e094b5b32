import ArgumentParser
import PageModel
import Render
import Snapshot

extension Memdesc {
  struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a self-contained HTML report of a machine's pages: memory map, era costs, folios, HVO, cross-checks.",
      discussion: """
        Reads a SOURCE (snapshot file, raw directory or kpageflags dump), this machine with \
        --live (root), or the built-in demonstration with --demo, and writes one HTML file \
        (inline SVG and CSS, no script, no network) atomically to FILE: a map of physical \
        memory with one cell per 2 MiB coloured by what most of it is, the per-era cost of \
        the memmap beside the machine's own vmstat figure, the folio census, the HVO \
        picture of each era and the cross-checks.
        """)

    @OptionGroup var options: AnalysisOptions

    @Option(name: .shortAndLong, help: "The HTML file to write.")
    var output: String

    func run() throws {
      let snapshot = try options.source.open()
      let report = try SnapshotReport.of(snapshot, eras: options.eras.eras, hvo: HVOPicture.all(), preface: options.source.preface)
      let html = report.html()
      try SnapshotReport.write(html, to: output)
      writeStdout("wrote \(output): \(html.utf8.count) bytes, \(report.map.cells) map cells of 2 MiB in \(report.map.runs.count) runs\n")
    }
  }
}
