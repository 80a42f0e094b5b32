import ArgumentParser
import PageModel
import Render

extension Memdesc {
  struct HVO: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "hvo",
      abstract: "Allocate HugeTLB pools, optionally optimise their vmemmap (HVO), and report the memmap before and after.")

    @OptionGroup var machine: MachineOptions

    @Option(help: "Pools to allocate: SIZE:COUNT[,SIZE:COUNT], SIZE 2M or 1G (e.g. 2M:1000,1G:2).")
    var hugepages: String

    @Flag(inversion: .prefixedNo, help: "Set vm.hugetlb_optimize_vmemmap before allocating.")
    var optimize = false

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func validate() throws { _ = try HugepagesRequest.parse(hugepages) }

    func run() throws {
      let requests = try HugepagesRequest.parse(hugepages)
      let config = try machine.config()
      try report(bootModel(config), requests)
    }

    func report(_ m: any MemoryModel, _ requests: [(order: Int, count: Int)]) throws {
      let before = m.memmapFrames
      m.setHugetlbOptimizeVmemmap(optimize)
      var got: [Int: Int] = [:]
      for r in requests { got[r.order] = m.setNrHugePages(order: r.order, count: r.count) }
      // Like writing nr_hugepages: a pool that cannot grow keeps what it got and says so.
      let requested = Dictionary(requests.map { ($0.order, $0.count) }, uniquingKeysWith: { $1 })
      let kpfHeads = m.hugetlbKPageFlagsHeads()
      let fakeHeads = m.countFakeHeads()
      let after = m.memmapFrames
      let hstates = m.hugetlb.hstates.filter { $0.nrHugePages > 0 }.map { h in
        HVOOutput.Pool(name: h.name, sizeKB: h.sizeKB, requested: requested[h.order] ?? 0, count: h.nrHugePages,
                       vmemmapFramesPerPage: h.vmemmapPages(m.era), freedFramesPerPage: optimize ? h.optimizablePages(m.era) : 0)
      }
      let out = HVOOutput(era: m.era, optimize: optimize, memmapFramesBefore: before, memmapFramesAfter: after, sharedTailFrames: m.sharedTailFrames,
                          fakeHeadsSeen: fakeHeads, kpageflagsHeads: kpfHeads, hstates: hstates)
      if format == .json { print(try out.json()) } else { writeStdout(out.text()) }
    }
  }
}

enum HugepagesRequest {
  static func parse(_ text: String) throws -> [(order: Int, count: Int)] {
    var out: [(Int, Int)] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      let kv = part.split(separator: ":", omittingEmptySubsequences: false)
      guard kv.count == 2, let count = Int(kv[1]), count >= 0 else {
        throw ValidationError("cannot read --hugepages entry '\(part)': expected SIZE:COUNT such as 2M:1000")
      }
      let order: Int
      switch kv[0].uppercased() {
      case "2M", "2048K", "2048KB": order = 9
      case "1G", "1048576K", "1048576KB": order = 18
      default: throw ValidationError("unsupported huge page size '\(kv[0])' in --hugepages: x86-64 has 2M and 1G")
      }
      guard count <= Int(UInt32.max) else { throw ValidationError("huge page count \(count) in --hugepages is too large") }
      out.append((order, count))
    }
    return out
  }
}
