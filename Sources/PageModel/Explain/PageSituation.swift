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
      guard let folio else { throw MachineError.outOfMemory("a folio of order \(order) (\(placementObstacle(head: head, order: order)))", era: era) }
      let article = kind == .anon ? "an" : "a"
      what = placed ? "\(article) \(kind) folio of order \(order) (\(sizeName(order)))" : "\(article) \(kind) folio of order \(order)"
      _ = folio
    case .hugetlb(let h, let o, let hvo):
      (head, order) = (h, o)
      setHugetlbOptimizeVmemmap(hvo)
      folio = placeHugetlbFolio(at: head, order: order)
      if folio == nil, setNrHugePages(order: order, count: 1) == 1 { folio = hugetlbFolios(order: order).first?.folio }
      guard let f = folio else {
        throw MachineError.outOfMemory("a \(sizeName(order)) HugeTLB page (\(placementObstacle(head: head, order: order)); nowhere else either)", era: era)
      }
      let optimisable = !hvo || hugetlb.optimized.contains(f.pfn)
      what = "a \(sizeName(order)) HugeTLB page \(hvo ? "with" : "without") HVO\(optimisable ? "" : " (not optimisable in this era)")"
    }
    let placedAt = folio!.pfn
    let p = placedAt + Int(pfn.rawValue &- head.rawValue)
    let whereText = placedAt == head
      ? "at PFN \(hex(head.rawValue)), the PFN given"
      : "at PFN \(hex(placedAt.rawValue)) (not at PFN \(hex(head.rawValue)): \(placementObstacle(head: head, order: order))); explained the same page of it, PFN \(hex(p.rawValue))"
    return ExplainResult(explanation: explain(p), reproduced: what + " " + whereText, pfn: p)
  }
}

extension MemoryModel {
  /// Why 2^order pages at `head` cannot be taken as one block in the model, in words:
  /// not all RAM, across a zone boundary (a block, like `alloc_contig_range()`'s range,
  /// lies in one zone), on the model's own memmap, or in use.
  func placementObstacle(head: PFN, order: Int) -> String {
    let count = UInt64(1) << UInt64(order)
    let (last, overflow) = head.rawValue.addingReportingOverflow(count - 1)
    let range = "PFNs \(hex(head.rawValue))-\(overflow ? "beyond" : hex(last))"
    guard !overflow, pfnValid(head), pfnValid(PFN(last)),
      layout.ram.contains(where: { $0.contains(head) && $0.contains(PFN(last)) })
    else { return "\(range) are not all RAM in the model" }
    let first = machine.zoneIndex(of: head), end = machine.zoneIndex(of: PFN(last))
    if first != end {
      return "\(range) span zones \(machine.zones[first].name) and \(machine.zones[end].name); a huge page or folio lies in one zone"
    }
    let block = head..<PFN(last + 1)
    if machine.memmapFrameRanges.contains(where: { $0.overlaps(block) }) {
      return "\(range) hold some of the model's memmap"
    }
    return "\(range) are not all free in the model"
  }
}
