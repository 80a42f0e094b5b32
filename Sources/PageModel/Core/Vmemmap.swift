/// A page-table entry of the vmemmap, in the x86-64 PTE format: bit 0 present, bit 1
/// writable, bits 12-51 the frame. Kernel: `pte_t` with `_PAGE_PRESENT` / `_PAGE_RW`.
@frozen
public struct VmemmapPTE: Equatable, Sendable {
  public var rawValue: UInt64
  @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
  /// Kernel: `pfn_pte(pfn, PAGE_KERNEL)` or `PAGE_KERNEL_RO`.
  @inlinable public init(frame: PFN, writable: Bool) {
    rawValue = frame.rawValue << 12 | (writable ? 0b11 : 0b01)
  }
  /// Kernel: `_PAGE_PRESENT`.
  public static let present: UInt64 = 1 << 0
  /// Kernel: `_PAGE_RW`.
  public static let writable: UInt64 = 1 << 1
  @usableFromInline static let frameMask: UInt64 = 0x000f_ffff_ffff_f000
  @inlinable public var isPresent: Bool { rawValue & Self.present != 0 }
  @inlinable public var isWritable: Bool { rawValue & Self.writable != 0 }
  /// Kernel: `pte_pfn()`.
  @inlinable public var frame: PFN { PFN(rawValue: (rawValue & Self.frameMask) >> 12) }
}

/// A write (or read) through the vmemmap that the page table does not allow.
public struct VmemmapFault: Error, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// No frame is mapped at the address (the section is not present).
    case notPresent
    /// The frame is mapped read-only (an HVO tail mapping): kernel page fault on a
    /// `PAGE_KERNEL_RO` PTE, an oops in the real kernel.
    case readOnly
  }
  public let kind: Kind
  /// The faulting vmemmap virtual address.
  public let address: UInt64
  /// The frame mapped there (0 when not present).
  public let frame: PFN

  @usableFromInline
  init(kind: Kind, address: UInt64, frame: PFN) {
    self.kind = kind
    self.address = address
    self.frame = frame
  }

  public var description: String {
    let va = "0x" + String(address, radix: 16)
    switch kind {
    case .notPresent: return "vmemmap fault: no frame mapped at \(va)"
    case .readOnly: return "vmemmap fault: write to read-only frame \(frame) at \(va)"
    }
  }
}

/// The vmemmap page table: one PTE per 4 KiB of the virtual memmap.
///
/// A flat array of PTEs stands in for the kernel's four-level walk below
/// `VMEMMAP_START`; the mapping granularity, the writable bit and the frames are the
/// kernel's, the walk is not (it would add three dependent loads per access and model
/// nothing the project measures). Owned by a ``Machine``; code reaches it through
/// ``Memmap``.
public final class VmemmapTable {
  /// Kernel: `VMEMMAP_START` (`vmemmap_base`).
  public let base: UInt64
  @usableFromInline let entries: UnsafeMutablePointer<VmemmapPTE>
  /// Number of vmemmap pages the table covers.
  public let count: Int

  /// The PTE of vmemmap page `index`.
  public subscript(index: Int) -> VmemmapPTE {
    precondition(index >= 0 && index < count, "vmemmap PTE index \(index) outside the table")
    return entries[index]
  }

  /// Rewrites the PTEs of a range, one call each, in order: the old PTE in, the new
  /// one out. Every change to the vmemmap's mappings after boot goes through here
  /// (HVO's optimise and restore); a range inside a PMD leaf must be split first
  /// (``Machine/splitVmemmapPMDs(_:node:)``).
  ///
  /// Kernel: `vmemmap_remap_range()` with a `struct vmemmap_remap_walk` whose
  /// `remap_pte` is the closure.
  func remap(_ range: Range<Int>, _ remapPTE: (_ index: Int, _ old: VmemmapPTE) -> VmemmapPTE) {
    precondition(range.lowerBound >= 0 && range.upperBound <= count, "vmemmap remap outside the table")
    for i in range { entries[i] = remapPTE(i, entries[i]) }
  }

  /// Takes a mapping's writable bit away, for tests that need a read-only struct page
  /// where the model would not make one.
  package func _makeReadOnly(_ index: Int) {
    entries[index].rawValue &= ~VmemmapPTE.writable
  }

  // MARK: - PMD granularity

  /// vmemmap pages one PMD maps: 2 MiB of struct pages. Kernel: `PTRS_PER_PTE`.
  public static let pagesPerPMD = 512
  /// One byte per 2 MiB of vmemmap: 1 where a PMD maps the block, 0 where a PTE table
  /// does (or nothing is mapped).
  let pmdLeaf: UnsafeMutablePointer<UInt8>
  /// 2 MiB blocks of vmemmap the table spans.
  public let pmdCount: Int
  /// Frames holding PTE tables of the vmemmap: taken from memblock at boot where a
  /// block cannot be one PMD, and from the page allocator where HVO splits a PMD. The
  /// kernel counts neither in `nr_memmap_boot_pages` / `nr_memmap_pages`.
  public internal(set) var pteTableFrames: [PFN] = []
  /// PMDs split into PTE tables after boot. Kernel: `vmemmap_split_pmd()`.
  public internal(set) var pmdSplits = 0

  /// Whether the 2 MiB block `index` of the vmemmap is mapped by one PMD.
  public func isPMDMapped(_ index: Int) -> Bool {
    precondition(index >= 0 && index < pmdCount, "vmemmap PMD index \(index) outside the table")
    return pmdLeaf[index] != 0
  }
  /// PMD leaf mappings in the vmemmap now.
  public var pmdMappings: Int { (0..<pmdCount).reduce(0) { $0 + Int(pmdLeaf[$1]) } }
  /// PTE tables of the vmemmap now.
  public var pteTables: Int { pteTableFrames.count }

  init(base: UInt64, pages: Int) {
    self.base = base
    count = pages
    entries = .allocate(capacity: max(pages, 1))
    entries.initialize(repeating: VmemmapPTE(rawValue: 0), count: max(pages, 1))
    pmdCount = (pages + Self.pagesPerPMD - 1) / Self.pagesPerPMD
    pmdLeaf = .allocate(capacity: max(pmdCount, 1))
    pmdLeaf.initialize(repeating: 0, count: max(pmdCount, 1))
  }

  deinit {
    entries.deallocate()
    pmdLeaf.deallocate()
  }
}
