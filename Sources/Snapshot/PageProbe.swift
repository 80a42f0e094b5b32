import PageModel

/// One PFN of a snapshot read for `explain`: its word and extent, and the situation a
/// model machine needs to reproduce it.
public struct PageProbe: Sendable {
  public var extent: PageExtent
  public var situation: PageSituation

  public static func read(_ s: PageSnapshot, pfn: Int) throws -> PageProbe {
    let e = try PageClassifier.extent(of: pfn, in: s)
    let kind: FolioKind = e.word & KPF.anon.mask != 0 ? .anon : .file
    let situation: PageSituation
    switch e.kind {
    case .hugetlb(let head, let order, let hvo): situation = .hugetlb(head: PFN(head), order: order, hvo: hvo)
    case .folio(let head, let order): situation = .folio(head: PFN(head), order: order, kind: kind)
    // A compound page whose run was irregular is left as booted, not made order 0.
    case .single where e.pageClass.isUserFolio && e.word & PageClassifier.compoundMask == 0:
      situation = .folio(head: PFN(pfn), order: 0, kind: kind)
    case .single: situation = .asBooted
    }
    return PageProbe(extent: e, situation: situation)
  }
}
