extension MemdescModel {
  /// Explains one page: its struct page bytes, the memdesc word's decode, its folio.
  public func explain(_ pfn: PFN) -> PageExplanation {
    let address = memmap.address(of: pfn)
    let bytes = memmap.bytes(ofPageAt: address)
    func word(_ o: Int, _ size: Int) -> UInt64 { PageExplanation.littleEndian(bytes, o, size) }
    let fields = PageExplanation.fields(Format.Layout.fields, bytes)
    let w = word(Format.memdescOffset, 8)
    let type = Format.type(of: w)
    var d: [String] = []
    d.append("memdesc word \(hex(w)): type bits \(w & MemdescType.mask) = \(type)")
    switch type {
    case .anon, .file, .slab, .pageTable, .ksm, .movable, .netPool, .perCPU, .hwPoison:
      let desc = w & ~MemdescType.mask
      let (dp, off) = DirectMap.location(desc)
      d.append("descriptor at \(hex(desc)) (direct map: frame \(dp.rawValue) + \(off))")
    case .buddy:
      if let o = Format.buddyOrder(memmap, address) { d.append("a free block of order \(o) starts here") } else { d.append("inside a free block") }
    case .misc:
      let sub = MiscSubtype(rawValue: (w >> MiscWord.subtypeShift) & 0x7f)
      d.append("Misc page: subtype \(sub.map { "\($0)" } ?? "?"), order \((w >> MiscWord.orderShift) & 0x3f) (inline, no descriptor)")
    }
    let head: PFN? = try? compoundHead(pfn)
    let f = pageFolio(pfn)
    var folioFlags: [String] = []
    if let f {
      folioFlags = MemFlag.allCases.filter { $0.home == .folio && folioTest(f, $0) }.map { "\($0)" }
      let dptr = folioPointer(f)
      if isHugetlbDescriptor(dptr) {
        folioFlags.append("(hugetlb" + (hugetlb.optimized.contains(f.pfn) ? ", HVO-optimised)" : ")"))
      }
      d.append("page_folio(): the descriptor's pfn field = \(hex(f.pfn.rawValue)); order \(folioOrder(f)) from the descriptor")
    }
    let v = machine.vmemmapFacts(pfn, headPFN: f?.pfn ?? head)
    return PageExplanation(era: era, pfn: pfn, structPageAddress: address, bytes: bytes, fields: fields, decode: d, head: head, folio: f?.pfn,
                           folioOrder: f.map { folioOrder($0) }, folioFlags: folioFlags, frame: v.frame, writable: v.writable, frameMappedBy: v.mappedBy, frameRole: v.role)
  }
}
