/// A client of `struct page_ext`: per-page metadata a debugging or profiling feature keeps
/// outside struct page, in tables of its own next to the memmap.
///
/// The clients are those of Linux 6.18's `page_ext_ops[]` (mm/page_ext.c) that a 64-bit
/// kernel has. `page_idle` is a client on 32-bit kernels only: a 64-bit kernel keeps the
/// idle and young bits in the page flags, so it costs nothing here.
public enum PageExtClient: String, CaseIterable, Sendable, Comparable {
  /// `page_owner=on`: `struct page_owner` (mm/page_owner.c), 64 bytes: order (2),
  /// last_migrate_reason (2), gfp_mask (4), handle (4), free_handle (4), ts_nsec (8),
  /// free_ts_nsec (8), comm[TASK_COMM_LEN] (16), pid, tgid, free_pid, free_tgid (4 each).
  /// It needs the shared flags word.
  case owner
  /// Memory allocation profiling (`sysctl.vm.mem_profiling`) when the tag reference does
  /// not fit in the page flags: one `union codetag_ref`, a pointer (8 bytes).
  case allocTag = "alloc_tag"
  /// `page_table_check=on`: `struct page_table_check`, two `atomic_t` map counts
  /// (anon, file), 8 bytes.
  case tableCheck = "table_check"

  /// Bytes the client adds to every page's entry. Kernel: `page_ext_operations.size`.
  public var size: Int {
    switch self {
    case .owner: 64
    case .allocTag: 8
    case .tableCheck: 8
    }
  }

  /// Whether the client uses `page_ext->flags`, which then heads every entry.
  /// Kernel: `page_ext_operations.need_shared_flags`.
  public var needsSharedFlags: Bool { self == .owner }

  /// Clients in the kernel's `page_ext_ops[]` order, which is the order of their
  /// offsets in an entry.
  public static func < (a: Self, b: Self) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// The page_ext clients a kernel boots with, and what their tables cost.
///
/// With SPARSEMEM every present section gets one table of `PAGES_PER_SECTION` entries,
/// allocated on the section's node from the page allocator once it is up (so the frames
/// are ordinary allocated pages, not memblock reservations like the boot memmap), with
/// `alloc_pages_exact_nid()`: the block of `get_order(size)` is split and the pages past
/// the table's end go back to the buddy lists.
public struct PageExt: Sendable, Equatable {
  /// The enabled clients, in `page_ext_ops[]` order.
  public let clients: [PageExtClient]

  /// No client: the kernel allocates no table at all.
  public static let none = PageExt(clients: [])

  public init(clients: some Sequence<PageExtClient>) {
    self.clients = Set(clients).sorted()
  }

  /// Kernel: `sizeof(struct page_ext)`: one `unsigned long flags`.
  public static let flagsBytes = 8

  /// Bytes of one page's entry: the flags word if a client shares it, then each client's
  /// part. Kernel: `page_ext_size` after `invoke_need_callbacks()`.
  public var entryBytes: Int {
    guard !clients.isEmpty else { return 0 }
    return (clients.contains { $0.needsSharedFlags } ? PageExt.flagsBytes : 0) + clients.reduce(0) { $0 + $1.size }
  }

  /// Frames of one section's table: `PAGE_ALIGN(page_ext_size * PAGES_PER_SECTION)`
  /// pages (the exact allocation keeps no more). Kernel: `init_section_page_ext()`.
  public var framesPerSection: Int {
    (entryBytes * Kernel.pagesPerSection + Kernel.pageSize - 1) >> Kernel.pageShift
  }

  /// The order of the block a section's table is cut from. Kernel: `get_order()` in
  /// `alloc_pages_exact_nid()`.
  public var allocationOrder: Int {
    let frames = framesPerSection
    return frames <= 1 ? 0 : Int.bitWidth - (frames - 1).leadingZeroBitCount
  }

  /// Frames of every table of a machine with `presentSections` sections.
  public func frames(presentSections: Int) -> Int { presentSections * framesPerSection }

  /// The clients as `--page-ext` takes them, comma-separated; "none" when empty.
  public var spelling: String { clients.isEmpty ? "none" : clients.map(\.rawValue).joined(separator: ",") }

  /// Why a `--page-ext` value cannot be read; `description` names the entry and the
  /// valid clients.
  public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
  }

  /// Reads `CLIENT[,CLIENT]`, each of owner, alloc_tag, table_check once, or `none`.
  public static func parse(_ text: String) throws(ParseError) -> PageExt {
    let valid = PageExtClient.allCases.map(\.rawValue).joined(separator: ", ")
    if text == "none" { return .none }
    var seen: [PageExtClient] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      guard !part.isEmpty else {
        throw ParseError(description: "--page-ext '\(text)' has an empty entry: give clients separated by commas (\(valid)) or none")
      }
      guard let client = PageExtClient(rawValue: String(part)) else {
        let why = part == "idle"
          ? "page_idle keeps its bits in the page flags on 64-bit kernels and has no page_ext entry"
          : "unknown page_ext client '\(part)'"
        throw ParseError(description: "--page-ext: \(why); the clients are \(valid), or none")
      }
      guard !seen.contains(client) else {
        throw ParseError(description: "--page-ext names '\(part)' twice: give each client once (\(valid))")
      }
      seen.append(client)
    }
    return PageExt(clients: seen)
  }
}

extension Machine {
  /// Allocates one page_ext table per present section, on its node, and returns the
  /// frames the tables hold. Each table is a block of ``PageExt/allocationOrder`` from the
  /// page allocator split into order-0 pages, of which the table keeps
  /// ``PageExt/framesPerSection``; the rest go straight back to the buddy lists.
  ///
  /// Kernel: `page_ext_init()` -> `init_section_page_ext()` -> `alloc_page_ext()` ->
  /// `alloc_pages_exact_nid()` with `make_alloc_exact()` (`split_page()`, then
  /// `__free_pages_ok()` of each page past the end).
  func allocatePageExt(_ pageExt: PageExt) throws(MachineError) -> Int {
    let keep = pageExt.framesPerSection
    guard keep > 0 else { return 0 }
    let order = pageExt.allocationOrder
    var frames = 0
    for section in layout.presentSections {
      let node = layout.node(ofSection: section)
      guard let (pfn, zone) = allocBlock(order: order, gfp: .kernel, node: node) else {
        throw .outOfMemory("the page_ext table of section \(section) (\(keep) frames on node \(node))", era: era)
      }
      for i in 0..<keep { prepNewPage(pfn + i, order: 0, gfp: .kernel) }
      for piece in PFN.alignedBlocks((pfn + keep)..<(pfn + (1 << order))) {
        freeOneBlock(piece.pfn, order: piece.order, zone: zone)
      }
      frames += keep
    }
    return frames
  }
}
