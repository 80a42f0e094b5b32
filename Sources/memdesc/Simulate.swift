import ArgumentParser
import PageModel
import Render
import Snapshot

#if canImport(Glibc)
  import Glibc
#endif

extension Memdesc {
  struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a workload or an allocation trace in each era and compare what describing memory costs.",
      discussion: helpDiscussion(
        """
        Answers what describing memory costs in each era for one pattern of use: the \
        same workload or trace runs on a model machine of each era, and the memmap, the \
        descriptors and what HVO saves are counted from frames. Workloads: \
        \(Workload.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")). \
        A trace is a recording from 'memdesc record' or a text file of lines such as \
        'alloc a1 folio 0 anon', 'free a1', 'hvo on', 'hugepages 2M 100'; \
        examples/small.trace is a sample.
        """,
        terms: [.era, .memmap, .memdesc, .folio, .order, .slab, .hvo, .trace],
        examples: [
          "memdesc simulate --ram 1G --workload anon-thp",
          "memdesc simulate --ram 1G --trace examples/small.trace",
          "memdesc simulate --ram 256M --workload mixed --eras classic,memdesc8",
          "memdesc simulate --ram 1G --workload anon-thp --format csv",
        ]))

    @Option(parsing: .unconditional, help: "RAM size: a number of bytes with an optional K, M, G, T suffix.")
    var ram: String

    @Option(help: "A built-in workload.")
    var workload: Workload?

    @Option(parsing: .unconditional, help: "An allocation trace file to replay instead of a workload ('-' reads standard input).")
    var trace: String?

    @Option(parsing: .unconditional, help: "Eras to run, comma-separated (spaces around names ignored, each era once).")
    var eras: EraList = .all

    @Option(parsing: .unconditional, help: "Seed of the workload generator.")
    var seed: UInt64 = 1

    @Option(help: "Output format.")
    var format: TableFormat = .text

    func validate() throws {
      guard (workload == nil) != (trace == nil) else { throw ValidationError("give exactly one of --workload NAME or --trace FILE") }
      _ = try parseRAM(ram, example: "16G")
      try eras.validate()
    }

    func run() throws {
      let layout = try PhysicalLayout.flat(ramBytes: parseRAM(ram))
      // Every era's machine is checked before any runs: a limit known at the start
      // (memdesc8's 1 TiB, this host's memory) fails at once, not after the other eras.
      var configs = eras.eras.map { era in
        var config = MachineConfig(layout: layout, era: era)
        config.hostMemoryLimit = modelMemoryLimit()
        return config
      }
      for config in configs { try config.validate() }
      let traceValue: Trace
      if let trace {
        traceValue = try readTrace(trace)
      } else {
        traceValue = workload!.trace(ramPages: layout.ramPages, seed: seed)
      }
      if Simulator.writesMostOfMemmap(traceValue, ramPages: layout.ramPages) {
        // An eager memmap commits all of itself at boot: only where that fits the host.
        for i in configs.indices where (try? configs[i].checkHostMemory(lazy: false)) != nil {
          configs[i].lazyMemmap = false
        }
      }
      let showProgress = isatty(STDERR_FILENO) == 1
      var costs: [EraCost] = []
      for config in configs {
        let era = config.era
        let model = try bootModel(config)
        let cost = try Simulator.run(traceValue, on: model) { done, total in
          guard showProgress, total > 0 else { return }
          writeStderr(SimulationOutput.progress(era: era, done: done, total: total))
        }
        if showProgress { writeStderr("\r" + String(repeating: " ", count: 60) + "\r") }
        costs.append(cost)
      }
      let result = SimulationOutput(ramBytes: layout.ramBytes, workload: workload?.rawValue, trace: trace, operations: traceValue.ops.count, seed: seed, costs: costs)
      switch format {
      case .json: print(try result.json())
      case .csv: writeStdout(result.csv())
      case .text: writeStdout(result.text())
      }
    }
  }
}

/// Reads a trace file (or standard input for `-`) line by line through Snapshot's
/// FileIO: only a regular file, lines of at most 4 KiB, at most 1 GiB. A recording
/// (`memdesc record`) is read as one, its allocations given their kinds.
func readTrace(_ path: String) throws -> Trace {
  if path != "-", isRecording(path) {
    let rec = try Recording.read(path)
    return try RecordingReplay.trace(rec, attribution: RecordingAttribution(rec, path: path), name: path).trace
  }
  var parser = TraceParser(name: path == "-" ? "standard input" : path)
  try FileIO.forEachLine(path, maxLineBytes: 4096, maxBytes: 1 << 30) { number, line in try parser.add(line, number: number) }
  return parser.finish()
}

/// Whether `path` starts with a recording's magic (a regular file only).
func isRecording(_ path: String) -> Bool {
  guard (try? FileIO.fileType(path)) == .regular else { return false }
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { return false }
  defer { close(fd) }
  var magic = [UInt8](repeating: 0, count: 8)
  return read(fd, &magic, 8) == 8 && magic == Recording.magic
}
