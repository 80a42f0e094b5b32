import ArgumentParser
import PageModel

extension Memdesc {
  struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "A built-in demonstration: boot a 4 GiB machine in each implemented era, allocate a folio, decode its tails.")

    func run() throws {
      print("memdesc demo: a built-in demonstration on a model machine, not a reading of this host.")
      print("(Snapshot analysis of a real machine is not implemented yet.)\n")
      let layout = try PhysicalLayout.flat(ramBytes: 4 << 30)
      for era in [Era.classic, .mask] {
        print("== era \(era.rawValue)")
        switch era {
        case .classic: try demo(Machine<ClassicEncoding>(MachineConfig(layout: layout, era: era)))
        default: try demo(Machine<MaskEncoding>(MachineConfig(layout: layout, era: era)))
        }
        print("")
      }
    }

    func demo<E: CompoundEncoding>(_ m: Machine<E>) {
      print(CensusText.render(m.census()))
      guard let folio = m.allocFolio(order: 9) else { print("no order-9 folio could be allocated"); return }
      let tail = folio.pfn + 5
      let tailAddress = m.page(tail)
      let info: UInt64 = m.memmap.load(tailAddress, StructPageLayout.compoundInfo)
      print("")
      print("allocated an order-\(m.folioOrder(folio)) folio (\(m.folioNrPages(folio)) pages) at PFN \(folio.pfn); struct page at 0x\(String(m.page(folio.pfn), radix: 16))")
      print("tail PFN \(tail): struct page at 0x\(String(tailAddress, radix: 16)), compound_info = 0x\(String(info, radix: 16))")
      print("compound_head(tail) = PFN \(m.compoundHead(tail)); PageTail = \(m.isTail(tail)); kpageflags = 0x\(String(m.kpageflags(tail), radix: 16))")
      m.folioPut(folio)
    }
  }
}
