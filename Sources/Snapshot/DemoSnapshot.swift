import PageModel

/// The built-in demonstration source: a model machine's kpageflags after a small workload.
public enum DemoSnapshot {
  public static let description = """
    memdesc analyze --demo: a built-in demonstration, not a reading of this host. A 2 GiB model \
    machine (classic era) ran a small workload (order-0, 64 KiB and 2 MiB anonymous folios, \
    page-cache folios, slabs, page tables, 32 x 2 MiB HugeTLB pages, 24 of them with HVO); \
    what follows analyses its /proc/kpageflags as the model reports it (fake heads included), \
    with its own iomem, hugepages and memmap counters.
    """

  public static func make() throws -> PageSnapshot {
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
    // The files in the kernel's own formats (iomem's `%08llx-%08llx : System RAM`).
    let texts = [
      "iomem": layout.ram.map { "\(hexDigits($0.lowerBound.physicalAddress, minimumDigits: 8))-\(hexDigits($0.upperBound.physicalAddress - 1, minimumDigits: 8)) : System RAM" }.joined(separator: "\n") + "\n",
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
}
