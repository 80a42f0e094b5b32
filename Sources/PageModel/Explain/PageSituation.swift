/// What a page is in, to be reproduced in a model machine before it is explained: the
/// same folio or HugeTLB page at the same PFN where the model's free memory allows.
public enum PageSituation: Sendable, Equatable {
  /// The page as the machine boots (free, or memmap when the PFN holds struct pages).
  case asBooted
  case folio(head: PFN, order: Int, kind: FolioKind)
  case hugetlb(head: PFN, order: Int, hvo: Bool)
}

/// An explanation and what was reproduced to get it.
public struct ExplainResult: Sendable {
  public var explanation: PageExplanation
  /// One sentence: what was built, where, and whether it is where the original was.
  public var reproduced: String
  /// The PFN explained (the asked PFN, or the same offset in a page placed elsewhere).
  public var pfn: PFN
}

/// Boots a model machine, reproduces a situation and explains a page in it.
public enum PageExplainer {
  public static func explain(pfn: PFN, config: MachineConfig, situation: PageSituation) throws -> ExplainResult {
    switch config.era {
    case .classic: return try Machine<ClassicEncoding>(config).explainSituation(pfn, situation)
    case .mask: return try Machine<MaskEncoding>(config).explainSituation(pfn, situation)
    case .memdesc32: return try Machine<Memdesc32Format>(config).explainSituation(pfn, situation)
    case .memdesc8: return try Machine<Memdesc8Format>(config).explainSituation(pfn, situation)
    }
  }
}

func sizeName(_ order: Int) -> String { ByteSize.human(UInt64(Kernel.pageSize) << UInt64(order)) }

extension Machine {
  /// Takes the free range of a folio at `head`; false if any page of it is not free in
  /// one zone of the model.
  func takeFolioRange(_ head: PFN, order: Int) -> Bool {
    let range = head..<(head + (1 << order))
    guard pfnValid(head), pfnValid(head + ((1 << order) - 1)) else { return false }
    drainAllPages()
    return takeFreeRange(range, zone: zoneIndex(of: head))
  }
}

extension Machine where Format: CompoundEncoding {
  func explainSituation(_ pfn: PFN, _ s: PageSituation) throws -> ExplainResult {
    guard pfnValid(pfn) else { throw MachineError.invalidPFN(pfn) }
    switch s {
    case .asBooted:
      return ExplainResult(explanation: explain(pfn), reproduced: "the page as the model machine boots", pfn: pfn)
    case .folio(let head, let order, let kind):
      if takeFolioRange(head, order: order) {
        memmap.set(page(head), StructPageLayout.refcount, UInt32(1))
        if order > 0 {
          prepCompoundPage(head, order: order)
          let flags1: UInt64 = memmap.load(page(head + 1), StructPageLayout.flags)
          memmap.set(page(head + 1), StructPageLayout.flags, flags1 | PageFlag.largeRmappable.mask)
        }
        memmap.set(page(head), StructPageLayout.mapping, kind == .anon ? Machine.anonMapping : Machine.fileMapping)
        return ExplainResult(explanation: explain(pfn), reproduced: "a \(kind) folio of order \(order) (\(sizeName(order))) at PFN \(hex(head.rawValue)), the PFN given", pfn: pfn)
      }
      guard let f = allocFolio(order: order, kind: kind) else { throw MachineError.notImplemented("a folio of order \(order) (no free memory)", era: era) }
      let p = f.pfn + Int(pfn.rawValue &- head.rawValue)
      return ExplainResult(explanation: explain(p), reproduced: "a \(kind) folio of order \(order) at PFN \(hex(f.pfn.rawValue)) (PFN \(hex(head.rawValue)) is not free in the model: it holds the model's memmap); explained the same page of it, PFN \(hex(p.rawValue))", pfn: p)
    case .hugetlb(let head, let order, let hvo):
      hugetlb.optimizeVmemmap = hvo
      var folio: Folio
      var placed = true
      if takeFolioRange(head, order: order) {
        memmap.set(page(head), StructPageLayout.refcount, UInt32(1))
        prepCompoundPage(head, order: order)
        memmap.set(page(head), StructPageLayout.refcount, UInt32(0))
        memmap.set(page(head), StructPageLayout.mapcount, PageType.hugetlb.word)
        folio = Folio(pfn: head)
        if hvo { _ = hugetlbVmemmapOptimizeFolio(folio) }
        if let h = hugetlb.index(ofOrder: order) { hugetlb.hstates[h].folios.append(folio) }
      } else {
        placed = false
        guard setNrHugePages(order: order, 1) == 1, let f = hugetlb.hstates[hugetlb.index(ofOrder: order)!].folios.first else {
          throw MachineError.notImplemented("a \(sizeName(order)) HugeTLB page (no free memory)", era: era)
        }
        folio = f
      }
      return hugetlbResult(pfn, head: head, folio: folio, order: order, hvo: hvo, placed: placed) { explain($0) }
    }
  }
}

extension Machine {
  func hugetlbResult(_ pfn: PFN, head: PFN, folio: Folio, order: Int, hvo: Bool, placed: Bool, _ explain: (PFN) -> PageExplanation) -> ExplainResult {
    let p = folio.pfn + Int(pfn.rawValue &- head.rawValue)
    let what = "a \(sizeName(order)) HugeTLB page \(hvo ? "with" : "without") HVO\(hvo && !hugetlb.optimized.contains(folio.pfn) ? " (not optimisable in this era)" : "")"
    let whereText = placed
      ? "at PFN \(hex(head.rawValue)), the PFN given"
      : "at PFN \(hex(folio.pfn.rawValue)) (PFN \(hex(head.rawValue)) is not free in the model: it holds the model's memmap); explained the same page of it, PFN \(hex(p.rawValue))"
    return ExplainResult(explanation: explain(p), reproduced: what + " " + whereText, pfn: p)
  }
}

extension Machine where Format: MemdescFormat {
  func explainSituation(_ pfn: PFN, _ s: PageSituation) throws -> ExplainResult {
    guard pfnValid(pfn) else { throw MachineError.invalidPFN(pfn) }
    switch s {
    case .asBooted:
      return ExplainResult(explanation: explain(pfn), reproduced: "the page as the model machine boots", pfn: pfn)
    case .folio(let head, let order, let kind):
      if let desc = descriptorAlloc(order == 0 ? .folio : .largeFolio) {
        if takeFolioRange(head, order: order) {
          initFolio(desc, pfn: head, order: order, kind: kind)
          return ExplainResult(explanation: explain(pfn), reproduced: "a \(kind) folio of order \(order) (\(sizeName(order))) at PFN \(hex(head.rawValue)), the PFN given", pfn: pfn)
        }
        descriptorFree(desc)
      }
      guard let f = allocFolio(order: order, kind: kind) else { throw MachineError.notImplemented("a folio of order \(order) (no free memory)", era: era) }
      let p = f.pfn + Int(pfn.rawValue &- head.rawValue)
      return ExplainResult(explanation: explain(p), reproduced: "a \(kind) folio of order \(order) at PFN \(hex(f.pfn.rawValue)) (PFN \(hex(head.rawValue)) is not free in the model); explained the same page of it, PFN \(hex(p.rawValue))", pfn: p)
    case .hugetlb(let head, let order, let hvo):
      hugetlb.optimizeVmemmap = hvo
      var folio: Folio
      var placed = false
      if let desc = descriptorAlloc(.largeFolio) {
        if takeFolioRange(head, order: order) {
          initFolio(desc, pfn: head, order: order, kind: .file)
          let d = descriptorPointer(desc)
          d.storeBytes(of: UInt32(0), toByteOffset: MemdescFolioLayout.refcount, as: UInt32.self)
          d.storeBytes(of: MemdescFolioLayout.hugetlbFolio, toByteOffset: MemdescFolioLayout.hugetlbPrivate, as: UInt64.self)
          placed = true
        } else {
          descriptorFree(desc)
        }
      }
      if placed {
        folio = Folio(pfn: head)
        if hvo { hugetlbVmemmapOptimizeFolio(folio) }
        if let h = hugetlb.index(ofOrder: order) { hugetlb.hstates[h].folios.append(folio) }
      } else {
        guard setNrHugePages(order: order, 1) == 1, let f = hugetlb.hstates[hugetlb.index(ofOrder: order)!].folios.first else {
          throw MachineError.notImplemented("a \(sizeName(order)) HugeTLB page (no free memory)", era: era)
        }
        folio = f
      }
      return hugetlbResult(pfn, head: head, folio: folio, order: order, hvo: hvo, placed: placed) { explain($0) }
    }
  }
}
