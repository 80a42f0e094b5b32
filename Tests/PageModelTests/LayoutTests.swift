import Testing
@testable import PageModel

@Suite struct LayoutTests {
  @Test func sizesParse() {
    #expect(ByteSize.parse("64M") == 64 << 20)
    #expect(ByteSize.parse("24G") == 24 << 30)
    #expect(ByteSize.parse("1T") == 1 << 40)
    #expect(ByteSize.parse("4GiB") == 4 << 30)
    #expect(ByteSize.parse("4096") == 4096)
    #expect(ByteSize.parse("banana") == nil)
    #expect(ByteSize.parse("") == nil)
    #expect(ByteSize.parse("-1G") == nil)
    #expect(ByteSize.parse("99999999999999999999T") == nil)
    #expect(ByteSize.parse("17000000P") == nil)
  }

  /// `--ram 24G --layout pc` gives exactly the fixtures' System RAM ranges.
  @Test func pcLayoutMatchesFixtureMachine() throws {
    let layout = try PhysicalLayout.pc(ramBytes: 24 << 30)
    #expect(layout.ram == [PFN(0x1)..<PFN(0x9f), PFN(0x100)..<PFN(0xc0000), PFN(0x100000)..<PFN(0x640000)])
    #expect(layout.endPFN == 0x640000)
    #expect(layout.presentSections.count == 192)
    let spans = layout.zoneSpans(node: 0)
    #expect(spans.map(\.zone) == [.dma, .dma32, .normal])
    // /proc/zoneinfo of the fixture: DMA start 1 spanned 4095 present 3998; DMA32 start
    // 4096 spanned 1044480 present 782336; Normal start 1048576 spanned 5505024.
    #expect(spans[0].span == PFN(1)..<PFN(0x1000))
    #expect(layout.presentPages(in: spans[0].span) == 3998)
    #expect(spans[1].span == PFN(0x1000)..<PFN(0x100000))
    #expect(layout.presentPages(in: spans[1].span) == 782336)
    #expect(spans[2].span.pageCount == 5505024)
  }

  @Test func rangeParsing() throws {
    let r = try PhysicalLayout.parseRanges("0x1-0x9e,0x100-0xbffff")
    #expect(r == [PFN(1)..<PFN(0x9f), PFN(0x100)..<PFN(0xc0000)])
    #expect(throws: LayoutError.self) { try PhysicalLayout.parseRanges("0x10-0x1") }
    #expect(throws: LayoutError.self) { try PhysicalLayout.parseRanges("zz") }
    #expect(throws: LayoutError.self) { try PhysicalLayout(ram: [PFN(0)..<PFN(10), PFN(5)..<PFN(20)]) }
  }

  @Test func badSizes() {
    #expect(throws: LayoutError.zeroRAM) { try PhysicalLayout.flat(ramBytes: 0) }
    #expect(throws: LayoutError.notPageMultiple(1000)) { try PhysicalLayout.flat(ramBytes: 1000) }
    #expect(throws: LayoutError.self) { try PhysicalLayout.flat(ramBytes: 64 << 20, nodes: 2) }
  }

  @Test func nodesSplitAtSections() throws {
    let layout = try PhysicalLayout.flat(ramBytes: 8 << 30, nodes: 2)
    #expect(layout.nodes == [PFN(0)..<PFN(0x100000), PFN(0x100000)..<PFN(0x200000)])
    #expect(layout.zoneSpans(node: 1).map(\.zone) == [.normal])
  }
}
