import ArgumentParser
import PageModel
import Render

extension Memdesc {
  struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "A built-in demonstration: one folio in each of the four eras, its bytes, its head, its cost.",
      discussion: helpDiscussion(
        """
        Shows in a minute what the eras differ in, on model machines (never this host): \
        it boots a 4 GiB machine in each era, allocates an order-9 anonymous folio, reads \
        the struct page of its sixth page through the vmemmap, decodes its head and folio, \
        and prints what the memmap and the descriptors cost.
        """,
        terms: [.era, .pfn, .page, .vmemmap, .folio, .order],
        examples: ["memdesc demo"]))

    func run() throws {
      print("memdesc demo: a built-in demonstration on model machines, not a reading of this host.\n")
      let layout = try PhysicalLayout.flat(ramBytes: 4 << 30)
      for era in Era.allCases {
        print("== era \(era.rawValue): struct page \(era.structPageBytes) bytes")
        try demo(bootModel(MachineConfig(layout: layout, era: era)))
        print("")
      }
      print("Try: memdesc simulate --ram 16G --workload anon-thp; memdesc hvo --ram 8G --era classic --hugepages 2M:1000 --optimize")
    }

    func demo<M: MemoryModel>(_ m: M) {
      guard let folio = m.allocFolio(order: 9, kind: .anon) else { print("no order-9 folio could be allocated"); return }
      let tail = folio.pfn + 5
      let bytes = m.structPageBytes(tail)
      let words = stride(from: 0, to: bytes.count, by: 8).map { i in
        (0..<8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[i + $1]) }
      }
      print("4 GiB machine, memmap \(m.memmapFrames) frames; an order-9 anonymous folio at PFN \(folio.pfn)")
      print("tail PFN \(tail): struct page at 0x\(String(m.structPageAddress(tail), radix: 16)) reads " + words.map { "0x" + String($0, radix: 16) }.joined(separator: " "))
      do {
        let head = try m.compoundHead(tail)
        print("compound_head(tail) = PFN \(head)")
      } catch {
        print("compound_head(tail): \(error)")
      }
      print("page_folio(tail) = \(m.folio(containing: tail).map(\.description) ?? "nil"); folio order \(m.folioOrder(folio)), refcount \(m.folioRefCount(folio))")
      let cost = m.cost()
      print("cost now: memmap \(Fmt.bytes(cost.memmapBytes)), descriptors \(Fmt.bytes(cost.descriptorBytes))")
      m.folioPut(folio)
    }
  }
}
