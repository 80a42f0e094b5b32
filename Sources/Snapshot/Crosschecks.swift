import PageModel

/// One comparison of a census figure with the kernel's own counter for it.
public struct Crosscheck: Sendable, Equatable {
  /// Short name: `Hugetlb`, `AnonHugePages`, `memmap`, ...
  public var name: String
  /// Where the kernel's number comes from (`meminfo Hugetlb`).
  public var source: String
  /// `kB` or `pages`.
  public var unit: String
  /// The census's number, in `unit`.
  public var census: Int
  /// The kernel's number read before the kpage files, in `unit`.
  public var kernel: Int
  /// The same counter read right after them, when the snapshot has it.
  public var kernelAfter: Int?
  /// Whether the kernel counts this exactly (so any difference needs a cause).
  public var exact: Bool
  /// What the comparison means, and the known causes of a difference.
  public var note: String

  /// Set when both sides count only part of what the name says (free pages where most
  /// free RAM reads zero): equal numbers then do not make the check agree.
  public var partial = false

  public var agree: Bool { census == kernel && !partial }

  /// `agree`; `moved` when the census lies between the counter before and after the
  /// kpage files were read (the machine changed during the capture); else `differ`.
  public var status: String {
    if partial { return "partial" }
    if agree { return "agree" }
    if let after = kernelAfter, census >= min(kernel, after) && census <= max(kernel, after) { return "moved" }
    return "differ"
  }
}

extension Crosscheck {
  /// The cross-checks a snapshot allows: HugeTLB (meminfo Hugetlb and each pool's
  /// nr_hugepages), AnonHugePages, ShmemHugePages, Shmem, the memmap (vmstat against the
  /// 64-byte-era model of the same RAM with HVO as found), and free pages (buddyinfo).
  /// A check whose kernel file or line is missing is left out.
  /// `vmstat` is the snapshot's vmstat as `ProcText.counters` read it (the caller has it).
  /// A kernel file that cannot be read is an error (`ProcText`), not a check left out.
  public static func all(census c: Census, snapshot: PageSnapshot, vmstat: [String: Int]?, modelMemmapFrames: Int, free: FreeMemory) throws -> [Crosscheck] {
    func read(_ name: String) throws -> [String: Int]? {
      try snapshot.texts[name].map { try ProcText.counters($0, path: snapshot.describePath(name)) }
    }
    let meminfo = try read("meminfo")
    let meminfoAfter = try read("meminfo.after")
    let vmstatAfter = try read("vmstat.after")
    let memmapLimit = snapshot.pfnCount
    let vmstatPath = snapshot.describePath("vmstat"), vmstatAfterPath = snapshot.describePath("vmstat.after")
    let kB = snapshot.metadata.pageSize / 1024
    let pmd = ((2 << 20) / snapshot.metadata.pageSize).trailingZeroBitCount
    var deferred = ""
    if c.zeroRAMSections > 0 {
      deferred = "; \(c.zeroRAMSections) RAM section(s) read all zero (\(ZeroSectionCause.allCases.filter { c.zeroSectionCauses[$0] != nil }.map(\.label).joined(separator: " / ")), docs/kpageflags.md point 2): pages there are not seen"
    }
    let race = "a difference means the machine changed while the files were read one after another (docs/kpageflags.md point 8)"
    var checks: [Crosscheck] = []

    func meminfoCheck(_ key: String, census: Int, note: String) {
      guard let v = meminfo?[key] else { return }
      checks.append(Crosscheck(name: key, source: "meminfo \(key)", unit: "kB", census: census, kernel: v, kernelAfter: meminfoAfter?[key], exact: true, note: note))
    }
    meminfoCheck("Hugetlb", census: c.hugetlbPages * kB,
                 note: "pages of every HugeTLB pool; \(race)")
    for h in c.hugetlb {
      guard let pool = h.poolPages else { continue }
      checks.append(Crosscheck(
        name: "nr_hugepages \(h.name)", source: "hugepages-\(h.name)/nr_hugepages", unit: "pages", census: h.folios, kernel: pool, kernelAfter: nil, exact: true,
        note: c.hvoFakeHeadsCorrected > 0 && h.optimized > 0
          ? "huge pages found after discounting HVO fake heads (\(c.hvoFakeHeadsCorrected) in all, docs/kpageflags.md point 3); \(race)"
          : "huge pages found; \(race)"))
    }
    meminfoCheck("AnonHugePages", census: (c.folios[.anonTHP]?[pmd] ?? 0) << pmd * kB,
                 note: "anonymous PMD-order folios only (mTHP is not counted here, docs/kpageflags.md point 5); \(race)\(deferred)")
    meminfoCheck("ShmemHugePages", census: (c.folios[.shmem]?[pmd] ?? 0) << pmd * kB,
                 note: "shmem PMD-order folios; \(race)\(deferred)")
    meminfoCheck("Shmem", census: c.folioPages(.shmem) * kB,
                 note: "shmem pages of every order (SWAPBACKED without ANON); shmem pages in the swap cache are not in this counter; \(race)\(deferred)")
    if let vmstat, let memmap = try ProcText.memmapPages(vmstat, path: vmstatPath, limit: memmapLimit) {
      checks.append(Crosscheck(
        name: "memmap", source: "vmstat nr_memmap_boot_pages + nr_memmap_pages", unit: "pages", census: modelMemmapFrames, kernel: memmap,
        kernelAfter: try vmstatAfter.flatMap { try ProcText.memmapPages($0, path: vmstatAfterPath, limit: memmapLimit) }, exact: true,
        note: "the census side is the model's 64-byte-era memmap of the same RAM (512 frames per present 128 MiB section, less what HVO frees for the huge pages found optimised); a difference comes from HugeTLB pages allocated or freed during the capture, memory hot-plug, or a kernel whose struct page is not 64 bytes"))
    }
    var unseen = ""
    if free.mostFreeUnseen, let off = free.offListPages, let memFree = free.memFreePages {
      unseen = "; only part of the free memory: MemFree counts \(memFree) pages, \(off) of them on no free list"
        + (free.zeroSectionsExplainOffList ? " (in the \(c.zeroRAMSections) all-zero sections, free but not initialised yet)" : "")
    }
    if let total = c.buddyinfoPages {
      var check = Crosscheck(
        name: "free pages", source: "buddyinfo", unit: "pages", census: c.buddyPages, kernel: total, kernelAfter: nil, exact: false,
        note: "BUDDY pages against buddyinfo's free blocks; not exact: pages move between the free lists and the per-CPU lists (which read 0 and are in neither count, docs/kpageflags.md point 7) while the files are read\(deferred)\(unseen)")
      check.partial = free.mostFreeUnseen
      checks.append(check)
    }
    if let memFree = meminfo?["MemFree"] {
      checks.append(Crosscheck(
        name: "MemFree", source: "meminfo MemFree", unit: "kB", census: c.buddyPages * kB, kernel: memFree, kernelAfter: meminfoAfter?["MemFree"], exact: false,
        note: "BUDDY pages against the kernel's free-page counter; not exact (per-CPU free pages read 0)\(deferred)"
          + (free.zeroSectionsExplainOffList ? ", and MemFree counts that memory as free" : "")))
    }
    return checks
  }
}
