import PageModel
import Snapshot

/// `memdesc analyze`: text, CSV and JSON of a snapshot analysis.
public enum AnalysisOutput {
  public static func text(_ a: SnapshotAnalysis) -> String {
    let c = a.census
    func pages(_ n: Int) -> String { Fmt.pages(n, pageSize: a.pageSize) }
    var out = ""
    func line(_ s: String = "") { out += s + "\n" }
    line("source          \(a.source)")
    line("kernel release  \(a.kernelRelease ?? "unknown")")
    line("decoded as      \(decodeLine(c.kernel))")
    let g = Fmt.group
    line("PFNs            \(g(c.pfns)); RAM \(c.ramKnown ? "" : "(unknown: non-zero sections) ")\(pages(c.ramPFNs)) in \(c.ramSections) sections; holes \(g(c.holePFNs)) PFNs")
    line("read zero       \(g(c.zeroRAMPFNs)) RAM PFNs: \(g(c.zeroSectionRAMPFNs)) in \(c.zeroRAMSections) all-zero sections\(zeroCauses(c)), \(g(c.noFlagRAMPFNs)) allocated without flags or on per-CPU lists")
    for (i, l) in freeLines(a.free, pageSize: a.pageSize).enumerated() { line((i == 0 ? "free" : "").rightPadded(16) + l) }
    line()
    line("census")
    line("  free (BUDDY)  \(pages(c.buddyPages))" + (c.buddyBlocks.map { "; buddyinfo blocks per order \($0.map(String.init).joined(separator: " "))" } ?? ""))
    line("  slab          \(pages(c.slabPages)) in \(g(c.slabs.values.reduce(0, +))) slabs (by order \(c.slabs.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")))")
    line("  page tables   \(pages(c.pgtablePages))")
    line("  reserved      \(pages(c.reservedPages)); zero page \(c.zeroPagePages); offline \(c.offlinePages)")
    for h in c.hugetlb {
      line("  hugetlb \(h.name.rightPadded(10)) \(g(h.folios)) huge pages (\(g(h.optimized)) with HVO)" + (h.poolPages.map { "; pool nr_hugepages \($0)" } ?? ""))
    }
    if c.hugetlbHeadPFNs > 0 { line("  hugetlb heads \(g(c.hugetlbHeadPFNs)) COMPOUND_HEAD PFNs, \(g(c.hvoFakeHeadsCorrected)) fake (HVO) corrected") }
    line("  folios        kind        folios      pages       by order")
    for kind in CensusFolioKind.allCases {
      let orders = Fmt.orders(c.folios[kind] ?? [:])
      guard !orders.isEmpty else { continue }
      line("                \(kind.rawValue.rightPadded(11)) \(g(c.folioCount(kind)).rightPadded(11)) \(g(c.folioPages(kind)).rightPadded(11)) \(orders)")
    }
    line()
    out += MapcountOutput.text(a.mapcounts)
    line()
    line("memmap of the real machine (vmstat nr_memmap_boot_pages + nr_memmap_pages): " + (a.vmstatMemmapPages.map { pages($0) } ?? "not in this snapshot"))
    line("projection on \(Fmt.bytes(a.layout.ramBytes)) of RAM, \(a.layout.presentSections.count) present sections")
    line("  \(EraTable.header)   total if all HugeTLB had HVO")
    for (e, all) in zip(a.eras, a.erasAllHVO) {
      line("  " + EraTable.row(e) + Fmt.percentValue(e.overheadPercent).rightPadded(10) + " " + Fmt.bytes(all.totalOverheadBytes))
    }
    if let e = a.eras.first, e.pageExtFrames > 0 {
      let share = a.layout.ramBytes == 0 ? 0 : Double(e.pageExtBytes) * 100 / Double(a.layout.ramBytes)
      line("  page_ext in every era: \(g(e.pageExtFrames)) frames = \(Fmt.bytes(e.pageExtBytes)) (\(Fmt.percent(share)) of RAM), \(a.pageExt.entryBytes) bytes a page for \(a.pageExt.spelling); not in the totals")
    }
    line()
    line("cross-checks")
    // One column for every name ("nr_hugepages 1048576kB" included).
    let nameWidth = a.crosschecks.map(\.name.count).max() ?? 0
    for x in a.crosschecks {
      let after = x.kernelAfter.map { $0 != x.kernel ? " (after: \(g($0)))" : "" } ?? ""
      line("  \(x.name.rightPadded(nameWidth)) census \(g(x.census)) \(x.unit), kernel \(g(x.kernel))\(after) \(x.unit): \(x.status)\(x.exact ? "" : " (not an exact check)")")
      if !x.agree { line("      \(x.note)") }
    }
    if a.crosschecks.isEmpty { line("  none: the snapshot has no meminfo, vmstat, hugepages or buddyinfo") }
    let notes = a.notes
    if !notes.isEmpty {
      line()
      line("notes")
      for n in notes { line("  - \(n)") }
    }
    return out
  }

  /// How kpageflags were read: the kernel and what it can show.
  public static func decodeLine(_ k: KernelDecode) -> String {
    "\(k) (HVO fake heads \(k.showsFakeHeads ? "shown, corrected" : "not shown")"
      + "; a PFN without a struct page reads \(k.marksNoPage ? "NOPAGE" : "0")"
      + "; KPF_THP \(k.thpMeansLargeRmappable ? "any large rmappable folio" : "compound page on the LRU or anonymous")"
      + "; struct-page init \(k.defersStructPageInit ? "deferred past boot" : "done at boot"))"
  }

  /// The all-zero RAM sections by cause, " (3 deferred init)" or " (2 offline memory, 1
  /// reads zero, cause unknown)"; "" when there are none.
  public static func zeroCauses(_ c: Census) -> String {
    let parts = ZeroSectionCause.allCases.compactMap { cause in c.zeroSectionCauses[cause].map { "\($0.sections) \(cause.label)" } }
    return parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
  }

  /// The cause of all-zero sections in one phrase, for lines that name them: the one
  /// cause's label, or "causes: ..." when they differ.
  public static func zeroCauseLabel(_ causes: [ZeroSectionCause]) -> String {
    causes.count == 1 ? causes[0].label : causes.map(\.label).joined(separator: " / ")
  }

  /// Free memory for the first screen (text and report alike): the free lists beside
  /// MemFree, and where the rest of the free RAM is when kpageflags cannot see it.
  public static func freeLines(_ f: FreeMemory, pageSize: Int) -> [String] {
    func size(_ pages: Int) -> String { Fmt.bytes(UInt64(pages) * UInt64(pageSize)) }
    var first = "\(size(f.buddyPages)) on the free lists (census \(Fmt.group(f.buddyPages)) pages"
    if let b = f.buddyinfoPages { first += ", buddyinfo \(Fmt.group(b))" }
    first += ")"
    guard let memFree = f.memFreePages else { return [first + "; MemFree not in this snapshot"] }
    first += "; MemFree \(size(memFree)) (\(Fmt.group(memFree)) pages)"
    var lines = [first]
    if let off = f.offListPages, off > 0, f.zeroSectionsExplainOffList || f.mostFreeUnseen {
      var second = "\(size(off)) of it on no free list"
      if f.zeroSectionsExplainOffList {
        if f.zeroCauses == [.deferredInit] {
          second += ": in the \(f.zeroSections) sections that read zero (\(size(f.zeroSectionPages)) of RAM), free but with struct pages not initialised yet (deferred init)"
        } else {
          second += ": no more than the \(f.zeroSections) sections that read zero hold (\(size(f.zeroSectionPages)) of RAM; \(zeroCauseLabel(f.zeroCauses)))"
        }
      } else if f.zeroSections > 0 {
        second += "; \(size(f.zeroSectionPages)) of RAM reads zero in \(f.zeroSections) sections (\(zeroCauseLabel(f.zeroCauses)))"
      }
      lines.append(second)
    }
    return lines
  }

  public static func csv(_ a: SnapshotAnalysis) -> String {
    var out = "section,name,value\n"
    let c = a.census
    func row(_ s: String, _ n: String, _ v: String) { out += "\(s),\(n),\(v)\n" }
    row("census", "pfns", String(c.pfns))
    row("census", "ram_pfns", String(c.ramPFNs))
    row("census", "buddy_pages", String(c.buddyPages))
    if let m = a.free.memFreePages { row("meminfo", "memfree_pages", String(m)) }
    row("census", "slab_pages", String(c.slabPages))
    row("census", "pgtable_pages", String(c.pgtablePages))
    row("census", "reserved_pages", String(c.reservedPages))
    row("census", "hvo_fake_heads_corrected", String(c.hvoFakeHeadsCorrected))
    for h in c.hugetlb { row("hugetlb_pages", h.name, String(h.folios)) }
    for kind in CensusFolioKind.allCases {
      for (order, n) in (c.folios[kind] ?? [:]).sorted(by: { $0.key < $1.key }) where n > 0 { row("folios", "\(kind.rawValue):\(order)", String(n)) }
    }
    if let v = a.vmstatMemmapPages { row("vmstat", "memmap_pages", String(v)) }
    for (e, all) in zip(a.eras, a.erasAllHVO) {
      row("era", "\(e.era.rawValue):memmap_bytes", String(e.memmapBytes))
      row("era", "\(e.era.rawValue):descriptor_bytes", String(e.descriptorBytes))
      row("era", "\(e.era.rawValue):hvo_saved_bytes", String(e.hvoSavedBytes))
      row("era", "\(e.era.rawValue):hvo_pte_table_bytes", String(e.hvoPTETableBytes))
      row("era", "\(e.era.rawValue):total_overhead_bytes", String(e.totalOverheadBytes))
      row("era", "\(e.era.rawValue):overhead_percent", formatFixed(e.overheadPercent, decimals: 6))
      row("era", "\(e.era.rawValue):total_overhead_bytes_all_hvo", String(all.totalOverheadBytes))
      row("era", "\(e.era.rawValue):page_ext_bytes", String(e.pageExtBytes))
    }
    for x in a.crosschecks { row("crosscheck", x.name, "\(x.census) \(x.kernel) \(x.status)") }
    return out
  }

  public static func json(_ a: SnapshotAnalysis) throws -> String { try JSONOutput.render(AnalysisJSON(a)) }
}

/// `analyze --format json`.
struct AnalysisJSON: Encodable {
  var source: String
  @Nullable var kernelRelease: String?
  var ramBytes: UInt64
  var presentSections: Int
  var census: CensusJSON
  @Nullable var vmstatMemmapPages: Int?
  @Nullable var vmstatMemmapBytes: Int?
  var pageExt: PageExtJSON
  var eras: [EraCostJSON]
  var erasAllHVO: [EraCostJSON]
  var crosschecks: [CrosscheckJSON]
  var notes: [String]
  @Nullable var mapcounts: MapcountJSON?
  var free: FreeJSON

  enum CodingKeys: String, CodingKey {
    case source, kernelRelease = "kernel_release", ramBytes = "ram_bytes", presentSections = "present_sections", census, free
    case vmstatMemmapPages = "vmstat_memmap_pages", vmstatMemmapBytes = "vmstat_memmap_bytes", eras, erasAllHVO = "eras_all_hvo", crosschecks, notes
    case mapcounts, pageExt = "page_ext"
  }

  init(_ a: SnapshotAnalysis) {
    source = a.source
    kernelRelease = a.kernelRelease
    ramBytes = a.layout.ramBytes
    presentSections = a.layout.presentSections.count
    census = CensusJSON(a.census)
    vmstatMemmapPages = a.vmstatMemmapPages
    vmstatMemmapBytes = a.vmstatMemmapPages.map { $0 * a.pageSize }
    let pageExtFrames = a.pageExt.frames(presentSections: a.layout.presentSections.count)
    pageExt = PageExtJSON(a.pageExt, frames: pageExtFrames,
                          percentOfRAM: a.layout.ramBytes == 0 ? 0 : Double(pageExtFrames << Kernel.pageShift) * 100 / Double(a.layout.ramBytes))
    eras = a.eras.map(EraCostJSON.init)
    erasAllHVO = a.erasAllHVO.map(EraCostJSON.init)
    crosschecks = a.crosschecks.map(CrosscheckJSON.init)
    notes = a.notes
    mapcounts = a.mapcounts.map(MapcountJSON.init)
    free = FreeJSON(a.free)
  }
}

/// The `free` object of `analyze --format json`: free memory three ways, in pages.
struct FreeJSON: Encodable {
  var buddyPages, zeroSectionPages, zeroSections: Int
  @Nullable var buddyinfoPages: Int?
  @Nullable var memfreePages: Int?
  @Nullable var offListPages: Int?
  var zeroSectionsExplainOffList, mostFreeUnseen: Bool

  enum CodingKeys: String, CodingKey {
    case buddyPages = "buddy_pages", buddyinfoPages = "buddyinfo_pages", memfreePages = "memfree_pages", offListPages = "off_list_pages"
    case zeroSectionPages = "zero_section_pages", zeroSections = "zero_sections"
    case zeroSectionsExplainOffList = "zero_sections_explain_off_list", mostFreeUnseen = "most_free_unseen"
  }

  init(_ f: FreeMemory) {
    buddyPages = f.buddyPages
    buddyinfoPages = f.buddyinfoPages
    memfreePages = f.memFreePages
    offListPages = f.offListPages
    zeroSectionPages = f.zeroSectionPages
    zeroSections = f.zeroSections
    zeroSectionsExplainOffList = f.zeroSectionsExplainOffList
    mostFreeUnseen = f.mostFreeUnseen
  }
}

/// The `census` object of `analyze --format json`.
struct CensusJSON: Encodable {
  var pfns, ramPFNs, holePFNs, ramSections, zeroPFNs, zeroRAMPFNs, zeroRAMSections, zeroSectionRAMPFNs, noFlagRAMPFNs: Int
  var ramKnown: Bool
  var ramRanges: [String]
  var buddyPages: Int
  @Nullable var buddyBlocks: [Int]?
  var slabPages: Int
  var slabs: [String: Int]
  var slabSpuriousAnonPages, slabSpuriousKSMPages, pgtablePages, reservedPages, zeroPagePages, offlinePages: Int
  var hugetlbPages, hugetlbHVOOptimized: [String: Int]
  var hugetlbPoolPages: [String: Nullable<Int>]
  var hugetlbHeadPFNs, hvoFakeHeadsCorrected: Int
  @Nullable var hugetlbNote: String?
  var zeroSectionCauses: [String: ZeroSectionsJSON]
  var noPagePFNs: Int
  var kernel: KernelJSON
  var folios: [String: [String: Int]]
  var irregularCompoundPages, orphanTailPages: Int

  enum CodingKeys: String, CodingKey {
    case pfns, ramKnown = "ram_known", ramPFNs = "ram_pfns", holePFNs = "hole_pfns", ramRanges = "ram_ranges", ramSections = "ram_sections"
    case zeroPFNs = "zero_pfns", zeroRAMPFNs = "zero_ram_pfns", zeroRAMSections = "zero_ram_sections", zeroSectionRAMPFNs = "zero_section_ram_pfns"
    case noFlagRAMPFNs = "no_flag_ram_pfns", buddyPages = "buddy_pages", buddyBlocks = "buddy_blocks", slabPages = "slab_pages", slabs
    case slabSpuriousAnonPages = "slab_spurious_anon_pages", slabSpuriousKSMPages = "slab_spurious_ksm_pages", pgtablePages = "pgtable_pages"
    case reservedPages = "reserved_pages", zeroPagePages = "zero_page_pages", offlinePages = "offline_pages", hugetlbPages = "hugetlb_pages"
    case hugetlbHVOOptimized = "hugetlb_hvo_optimized", hugetlbPoolPages = "hugetlb_pool_pages", hugetlbHeadPFNs = "hugetlb_head_pfns"
    case hvoFakeHeadsCorrected = "hvo_fake_heads_corrected", hugetlbNote = "hugetlb_note", folios
    case irregularCompoundPages = "irregular_compound_pages", orphanTailPages = "orphan_tail_pages"
    case zeroSectionCauses = "zero_section_causes", noPagePFNs = "nopage_pfns", kernel
  }

  static func orders(_ d: [Int: Int]) -> [String: Int] {
    Dictionary(uniqueKeysWithValues: d.filter { $0.value > 0 }.map { (String($0.key), $0.value) })
  }

  init(_ c: Census) {
    pfns = c.pfns
    ramKnown = c.ramKnown
    ramPFNs = c.ramPFNs
    holePFNs = c.holePFNs
    ramRanges = c.ramRanges.map(Fmt.range)
    ramSections = c.ramSections
    zeroPFNs = c.zeroPFNs
    zeroRAMPFNs = c.zeroRAMPFNs
    zeroRAMSections = c.zeroRAMSections
    zeroSectionRAMPFNs = c.zeroSectionRAMPFNs
    noFlagRAMPFNs = c.noFlagRAMPFNs
    buddyPages = c.buddyPages
    buddyBlocks = c.buddyBlocks
    slabPages = c.slabPages
    slabs = Self.orders(c.slabs)
    slabSpuriousAnonPages = c.slabSpuriousAnonPages
    slabSpuriousKSMPages = c.slabSpuriousKSMPages
    pgtablePages = c.pgtablePages
    reservedPages = c.reservedPages
    zeroPagePages = c.zeroPagePages
    offlinePages = c.offlinePages
    hugetlbPages = Dictionary(c.hugetlb.map { ($0.name, $0.folios) }, uniquingKeysWith: { $1 })
    hugetlbHVOOptimized = Dictionary(c.hugetlb.map { ($0.name, $0.optimized) }, uniquingKeysWith: { $1 })
    hugetlbPoolPages = Dictionary(c.hugetlb.map { ($0.name, Nullable(wrappedValue: $0.poolPages)) }, uniquingKeysWith: { $1 })
    hugetlbHeadPFNs = c.hugetlbHeadPFNs
    hvoFakeHeadsCorrected = c.hvoFakeHeadsCorrected
    hugetlbNote = c.hugetlbNote
    folios = Dictionary(uniqueKeysWithValues: CensusFolioKind.allCases.map { ($0.rawValue, Self.orders(c.folios[$0] ?? [:])) })
    irregularCompoundPages = c.irregularCompoundPages
    orphanTailPages = c.orphanTailPages
    zeroSectionCauses = Dictionary(uniqueKeysWithValues: c.zeroSectionCauses.map { ($0.key.rawValue, ZeroSectionsJSON(sections: $0.value.sections, ramPFNs: $0.value.ramPFNs)) })
    noPagePFNs = c.noPagePFNs
    kernel = KernelJSON(c.kernel)
  }
}

/// One cause of `zero_section_causes`.
struct ZeroSectionsJSON: Encodable {
  var sections, ramPFNs: Int
  enum CodingKeys: String, CodingKey { case sections, ramPFNs = "ram_pfns" }
}

/// The census's `kernel` object: the decode kpageflags were read with, and what that
/// kernel shows.
struct KernelJSON: Encodable {
  var decode: KernelDecode
  init(_ k: KernelDecode) { decode = k }

  enum CodingKeys: String, CodingKey { case version, fakeHeads = "fake_heads", nopage, thpLargeRmappable = "thp_large_rmappable", deferredInit = "deferred_init" }

  func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(decode.description, forKey: .version)
    for (key, value) in [(CodingKeys.fakeHeads, decode.showsFakeHeads), (.nopage, decode.marksNoPage), (.thpLargeRmappable, decode.thpMeansLargeRmappable), (.deferredInit, decode.defersStructPageInit)] {
      try c.encode(value, forKey: key)
    }
  }
}

/// A `crosschecks` entry.
struct CrosscheckJSON: Encodable {
  var name, source, unit: String
  var census, kernel: Int
  @Nullable var kernelAfter: Int?
  var agree: Bool
  var status: String
  var exact: Bool
  var note: String

  enum CodingKeys: String, CodingKey {
    case name, source, unit, census, kernel, kernelAfter = "kernel_after", agree, status, exact, note
  }

  init(_ x: Crosscheck) {
    name = x.name
    source = x.source
    unit = x.unit
    census = x.census
    kernel = x.kernel
    kernelAfter = x.kernelAfter
    agree = x.agree
    status = x.status
    exact = x.exact
    note = x.note
  }
}
