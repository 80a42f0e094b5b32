import ArgumentParser
import PageModel
import Snapshot

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Memdesc {
  struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Census of a real machine's pages, and what its memmap costs in each era.",
      discussion: """
        Reads a SOURCE (snapshot file, raw directory or kpageflags dump), this machine with \
        --live (root), or a built-in demonstration with --demo. The census counts RAM and \
        holes, free, slab, page-table, reserved and HugeTLB pages (HVO fake heads corrected) \
        and folios by kind and order; the projection costs that population in each era on \
        the machine's RAM; the cross-checks compare the census with meminfo and vmstat.
        """)

    @Argument(help: "Snapshot file, raw directory or kpageflags dump.")
    var source: String?

    @Flag(help: "Analyse this machine's /proc/kpageflags (needs root).")
    var live = false

    @Flag(help: "Analyse a built-in demonstration: a model machine's own kpageflags after a small workload.")
    var demo = false

    @Option(help: "Eras to cost, comma-separated.")
    var eras: String = Era.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Output format: text, json or csv.")
    var format: AnalyzeFormat = .text

    enum AnalyzeFormat: String, ExpressibleByArgument, CaseIterable { case text, json, csv }

    func validate() throws {
      if demo && (live || source != nil) { throw ValidationError("--demo analyses the built-in demonstration; give no SOURCE or --live with it") }
    }

    func run() throws {
      let eraList = try parseEras(eras)
      let snapshot = demo ? try DemoSnapshot.make() : try openSource(source, live: live)
      let analysis = try SnapshotAnalysis.of(snapshot, eras: eraList)
      switch format {
      case .json: print(analysis.json.rendered())
      case .csv: writeStdout(AnalyzeReport.csv(analysis))
      case .text:
        if demo { writeStdout(DemoSnapshot.description + "\n\n") }
        writeStdout(AnalyzeReport.text(analysis))
      }
    }
  }
}

/// Parses an --eras list.
func parseEras(_ text: String) throws -> [Era] {
  var list: [Era] = []
  for word in text.split(separator: ",") {
    guard let e = Era(rawValue: String(word)) else {
      throw ValidationError("unknown era '\(word)' in --eras; expected some of: \(Era.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    list.append(e)
  }
  guard !list.isEmpty else { throw ValidationError("--eras names no era") }
  return list
}

/// The built-in demonstration source: a model machine's kpageflags after a small workload.
enum DemoSnapshot {
  static let description = """
    memdesc analyze --demo: a built-in demonstration, not a reading of this host. A 2 GiB model \
    machine (classic era) ran a small workload (order-0, 64 KiB and 2 MiB anonymous folios, \
    page-cache folios, slabs, page tables, 32 x 2 MiB HugeTLB pages, 24 of them with HVO); \
    what follows analyses its /proc/kpageflags as the model reports it (fake heads included), \
    with its own iomem, hugepages and memmap counters.
    """

  static func make() throws -> PageSnapshot {
    let layout = try PhysicalLayout.flat(ramBytes: 2 << 30)
    let m = try Page64Model<ClassicEncoding>(MachineConfig(layout: layout, era: .classic))
    for (order, kind, count) in [(0, FolioKind.anon, 20_000), (4, .anon, 500), (9, .anon, 40), (0, .file, 15_000), (2, .file, 800), (9, .file, 10)] {
      for _ in 0..<count {
        guard let f = m.allocFolio(order: order, kind: kind) else { break }
        m.mapPages(f, 0..<(1 << order), 1)
      }
    }
    for (order, count) in [(0, 3000), (1, 400), (3, 100)] { for _ in 0..<count { _ = m.allocSlab(order: order) } }
    for _ in 0..<1500 { _ = m.allocPageTable() }
    _ = m.setNrHugePages(order: 9, count: 8)
    m.setHugetlbOptimizeVmemmap(true)
    let huge = m.setNrHugePages(order: 9, count: 32)
    let words = m.kpageflags(PFN(0)..<layout.endPFN)
    let memmap = m.cost().memmapFrames
    let texts = [
      "iomem": layout.ram.map { "\(hex($0.lowerBound.physicalAddress))-\(hex($0.upperBound.physicalAddress - 1)) : System RAM" }.joined(separator: "\n") + "\n",
      "hugepages": "hugepages-1048576kB nr_hugepages=0 free_hugepages=0 resv_hugepages=0 surplus_hugepages=0 nr_overcommit_hugepages=0\n"
        + "hugepages-2048kB nr_hugepages=\(huge) free_hugepages=\(huge) resv_hugepages=0 surplus_hugepages=0 nr_overcommit_hugepages=0\nvm.hugetlb_optimize_vmemmap=1\n",
      "vmstat": "nr_memmap_pages 0\nnr_memmap_boot_pages \(memmap)\n",
      "meminfo": "Hugetlb:        \(huge * 2048) kB\n",
    ]
    var meta = SnapshotMetadata()
    meta.kernelRelease = "memdesc model (classic era)"
    meta.hostName = "demo"
    return try PageSnapshot(origin: .kpageflagsDump("<built-in demo>"), kpageflags: KPageArray(file: .kpageflags, words: words, path: "<built-in demo>"), texts: texts, metadata: meta)
  }

  static func hex(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
  }
}

/// The text and CSV forms of an analysis.
enum AnalyzeReport {
  static func text(_ a: SnapshotAnalysis) -> String {
    let c = a.census
    let ps = UInt64(a.pageSize)
    func pages(_ n: Int) -> String { "\(n) pages (\(ByteSize.human(UInt64(n) * ps)))" }
    var out = ""
    func line(_ s: String = "") { out += s + "\n" }
    line("source          \(a.source)")
    line("kernel release  \(a.kernelRelease ?? "unknown")")
    line("PFNs            \(c.pfns); RAM \(c.ramKnown ? "" : "(unknown: non-zero sections) ")\(pages(c.ramPFNs)) in \(c.ramSections) sections; holes \(c.holePFNs) PFNs")
    line("read zero       \(c.zeroRAMPFNs) RAM PFNs: \(c.zeroSectionRAMPFNs) in \(c.zeroRAMSections) all-zero sections (deferred init), \(c.noFlagRAMPFNs) allocated without flags or on per-CPU lists")
    line()
    line("census")
    line("  free (BUDDY)  \(pages(c.buddyPages))" + (c.buddyBlocks.map { "; buddyinfo blocks per order \($0.map(String.init).joined(separator: " "))" } ?? ""))
    line("  slab          \(pages(c.slabPages)) in \(c.slabs.values.reduce(0, +)) slabs (by order \(c.slabs.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")))")
    line("  page tables   \(pages(c.pgtablePages))")
    line("  reserved      \(pages(c.reservedPages)); zero page \(c.zeroPagePages); offline \(c.offlinePages)")
    for h in c.hugetlb {
      line("  hugetlb \(h.name.padding(10)) \(h.folios) huge pages (\(h.optimized) with HVO)" + (h.poolPages.map { "; pool nr_hugepages \($0)" } ?? ""))
    }
    if c.hugetlbHeadPFNs > 0 { line("  hugetlb heads \(c.hugetlbHeadPFNs) COMPOUND_HEAD PFNs, \(c.hvoFakeHeadsCorrected) fake (HVO) corrected") }
    line("  folios        kind        folios      pages       by order")
    for kind in CensusFolioKind.allCases {
      let orders = (c.folios[kind] ?? [:]).filter { $0.value > 0 }.sorted { $0.key < $1.key }
      guard !orders.isEmpty else { continue }
      line("                \(kind.rawValue.padding(11)) \(String(c.folioCount(kind)).padding(11)) \(String(c.folioPages(kind)).padding(11)) \(orders.map { "\($0.key):\($0.value)" }.joined(separator: " "))")
    }
    line()
    line("memmap of the real machine (vmstat nr_memmap_boot_pages + nr_memmap_pages): " + (a.vmstatMemmapPages.map { pages($0) } ?? "not in this snapshot"))
    line("projection on \(ByteSize.human(a.layout.ramBytes)) of RAM, \(a.layout.presentSections.count) present sections")
    line("  era        page   memmap        descriptors   HVO saved     total         % of RAM   total if all HugeTLB had HVO")
    for (e, all) in zip(a.eras, a.erasAllHVO) {
      line("  " + e.era.rawValue.padding(10) + " " + "\(e.structPageBytes) B".padding(6) + " " + ByteSize.human(e.memmapBytes).padding(13) + " "
        + ByteSize.human(e.descriptorBytes).padding(13) + " " + ByteSize.human(e.hvoSavedBytes).padding(13) + " "
        + ByteSize.human(e.totalOverheadBytes).padding(13) + " " + formatFixed(e.overheadPercent, decimals: 4).padding(10) + " " + ByteSize.human(all.totalOverheadBytes))
    }
    line()
    line("cross-checks")
    for x in a.crosschecks {
      let after = x.kernelAfter.map { $0 != x.kernel ? " (after: \($0))" : "" } ?? ""
      line("  \(x.name.padding(20)) census \(x.census) \(x.unit), kernel \(x.kernel)\(after) \(x.unit): \(x.status)\(x.exact ? "" : " (not an exact check)")")
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

  static func csv(_ a: SnapshotAnalysis) -> String {
    var out = "section,name,value\n"
    let c = a.census
    func row(_ s: String, _ n: String, _ v: String) { out += "\(s),\(n),\(v)\n" }
    row("census", "pfns", String(c.pfns))
    row("census", "ram_pfns", String(c.ramPFNs))
    row("census", "buddy_pages", String(c.buddyPages))
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
      row("era", "\(e.era.rawValue):total_overhead_bytes", String(e.totalOverheadBytes))
      row("era", "\(e.era.rawValue):overhead_percent", formatFixed(e.overheadPercent, decimals: 6))
      row("era", "\(e.era.rawValue):total_overhead_bytes_all_hvo", String(all.totalOverheadBytes))
    }
    for x in a.crosschecks { row("crosscheck", x.name, "\(x.census) \(x.kernel) \(x.status)") }
    return out
  }
}

extension Memdesc {
  /// What plain `memdesc` runs: `analyze --live` when /proc/kpageflags can be read, the
  /// built-in demonstration otherwise, saying which.
  struct Default: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "default", abstract: "analyze --live when /proc/kpageflags is readable (root), else the demo.", shouldDisplay: false)

    func run() throws {
      if Self.kpageflagsReadable() {
        writeStdout("memdesc: /proc/kpageflags is readable: analysing this machine (memdesc analyze --live)\n\n")
        var analyze = try Analyze.parse(["--live"])
        try analyze.run()
      } else {
        print("memdesc: /proc/kpageflags is not readable (it needs root): running the built-in demonstration (memdesc demo); 'memdesc analyze --demo' analyses a model machine's kpageflags\n")
        try Demo().run()
      }
    }

    static func kpageflagsReadable(_ path: String = "/proc/kpageflags") -> Bool {
      let fd = open(path, O_RDONLY)
      guard fd >= 0 else { return false }
      defer { close(fd) }
      var word: UInt64 = 0
      return pread(fd, &word, 8, 0) == 8
    }
  }
}
