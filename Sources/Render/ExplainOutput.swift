import PageModel
import Snapshot

extension PageExplanation {
  /// The explanation as text lines, as `memdesc explain` prints them.
  public var text: String {
    var out = ""
    func line(_ s: String = "") { out += s + "\n" }
    line("era \(era.rawValue) (\(bytes.count)-byte struct page), PFN \(hex(pfn.rawValue))")
    line("  struct page at vmemmap \(hex(structPageAddress)): PTE frame \(frame.rawValue) (\(hex(frame.rawValue))), \(writable ? "writable" : "read-only"), mapped by \(frameMappedBy) vmemmap page\(frameMappedBy == 1 ? "" : "s"): \(frameRole)")
    line("  bytes:")
    for f in fields {
      let slice = bytes[f.offset..<min(bytes.count, f.offset + f.size)]
      let dump = slice.map { hexDigits($0, minimumDigits: 2) }.joined(separator: " ")
      line("    +\(String(f.offset).leftPadded(2))  \(dump.rightPadded(23))  \(f.name.rightPadded(38)) = \(hex(f.value))")
    }
    line("  decode:")
    for d in decode { line("    \(d)") }
    line("  head:  \(head.map { hex($0.rawValue) } ?? "none (compound_head() is a BUG for an owned page in this era)")")
    if let folio {
      line("  folio: \(hex(folio.rawValue)), order \(folioOrder ?? 0) (\(1 << (folioOrder ?? 0)) pages)" + (folioFlags.isEmpty ? "" : ", flags " + folioFlags.joined(separator: " ")))
    } else {
      line("  folio: none (the page is in no folio)")
    }
    return out
  }
}

/// The lines `memdesc explain` prints before each era's explanation.
public enum ExplainOutput {
  /// `PFN ... in SOURCE: kpageflags ... (FLAGS): CLASS[; the folio or HugeTLB page]`.
  public static func probe(_ p: PageProbe, origin: String) -> String {
    let e = p.extent, w = e.word
    let names = KPF.allCases.filter { w & $0.mask != 0 }.map { "\($0)" }
    var out = "PFN \(hex(e.pfn)) in \(origin): kpageflags \(hex(w)) (\(names.isEmpty ? "no flags" : names.joined(separator: " "))): "
    out += w == 0 ? "reads 0 (hole, uninitialised, or a kernel page without flags)" : MapClass.of(w).label
    switch e.kind {
    case .hugetlb(let h, let order, let hvo):
      out += "; a \(order == Hstate.pmd ? "2 MiB" : "1 GiB") HugeTLB page at PFN \(hex(h)) (offset \(e.pfn - h))" + (hvo ? ", HVO-optimised (fake heads every 64 PFNs)" : "")
    case .folio(let h, let order):
      let kind: FolioKind = w & KPF.anon.mask != 0 ? .anon : .file
      out += "; \(kind == .anon ? "an" : "a") \(kind) folio of order \(order) at PFN \(hex(h))"
    case .single: break
    }
    return out + "\n"
  }

  public static func modelMachine(_ physical: PhysicalLayout) -> String {
    "model machine: the snapshot's RAM (\(Fmt.bytes(physical.ramBytes)), \(physical.ram.count) range\(physical.ram.count == 1 ? "" : "s"))\n"
  }

  public static func modelMachine(ramBytes: UInt64, layout: String) -> String { "model machine: \(Fmt.bytes(ramBytes)) \(layout)\n" }

  /// The RAM ranges, for the error when the PFN is not RAM.
  public static func ram(_ physical: PhysicalLayout) -> String { physical.ram.map(Fmt.range).joined(separator: ", ") }

  public static func result(_ r: ExplainResult) -> String { "\nreproduced: \(r.reproduced)\n" + r.explanation.text }
}
