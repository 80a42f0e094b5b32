import ArgumentParser
import PageModel
import Render

#if canImport(Glibc)
  import Glibc
#endif

extension Memdesc {
  struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a workload or an allocation trace in each era and compare what describing memory costs.",
      discussion: """
        Workloads: \(Workload.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")).
        A trace is a text file of lines such as 'alloc a1 folio 0 anon', 'alloc s1 slab 1', \
        'alloc p1 pagetable', 'free a1', 'hvo on', 'hugepages 2M 100' ('#' starts a comment).
        """)

    @Option(help: "RAM size: a number of bytes with an optional K, M, G, T suffix.")
    var ram: String

    @Option(help: "A built-in workload.")
    var workload: Workload?

    @Option(help: "An allocation trace file to replay instead of a workload.")
    var trace: String?

    @Option(help: "Eras to run, comma-separated.")
    var eras: EraList = .all

    @Option(help: "Seed of the workload generator.")
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
      let traceValue: Trace
      if let trace {
        traceValue = try Trace.parse(try readTextFile(trace), name: trace)
      } else {
        traceValue = workload!.trace(ramPages: layout.ramPages, seed: seed)
      }
      let showProgress = isatty(STDERR_FILENO) == 1
      var costs: [EraCost] = []
      for era in eras.eras {
        var config = MachineConfig(layout: layout, era: era)
        config.hostMemoryLimit = modelMemoryLimit()
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

/// Reads a text file for the CLI, with an error that names it.
func readTextFile(_ path: String, limit: Int = 1 << 30) throws -> String {
  // A FIFO would block open() and a device (/dev/zero) never ends: only regular files,
  // checked before opening, and no more than `limit` bytes.
  var st = stat()
  if stat(path, &st) == 0 {
    guard st.st_mode & S_IFMT == S_IFREG else { throw DataError("'\(path)' is not a regular file; a trace is a text file") }
    guard st.st_size <= limit else { throw DataError("'\(path)' is \(st.st_size) bytes, more than a trace may be (\(limit))") }
  }
  let fd = open(path, O_RDONLY)
  guard fd >= 0 else { throw DataError("cannot open '\(path)': \(String(cString: strerror(errno)))") }
  defer { close(fd) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if n < 0 { throw DataError("cannot read '\(path)': \(String(cString: strerror(errno)))") }
    if n == 0 { break }
    bytes.append(contentsOf: chunk[0..<n])
    if bytes.count > limit { throw DataError("'\(path)' grew past \(limit) bytes while read") }
  }
  return String(decoding: bytes, as: UTF8.self)
}
