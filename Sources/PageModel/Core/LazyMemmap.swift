import CUserfaultfd

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// How boot initialised the memmap's struct pages.
///
/// `lazy`: boot wrote none of them. The memmap's host frames are registered with
/// userfaultfd, and the first touch of a frame (by the model, a reader, or the
/// benchmarks' C reference) has a handler thread build exactly the bytes the eager boot
/// would have left there: every struct page as `memmap_init()` writes it, and each free
/// block's head as `memblock_free_all()` leaves it (PageBuddy, order, list links in the
/// boot's free order). List heads and counters are set at boot as the eager boot sets
/// them. `eager`: boot wrote every struct page, and the reason the lazy path was not
/// taken (not asked for, or userfaultfd unavailable).
///
/// Kernel: what `CONFIG_DEFERRED_STRUCT_PAGE_INIT` buys (`memmap_init()` stopping at
/// `first_deferred_pfn`, `deferred_init_memmap()` later), moved from the kernel's time
/// to the host's: the host pays for a memmap frame only when something reads it.
public enum MemmapInit: Sendable, Equatable, CustomStringConvertible {
  case lazy
  case eager(reason: String)

  public var isLazy: Bool { self == .lazy }
  public var description: String {
    switch self {
    case .lazy: "lazy"
    case .eager(let reason): "eager (\(reason))"
    }
  }
}

/// A free block as the boot's free phase leaves it.
struct LazyFreeBlock {
  var pfn: UInt64
  var order: Int32
  /// The list (index into the machine's list heads).
  var list: Int32
  /// The block freed before this one onto the same list (its `next` link, since
  /// `list_add()` pushes at the head), or -1 for the list head.
  var older: Int32
  /// The block freed after it onto the same list (its `prev` link), or -1.
  var newer: Int32
}

/// The type-erased face of a ``LazyMemmapImage`` that the C callback calls.
class LazyMemmapFiller: @unchecked Sendable {
  /// Host address of frame 0 of the memory served; set before the handler starts.
  var physBase: UInt64 = 0

  /// Builds the bytes of `count` host frames starting at `firstFrame` into `buffer`.
  func fill(firstFrame: UInt64, count: Int, into buffer: UnsafeMutableRawPointer) {}

  final func fill(hostStart: UInt64, count: Int, into buffer: UnsafeMutableRawPointer) {
    fill(firstFrame: (hostStart &- physBase) >> UInt64(Kernel.pageShift), count: count, into: buffer)
  }
}

/// Everything needed to build any boot memmap frame's bytes, without the machine: the
/// boot-time frame to vmemmap page map, the free ranges, the free blocks in free order
/// and the list heads' addresses. Immutable once built, read by the handler thread only.
final class LazyMemmapImage<Format: PageFormat>: LazyMemmapFiller, @unchecked Sendable {
  let vmemmapBase: UInt64
  let pteCount: Int
  /// The registered frame ranges, and for each the offset of its first frame in `vpages`.
  let ranges: [(frames: PFNRange, offset: Int)]
  /// The vmemmap page each registered frame backed at boot, or `UInt32.max`.
  let vpages: [UInt32]
  let free: [PFNRange]
  let sectionNode: [UInt8]
  let blocks: [LazyFreeBlock]
  let sentinels: [UInt64]
  /// The one PTE of the handler's view: frame 0 of its buffer, writable.
  let scratchPTE: UnsafeMutablePointer<VmemmapPTE>

  init(vmemmapBase: UInt64, table: VmemmapTable, ranges: [PFNRange], free: [PFNRange], sectionNode: [UInt8],
       blocks: [LazyFreeBlock], sentinels: [UInt64]) {
    self.vmemmapBase = vmemmapBase
    pteCount = table.count
    var offsets: [(frames: PFNRange, offset: Int)] = []
    var total = 0
    for r in ranges {
      offsets.append((r, total))
      total += r.pageCount
    }
    self.ranges = offsets
    var vpages = [UInt32](repeating: .max, count: total)
    for v in 0..<table.count {
      let pte = table.entries[v]
      guard pte.isPresent, let i = Self.rangeIndex(offsets, pte.frame) else { continue }
      vpages[offsets[i].offset + Int(pte.frame.rawValue - offsets[i].frames.lowerBound.rawValue)] = UInt32(v)
    }
    self.vpages = vpages
    self.free = free
    self.sectionNode = sectionNode
    self.blocks = blocks
    self.sentinels = sentinels
    scratchPTE = .allocate(capacity: 1)
    scratchPTE.initialize(to: VmemmapPTE(frame: PFN(0), writable: true))
  }

  deinit { scratchPTE.deallocate() }

  static func rangeIndex(_ ranges: [(frames: PFNRange, offset: Int)], _ frame: PFN) -> Int? {
    var lo = 0, hi = ranges.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if ranges[mid].frames.upperBound <= frame { lo = mid + 1 } else { hi = mid }
    }
    return lo < ranges.count && ranges[lo].frames.contains(frame) ? lo : nil
  }

  override func fill(firstFrame: UInt64, count: Int, into buffer: UnsafeMutableRawPointer) {
    for k in 0..<count {
      let frame = PFN(firstFrame + UInt64(k))
      let dst = buffer + k << Kernel.pageShift
      guard let r = Self.rangeIndex(ranges, frame) else {
        dst.initializeMemory(as: UInt8.self, repeating: 0, count: Kernel.pageSize)
        continue
      }
      let v = vpages[ranges[r].offset + Int(frame.rawValue - ranges[r].frames.lowerBound.rawValue)]
      if v == .max {
        dst.initializeMemory(as: UInt8.self, repeating: 0, count: Kernel.pageSize)
      } else {
        buildVmemmapPage(Int(v), into: dst)
      }
    }
  }

  /// The bytes of vmemmap page `v` right after the eager boot's free phase: the same
  /// format hooks, called with the same arguments in the same order as
  /// ``Machine/initStructPagesAndFreeRAM()`` calls them for the pages of `v`.
  @_specialize(where Format == ClassicEncoding)
  @_specialize(where Format == MaskEncoding)
  @_specialize(where Format == Memdesc32Format)
  @_specialize(where Format == Memdesc8Format)
  func buildVmemmapPage(_ v: Int, into dst: UnsafeMutableRawPointer) {
    let perPage = Format.structPagesPerVmemmapPage
    let pfn0 = UInt64(v) * UInt64(perPage)
    let va0 = vmemmapBase &+ UInt64(v) << UInt64(Kernel.pageShift)
    let node = Int(sectionNode[Int(pfn0 >> UInt64(Kernel.pfnSectionShift))])
    // The eager boot writes into fresh (zeroed) frames, and `initPage` leaves some
    // fields alone; the buffer is reused from fault to fault.
    dst.initializeMemory(as: UInt8.self, repeating: 0, count: Kernel.pageSize)
    var lo = 0, hi = free.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if free[mid].upperBound.rawValue <= pfn0 { lo = mid + 1 } else { hi = mid }
    }
    var freeIndex = lo
    for i in 0..<perPage {
      let pfn = PFN(pfn0 + UInt64(i))
      while freeIndex < free.count && free[freeIndex].upperBound <= pfn { freeIndex += 1 }
      let isFree = freeIndex < free.count && free[freeIndex].contains(pfn)
      Format.initPage(dst + (i << Format.structPageShift), address: va0 &+ UInt64(i << Format.structPageShift),
                      zone: ZoneType.of(pfn), node: node, reserved: !isFree)
    }
    // A handle whose vmemmap page `v` is the buffer and whose other pages are never used:
    // a free block's hooks write only its own head page.
    let m = Memmap<Format>(base: vmemmapBase, ptes: scratchPTE - v, pteCount: pteCount, phys: dst)
    lo = 0
    hi = blocks.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if blocks[mid].pfn < pfn0 { lo = mid + 1 } else { hi = mid }
    }
    let end = pfn0 + UInt64(perPage)
    var b = lo
    while b < blocks.count && blocks[b].pfn < end {
      let block = blocks[b]
      let page = m.address(of: PFN(block.pfn))
      let sentinel = sentinels[Int(block.list)]
      Format.setBuddy(m, page, order: Int(block.order))
      let next = block.older < 0 ? sentinel : m.address(of: PFN(blocks[Int(block.older)].pfn))
      Format.setListLinks(m, page, next: next, prev: sentinel, sentinel: sentinel)
      if block.newer >= 0 {
        Format.setListPrev(m, page, m.address(of: PFN(blocks[Int(block.newer)].pfn)), sentinel: sentinel)
      }
      b += 1
    }
  }
}

/// The running handler: the userfaultfd, its thread and the image it builds from. Owned
/// by the ``PhysicalMemory`` whose frames it serves, stopped before they are unmapped.
final class LazyMemmapHandler {
  let filler: LazyMemmapFiller
  let handle: OpaquePointer

  /// Bytes built per fault: 32 frames, so a reader that walks the whole memmap takes one
  /// handler round trip per 128 KiB rather than per 4 KiB.
  static let chunkBytes = 32 << Kernel.pageShift

  /// Registers `ranges` of `memory` and starts the thread; throws the reason it cannot.
  init(memory: PhysicalMemory, ranges: [PFNRange], filler: LazyMemmapFiller) throws(LazyMemmapUnavailable) {
    self.filler = filler
    let starts = ranges.map { UInt64(UInt(bitPattern: memory.frame($0.lowerBound))) }
    let lengths = ranges.map { UInt64($0.pageCount) << UInt64(Kernel.pageShift) }
    var why = [CChar](repeating: 0, count: 256)
    filler.physBase = UInt64(UInt(bitPattern: memory.base))
    let context = Unmanaged.passUnretained(filler).toOpaque()
    let h = why.withUnsafeMutableBufferPointer { w in
      memdesc_uffd_start(starts, lengths, ranges.count, Self.chunkBytes, lazyMemmapFill, context, w.baseAddress, w.count)
    }
    guard let h else { throw LazyMemmapUnavailable(reason: String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
    handle = h
  }

  /// Faults handled and frames built so far.
  var faults: UInt64 { memdesc_uffd_faults(handle) }
  var framesBuilt: UInt64 { memdesc_uffd_pages(handle) }

  func stop() { memdesc_uffd_stop(handle) }
}

/// Why the lazy memmap could not start (the userfaultfd error, as text).
struct LazyMemmapUnavailable: Error { var reason: String }

/// The C callback, on the handler thread: the context is the machine's image.
private let lazyMemmapFill: memdesc_uffd_fill_fn = { context, _, start, len, buffer in
  guard let context, let start, let len, let buffer else { return -1 }
  let filler = Unmanaged<LazyMemmapFiller>.fromOpaque(context).takeUnretainedValue()
  filler.fill(hostStart: start.pointee, count: len.pointee >> Kernel.pageShift, into: buffer)
  return 0
}
