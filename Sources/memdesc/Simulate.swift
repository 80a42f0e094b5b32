import ArgumentParser
import PageModel

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
    var workload: String?

    @Option(help: "An allocation trace file to replay instead of a workload.")
    var trace: String?

    @Option(help: "Eras to run, comma-separated.")
    var eras: String = Era.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Seed of the workload generator.")
    var seed: UInt64 = 1

    @Option(help: "Output format: text, json or csv.")
    var format: SimulateFormat = .text

    enum SimulateFormat: String, ExpressibleByArgument, CaseIterable { case text, json, csv }

    func validate() throws {
      guard (workload == nil) != (trace == nil) else { throw ValidationError("give exactly one of --workload NAME or --trace FILE") }
      if let workload, Workload(rawValue: workload) == nil {
        throw ValidationError("unknown workload '\(workload)'; expected one of: \(Workload.allCases.map(\.rawValue).joined(separator: ", "))")
      }
    }

    func run() throws {
      guard let bytes = ByteSize.parse(ram) else {
        throw ValidationError("cannot read RAM size '\(ram)': expected a number with an optional K, M, G or T suffix, such as 16G")
      }
      let eraList = try parseEras(eras)
      let layout = try PhysicalLayout.flat(ramBytes: bytes)
      let traceValue: Trace
      if let trace {
        traceValue = try Trace.parse(try readTextFile(trace), name: trace)
      } else {
        traceValue = Workload(rawValue: workload!)!.trace(ramPages: layout.ramPages, seed: seed)
      }
      let showProgress = isatty(STDERR_FILENO) == 1
      var costs: [EraCost] = []
      for era in eraList {
        var config = MachineConfig(layout: layout, era: era)
        config.hostMemoryLimit = HostMemory.availableBytes().map { $0 / 4 * 3 }
        let model = try bootModel(config)
        let cost = try Simulator.run(traceValue, on: model) { done, total in
          guard showProgress, total > 0 else { return }
          let width = 30, filled = done * width / total
          let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
          writeStderr("\r\(era.rawValue.padding(9)) [\(bar)] \(done * 100 / total)%")
        }
        if showProgress { writeStderr("\r" + String(repeating: " ", count: 60) + "\r") }
        costs.append(cost)
      }
      switch format {
      case .json:
        print(JSON.object([
          ("ram_bytes", .int(Int(layout.ramBytes))),
          ("workload", workload.map { .string($0) } ?? .null),
          ("trace", trace.map { .string($0) } ?? .null),
          ("operations", .int(traceValue.ops.count)),
          ("seed", .int(Int(truncatingIfNeeded: seed))),
          ("eras", .array(costs.map(\.json))),
        ]).rendered())
      case .csv:
        print("era,struct_page_bytes,memmap_bytes,descriptor_bytes," + DescriptorKind.allCases.map { "descriptor_bytes_\($0.rawValue)" }.joined(separator: ",")
          + ",hvo_saved_bytes,total_overhead_bytes,overhead_percent")
        for c in costs {
          print(([c.era.rawValue, String(c.structPageBytes), String(c.memmapBytes), String(c.descriptorBytes)]
            + DescriptorKind.allCases.map { String((c.descriptorFrames[$0] ?? 0) << Kernel.pageShift) }
            + [String(c.hvoSavedBytes), String(c.totalOverheadBytes), formatFixed(c.overheadPercent, decimals: 6)]).joined(separator: ","))
        }
      case .text:
        print("\(workload.map { "workload \($0)" } ?? "trace \(trace!)"): \(traceValue.ops.count) operations on \(ByteSize.human(layout.ramBytes)) of RAM")
        print("era        page   memmap        descriptors   HVO saved     total         % of RAM")
        for c in costs {
          print(c.era.rawValue.padding(10) + " " + "\(c.structPageBytes) B".padding(6) + " " + ByteSize.human(c.memmapBytes).padding(13) + " "
            + ByteSize.human(c.descriptorBytes).padding(13) + " " + ByteSize.human(c.hvoSavedBytes).padding(13) + " "
            + ByteSize.human(c.totalOverheadBytes).padding(13) + " " + formatFixed(c.overheadPercent, decimals: 4))
        }
      }
    }
  }
}

/// Reads a text file for the CLI, with an error that names it.
func readTextFile(_ path: String) throws -> String {
  let fd = open(path, O_RDONLY)
  guard fd >= 0 else { throw ValidationError("cannot open '\(path)': \(String(cString: strerror(errno)))") }
  defer { close(fd) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if n < 0 { throw ValidationError("cannot read '\(path)': \(String(cString: strerror(errno)))") }
    if n == 0 { break }
    bytes.append(contentsOf: chunk[0..<n])
  }
  return String(decoding: bytes, as: UTF8.self)
}
