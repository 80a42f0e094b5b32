import ArgumentParser
import PageModel
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

    @Argument(help: "Snapshot file, raw directory or kpageflags dump.")
    var source: String?

    @Flag(help: "Report on this machine's /proc/kpageflags (needs root).")
    var live = false

    @Flag(help: "Report on the built-in demonstration (a model machine's kpageflags).")
    var demo = false

    @Option(name: .shortAndLong, help: "The HTML file to write.")
    var output: String

    @Option(help: "Eras to cost, comma-separated.")
    var eras: String = Era.allCases.map(\.rawValue).joined(separator: ",")

    func validate() throws {
      if demo && (live || source != nil) { throw ValidationError("--demo reports on the built-in demonstration; give no SOURCE or --live with it") }
    }

    func run() throws {
      let eraList = try parseEras(eras)
      let snapshot = demo ? try DemoSnapshot.make() : try openSource(source, live: live)
      let report = try SnapshotReport.of(snapshot, eras: eraList, preface: demo ? DemoSnapshot.description : nil)
      let html = report.html()
      try SnapshotReport.write(html, to: output)
      writeStdout("wrote \(output): \(html.utf8.count) bytes, \(report.map.cells) map cells of 2 MiB in \(report.map.runs.count) runs\n")
    }
  }
}
