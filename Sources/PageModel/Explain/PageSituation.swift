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
    try bootModel(config).explainSituation(pfn, situation)
  }
}

func sizeName(_ order: Int) -> String { ByteSize.human(UInt64(Kernel.pageSize) << UInt64(order)) }

extension MemoryModel {
  /// Builds the situation through the one API (at its PFN when the pages there are free
  /// in the model, elsewhere otherwise) and explains the page.
  func explainSituation(_ pfn: PFN, _ s: PageSituation) throws -> ExplainResult {
    guard pfnValid(pfn) else { throw MachineError.invalidPFN(pfn) }
    let head: PFN, order: Int, what: String
    var folio: Folio?
    switch s {
    case .asBooted:
      return ExplainResult(explanation: explain(pfn), reproduced: "the page as the model machine boots", pfn: pfn)
    case .folio(let h, let o, let kind):
      (head, order) = (h, o)
      folio = placeFolio(at: head, order: order, kind: kind)
      let placed = folio != nil
      if folio == nil { folio = allocFolio(order: order, kind: kind) }
      guard let folio else { throw MachineError.outOfMemory("a folio of order \(order)", era: era) }
      what = placed ? "a \(kind) folio of order \(order) (\(sizeName(order)))" : "a \(kind) folio of order \(order)"
      _ = folio
    case .hugetlb(let h, let o, let hvo):
      (head, order) = (h, o)
      setHugetlbOptimizeVmemmap(hvo)
      folio = placeHugetlbFolio(at: head, order: order)
      if folio == nil, setNrHugePages(order: order, count: 1) == 1 { folio = hugetlbFolios(order: order).first?.folio }
      guard let f = folio else { throw MachineError.outOfMemory("a \(sizeName(order)) HugeTLB page", era: era) }
      let optimisable = !hvo || hugetlb.optimized.contains(f.pfn)
      what = "a \(sizeName(order)) HugeTLB page \(hvo ? "with" : "without") HVO\(optimisable ? "" : " (not optimisable in this era)")"
    }
    let placedAt = folio!.pfn
    let p = placedAt + Int(pfn.rawValue &- head.rawValue)
    let whereText = placedAt == head
      ? "at PFN \(hex(head.rawValue)), the PFN given"
      : "at PFN \(hex(placedAt.rawValue)) (PFN \(hex(head.rawValue)) is not free in the model: it holds the model's memmap); explained the same page of it, PFN \(hex(p.rawValue))"
    return ExplainResult(explanation: explain(p), reproduced: what + " " + whereText, pfn: p)
  }
}
