import Testing
import MemdescTestSupport
@testable import PageModel

/// page_ext: the clients' sizes as Linux 6.18 lays them out on x86-64, the per-section
/// tables boot takes from the page allocator, and the projection that must agree with
/// them.
@Suite struct PageExtTests {
  /// Sizes counted from the structs: `struct page_ext` is one unsigned long; struct
  /// page_owner 2+2+4+4+4 (+4 padding to the u64) ... = 64; union codetag_ref one
  /// pointer; struct page_table_check two atomic_t.
  @Test func clientSizesPinned() {
    #expect(PageExt.flagsBytes == 8)
    #expect(PageExtClient.owner.size == 64)
    #expect(PageExtClient.allocTag.size == 8)
    #expect(PageExtClient.tableCheck.size == 8)
    #expect(PageExtClient.allCases.filter(\.needsSharedFlags) == [.owner])
    // invoke_need_callbacks(): the flags word only when a client shares it.
    #expect(PageExt.none.entryBytes == 0 && PageExt.none.framesPerSection == 0)
    #expect(PageExt(clients: [.owner]).entryBytes == 72)
    #expect(PageExt(clients: [.tableCheck]).entryBytes == 8)
    #expect(PageExt(clients: [.allocTag, .tableCheck]).entryBytes == 16)
    #expect(PageExt(clients: [.tableCheck, .owner]).entryBytes == 80)
    #expect(PageExt(clients: PageExtClient.allCases).entryBytes == 88)
    // One table of PAGES_PER_SECTION entries, page-aligned, cut from a get_order() block.
    #expect(PageExt(clients: [.owner]).framesPerSection == 576)
    #expect(PageExt(clients: [.owner]).allocationOrder == 10)
    #expect(PageExt(clients: [.tableCheck]).framesPerSection == 64)
    #expect(PageExt(clients: [.tableCheck]).allocationOrder == 6)
    #expect(PageExt(clients: [.allocTag, .tableCheck]).allocationOrder == 7)
    #expect(PageExt(clients: PageExtClient.allCases).framesPerSection == 704)
  }

  @Test func parsing() throws {
    #expect(try PageExt.parse("table_check,owner").clients == [.owner, .tableCheck])
    #expect(try PageExt.parse("none") == .none)
    #expect(try PageExt.parse("alloc_tag").spelling == "alloc_tag")
    let bad: [(String, String)] = [
      ("frobnicate", "--page-ext: unknown page_ext client 'frobnicate'; the clients are owner, alloc_tag, table_check, or none"),
      ("owner,owner", "--page-ext names 'owner' twice: give each client once (owner, alloc_tag, table_check)"),
      ("", "--page-ext '' has an empty entry: give clients separated by commas (owner, alloc_tag, table_check) or none"),
      ("owner,,table_check", "--page-ext 'owner,,table_check' has an empty entry: give clients separated by commas (owner, alloc_tag, table_check) or none"),
      ("idle", "--page-ext: page_idle keeps its bits in the page flags on 64-bit kernels and has no page_ext entry; the clients are owner, alloc_tag, table_check, or none"),
    ]
    for (text, message) in bad {
      #expect(throws: PageExt.ParseError(description: message)) { try PageExt.parse(text) }
    }
  }

  /// Boot takes 576 frames per section for page_owner, on the section's node, as
  /// allocated order-0 pages; the rest of each order-10 block is free again, and the
  /// count matches the projection in every era.
  @Test(arguments: Era.allCases)
  func bootAllocatesTables(era: Era) throws {
    var config = try flatConfig(era, ram: 2 << 30, nodes: 2)
    config.pageExt = PageExt(clients: [.owner])
    let m = try bootModel(config)
    let plain = try bootModel(flatConfig(era, ram: 2 << 30, nodes: 2))
    #expect(m.pageExtFrames == 16 * 576)
    #expect(m.census().pageExtFrames == 16 * 576)
    #expect(m.census().freePages == plain.census().freePages - 16 * 576)
    #expect(m.memmapFrames == plain.memmapFrames)  // page_ext is not memmap
    _ = try m.checkBuddyInvariants()
    // Each node's tables come from its own RAM: node 1's free pages drop by its 8 tables.
    let nodeFree = { (model: any MemoryModel, node: Int) in
      model.census().zones.filter { $0.node == node }.reduce(0) { $0 + $1.freePages }
    }
    #expect(nodeFree(plain, 1) - nodeFree(m, 1) == 8 * 576)
    let cost = m.cost()
    #expect(cost.pageExtFrames == 16 * 576)
    let projected = EraCost.project(Population(), era: era, layout: config.layout, pageExt: config.pageExt)
    #expect(projected.pageExtFrames == cost.pageExtFrames)
    #expect(projected.totalOverheadBytes == EraCost.project(Population(), era: era, layout: config.layout).totalOverheadBytes)
  }

  /// Without clients the kernel allocates nothing: boot is what it was.
  @Test func noClientsNoTables() throws {
    let m = try bootModel(flatConfig(.mask, ram: 1 << 30))
    #expect(m.pageExtFrames == 0)
    #expect(m.cost().pageExtFrames == 0)
  }
}
