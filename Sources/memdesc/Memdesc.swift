import ArgumentParser
import PageModel
import Render
import Snapshot

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

@main
struct Memdesc: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "memdesc",
    abstract: "The Linux kernel's physical-memory descriptors (struct page, folios, memdescs), executable.",
    discussion: helpDiscussion(
      """
      Memdesc answers what describing physical memory costs: it models the memmap of an \
      x86-64 Linux machine in four eras with real bytes behind a real vmemmap page table, \
      reads real machines' page state, and counts what their memmap costs today and in \
      each era. Plain 'memdesc' analyses this machine (the same as 'memdesc analyze \
      --live') when /proc/kpageflags is readable, which needs root; otherwise it runs the \
      demonstration ('memdesc demo') and says so. Exit status: 0 on success, 64 for a \
      usage error (with the usage text), 1 when the data or the environment is bad (one \
      line: memdesc: error: ...).
      """,
      terms: [.memmap, .vmemmap, .era, .kpageflags],
      examples: [
        "memdesc                      # root: analyze --live; else the demo",
        "memdesc demo",
        "memdesc analyze Tests/SnapshotTests/Fixtures/hvo-hugetlb.mdsnap",
        "memdesc frobnicate           # exit 64: names the unknown subcommand",
      ]),
    version: memdescVersion,
    subcommands: [Default.self, Demo.self, Boot.self, HVO.self, Simulate.self, Snapshot.self, Analyze.self, Report.self, Explain.self, Export.self, Diff.self, Record.self, Replay.self],
    defaultSubcommand: Default.self)

  /// One exit-code rule: whatever parsing and `validate()` reject is a usage error
  /// (ArgumentParser prints it with the usage text and exits 64); whatever `run()`
  /// throws is about the data or the environment and is one line with status 1.
  static func main() {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if let unknown = unknownSubcommand(in: arguments) {
      writeStderr("Error: unknown subcommand '\(unknown)'; the subcommands are: \(visibleSubcommands.joined(separator: ", "))\nUsage: \(usageString())\n  See 'memdesc --help' for more information.\n")
      Glibc.exit(ExitCode.validationFailure.rawValue)
    }
    var command: any ParsableCommand
    do {
      command = try parseAsRoot(arguments)
    } catch {
      exit(withError: error)
    }
    do {
      try command.run()
    } catch let e as ExitCode {
      exit(withError: e)
    } catch let e as CleanExit {
      exit(withError: e)
    } catch let e as SnapshotError where e.kind == .unknownFlagBit {
      writeStderr("memdesc: error: \(e); --accept-unknown-flags reads such words as they are\n")
      Glibc.exit(1)
    } catch where exitCode(for: error) != .failure {
      // ArgumentParser's own outcomes thrown from run(): `--help` parses to its help
      // command, whose run() throws "help requested" (exit 0), and validation errors.
      exit(withError: error)
    } catch {
      writeStderr("memdesc: error: \(error)\n")
      Glibc.exit(1)
    }
  }

  static var visibleSubcommands: [String] {
    configuration.subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
  }

  /// A first word that is not an option and names no subcommand. Without this check
  /// ArgumentParser hands it to the hidden default subcommand, which calls it an
  /// unexpected argument of `memdesc default`.
  static func unknownSubcommand(in arguments: [String]) -> String? {
    guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
    let known = configuration.subcommands.map { $0._commandName } + ["help"]
    return known.contains(first) ? nil : first
  }
}

/// An error in the data or the environment found while running (exit status 1).
struct DataError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

extension Era: ExpressibleByArgument {}
extension Workload: ExpressibleByArgument {}

/// An `--eras` list: comma-separated, spaces around names ignored, each era once.
/// Unknown names are kept for `validate(_:)`, which names them.
struct EraList: ExpressibleByArgument {
  var eras: [Era]
  var unknown: [String]

  static let all = EraList(eras: Era.allCases, unknown: [])

  init(eras: [Era], unknown: [String]) {
    self.eras = eras
    self.unknown = unknown
  }

  init?(argument: String) {
    var eras: [Era] = [], unknown: [String] = []
    for word in argument.split(separator: ",") {
      let name = String(word.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
      if let e = Era(rawValue: name) {
        if !eras.contains(e) { eras.append(e) }
      } else {
        unknown.append(name)
      }
    }
    self.init(eras: eras, unknown: unknown)
  }

  var defaultValueDescription: String { eras.map(\.rawValue).joined(separator: ",") }
  static var allValueStrings: [String] { Era.allCases.map(\.rawValue) }

  func validate() throws {
    if let u = unknown.first { throw ValidationError("unknown era '\(u)' in --eras; expected some of: \(Era.allCases.map(\.rawValue).joined(separator: ", "))") }
    guard !eras.isEmpty else { throw ValidationError("--eras names no era") }
  }
}

/// An output path (`-o`): an empty one is a usage error, found while parsing.
func validateOutputArgument(_ path: String?, option: String = "-o") throws {
  if let path, path.isEmpty { throw ValidationError("\(option) '' names no file: give the file to write") }
}

/// A RAM size such as `64M` or `8G`, checked in `validate()` so that the message names it.
func parseRAM(_ text: String, example: String = "4G") throws -> UInt64 {
  guard let bytes = ByteSize.parse(text) else {
    throw ValidationError("cannot read RAM size '\(text)': expected a number with an optional K, M, G or T suffix, such as \(example)")
  }
  return bytes
}

/// The page source of `analyze`, `report` and `explain`: a SOURCE, this machine, or the
/// built-in demonstration.
struct SourceOptions: ParsableArguments {
  @Argument(help: "Snapshot file, raw directory or kpageflags dump (analyze: also - or a FIFO, a dump read from a pipe).")
  var source: String?

  @Flag(help: "Read this machine's /proc/kpageflags (needs root).")
  var live = false

  @Flag(help: "Use the built-in demonstration: a model machine's own kpageflags after a small workload.")
  var demo = false

  @OptionGroup var flags: UnknownFlagsOption

  var given: Int { (source != nil ? 1 : 0) + (live ? 1 : 0) + (demo ? 1 : 0) }

  func validate() throws {
    if demo && (live || source != nil) { throw ValidationError("--demo analyses the built-in demonstration; give no SOURCE or --live with it") }
    if live && source != nil { throw ValidationError("give either a SOURCE or --live, not both") }
  }

  /// For commands that need a source: one of the three.
  func requireOne() throws {
    if given == 0 { throw ValidationError("give a SOURCE (snapshot file, raw directory or kpageflags dump), --live or --demo") }
  }

  /// With `streams`, a SOURCE of `-` or a FIFO is read as a stream (see `openSource`).
  func open(streams: Bool = false) throws -> PageSnapshot {
    if demo { return try DemoSnapshot.make() }
    return try flags.apply(openSource(source, live: live, streams: streams))
  }

  /// What a report or analysis says first about its source.
  var preface: String? { demo ? DemoSnapshot.description : nil }
}

/// The override for kpageflags words with a bit page-types has no name for, which every
/// command reading a SOURCE refuses by default (the file is not kpageflags data, or comes
/// from a kernel newer than page-types' table).
struct UnknownFlagsOption: ParsableArguments {
  @Flag(
    name: .customLong("accept-unknown-flags"),
    help: "Read kpageflags words with bits that page-types has no name for (27-31, 42-46, 49, 52-60) as they are, instead of refusing the source.")
  var accept = false

  @Option(
    name: .customLong("kernel"), parsing: .unconditional,
    help: "Decode kpageflags as this kernel does (6.16, 6.18, 7.1, 6.18.44-fc-v595, ...) instead of as the snapshot's kernel release says.")
  var kernel: String?

  func validate() throws { _ = try decode() }

  /// The `--kernel` decode, nil when not given.
  func decode() throws -> KernelDecode? {
    guard let kernel else { return nil }
    guard let d = KernelDecode(release: kernel) else {
      throw ValidationError("cannot read --kernel '\(kernel.prefix(80))': expected a kernel version MAJOR.MINOR[.PATCH][-LOCAL] such as 6.16, 7.1 or 6.18.44-fc-v595")
    }
    return d
  }

  func apply(_ snapshot: PageSnapshot) throws -> PageSnapshot {
    snapshot.acceptsUnknownFlags = accept
    var s = snapshot
    if let d = try decode() { s.kernelOverride = d }
    return s
  }
}

/// What `analyze` and `report` read and cost: a source and the eras.
struct AnalysisOptions: ParsableArguments {
  @OptionGroup var source: SourceOptions

  @Option(parsing: .unconditional, help: "Eras to cost, comma-separated (spaces around names ignored, each era once).")
  var eras: EraList = .all

  @Option(name: .customLong("page-ext"), help: "page_ext clients to project next to the memmap, comma-separated: owner, alloc_tag, table_check (or none).")
  var pageExt: PageExtRequest = PageExtRequest()

  @OptionGroup var threads: ThreadOptions

  func validate() throws {
    try source.requireOne()
    try eras.validate()
    try pageExt.validate()
  }
}

/// How many threads read kpage chunks and scan them (or code them, for a capture):
/// shared by every command that takes a pass over kpageflags.
struct ThreadOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "Threads that read and scan kpage chunks, or code them for a capture (default: the online CPUs).")
  var threads: Int?

  func validate() throws { _ = try count() }

  func count() throws -> Int {
    if let threads {
      guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
      return threads
    }
    return Parallel.defaultThreads
  }
}

/// Options that describe the machine to boot, shared by the subcommands that boot one.
struct MachineOptions: ParsableArguments {
  // `.unconditional`: a value that starts with '-' ('--ram -1') is the value, so the
  // message names it, instead of ArgumentParser's "Missing value".
  @Option(parsing: .unconditional, help: "RAM size: a number of bytes with an optional K, M, G, T suffix (64M, 24G, 1T).")
  var ram: String

  @Option(help: "Physical layout: 'flat' (RAM from PFN 0, no holes) or 'pc' (the fixtures' x86 PC layout with the legacy and 3-4 GiB PCI holes).")
  var layout: LayoutKind = .flat

  @Option(name: .customLong("ram-ranges"), parsing: .unconditional, help: "Explicit System RAM ranges as inclusive PFNs, e.g. 0x1-0x9e,0x100-0xbffff,0x100000-0x63ffff (overrides --ram's placement).")
  var ramRanges: String?

  @Option(parsing: .unconditional, help: "NUMA nodes to split RAM into (whole 128 MiB sections each).")
  var nodes: Int = 1

  @Option(help: "Era.")
  var era: Era = .mask

  @Option(name: .customLong("vmemmap-base"), parsing: .unconditional, help: "vmemmap base virtual address in hex (default 0xffffea0000000000).")
  var vmemmapBase: String?

  @Flag(name: .customLong("strict-alignment"), help: "Refuse a mask-era vmemmap base that is not 256 MiB aligned, instead of warning and booting with wrong heads as the kernel does.")
  var strictAlignment = false

  @Option(name: .customLong("boot-hugepages"), parsing: .unconditional, help: "HugeTLB pools reserved at boot (hugepagesz= hugepages=): SIZE:COUNT[,SIZE:COUNT], SIZE 2M or 1G, each size once (e.g. 1G:32).")
  var bootHugepages: String?

  @Option(name: .customLong("boot-hvo"), help: "Vmemmap optimisation of the boot-time pools: 'early' (populated optimised, 6.15+), 'late' (populated in full, optimised when the pool is gathered) or 'off' (hugetlb_free_vmemmap=off); default: the era's kernel (mask early, others late).")
  var bootHVO: BootHVO?

  @Option(name: .customLong("page-ext"), help: "page_ext clients the kernel boots with, comma-separated: owner, alloc_tag, table_check (or none).")
  var pageExt: PageExtRequest = PageExtRequest()

  enum LayoutKind: String, ExpressibleByArgument, CaseIterable { case flat, pc }

  func validate() throws {
    if ramRanges == nil { _ = try parseRAM(ram) }
    _ = try base()
    try pageExt.validate()
    let pools = try bootPools()
    // A pool larger than RAM is a mistake in the arguments, whatever the layout (ranges
    // that cannot be read are reported when the machine is built).
    let ranges = ramRanges.flatMap { try? PhysicalLayout.parseRanges($0) }
    if !pools.isEmpty, ramRanges == nil || ranges != nil {
      let bytes = try ranges.map { $0.reduce(UInt64(0)) { $0 + UInt64($1.pageCount) << UInt64(Kernel.pageShift) } } ?? parseRAM(ram)
      let need = pools.reduce(UInt64(0)) { $0 + UInt64($1.count) << UInt64($1.order + Kernel.pageShift) }
      guard need <= bytes else {
        throw ValidationError("--boot-hugepages '\(bootHugepages ?? "")' needs \(ByteSize.human(need)), more than the \(ByteSize.human(bytes)) of RAM")
      }
    }
  }

  func bootPools() throws -> [BootHugepages] {
    guard let bootHugepages else { return [] }
    do {
      return try HugepagesSpec.parse(bootHugepages, option: "--boot-hugepages").map { BootHugepages(order: $0.order, count: $0.count) }
    } catch {
      throw ValidationError(error.description)
    }
  }

  func base() throws -> UInt64? {
    guard let vmemmapBase else { return nil }
    guard let base = parseUnsigned(vmemmapBase) else {
      throw ValidationError("cannot read vmemmap base '\(vmemmapBase)': expected a hexadecimal address such as 0xffffea0000000000")
    }
    return base
  }

  func config() throws -> MachineConfig {
    let physical: PhysicalLayout
    if let ramRanges {
      physical = try PhysicalLayout(ram: PhysicalLayout.parseRanges(ramRanges), nodeCount: nodes)
    } else {
      let bytes = try parseRAM(ram)
      physical = try layout == .pc ? PhysicalLayout.pc(ramBytes: bytes, nodes: nodes) : PhysicalLayout.flat(ramBytes: bytes, nodes: nodes)
    }
    var config = MachineConfig(layout: physical, era: era)
    config.vmemmapBase = try base() ?? config.vmemmapBase
    config.strictAlignment = strictAlignment
    config.pageExt = pageExt.value
    config.hostMemoryLimit = modelMemoryLimit()
    config.lazyHostMemoryLimit = HostMemory.availableBytes()
    config.bootHugepages = try bootPools()
    config.bootHVO = bootHVO
    try config.validate()
    if let warning = config.vmemmapAlignmentWarning { writeStderr(BootOutput.alignmentWarning(warning) + "\n") }
    return config
  }
}

/// `--page-ext CLIENT[,CLIENT]`, read through `PageExt.parse`; what cannot be read is kept
/// for `validate()`, which throws it as a usage error naming the entry and the clients.
struct PageExtRequest: ExpressibleByArgument {
  var value = PageExt.none
  var problem: String?

  init() {}

  init?(argument: String) {
    do {
      value = try PageExt.parse(argument)
    } catch {
      problem = error.description
    }
  }

  var defaultValueDescription: String { "none" }

  func validate() throws {
    if let problem { throw ValidationError(problem) }
  }
}

/// Keep a quarter of the host's available memory for everything else.
/// An eager boot commits the whole memmap at once and the command needs room after it;
/// a lazy one (MemmapInit) is held to all of MemAvailable in MachineOptions.
func modelMemoryLimit() -> UInt64? { HostMemory.availableBytes().map { $0 / 4 * 3 } }

extension BootHVO: ExpressibleByArgument {}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json }
enum TableFormat: String, ExpressibleByArgument, CaseIterable { case text, json, csv }
/// `analyze --format`: the tables, and the fleet formats (OpenMetrics, one JSON row).
enum AnalyzeFormat: String, ExpressibleByArgument, CaseIterable { case text, json, csv, openmetrics, jsonl }

/// The version `--version` prints and the metrics and rows carry.
let memdescVersion = "0.1.0"
