import ArgumentParser
import PageModel

extension Memdesc {
  struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Boot a model machine and print its census: memmap frames, zones, free pages.")

    @OptionGroup var machine: MachineOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
      let config = try machine.config()
      let census = try bootModel(config).census()
      switch format {
      case .json: print(census.json.rendered())
      case .text: print(CensusText.render(census))
      }
    }
  }
}

enum CensusText {
  static func render(_ c: MachineCensus) -> String {
    var lines: [String] = []
    lines.append("era               \(c.era.rawValue) (struct page \(c.structPageBytes) bytes)")
    lines.append("RAM               \(ByteSize.human(c.ramBytes)) in \(c.ramPages) pages; PFN span \(c.pfns) (0x\(String(c.pfns, radix: 16)))")
    lines.append("nodes             \(c.nodes); present sections \(c.presentSections) of 128 MiB")
    lines.append("vmemmap base      0x\(String(c.vmemmapBase, radix: 16))")
    lines.append("memmap            \(c.memmapFrames) frames = \(ByteSize.human(c.memmapBytes)) (\(formatFixed(c.memmapPercentOfRAM, decimals: 4)) % of RAM), counted from mapped frames")
    lines.append("free              \(c.freePages) pages in the buddy lists, \(c.pcpPages) on per-CPU lists")
    lines.append("")
    lines.append("node zone      start_pfn    end_pfn      present    managed       free  free blocks by order 0..10")
    for z in c.zones {
      lines.append(
        pad(String(z.node), 4) + " " + pad(z.name, -8) + " " + pad("0x" + String(z.startPFN.rawValue, radix: 16), 10) + " "
          + pad("0x" + String(z.endPFN.rawValue, radix: 16), 10) + " " + pad(String(z.presentPages), 10) + " "
          + pad(String(z.managedPages), 10) + " " + pad(String(z.freePages), 10) + "  "
          + z.freeBlocks.map(String.init).joined(separator: " "))
    }
    return lines.joined(separator: "\n")
  }

  /// Right-aligns to `width`, or left-aligns for a negative width.
  static func pad(_ s: String, _ width: Int) -> String {
    let n = abs(width) - s.count
    guard n > 0 else { return s }
    return width < 0 ? s + String(repeating: " ", count: n) : String(repeating: " ", count: n) + s
  }
}
