import ArgumentParser
import PageModel
import Snapshot

extension Memdesc {
  struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Explain one page: its class in a snapshot, then its struct page bytes, decode, head, folio and vmemmap frame in each era's model.",
      discussion: """
        With a SOURCE (or --live, --demo) the page's kpageflags word is read and its \
        situation reproduced in a model machine with the snapshot's RAM: the same HugeTLB \
        page (with HVO if the snapshot shows fake heads) or folio at the same PFN where the \
        model's free memory allows. With --ram the machine is built from the options and \
        --hugetlb / --folio place a page around PFN.
        """)

    @Argument(help: "The PFN (decimal or 0x hexadecimal).")
    var pfn: String

    @Argument(help: "Snapshot file, raw directory or kpageflags dump.")
    var source: String?

    @Flag(help: "Read this machine's /proc/kpageflags (needs root).")
    var live = false

    @Flag(help: "Use the built-in demonstration's kpageflags.")
    var demo = false

    @Option(help: "Model machine RAM size instead of a snapshot (64M, 8G, 1T).")
    var ram: String?

    @Option(help: "With --ram: physical layout 'flat' or 'pc'.")
    var layout: MachineOptions.LayoutKind = .flat

    @Option(help: "With --ram: place a HugeTLB page (2M or 1G) that contains PFN.")
    var hugetlb: String?

    @Flag(inversion: .prefixedNo, help: "With --hugetlb: optimise its vmemmap (HVO).")
    var hvo = true

    @Option(help: "With --ram: place a folio ORDER[:anon|file] that contains PFN.")
    var folio: String?

    @Option(help: "Era to explain in (default: all four).")
    var era: String?

    func validate() throws {
      let sources = (source != nil ? 1 : 0) + (live ? 1 : 0) + (demo ? 1 : 0) + (ram != nil ? 1 : 0)
      guard sources == 1 else { throw ValidationError("give exactly one of SOURCE, --live, --demo or --ram SIZE") }
      if ram == nil && (hugetlb != nil || folio != nil) { throw ValidationError("--hugetlb and --folio go with --ram; with a snapshot the page's own situation is reproduced") }
      if hugetlb != nil && folio != nil { throw ValidationError("give --hugetlb or --folio, not both") }
    }

    func run() throws {
      guard let value = parseUnsigned(pfn) else { throw ValidationError("cannot read PFN '\(pfn)': expected a decimal or 0x-hexadecimal number") }
      let target = PFN(value)
      let eras: [Era]
      if let era {
        guard let e = Era(rawValue: era) else { throw ValidationError("unknown era '\(era)'; expected one of: \(Era.allCases.map(\.rawValue).joined(separator: ", "))") }
        eras = [e]
      } else {
        eras = Era.allCases
      }
      var physical: PhysicalLayout
      var situation = PageSituation.asBooted
      var out = ""
      if let ram {
        guard let bytes = ByteSize.parse(ram) else { throw ValidationError("cannot read RAM size '\(ram)': expected a number with an optional K, M, G or T suffix, such as 8G") }
        physical = try layout == .pc ? PhysicalLayout.pc(ramBytes: bytes) : PhysicalLayout.flat(ramBytes: bytes)
        if let hugetlb {
          let order: Int
          switch hugetlb.uppercased() {
          case "2M": order = Hstate.pmd
          case "1G": order = Hstate.pud
          default: throw ValidationError("cannot read --hugetlb '\(hugetlb)': expected 2M or 1G")
          }
          situation = .hugetlb(head: PFN(value & ~((1 << UInt64(order)) - 1)), order: order, hvo: hvo)
        } else if let folio {
          let parts = folio.split(separator: ":")
          guard let o = Int(parts[0]), (0...Kernel.maxPageOrder).contains(o), parts.count <= 2 else { throw ValidationError("cannot read --folio '\(folio)': expected ORDER[:anon|file], ORDER 0-10") }
          let kind: FolioKind = parts.count == 2 && parts[1] == "file" ? .file : .anon
          if parts.count == 2 && parts[1] != "file" && parts[1] != "anon" { throw ValidationError("cannot read --folio '\(folio)': the kind is anon or file") }
          situation = .folio(head: PFN(value & ~((1 << UInt64(o)) - 1)), order: o, kind: kind)
        }
        out += "model machine: \(ByteSize.human(bytes)) \(layout.rawValue)\n"
      } else {
        let snapshot = demo ? try DemoSnapshot.make() : try openSource(source, live: live)
        guard Int(value) < snapshot.pfnCount else {
          throw ValidationError("PFN \(pfn) is beyond the snapshot's \(snapshot.pfnCount) PFNs (last 0x\(String(snapshot.pfnCount - 1, radix: 16)))")
        }
        let census = try Census.of(snapshot)
        physical = try census.layout(path: snapshot.kpageflags.path)
        let probe = try PageProbe.read(snapshot, pfn: Int(value))
        out += "PFN 0x\(String(value, radix: 16)) in \(snapshot.origin): \(probe.summary)\n"
        situation = probe.situation
        out += "model machine: the snapshot's RAM (\(ByteSize.human(physical.ramBytes)), \(physical.ram.count) range\(physical.ram.count == 1 ? "" : "s"))\n"
      }
      guard physical.ram.contains(where: { $0.contains(target) }) else {
        throw ValidationError("PFN \(pfn) is not RAM in the model machine (RAM: \(physical.ram.map { "0x\(String($0.lowerBound.rawValue, radix: 16))-0x\(String($0.upperBound.rawValue - 1, radix: 16))" }.joined(separator: ", ")))")
      }
      writeStdout(out)
      for e in eras {
        var config = MachineConfig(layout: physical, era: e)
        config.hostMemoryLimit = HostMemory.availableBytes().map { $0 / 4 * 3 }
        let r = try PageExplainer.explain(pfn: target, config: config, situation: situation)
        writeStdout("\nreproduced: \(r.reproduced)\n" + r.explanation.text)
      }
    }
  }
}

/// The kpageflags word of one PFN of a snapshot, and the situation around it.
struct PageProbe {
  var word: UInt64
  var situation: PageSituation
  var summary: String

  static func read(_ s: PageSnapshot, pfn: Int) throws -> PageProbe {
    func words(_ lo: Int, _ hi: Int) throws -> [UInt64] {
      let a = max(0, lo), b = min(s.pfnCount, hi)
      guard a < b else { return [] }
      var buf = [UInt64](repeating: 0, count: b - a)
      try buf.withUnsafeMutableBufferPointer { try s.kpageflags.read(a..<b, into: $0.baseAddress!) }
      return buf
    }
    let w = try words(pfn, pfn + 1)[0]
    let names = KPF.allCases.filter { w & $0.mask != 0 }.map { "\($0)" }
    let cls = MapClass.of(w)
    var summary = "kpageflags 0x\(String(w, radix: 16)) (\(names.isEmpty ? "no flags" : names.joined(separator: " "))): \(w == 0 ? "reads 0 (hole, uninitialised, or a kernel page without flags)" : cls.label)"
    let head = KPF.compoundHead.mask, tail = KPF.compoundTail.mask
    var situation = PageSituation.asBooted
    if w & KPF.huge.mask != 0 {
      let block = pfn & ~511
      let bw = try words(block, block + 65)
      var order = Hstate.pmd
      if bw.first.map({ $0 & head == 0 }) ?? false { order = Hstate.pud }
      let hvo = bw.count > 64 && bw[64] & head != 0 && bw[64] & KPF.huge.mask != 0
      let h = pfn & ~((1 << order) - 1)
      situation = .hugetlb(head: PFN(h), order: order, hvo: hvo)
      summary += "; a \(order == Hstate.pmd ? "2 MiB" : "1 GiB") HugeTLB page at PFN 0x\(String(h, radix: 16)) (offset \(pfn - h))" + (hvo ? ", HVO-optimised (fake heads every 64 PFNs)" : "")
    } else if w & (head | tail) != 0 && w & (KPF.anon.mask | KPF.lru.mask | KPF.mmap.mask | KPF.swapbacked.mask | KPF.thp.mask) != 0 {
      // Find the head (at most 1023 PFNs back) and the tails after it.
      let back = try words(pfn - 1023, pfn + 1)
      var h = pfn
      if w & head == 0, let i = back.lastIndex(where: { $0 & head != 0 }) { h = pfn - (back.count - 1 - i) }
      let fwd = try words(h, h + 1024)
      let tw = (fwd[0] & ~head) | tail
      var n = 1
      while n < fwd.count && fwd[n] == tw { n += 1 }
      let order = n.trailingZeroBitCount
      if n & (n - 1) == 0, h & (n - 1) == 0, pfn < h + n {
        let kind: FolioKind = w & KPF.anon.mask != 0 ? .anon : .file
        situation = .folio(head: PFN(h), order: order, kind: kind)
        summary += "; a \(kind) folio of order \(order) at PFN 0x\(String(h, radix: 16))"
      }
    } else if w & KPF.anon.mask != 0 || cls == .file {
      situation = .folio(head: PFN(pfn), order: 0, kind: w & KPF.anon.mask != 0 ? .anon : .file)
    }
    return PageProbe(word: w, situation: situation, summary: summary)
  }
}
