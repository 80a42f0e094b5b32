/// A non-owning handle on a machine's memmap: the vmemmap page table and the physical
/// frames behind it. Every struct page access of the model goes through it.
///
/// `Memmap` is a plain value with four words in it, so hot loops keep it in registers.
/// It does not own its storage: it is handed out by a ``Machine`` and must not outlive
/// it (the `_UnsafeHandle` rule of swift-collections).
///
/// Addresses are vmemmap virtual addresses: the struct page of `pfn` is at
/// `base + pfn * 64`, and a read translates that address through the PTE of its 4 KiB
/// vmemmap page. Two PTEs that map the same frame (HVO) therefore really show the same
/// bytes, and a PTE without the writable bit really refuses a write.
@frozen
public struct Memmap<Format: PageFormat> {
  /// Kernel: `vmemmap` (`VMEMMAP_START`), the address of PFN 0's struct page.
  public let base: UInt64
  @usableFromInline let ptes: UnsafeMutablePointer<VmemmapPTE>
  @usableFromInline let pteCount: Int
  @usableFromInline let phys: UnsafeMutableRawPointer

  @inlinable
  init(base: UInt64, table: VmemmapTable, memory: PhysicalMemory) {
    self.base = base
    ptes = table.entries
    pteCount = table.count
    phys = memory.base
  }

  /// A handle over other storage: the lazy memmap builds a frame's bytes through one
  /// whose only valid vmemmap page lands in its buffer.
  @inlinable
  init(base: UInt64, ptes: UnsafeMutablePointer<VmemmapPTE>, pteCount: Int, phys: UnsafeMutableRawPointer) {
    self.base = base
    self.ptes = ptes
    self.pteCount = pteCount
    self.phys = phys
  }

  /// The raw PTE array (one per 4 KiB of vmemmap) and its length, for reference
  /// implementations in other languages that walk the same memory. Valid while the
  /// machine lives.
  public var unsafePageTable: UnsafePointer<UInt64> { UnsafeRawPointer(ptes).assumingMemoryBound(to: UInt64.self) }
  /// Host address of physical frame 0; frame `f` is at `unsafePhysicalBase + f * 4096`.
  public var unsafePhysicalBase: UnsafeRawPointer { UnsafeRawPointer(phys) }

  /// Kernel: `pfn_to_page()` for SPARSEMEM_VMEMMAP: `vmemmap + pfn`.
  @inlinable @inline(__always)
  public func address(of pfn: PFN) -> UInt64 { base &+ (pfn.rawValue << UInt64(Format.structPageShift)) }

  /// Kernel: `page_to_pfn()`: `page - vmemmap`.
  @inlinable @inline(__always)
  public func pfn(ofPageAt address: UInt64) -> PFN {
    PFN(rawValue: (address &- base) >> UInt64(Format.structPageShift))
  }

  /// The PTE that maps a vmemmap address, or nil outside the table.
  @inlinable
  public func pte(at address: UInt64) -> VmemmapPTE? {
    let index = (address &- base) >> UInt64(Kernel.pageShift)
    guard index < UInt64(pteCount) else { return nil }
    return ptes[Int(index)]
  }

  /// Whether a struct page can be read at `address` (its vmemmap page is mapped).
  @inlinable
  public func isMapped(_ address: UInt64) -> Bool { pte(at: address)?.isPresent ?? false }

  /// Host address of the byte at a vmemmap address, for reading.
  @inlinable @inline(__always)
  func readPointer(_ address: UInt64) -> UnsafeMutableRawPointer {
    let index = Int(truncatingIfNeeded: (address &- base) >> UInt64(Kernel.pageShift))
    vmBugOn(index < 0 || index >= pteCount, "vmemmap address 0x\(String(address, radix: 16)) outside the memmap")
    let pte = ptes[index]
    vmBugOn(!pte.isPresent, "read of unmapped vmemmap address 0x\(String(address, radix: 16))")
    return phys + Int(truncatingIfNeeded: (pte.rawValue & VmemmapPTE.frameMask) | (address & 0xfff))
  }

  /// Host address of the byte at a vmemmap address, for writing: a fault if the PTE is
  /// absent or read-only.
  @inlinable @inline(__always)
  func writePointer(_ address: UInt64) throws(VmemmapFault) -> UnsafeMutableRawPointer {
    let index = Int(truncatingIfNeeded: (address &- base) >> UInt64(Kernel.pageShift))
    guard index >= 0, index < pteCount else { throw VmemmapFault(kind: .notPresent, address: address, frame: 0) }
    let pte = ptes[index]
    guard pte.rawValue & 0b11 == 0b11 else {
      throw VmemmapFault(kind: pte.isPresent ? .readOnly : .notPresent, address: address, frame: pte.frame)
    }
    return phys + Int(truncatingIfNeeded: (pte.rawValue & VmemmapPTE.frameMask) | (address & 0xfff))
  }

  /// Reads a field of the struct page at `page` (a vmemmap address).
  @inlinable @inline(__always)
  public func load<T: FixedWidthInteger>(_ page: UInt64, _ offset: Int, as: T.Type = T.self) -> T {
    readPointer(page &+ UInt64(offset)).load(as: T.self)
  }

  /// Writes a field through the vmemmap; a read-only or absent mapping is a typed fault
  /// and no byte changes.
  @inlinable @inline(__always)
  public func store<T: FixedWidthInteger>(_ page: UInt64, _ offset: Int, _ value: T) throws(VmemmapFault) {
    try writePointer(page &+ UInt64(offset)).storeBytes(of: value, as: T.self)
  }

  /// A write the model's own kernel code makes, where a fault would be a bug in the
  /// model (the kernel would oops): it stops the process with the fault.
  @inlinable @inline(__always)
  func set<T: FixedWidthInteger>(_ page: UInt64, _ offset: Int, _ value: T) {
    do { try store(page, offset, value) } catch { preconditionFailure("kernel oops: \(error)") }
  }

  /// The bytes of the struct page at `page`, as read through the vmemmap.
  public func bytes(ofPageAt page: UInt64) -> [UInt8] {
    let p = readPointer(page)
    return (0..<Format.structPageSize).map { p.load(fromByteOffset: $0, as: UInt8.self) }
  }
}
