// libFuzzer targets for the readers of the kernel's text files (Snapshot's ProcText and
// HugepagesInfo), linked against an instrumented Snapshot by Fuzz/run.sh, which builds
// this file once per reader with one of -D FUZZ_MEMINFO (meminfo and vmstat counters,
// and the memmap sum), FUZZ_BUDDYINFO, FUZZ_IOMEM (System RAM, then the RAM clipped and
// modelled as a layout), FUZZ_ZONEINFO, FUZZ_HUGEPAGES, FUZZ_KERNEL_RELEASE, FUZZ_CGROUPS (the snapshot's cgroup map), FUZZ_MEMORY_BLOCKS (the snapshot's memory blocks), FUZZ_MOUNTINFO
// (the cgroup mounts of /proc/self/mountinfo). The input is
// the file. Every input must end in a value or a SnapshotError; the values must hold
// what the reader promises (bounded counts, sorted disjoint ranges).

import PageModel
import Snapshot

@_cdecl("LLVMFuzzerTestOneInput")
public func procTextFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  #if FUZZ_MEMINFO
    if let c = try? ProcText.counters(text, path: "fuzz") {
      precondition(c.values.allSatisfy { $0 >= 0 }, "a negative count")
      if let m = try? ProcText.memmapPages(c, path: "fuzz", limit: 1 << 30) { precondition(m >= 0 && m <= 1 << 30, "memmap beyond its limit") }
    }
  #elseif FUZZ_BUDDYINFO
    if let blocks = try? ProcText.buddyinfo(text, path: "fuzz") {
      precondition(blocks.count == ProcText.pageOrders, "not one count per order")
      let pages = blocks.enumerated().reduce(0) { $0 + ($1.element << $1.offset) }
      precondition(pages >= 0 && pages <= ProcText.maxPages, "free pages beyond a 52-bit address space")
    }
  #elseif FUZZ_IOMEM
    if let ram = try? ProcText.systemRAM(text, path: "fuzz") {
      for (a, b) in zip(ram, ram.dropFirst()) { precondition(a.upperBound <= b.lowerBound, "System RAM ranges overlap or are unsorted") }
      let clipped = ram.compactMap { r -> PFNRange? in
        let hi = min(r.upperBound, PFN(1 << 22))
        return r.lowerBound < hi ? r.lowerBound..<hi : nil
      }
      if !clipped.isEmpty { _ = try? PhysicalLayout(ram: clipped, nodeCount: 1) }
    }
  #elseif FUZZ_ZONEINFO
    _ = try? ProcText.zoneinfo(text, path: "fuzz")
  #elseif FUZZ_HUGEPAGES
    if let info = try? HugepagesInfo.parse(text, path: "fuzz") {
      for h in info.hstates { precondition(h.sizeKB > 0 && h.sizeKB <= 1 << 40, "hstate size out of bounds") }
    }
  #elseif FUZZ_KERNEL_RELEASE
    try? ProcText.kernelRelease(text, path: "fuzz")
    // The release (and --kernel) as a decode: what it reads prints back as it reads.
    if let d = KernelDecode(release: text) {
      precondition(KernelDecode(release: d.description) == d, "a decode that does not read back")
    }
  #elseif FUZZ_MEMORY_BLOCKS
    if let b = try? MemoryBlocks.parse(text, path: "fuzz") {
      precondition((try? MemoryBlocks.parse(b.text, path: "fuzz")) == b, "the memory blocks do not round-trip")
      let bits = b.offlineSections(sectionCount: 1 << 12)
      precondition(bits.count == 64, "not one bit per section")
    }
  #elseif FUZZ_CGROUPS
    if let map = try? CgroupMap.parse(text, path: "fuzz") {
      // What is read back writes the same map.
      precondition((try? CgroupMap.parse(map.text, path: "fuzz")) == map, "the cgroup map does not round-trip")
      precondition(map.entries.allSatisfy { $0.inode > 0 && $0.path.hasPrefix("/") }, "an entry the reader should refuse")
    }
  #elseif FUZZ_MOUNTINFO
    if let mounts = try? CgroupMap.cgroupMounts(mountinfo: text, path: "fuzz") {
      precondition(Set(mounts.map(\.hierarchy)).count == mounts.count, "a hierarchy twice")
      _ = CgroupMap.memoryMounts(mounts)
    }
  #else
    #error("build with one of -D FUZZ_MEMINFO, FUZZ_BUDDYINFO, FUZZ_IOMEM, FUZZ_ZONEINFO, FUZZ_HUGEPAGES, FUZZ_KERNEL_RELEASE, FUZZ_CGROUPS, FUZZ_MEMORY_BLOCKS, FUZZ_MOUNTINFO")
  #endif
  return 0
}
