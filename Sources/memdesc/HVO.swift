import ArgumentParser
import PageModel
import Render

extension Memdesc {
  struct HVO: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "hvo",
      abstract: "Allocate HugeTLB pools, optionally optimise their vmemmap (HVO), and report the memmap before and after.",
      discussion: helpDiscussion(
        """
        Answers how many memmap frames HVO gives back for a given pool in each era, on a \
        model machine: it boots the machine, sets vm.hugetlb_optimize_vmemmap, grows the \
        pools as writing nr_hugepages does, and counts the frames the vmemmap maps before \
        and after, the fake heads a reader of struct pages meets, the heads \
        kpageflags would show, and the vmemmap PMDs split into PTE tables (one \
        page-table frame each, which vmstat's memmap counters leave out). Pools \
        reserved with --boot-hugepages are in place before it starts.
        """,
        terms: [.hugetlb, .hvo, .memmap, .vmemmap, .fakeHead, .era],
        examples: [
          "memdesc hvo --ram 2G --era classic --hugepages 2M:100 --optimize  # freed 700",
          "memdesc hvo --ram 2G --era mask --hugepages 2M:100 --optimize --format json",
          "memdesc hvo --ram 8G --era memdesc8 --hugepages 1G:2 --optimize --format json",
          "memdesc hvo --ram 2G --hugepages 2M:100 --optimize  # 2 split into PTE tables",
          "memdesc hvo --ram 8G --boot-hugepages 1G:2 --hugepages 2M:0 --format json",
        ]))

    @OptionGroup var machine: MachineOptions

    @Option(parsing: .unconditional, help: "Pools to allocate: SIZE:COUNT[,SIZE:COUNT], SIZE 2M or 1G, each size once (e.g. 2M:1000,1G:2).")
    var hugepages: HugepagesRequest

    @Flag(inversion: .prefixedNo, help: "Set vm.hugetlb_optimize_vmemmap before allocating.")
    var optimize = false

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func validate() throws { try hugepages.validate() }

    func run() throws {
      let requests = hugepages.pools
      let config = try machine.config()
      try report(bootModel(config), requests)
    }

    func report(_ m: any MemoryModel, _ requests: [(order: Int, count: Int)]) throws {
      let before = m.memmapFrames
      let splitsBefore = m.vmemmapPageTable.pmdSplits
      m.setHugetlbOptimizeVmemmap(optimize)
      var got: [Int: Int] = [:]
      for r in requests { got[r.order] = m.setNrHugePages(order: r.order, count: r.count) }
      // Like writing nr_hugepages: a pool that cannot grow keeps what it got and says so.
      let requested = Dictionary(uniqueKeysWithValues: requests.map { ($0.order, $0.count) })
      let kpfHeads = m.hugetlbKPageFlagsHeads()
      let fakeHeads = m.countFakeHeads()
      let after = m.memmapFrames
      // A requested pool is listed even when it got nothing (count 0 of N requested).
      let hstates = m.hugetlb.hstates.filter { $0.nrHugePages > 0 || requested[$0.order] != nil }.map { h in
        HVOOutput.Pool(name: h.name, sizeKB: h.sizeKB, requested: requested[h.order] ?? 0, count: h.nrHugePages,
                       vmemmapFramesPerPage: h.vmemmapPages(m.era), freedFramesPerPage: optimize ? h.optimizablePages(m.era) : 0)
      }
      var out = HVOOutput(era: m.era, optimize: optimize, memmapFramesBefore: before, memmapFramesAfter: after, sharedTailFrames: m.sharedTailFrames,
                          fakeHeadsSeen: fakeHeads, kpageflagsHeads: kpfHeads, hstates: hstates)
      out.pmdSplits = m.vmemmapPageTable.pmdSplits - splitsBefore
      out.pteTables = m.vmemmapPageTable.pteTables
      out.pageExtFrames = m.pageExtFrames
      if format == .json { print(try out.json()) } else { writeStdout(out.text()) }
    }
  }
}

/// `--hugepages SIZE:COUNT[,SIZE:COUNT]`, read by ArgumentParser through
/// `HugepagesSpec`. What cannot be read is kept as a message for `validate()`, which
/// throws it as a usage error naming the entry (a failable initialiser would only say
/// that the value is invalid).
struct HugepagesRequest: ExpressibleByArgument {
  var pools: [(order: Int, count: Int)] = []
  var problem: String?

  init?(argument: String) {
    do {
      pools = try HugepagesSpec.parse(argument)
    } catch {
      problem = error.description
    }
  }

  func validate() throws {
    if let problem { throw ValidationError(problem) }
  }
}
