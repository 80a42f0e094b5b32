/// One page of a model machine explained: its struct page bytes with field names, the
/// decode of `compound_info` or the memdesc word, its head and folio, and the vmemmap
/// mapping behind it (virtual address, frame, writable, shared).
public struct PageExplanation: Sendable {
  public struct Field: Sendable, Equatable {
    public var offset: Int
    public var size: Int
    public var name: String
    public var value: UInt64
  }

  public var era: Era
  public var pfn: PFN
  /// Kernel: `pfn_to_page(pfn)`, the struct page's vmemmap virtual address.
  public var structPageAddress: UInt64
  /// The struct page as read through the vmemmap.
  public var bytes: [UInt8]
  public var fields: [Field]
  /// The decode, step by step, as the kernel does it.
  public var decode: [String]
  /// `compound_head()` (64-byte eras and bare memdesc pages); nil when it is a BUG.
  public var head: PFN?
  public var folio: PFN?
  public var folioOrder: Int?
  public var folioFlags: [String]
  /// The vmemmap PTE that maps the struct page.
  public var frame: PFN
  public var writable: Bool
  /// Vmemmap pages (PTEs) that map the same frame.
  public var frameMappedBy: Int
  /// What the frame is: the page's own, the head's (aliased), a shared tail frame, ...
  public var frameRole: String

  /// The `size`-byte little-endian field at `offset` of a struct page's bytes.
  static func littleEndian(_ bytes: [UInt8], _ offset: Int, _ size: Int) -> UInt64 {
    (0..<size).reduce(0) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }
  }
}

extension Machine {
  /// The PTE mapping the struct page of `pfn`, how many PTEs map its frame, and the
  /// frame's role as far as the vmemmap shows it.
  func vmemmapFacts(_ pfn: PFN, headPFN: PFN?) -> (frame: PFN, writable: Bool, mappedBy: Int, role: String) {
    let address = memmap.address(of: pfn)
    let pte = memmap.pte(at: address) ?? VmemmapPTE(rawValue: 0)
    var mappedBy = 0
    for i in 0..<vmemmapTable.count where vmemmapTable.entries[i].isPresent && vmemmapTable.entries[i].frame == pte.frame { mappedBy += 1 }
    let ownIndex = Int((address &- memmap.base) >> UInt64(Kernel.pageShift))
    var role: String
    if let key = hugetlb.vmemmapTails.first(where: { $0.value == pte.frame })?.key {
      role = "the shared read-only tail frame of zone \(zones[key.zone].type) order \(key.order) (64 identical tail struct pages)"
    } else if let headPFN, headPFN != pfn, let hp = memmap.pte(at: memmap.address(of: headPFN)), hp.frame == pte.frame,
      Int((memmap.address(of: headPFN) &- memmap.base) >> UInt64(Kernel.pageShift)) != ownIndex {
      role = "the head's frame: this vmemmap page is a read-only alias of the head's vmemmap page (HVO)"
    } else if mappedBy > 1 {
      role = "a read-only frame shared by the folio's vmemmap pages (HVO)"
    } else {
      role = "its own frame"
    }
    if !pte.isWritable && mappedBy == 1 { role += " (read-only)" }
    return (pte.frame, pte.isWritable, mappedBy, role)
  }
}

extension Machine where Format: CompoundEncoding {
  /// Explains one page of a 64-byte-era machine.
  public func explain(_ pfn: PFN) -> PageExplanation {
    let address = memmap.address(of: pfn)
    let bytes = memmap.bytes(ofPageAt: address)
    func word(_ o: Int, _ size: Int) -> UInt64 { PageExplanation.littleEndian(bytes, o, size) }
    let fields = StructPageLayout.fields.map { PageExplanation.Field(offset: $0.offset, size: $0.size, name: $0.name, value: word($0.offset, $0.size)) }
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
    let v = vmemmapFacts(pfn, headPFN: head)
    return PageExplanation(era: era, pfn: pfn, structPageAddress: address, bytes: bytes, fields: fields, decode: d, head: head, folio: f?.pfn,
                           folioOrder: f.map { folioOrder($0) }, folioFlags: folioFlags, frame: v.frame, writable: v.writable, frameMappedBy: v.mappedBy, frameRole: v.role)
  }
}

extension Machine where Format: MemdescFormat {
  /// Explains one page of a memdesc-era machine.
  public func explain(_ pfn: PFN) -> PageExplanation {
    let address = memmap.address(of: pfn)
    let bytes = memmap.bytes(ofPageAt: address)
    func word(_ o: Int, _ size: Int) -> UInt64 { PageExplanation.littleEndian(bytes, o, size) }
    let layout: [(Int, Int, String)] = Format.hasPageFlags
      ? [(0, 8, "flags"), (8, 8, "memdesc / buddy_list.next"), (16, 8, "private / _mapcount / buddy_list.prev"), (24, 4, "_refcount"), (28, 4, "(padding)")]
      : [(0, 8, "memdesc")]
    let fields = layout.map { PageExplanation.Field(offset: $0.0, size: $0.1, name: $0.2, value: word($0.0, $0.1)) }
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
      if dptr.load(fromByteOffset: MemdescFolioLayout.hugetlbPrivate, as: UInt64.self) & MemdescFolioLayout.hugetlbFolio != 0 && folioOrder(f) > 0 {
        folioFlags.append("(hugetlb" + (hugetlb.optimized.contains(f.pfn) ? ", HVO-optimised)" : ")"))
      }
      d.append("page_folio(): the descriptor's pfn field = \(hex(f.pfn.rawValue)); order \(folioOrder(f)) from the descriptor")
    }
    let v = vmemmapFacts(pfn, headPFN: f?.pfn ?? head)
    return PageExplanation(era: era, pfn: pfn, structPageAddress: address, bytes: bytes, fields: fields, decode: d, head: head, folio: f?.pfn,
                           folioOrder: f.map { folioOrder($0) }, folioFlags: folioFlags, frame: v.frame, writable: v.writable, frameMappedBy: v.mappedBy, frameRole: v.role)
  }
}
