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
      discussion: """
        Answers what a real workload's page allocations cost in descriptors: each recorded \
        allocation is given the kind it became (anon, file, shmem, slab, page table, HugeTLB, other \
        kernel, unknown; from the events that followed it and the end snapshot) and replayed on each \
        era's model, which allocates a folio, slab or page table for it; each recorded free frees it. \
        Per era: descriptor allocations and frees per second, descriptor-cache pages over time (mean, \
        peak), the memmap, and the model's own time per event. The models start as booted (not with \
        the start snapshot's pages): frees of pages allocated before the recording are counted and skipped.
        era: one of the four struct page designs (classic, mask, memdesc32, memdesc8).
        descriptor: in the memdesc eras, the separately allocated object (folio, slab, ptdesc) that \
        describes memory; in classic and mask the 64-byte struct page is the descriptor.
        memmap: the array of struct pages, one per 4 KiB page of RAM.
        folio: a group of 2^order pages the kernel manages as one (anon or page cache).

        Examples:
          memdesc replay examples/small.mdrec --ram 1G
          memdesc replay examples/small.mdrec --ram 1G --format json
        """)

    @Argument(help: "The recording file.")
    var recording: String

    @Option(parsing: .unconditional, help: "RAM of the models (default: the recording's start snapshot's PFN span).")
    var ram: String?

    @Option(parsing: .unconditional, help: "Eras to run, comma-separated.")
    var eras: EraList = .all

    @Option(help: "Output format.")
    var format: TableFormat = .text

    @Option(name: .shortAndLong, help: "Write the output to this file instead of standard output.")
    var output: String?

    func validate() throws {
      if let ram { _ = try parseRAM(ram, example: "16G") }
      try eras.validate()
      try validateOutputArgument(output)
    }

    func run() throws {
      if let output { try FileIO.checkOutput(output) }
      let rec = try Recording.read(recording)
      let attribution = try RecordingAttribution(rec, path: recording)
      let ramBytes: UInt64
      if let ram {
        ramBytes = try parseRAM(ram, example: "16G")
      } else if let start = rec.sections["snapshot.start"] {
        let s = try SnapshotFormat.parse(start, path: recording + ":snapshot.start")
        // Whole 128 MiB memory sections, as the models boot.
        ramBytes = (UInt64(s.pfnCount) * 4096 + (128 << 20) - 1) / (128 << 20) * (128 << 20)
      } else {
        throw DataError("\(recording): no start snapshot (recorded with --no-snapshots): give --ram")
      }
      let layout = try PhysicalLayout.flat(ramBytes: ramBytes)
      var results: [RecordingReplay.Result] = []
      for era in eras.eras {
        var config = MachineConfig(layout: layout, era: era)
        config.hostMemoryLimit = modelMemoryLimit()
        try config.validate()
        results.append(try RecordingReplay.run(rec, attribution: attribution, on: bootModel(config), path: recording))
      }
      let text: String
      switch format {
      case .text: text = RecordingOutput.replayText(results, attribution: attribution, path: recording, ramBytes: ramBytes)
      case .json: text = try RecordingOutput.replayJSON(results, attribution: attribution, path: recording, ramBytes: ramBytes)
      case .csv: text = RecordingOutput.replayCSV(results)
      }
      if let output { try FileIO.writeAtomically(output, text: text) } else { writeStdout(text) }
    }
  }
}
