import ArgumentParser
import PageModel
import Render
import Snapshot

extension Memdesc {
  struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Explain one page: its class in a snapshot, then its struct page bytes, decode, head, folio and vmemmap frame in each era's model.",
      discussion: helpDiscussion(
        """
        Answers what one page is and how each era describes it. With a SOURCE (or \
        --live, --demo) the page's kpageflags word is read and its situation reproduced \
        in a model machine with the snapshot's RAM: the same HugeTLB page (with HVO if \
        the snapshot shows fake heads) or folio at the same PFN where the model's free \
        memory allows. With --ram the machine is built from the options and --hugetlb or \
        --folio place a page around PFN.
        """,
        terms: [.pfn, .page, .vmemmap, .folio, .hugetlb, .hvo, .fakeHead, .era, .memdesc],
        examples: [
          "memdesc explain 0x40040 --ram 2G --hugetlb 2M --era classic",
          "memdesc explain 0x1000 --ram 4G --folio 9:anon --era memdesc32",
          "memdesc explain 0x900000 --ram 8G   # exit 1: not RAM",
        ]))

    @Argument(help: "The PFN (decimal or 0x hexadecimal).")
    var pfn: PFNArgument

    @OptionGroup var source: SourceOptions

    @Option(parsing: .unconditional, help: "Model machine RAM size instead of a snapshot (64M, 8G, 1T).")
    var ram: String?

    @Option(help: "With --ram: physical layout.")
    var layout: MachineOptions.LayoutKind = .flat

    @Option(help: "With --ram: place a HugeTLB page of this size that contains PFN.")
    var hugetlb: HugeTLBSize?

    @Flag(inversion: .prefixedNo, help: "With --hugetlb: optimise its vmemmap (HVO).")
    var hvo = true

    @Option(help: "With --ram: place a folio ORDER[:anon|file] that contains PFN.")
    var folio: FolioArgument?

    @Option(help: "Era to explain in (default: all four).")
    var era: Era?

    func validate() throws {
      guard source.given + (ram != nil ? 1 : 0) == 1 else { throw ValidationError("give exactly one of SOURCE, --live, --demo or --ram SIZE") }
      if let ram { _ = try parseRAM(ram, example: "8G") }
      if ram == nil && (hugetlb != nil || folio != nil) { throw ValidationError("--hugetlb and --folio go with --ram; with a snapshot the page's own situation is reproduced") }
      if hugetlb != nil && folio != nil { throw ValidationError("give --hugetlb or --folio, not both") }
    }

    func run() throws {
      let value = pfn.value
      let target = PFN(value)
      var physical: PhysicalLayout
      var situation = PageSituation.asBooted
      var out = ""
      if let ram {
        let bytes = try parseRAM(ram)
        physical = try layout == .pc ? PhysicalLayout.pc(ramBytes: bytes) : PhysicalLayout.flat(ramBytes: bytes)
        if let hugetlb {
          situation = .hugetlb(head: PFN(value & ~((1 << UInt64(hugetlb.order)) - 1)), order: hugetlb.order, hvo: hvo)
        } else if let folio {
          situation = .folio(head: PFN(value & ~((1 << UInt64(folio.order)) - 1)), order: folio.order, kind: folio.kind)
        }
        out += ExplainOutput.modelMachine(ramBytes: bytes, layout: layout.rawValue)
      } else {
        let snapshot = try source.open()
        // The page's own words are checked as they are read; the rest of the source too,
        // so that explain refuses what analyze refuses.
        try snapshot.kpageflags.checkAllWords()
        guard value < UInt64(snapshot.pfnCount) else {
          throw DataError("PFN \(pfn.text) is beyond the snapshot's \(snapshot.pfnCount) PFNs (last \(hex(snapshot.pfnCount - 1)))")
        }
        physical = try SnapshotRAM.of(snapshot).layout(path: snapshot.kpageflags.path)
        let probe = try PageProbe.read(snapshot, pfn: Int(value))
        out += ExplainOutput.probe(probe, origin: snapshot.origin.description)
        situation = probe.situation
        out += ExplainOutput.modelMachine(physical)
      }
      guard physical.ram.contains(where: { $0.contains(target) }) else {
        throw DataError("PFN \(pfn.text) is not RAM in the model machine (RAM: \(ExplainOutput.ram(physical)))")
      }
      // Every era's machine is checked before any is booted, and the output is written
      // only when all are explained: a failure is one line on stderr, nothing half-printed.
      let configs = (era.map { [$0] } ?? Era.allCases).map { e in
        var config = MachineConfig(layout: physical, era: e)
        config.hostMemoryLimit = modelMemoryLimit()
        return config
      }
      for config in configs { try config.validate() }
      for config in configs {
        out += ExplainOutput.result(try PageExplainer.explain(pfn: target, config: config, situation: situation))
      }
      writeStdout(out)
    }
  }
}

/// A PFN in decimal or 0x hexadecimal.
struct PFNArgument: ExpressibleByArgument {
  var value: UInt64
  var text: String
  init?(argument: String) {
    guard let v = parseUnsigned(argument) else { return nil }
    value = v
    text = argument
  }
}

/// A HugeTLB page size x86-64 has.
enum HugeTLBSize: String, ExpressibleByArgument, CaseIterable {
  case pmd = "2M", pud = "1G"
  init?(argument: String) { self.init(rawValue: argument.uppercased()) }
  var order: Int { self == .pmd ? Hstate.pmd : Hstate.pud }
}

/// `ORDER[:anon|file]`, ORDER 0-10.
struct FolioArgument: ExpressibleByArgument {
  var order: Int
  var kind: FolioKind
  init?(argument: String) {
    let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count <= 2, let o = Int(parts[0]), (0...Kernel.maxPageOrder).contains(o) else { return nil }
    order = o
    switch parts.count == 2 ? parts[1] : "anon" {
    case "anon": kind = .anon
    case "file": kind = .file
    default: return nil
    }
  }
}
