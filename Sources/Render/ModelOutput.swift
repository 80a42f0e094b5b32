import PageModel

/// `memdesc boot`: a booted machine's census.
public enum BootOutput {
  public static func text(_ c: MachineCensus) -> String {
    var lines: [String] = []
    lines.append("era               \(c.era.rawValue) (struct page \(c.structPageBytes) bytes)")
    let g = Fmt.group
    lines.append("RAM               \(Fmt.bytes(c.ramBytes)) in \(g(c.ramPages)) pages; max_pfn \(g(Int(c.maxPFN))) (\(hex(c.maxPFN))), kpageflags entries \(g(Int(c.pfns)))")
    lines.append("nodes             \(c.nodes); present sections \(c.presentSections) of 128 MiB")
    lines.append("vmemmap base      \(hex(c.vmemmapBase))\(c.alignmentWarning == nil ? "" : " (misaligned: wrong heads)")")
    lines.append("memmap            \(g(c.memmapFrames)) frames = \(Fmt.bytes(c.memmapBytes)) (\(Fmt.percent(c.memmapPercentOfRAM)) of RAM), counted from mapped frames")
    lines.append("vmstat            nr_memmap_boot_pages \(g(c.nrMemmapBootPages)), nr_memmap_pages \(g(c.nrMemmapPages))")
    switch c.memmapInit {
    case .lazy: lines.append("memmap init       lazy: each memmap frame built on first touch (userfaultfd)")
    case .eager(let reason): lines.append("memmap init       eager: every struct page written at boot (\(reason))")
    }
    lines.append("vmemmap mapping   \(g(c.vmemmapPMDMappings)) PMDs of 2 MiB, \(g(c.vmemmapPTETables)) PTE tables (frames outside the memmap counters)")
    if !c.bootPools.isEmpty {
      let pools = c.bootPools.map { p in
        "\(Hstate(order: p.order).name) \(g(p.count)) of \(g(p.requested)), \(g(p.optimized)) optimised"
      }.joined(separator: "; ")
      lines.append("boot pools        \(pools); HVO \(c.bootHVO.rawValue)")
      lines.append("boot memmap       populated \(g(c.populatedMemmapBootPages)) boot + \(g(c.populatedMemmapPages)) -> now \(g(c.nrMemmapBootPages)) boot + \(g(c.nrMemmapPages))")
    }
    if c.pageExtFrames > 0 {
      lines.append("page_ext          \(g(c.pageExtFrames)) frames = \(Fmt.bytes(c.pageExtBytes)) (\(Fmt.percent(c.pageExtPercentOfRAM)) of RAM), \(c.pageExt.entryBytes) bytes a page for \(c.pageExt.spelling)")
    }
    lines.append("free              \(g(c.freePages)) pages in the buddy lists, \(g(c.pcpPages)) on per-CPU lists")
    lines.append("")
    lines.append("node zone      start_pfn    end_pfn      present    managed       free  free blocks by order 0..10")
    for z in c.zones {
      lines.append(
        String(z.node).leftPadded(4) + " " + z.name.rightPadded(8) + " " + hex(z.startPFN.rawValue).leftPadded(10) + " "
          + hex(z.endPFN.rawValue).leftPadded(10) + " " + String(z.presentPages).leftPadded(10) + " "
          + String(z.managedPages).leftPadded(10) + " " + String(z.freePages).leftPadded(10) + "  "
          + z.freeBlocks.map(String.init).joined(separator: " "))
    }
    return lines.joined(separator: "\n")
  }

  /// The one line the CLI prints for a misaligned mask-era base, as the kernel's
  /// `VM_WARN_ON_ONCE` in `sparse_init()` warns and boots.
  public static func alignmentWarning(_ warning: MachineError) -> String {
    "memdesc: warning: \(warning.description); booting anyway, as the kernel does: large folios' tails decode to wrong heads (--strict-alignment refuses)"
  }

  public static func json(_ c: MachineCensus) throws -> String { try JSONOutput.render(CensusJSON(c)) }

  struct CensusJSON: Encodable {
    struct Zone: Encodable {
      var node: Int
      var name: String
      var startPFN, endPFN: UInt64
      var presentPages, managedPages, freePages, pcpPages: Int
      var freeBlocks: [Int]
      enum CodingKeys: String, CodingKey {
        case node, name, startPFN = "start_pfn", endPFN = "end_pfn", presentPages = "present_pages", managedPages = "managed_pages"
        case freePages = "free_pages", pcpPages = "pcp_pages", freeBlocks = "free_blocks"
      }
    }
    struct Pool: Encodable {
      var name: String
      var sizeKB, requested, count, optimized: Int
      enum CodingKeys: String, CodingKey { case name, sizeKB = "size_kb", requested, count, optimized }
    }
    var era: String
    var ramBytes, pfns, maxPFN: UInt64
    var ramPages, nodes, presentSections, structPageBytes: Int
    var vmemmapBase: String
    var vmemmapBaseMisaligned: Bool
    var memmapFrames: Int
    var memmapBytes: UInt64
    var memmapPercentOfRAM: Double
    var memmapInit: String
    var memmapInitReason: String?
    var nrMemmapBootPages, nrMemmapPages, populatedNrMemmapBootPages, populatedNrMemmapPages: Int
    var bootHVO: String
    var bootHugepages: [Pool]
    var vmemmapPMDMappings, vmemmapPTETables: Int
    var pageExt: PageExtJSON
    var freePages, pcpPages: Int
    var zones: [Zone]
    enum CodingKeys: String, CodingKey {
      case era, ramBytes = "ram_bytes", pfns, maxPFN = "max_pfn", ramPages = "ram_pages", nodes, presentSections = "present_sections"
      case structPageBytes = "struct_page_bytes", vmemmapBase = "vmemmap_base", vmemmapBaseMisaligned = "vmemmap_base_misaligned"
      case memmapFrames = "memmap_frames", memmapBytes = "memmap_bytes"
      case memmapPercentOfRAM = "memmap_percent_of_ram", memmapInit = "memmap_init", memmapInitReason = "memmap_init_reason"
      case nrMemmapBootPages = "nr_memmap_boot_pages", nrMemmapPages = "nr_memmap_pages"
      case populatedNrMemmapBootPages = "populated_nr_memmap_boot_pages", populatedNrMemmapPages = "populated_nr_memmap_pages"
      case bootHVO = "boot_hvo", bootHugepages = "boot_hugepages", vmemmapPMDMappings = "vmemmap_pmd_mappings", vmemmapPTETables = "vmemmap_pte_tables"
      case pageExt = "page_ext"
      case freePages = "free_pages", pcpPages = "pcp_pages", zones
    }
    init(_ c: MachineCensus) {
      era = c.era.rawValue
      ramBytes = c.ramBytes
      pfns = c.pfns
      maxPFN = c.maxPFN
      ramPages = c.ramPages
      nodes = c.nodes
      presentSections = c.presentSections
      structPageBytes = c.structPageBytes
      vmemmapBase = hex(c.vmemmapBase)
      vmemmapBaseMisaligned = c.alignmentWarning != nil
      memmapFrames = c.memmapFrames
      memmapBytes = c.memmapBytes
      memmapPercentOfRAM = percent6(c.memmapPercentOfRAM)
      switch c.memmapInit {
      case .lazy: (memmapInit, memmapInitReason) = ("lazy", nil)
      case .eager(let reason): (memmapInit, memmapInitReason) = ("eager", reason)
      }
      (nrMemmapBootPages, nrMemmapPages) = (c.nrMemmapBootPages, c.nrMemmapPages)
      (populatedNrMemmapBootPages, populatedNrMemmapPages) = (c.populatedMemmapBootPages, c.populatedMemmapPages)
      bootHVO = c.bootHVO.rawValue
      bootHugepages = c.bootPools.map {
        let h = Hstate(order: $0.order)
        return Pool(name: h.name, sizeKB: h.sizeKB, requested: $0.requested, count: $0.count, optimized: $0.optimized)
      }
      (vmemmapPMDMappings, vmemmapPTETables) = (c.vmemmapPMDMappings, c.vmemmapPTETables)
      pageExt = PageExtJSON(c.pageExt, frames: c.pageExtFrames, percentOfRAM: c.pageExtPercentOfRAM)
      freePages = c.freePages
      pcpPages = c.pcpPages
      zones = c.zones.map {
        Zone(node: $0.node, name: $0.name, startPFN: $0.startPFN.rawValue, endPFN: $0.endPFN.rawValue, presentPages: $0.presentPages,
             managedPages: $0.managedPages, freePages: $0.freePages, pcpPages: $0.pcpPages, freeBlocks: $0.freeBlocks)
      }
    }
  }
}

/// The page_ext key of `boot`, `hvo` and `analyze` JSON: the clients, one page's entry and
/// the frames of the tables.
struct PageExtJSON: Encodable {
  var clients: [String]
  var entryBytes, frames: Int
  var bytes: UInt64
  var percentOfRAM: Double
  enum CodingKeys: String, CodingKey {
    case clients, entryBytes = "entry_bytes", frames, bytes, percentOfRAM = "percent_of_ram"
  }
  init(_ p: PageExt, frames: Int, percentOfRAM: Double) {
    clients = p.clients.map(\.rawValue)
    entryBytes = p.entryBytes
    self.frames = frames
    bytes = UInt64(frames) << UInt64(Kernel.pageShift)
    self.percentOfRAM = percent6(percentOfRAM)
  }
}

/// `memdesc simulate`: one cost per era.
public struct SimulationOutput: Encodable {
  public let ramBytes: UInt64
  @Nullable public var workload: String?
  @Nullable public var trace: String?
  public let operations: Int
  public let seed: UInt64
  /// Not encoded itself: `eras` is its JSON form.
  public let costs: [EraCost]
  let eras: [EraCostJSON]

  enum CodingKeys: String, CodingKey { case ramBytes = "ram_bytes", workload, trace, operations, seed, eras }

  public init(ramBytes: UInt64, workload: String?, trace: String?, operations: Int, seed: UInt64, costs: [EraCost]) {
    (self.ramBytes, self.operations, self.seed, self.costs) = (ramBytes, operations, seed, costs)
    (self.workload, self.trace) = (workload, trace)
    eras = costs.map(EraCostJSON.init)
  }

  public func json() throws -> String { try JSONOutput.render(self) }

  public func csv() -> String {
    var out = "era,struct_page_bytes,memmap_bytes,descriptor_bytes," + DescriptorKind.allCases.map { "descriptor_bytes_\($0.rawValue)" }.joined(separator: ",")
      + ",hvo_saved_bytes,total_overhead_bytes,overhead_percent,hvo_pte_table_bytes\n"
    for c in costs {
      out += ([c.era.rawValue, String(c.structPageBytes), String(c.memmapBytes), String(c.descriptorBytes)]
        + DescriptorKind.allCases.map { String((c.descriptorFrames[$0] ?? 0) << Kernel.pageShift) }
        + [String(c.hvoSavedBytes), String(c.totalOverheadBytes), formatFixed(c.overheadPercent, decimals: 6), String(c.hvoPTETableBytes)]).joined(separator: ",") + "\n"
    }
    return out
  }

  public func text() -> String {
    var out = "\(workload.map { "workload \($0)" } ?? "trace \(trace ?? "")"): \(operations) operations on \(Fmt.bytes(ramBytes)) of RAM\n"
    out += EraTable.header + "\n"
    for c in costs { out += EraTable.row(c) + Fmt.percentValue(c.overheadPercent) + "\n" }
    return out
  }

  /// The progress line for one era's run.
  public static func progress(era: Era, done: Int, total: Int) -> String {
    let width = 30, filled = done * width / total
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    return "\r\(era.rawValue.rightPadded(9)) [\(bar)] \(done * 100 / total)%"
  }
}

/// `memdesc hvo`: HugeTLB pools allocated, memmap before and after.
public struct HVOOutput: Encodable {
  public struct Pool: Encodable {
    public let name: String
    public let sizeKB, requested, count, vmemmapFramesPerPage, freedFramesPerPage: Int
    enum CodingKeys: String, CodingKey {
      case name, sizeKB = "size_kb", requested, count, vmemmapFramesPerPage = "vmemmap_frames_per_page", freedFramesPerPage = "freed_frames_per_page"
    }
    public init(name: String, sizeKB: Int, requested: Int, count: Int, vmemmapFramesPerPage: Int, freedFramesPerPage: Int) {
      (self.name, self.sizeKB, self.requested, self.count) = (name, sizeKB, requested, count)
      (self.vmemmapFramesPerPage, self.freedFramesPerPage) = (vmemmapFramesPerPage, freedFramesPerPage)
    }
  }
  public let era: Era
  public let optimize: Bool
  public let memmapFramesBefore, memmapFramesAfter, freedFrames, sharedTailFrames, fakeHeadsSeen: Int
  /// PMDs of the vmemmap HVO split into PTE tables, one page-table frame each, and the
  /// PTE tables the vmemmap has after (neither is in vmstat's memmap counters).
  public var pmdSplits = 0, pteTables = 0
  /// Null in the memdesc eras, whose model has no kpageflags view.
  @Nullable public var kpageflagsHeads: Int?
  public let hstates: [Pool]
  /// Frames of the page_ext tables, beside the memmap (HVO leaves them alone).
  public var pageExtFrames = 0

  enum CodingKeys: String, CodingKey {
    case era, optimize, memmapFramesBefore = "memmap_frames_before", memmapFramesAfter = "memmap_frames_after", freedFrames = "freed_frames"
    case sharedTailFrames = "shared_tail_frames", fakeHeadsSeen = "fake_heads_seen", kpageflagsHeads = "kpageflags_heads", hstates
    case pmdSplits = "vmemmap_pmd_splits", pteTables = "vmemmap_pte_tables"
    case pageExtFrames = "page_ext_frames"
  }

  public init(era: Era, optimize: Bool, memmapFramesBefore: Int, memmapFramesAfter: Int, sharedTailFrames: Int, fakeHeadsSeen: Int, kpageflagsHeads: Int?, hstates: [Pool]) {
    (self.era, self.optimize, self.hstates) = (era, optimize, hstates)
    (self.memmapFramesBefore, self.memmapFramesAfter, freedFrames) = (memmapFramesBefore, memmapFramesAfter, memmapFramesBefore - memmapFramesAfter)
    (self.sharedTailFrames, self.fakeHeadsSeen) = (sharedTailFrames, fakeHeadsSeen)
    self.kpageflagsHeads = kpageflagsHeads
  }

  public func json() throws -> String { try JSONOutput.render(self) }

  public func text() -> String {
    var out = "era \(era.rawValue), vm.hugetlb_optimize_vmemmap=\(optimize ? 1 : 0)\n"
    for h in hstates {
      out += "  \(h.name): \(Fmt.group(h.count)) of \(Fmt.group(h.requested)) requested pages, \(Fmt.group(h.vmemmapFramesPerPage)) vmemmap frames each, \(Fmt.group(h.freedFramesPerPage)) freed each\n"
    }
    out += "memmap frames     \(Fmt.group(memmapFramesBefore)) -> \(Fmt.group(memmapFramesAfter)) (freed \(Fmt.group(freedFrames))); shared tail frames \(Fmt.group(sharedTailFrames))\n"
    out += "vmemmap PMDs      \(Fmt.group(pmdSplits)) split into PTE tables, one page-table frame each; \(Fmt.group(pteTables)) PTE tables now (outside the memmap counters)\n"
    if pageExtFrames > 0 { out += "page_ext frames   \(Fmt.group(pageExtFrames)) (not touched by HVO)\n" }
    out += "fake heads seen   \(Fmt.group(fakeHeadsSeen)) (struct pages reading PG_head through the vmemmap that are not heads)\n"
    out += "kpageflags heads  \(kpageflagsHeads.map(Fmt.group) ?? "n/a") (COMPOUND_HEAD PFNs among the huge pages, as a 6.18-style kernel reports them)\n"
    return out
  }
}
