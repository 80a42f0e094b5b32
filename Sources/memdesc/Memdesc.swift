import ArgumentParser
import PageModel

@main
struct Memdesc: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "memdesc",
    abstract: "The Linux kernel's physical-memory descriptors (struct page, folios, memdescs), executable.",
    discussion: """
      Memdesc models the memmap of an x86-64 Linux machine in four eras (classic, mask, \
      memdesc32, memdesc8) with real bytes behind a real vmemmap page table, and counts \
      what it costs. Run without a subcommand to analyse this machine (analyze --live) when \
      /proc/kpageflags is readable (root), or for a demonstration otherwise.
      """,
    version: "0.1.0",
    subcommands: [Default.self, Demo.self, Boot.self, HVO.self, Simulate.self, Snapshot.self, Analyze.self, Report.self, Explain.self],
    defaultSubcommand: Default.self)
}

/// Options that describe the machine to boot, shared by the subcommands that boot one.
struct MachineOptions: ParsableArguments {
  @Option(help: "RAM size: a number of bytes with an optional K, M, G, T suffix (64M, 24G, 1T).")
  var ram: String

  @Option(help: "Physical layout: 'flat' (RAM from PFN 0, no holes) or 'pc' (the fixtures' x86 PC layout with the legacy and 3-4 GiB PCI holes).")
  var layout: LayoutKind = .flat

  @Option(name: .customLong("ram-ranges"), help: "Explicit System RAM ranges as inclusive PFNs, e.g. 0x1-0x9e,0x100-0xbffff,0x100000-0x63ffff (overrides --ram's placement).")
  var ramRanges: String?

  @Option(help: "NUMA nodes to split RAM into (whole 128 MiB sections each).")
  var nodes: Int = 1

  @Option(help: "Era: classic, mask, memdesc32 or memdesc8.")
  var era: String = "mask"

  @Option(name: .customLong("vmemmap-base"), help: "vmemmap base virtual address in hex (default 0xffffea0000000000).")
  var vmemmapBase: String?

  @Flag(name: .customLong("allow-misaligned-vmemmap"), help: "Boot the mask era even when the vmemmap base is not 256 MiB aligned.")
  var allowMisalignedVmemmap = false

  enum LayoutKind: String, ExpressibleByArgument, CaseIterable { case flat, pc }

  func config() throws -> MachineConfig {
    guard let eraValue = Era(rawValue: era) else {
      throw ValidationError("unknown era '\(era)'; expected one of: \(Era.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    let physical: PhysicalLayout
    if let ramRanges {
      physical = try PhysicalLayout(ram: PhysicalLayout.parseRanges(ramRanges), nodeCount: nodes)
    } else {
      guard let bytes = ByteSize.parse(ram) else {
        throw ValidationError("cannot read RAM size '\(ram)': expected a number with an optional K, M, G or T suffix, such as 4G")
      }
      physical = try layout == .pc ? PhysicalLayout.pc(ramBytes: bytes, nodes: nodes) : PhysicalLayout.flat(ramBytes: bytes, nodes: nodes)
    }
    var config = MachineConfig(layout: physical, era: eraValue)
    if let vmemmapBase {
      guard let base = parseUnsigned(vmemmapBase) else {
        throw ValidationError("cannot read vmemmap base '\(vmemmapBase)': expected a hexadecimal address such as 0xffffea0000000000")
      }
      config.vmemmapBase = base
    }
    config.allowMisalignedVmemmap = allowMisalignedVmemmap
    // Keep a quarter of the host's available memory for everything else.
    config.hostMemoryLimit = HostMemory.availableBytes().map { $0 / 4 * 3 }
    return config
  }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json }
