import ArgumentParser
import PageModel
import Render
import Snapshot

extension Memdesc {
  struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Compare two snapshots: what changed in the census, the memmap, the HugeTLB pools and each era's cost.",
      discussion: helpDiscussion(
        """
        Answers what changed between two moments of one machine (HVO off and on, before \
        and after a deploy, kernel N and N+1): it analyses snapshot A (before) and B \
        (after) and prints every difference as B - A: pages by class, folios by kind and \
        order, the memmap as vmstat counts it beside the census's figure for today's \
        kernel, the HugeTLB pools and HVO, and each era's cost. The HTML page shows the \
        memory map with the 2 MiB cells whose dominant class changed. \
        examples/hvo-off.mdsnap and hvo-on.mdsnap are one 512-page pool of this \
        project's VM captured with HVO off, then on.
        """,
        terms: [.snapshot, .folio, .memmap, .hugetlb, .hvo, .era],
        examples: [
          "memdesc diff examples/hvo-off.mdsnap examples/hvo-on.mdsnap",
          "memdesc diff examples/hvo-off.mdsnap examples/hvo-on.mdsnap --format json",
          "memdesc diff examples/hvo-off.mdsnap examples/hvo-on.mdsnap --format html",
        ]))

    @Argument(help: "The snapshot before (snapshot file, raw directory or kpageflags dump).")
    var a: String

    @Argument(help: "The snapshot after.")
    var b: String

    @Option(help: "Output format.")
    var format: DiffFormat = .text

    @Option(name: .shortAndLong, help: "Write the output to this file (atomically) instead of standard output; --format html writes memdesc-diff.html by default.")
    var output: String?

    @Option(parsing: .unconditional, help: "Eras to cost, comma-separated (spaces around names ignored, each era once).")
    var eras: EraList = .all

    @OptionGroup var flags: UnknownFlagsOption

    enum DiffFormat: String, ExpressibleByArgument, CaseIterable { case text, json, html }

    func validate() throws {
      try validateOutputArgument(output)
      try eras.validate()
    }

    func run() throws {
      let path = output ?? (format == .html ? "memdesc-diff.html" : nil)
      if let path { try FileIO.checkOutput(path) }
      let before = try flags.apply(openSource(a, live: false))
      let after = try flags.apply(openSource(b, live: false))
      let diff = try SnapshotDiff.of(before, after, eras: eras.eras)
      let text: String
      switch format {
      case .text: text = DiffOutput.text(diff)
      case .json: text = try DiffOutput.json(diff) + "\n"
      case .html: text = DiffOutput.html(diff)
      }
      if let path {
        try FileIO.writeAtomically(path, text: text)
        writeStdout("wrote \(path): \(text.utf8.count) bytes\n")
      } else {
        writeStdout(text)
      }
    }
  }
}
