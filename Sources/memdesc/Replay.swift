import ArgumentParser
import PageModel
import Render
import Snapshot

#if canImport(Glibc)
  import Glibc
#endif

extension Memdesc {
  struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Replay a recording from 'memdesc record' in each era and report the descriptors it needs.",
      discussion: helpDiscussion(
        """
        Answers what a real workload's page allocations cost in descriptors: each recorded \
        allocation is given the kind it became (anon, file, shmem, slab, page table, HugeTLB, other \
        kernel, unknown; from the events that followed it and the end snapshot) and replayed on each \
        era's model, which allocates a folio, slab or page table for it; each recorded free frees it. \
        Each model starts from the start snapshot's population (folios by kind and order, slabs, page \
        tables, HugeTLB pools, free memory) on its RAM layout; a free of a page allocated before the \
        recording frees an object of that population of the kind and order the start snapshot shows. \
        Per era: descriptor allocations and frees per second, descriptor-cache and descriptor-slab \
        pages over time (mean, peak), the memmap, and the model's own time per event; --format html \
        draws them over time (memdesc-replay.html unless -o names the file). A recording without \
        snapshots needs --ram and starts from a booted model.
        """,
        terms: [.era, .memdesc, .folio, .memmap, .slab],
        examples: [
          "memdesc replay examples/small.mdrec --ram 1G",
          "memdesc replay examples/small.mdrec --ram 1G --format json",
          "memdesc replay examples/small.mdrec --ram 1G --format html -o replay.html",
        ]))

    @Argument(help: "The recording file.")
    var recording: String

    @Option(parsing: .unconditional, help: "RAM of flat models (default: the start snapshot's own RAM layout, holes included).")
    var ram: String?

    @Option(parsing: .unconditional, help: "Eras to run, comma-separated.")
    var eras: EraList = .all

    @Option(help: "Output format.")
    var format: ReplayFormat = .text

    @Option(name: .shortAndLong, help: "Write the output to this file (atomically) instead of standard output; --format html writes memdesc-replay.html by default.")
    var output: String?

    enum ReplayFormat: String, ExpressibleByArgument, CaseIterable { case text, json, csv, html }

    func validate() throws {
      if let ram { _ = try parseRAM(ram, example: "16G") }
      try eras.validate()
      try validateOutputArgument(output)
    }

    func run() throws {
      let output = self.output ?? (format == .html ? "memdesc-replay.html" : nil)
      if let output { try FileIO.checkOutput(output) }
      let rec = try Recording.read(recording)
      let attribution = try RecordingAttribution(rec, path: recording)
      let start = try RecordingReplay.Start(rec, path: recording)
      // The start snapshot's own RAM layout (holes included), unless --ram asks for a
      // flat machine of another size.
      let layout: PhysicalLayout
      if let ram {
        layout = try PhysicalLayout.flat(ramBytes: try parseRAM(ram, example: "16G"))
      } else if let start {
        layout = start.layout
      } else {
        throw DataError("\(recording): no start snapshot (recorded with --no-snapshots): give --ram")
      }
      let ramBytes = layout.ramBytes
      var results: [RecordingReplay.Result] = []
      for era in eras.eras {
        var config = MachineConfig(layout: layout, era: era)
        config.hostMemoryLimit = modelMemoryLimit()
        try config.validate()
        results.append(try RecordingReplay.run(rec, attribution: attribution, on: bootModel(config), path: recording, start: start))
      }
      let text: String
      switch format {
      case .text: text = RecordingOutput.replayText(results, attribution: attribution, path: recording, ramBytes: ramBytes)
      case .json: text = try RecordingOutput.replayJSON(results, attribution: attribution, path: recording, ramBytes: ramBytes)
      case .csv: text = RecordingOutput.replayCSV(results)
      case .html: text = RecordingOutput.replayHTML(results, attribution: attribution, path: recording, ramBytes: ramBytes, meta: rec.meta)
      }
      if let output {
        try FileIO.writeAtomically(output, text: text)
        if format == .html { writeStdout("wrote \(output): \(text.utf8.count) bytes\n") }
      } else {
        writeStdout(text)
      }
    }
  }
}
