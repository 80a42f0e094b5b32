import ArgumentParser
import PageModel

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

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

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
      let hstates: [JSON] = m.hugetlb.hstates.filter { $0.nrHugePages > 0 }.map { h in
        .object([
          ("name", .string(h.name)), ("size_kb", .int(h.sizeKB)), ("requested", .int(requested[h.order] ?? 0)),
          ("count", .int(h.nrHugePages)),
          ("vmemmap_frames_per_page", .int(h.vmemmapPages(m.era))),
          ("freed_frames_per_page", .int(optimize ? h.optimizablePages(m.era) : 0)),
        ])
      }
      let json: JSON = .object([
        ("era", .string(m.era.rawValue)), ("optimize", .bool(optimize)),
        ("memmap_frames_before", .int(before)), ("memmap_frames_after", .int(after)),
        ("freed_frames", .int(before - after)), ("shared_tail_frames", .int(m.sharedTailFrames)),
        ("fake_heads_seen", .int(fakeHeads)), ("kpageflags_heads", kpfHeads.map { .int($0) } ?? .null),
        ("hstates", .array(hstates)),
      ])
      if format == .json { print(json.rendered()); return }
      print("era \(m.era.rawValue), vm.hugetlb_optimize_vmemmap=\(optimize ? 1 : 0)")
      for h in m.hugetlb.hstates where h.nrHugePages > 0 {
        print("  \(h.name): \(h.nrHugePages) of \(requested[h.order] ?? 0) requested pages, \(h.vmemmapPages(m.era)) vmemmap frames each, \(optimize ? h.optimizablePages(m.era) : 0) freed each")
      }
      print("memmap frames     \(before) -> \(after) (freed \(before - after)); shared tail frames \(m.sharedTailFrames)")
      print("fake heads seen   \(fakeHeads) (struct pages reading PG_head through the vmemmap that are not heads)")
      print("kpageflags heads  \(kpfHeads.map(String.init) ?? "n/a") (COMPOUND_HEAD PFNs among the huge pages, as a 6.18-style kernel reports them)")
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
