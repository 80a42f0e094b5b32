#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Why a machine cannot be booted or an operation cannot run.
public enum MachineError: Error, Equatable, CustomStringConvertible {
  /// The model machine has no free memory for what was asked.
  case outOfMemory(String, era: Era)
  /// A configuration of one era given to a machine type of another.
  case eraMismatch(config: Era, machine: Era)
  case vmemmapBaseNotPageAligned(UInt64)
  case vmemmapBaseOutsideKernelHalf(UInt64)
  /// Kernel: the `sparse_init()` check `IS_ALIGNED(pfn_to_page(0), MAX_FOLIO_VMEMMAP_ALIGN)`.
  case vmemmapBaseMisaligned(base: UInt64, required: UInt64)
  case memmapDoesNotFitHost(memmapBytes: UInt64, availableBytes: UInt64)
  case hostMapFailed(bytes: UInt64, errno: Int32)
  case memmapAllocationFailed(node: Int, needed: Int)
  case invalidPFN(PFN)
  /// Boot-time pools larger than the machine's RAM.
  case bootHugepagesExceedRAM(pages: UInt64, ramPages: Int)

  public var description: String {
    switch self {
    case .outOfMemory(let what, let era): return "the model machine of era '\(era.rawValue)' has no free memory for \(what)"
    case .eraMismatch(let c, let m): return "a machine of era '\(m.rawValue)' cannot boot a configuration of era '\(c.rawValue)'"
    case .vmemmapBaseNotPageAligned(let b): return "vmemmap base \(hex(b)) is not aligned to the 4 KiB page size"
    case .vmemmapBaseOutsideKernelHalf(let b):
      return "vmemmap base \(hex(b)) must lie in the kernel half of the address space, above the direct map at \(hex(Kernel.pageOffsetL4 + (1 << 30))), with room for the whole memmap below the kernel image at 0xffffffff80000000"
    case .vmemmapBaseMisaligned(let b, let r):
      return "vmemmap base \(hex(b)) is not aligned to \(ByteSize.human(r)) (\(hex(r)) = MAX_FOLIO_NR_PAGES * sizeof(struct page)), which the mask era needs for head = tail & mask"
    case .memmapDoesNotFitHost(let need, let avail):
      return "the memmap of this machine needs \(ByteSize.human(need)) of host memory but this host has \(ByteSize.human(avail)) available; choose a smaller --ram"
    case .hostMapFailed(let bytes, let e):
      return "cannot reserve \(ByteSize.human(bytes)) of address space for the model's physical memory: \(String(cString: strerror(e)))"
    case .memmapAllocationFailed(let node, let needed):
      return "node \(node) has too little RAM to hold its own memmap (\(needed) frames)"
    case .invalidPFN(let pfn): return "PFN \(pfn) has no struct page in this machine"
    case .bootHugepagesExceedRAM(let pages, let ram):
      return "the boot-time pools need \(ByteSize.human(pages << UInt64(Kernel.pageShift))) but the machine has \(ByteSize.human(UInt64(ram) << UInt64(Kernel.pageShift))) of RAM"
    }
  }
}
