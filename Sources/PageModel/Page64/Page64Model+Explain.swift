extension Page64Model {
  /// Explains one page: its struct page bytes, the `compound_info` decode, its head.
  public func explain(_ pfn: PFN) -> PageExplanation {
    let address = memmap.address(of: pfn)
    let bytes = memmap.bytes(ofPageAt: address)
    func word(_ o: Int, _ size: Int) -> UInt64 { PageExplanation.littleEndian(bytes, o, size) }
    let fields = PageExplanation.fields(StructPageLayout.fields, bytes)
    let flags = word(StructPageLayout.flags, 8), info = word(StructPageLayout.compoundInfo, 8)
    var d: [String] = []
    let flagNames = PageFlag.allCases.filter { flags & $0.mask != 0 }.map { "PG_\($0)" }
    d.append("flags \(hex(flags)): " + (flagNames.isEmpty ? "no PG_ bits" : flagNames.joined(separator: " ")) + " (zone/node bits above)")
    let raw = Format.head(ofPageAt: address, info: info)
    if info & 1 != 0 {
      if Format.hvoAliasesHead {
        d.append("compound_info \(hex(info)): bit 0 set, a tail; head = info - 1 = \(hex(info &- 1)) = PFN \(hex(memmap.pfn(ofPageAt: raw).rawValue))")
      } else {
        d.append("compound_info \(hex(info)): bit 0 set, a tail; mask = \(hex(info & ~1)) (GENMASK(63, order + 6): order \((info & ~1).trailingZeroBitCount - 6)); head = page & mask = \(hex(address)) & \(hex(info)) = \(hex(raw)) = PFN \(hex(memmap.pfn(ofPageAt: raw).rawValue))")
      }
    } else {
      d.append("compound_info \(hex(info)): bit 0 clear, not a tail: _compound_head() returns the page itself")
    }
    let head = compoundHead(pfn)
    if Format.hvoAliasesHead && flags & PageFlag.head.mask != 0 && head != pfn {
      let next: UInt64 = memmap.load(address &+ UInt64(Kernel.structPageSize), StructPageLayout.compoundInfo)
      d.append("PG_head read at the start of a vmemmap page that aliases the head's frame: a fake head")
      d.append("page_fixed_fake_head(): page[1].compound_info = \(hex(next)), bit 0 set, so the real head is \(hex(next &- 1)) = PFN \(hex(head.rawValue)) (the corrected head)")
    }
    let f = folio(containing: pfn)
    var folioFlags: [String] = []
    if let f {
      let hf: UInt64 = memmap.load(page(f.pfn), StructPageLayout.flags)
      folioFlags = PageFlag.allCases.filter { hf & $0.mask != 0 }.map { "PG_\($0)" }
      let type: UInt32 = memmap.load(page(f.pfn), StructPageLayout.mapcount)
      if PageType.of(type) == .hugetlb { folioFlags.append("(page_type hugetlb" + (hugetlb.optimized.contains(f.pfn) ? ", HVO-optimised)" : ")")) }
    }
    let v = machine.vmemmapFacts(pfn, headPFN: head)
    return PageExplanation(era: era, pfn: pfn, structPageAddress: address, bytes: bytes, fields: fields, decode: d, head: head, folio: f?.pfn,
                           folioOrder: f.map { folioOrder($0) }, folioFlags: folioFlags, frame: v.frame, writable: v.writable, frameMappedBy: v.mappedBy, frameRole: v.role)
  }
}
