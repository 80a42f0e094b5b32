import Foundation
@testable import Snapshot
import Testing

/// The tracefs layout parsers and the ring-buffer page reader, on pages and formats
/// captured on a 6.18 x86-64 host (Fixtures/tracefs: three pages of cpu0's
/// trace_pipe_raw, the first two consecutive, the third with a time-extend record).
/// Expected counts were read from the same bytes by an independent script.
@Suite struct TracefsParserTests {
  static func text(_ name: String) throws -> String { try Fixture.text("tracefs", name) }

  static func header() throws -> TracefsLayout.PageHeader {
    try TracefsLayout.pageHeader(text("header_page"), path: "header_page")
  }

  static func decoder() throws -> PageEventDecoder {
    var layouts: [PageEvent.Kind: TracefsLayout.Event] = [:]
    for kind in PageEvent.Kind.allCases {
      let name = String(kind.tracepoint.split(separator: "/")[1])
      layouts[kind] = try TracefsLayout.event(text(name + ".format"), path: name)
    }
    return try PageEventDecoder(layouts, path: "fixture")
  }

  @Test func pageHeaderAndRecordHeaderAsPublished() throws {
    let h = try Self.header()
    #expect(h == TracefsLayout.PageHeader(timestampOffset: 0, timestampSize: 8, commitOffset: 8, commitSize: 8, dataOffset: 16, dataSize: 4080))
    #expect(h.pageSize == 4096)
    #expect(try TracefsLayout.eventHeader(Self.text("header_event"), path: "header_event") == TracefsLayout.EventHeader())
    // The commit flags, pinned to the kernel's RB_MISSED_EVENTS and RB_MISSED_STORED.
    #expect(RingBufferPage.missedEvents == 0x8000_0000 && RingBufferPage.missedStored == 0x4000_0000)
  }

  @Test func eventFormatsGiveFieldsAndIDs() throws {
    let alloc = try TracefsLayout.event(Self.text("mm_page_alloc.format"), path: "f")
    #expect(alloc.name == "mm_page_alloc" && alloc.id == 653)
    #expect(alloc.field("pfn")?.offset == 8 && alloc.field("order")?.offset == 16 && alloc.field("gfp_flags")?.offset == 24)
    #expect(alloc.field("migratetype") == TracefsLayout.Field(name: "migratetype", type: "int", offset: 32, size: 4, isSigned: true))
    let lru = try TracefsLayout.event(Self.text("mm_lru_insertion.format"), path: "f")
    #expect(lru.field("folio")?.type == "struct folio *" && lru.field("pfn")?.offset == 16 && lru.field("flags")?.offset == 32)
    let add = try TracefsLayout.event(Self.text("mm_filemap_add_to_page_cache.format"), path: "f")
    #expect(add.field("order")?.size == 1 && add.field("order")?.offset == 36 && add.field("s_dev")?.size == 4)
  }

  @Test func capturedPagesDecodeToTheCountsAnIndependentReaderFound() throws {
    let header = try Self.header(), decoder = try Self.decoder()
    let bytes = try Fixture.bytes(Fixture.file("tracefs", "cpu0.raw"))
    let expected: [[PageEvent.Kind: Int]] = [
      [.alloc: 36, .lruInsertion: 31, .free: 24, .freeBatched: 23],
      [.free: 16, .freeBatched: 12, .alloc: 46, .lruInsertion: 31],
      [.free: 32, .alloc: 23, .lruInsertion: 31, .freeBatched: 19, .addToPageCache: 9],
    ]
    let lastTimes: [UInt64] = [850_592_823_494, 850_593_852_974, 851_216_431_332]
    var events: [PageEvent] = []
    try bytes.withUnsafeBytes { all in
      for p in 0..<3 {
        var counts: [PageEvent.Kind: Int] = [:]
        var last: UInt64 = 0
        let page = UnsafeRawBufferPointer(rebasing: all[(p * 4096)..<((p + 1) * 4096)])
        let info = try RingBufferPage.read(page, header: header, path: "cpu0.raw", pageOffset: UInt64(p * 4096)) { time, payload in
          #expect(time >= last, "time stamps go forward within a page")
          last = time
          guard case .event(let e) = decoder.decode(payload, time: time, cpu: 0) else {
            Issue.record("page \(p): an undecodable payload")
            return
          }
          counts[e.kind, default: 0] += 1
          events.append(e)
        }
        #expect(counts == expected[p], "page \(p)")
        #expect(last == lastTimes[p], "page \(p): the last record's time (a time-extend record in page 2)")
        #expect(!info.missedEvents && info.missedCount == nil)
      }
    }
    let first = try #require(events.first)
    #expect(first == PageEvent(time: 850_589_246_997, pfn: 1_507_637, aux: 1_314_250, kind: .alloc, order: 0, cpu: 0))
    // The stored form round-trips.
    var stored: [UInt8] = []
    for e in events { e.append(to: &stored) }
    #expect(stored.count == events.count * PageEvent.size)
    let back = stored.withUnsafeBytes { p in (0..<events.count).compactMap { PageEvent.load(p, at: $0 * PageEvent.size) } }
    #expect(back == events)
  }

  @Test func lostEventFlagsAndCountAreReported() throws {
    let header = try Self.header()
    // Page 2 has room after its data for the count (the kernel stores it only then).
    var page = Array(try Fixture.bytes(Fixture.file("tracefs", "cpu0.raw"))[8192..<12288])
    let length = 0xfd8
    // What ring_buffer_read_page() does when events were lost: the count after the data.
    let commit = UInt64(length) | RingBufferPage.missedEvents | RingBufferPage.missedStored
    withUnsafeBytes(of: commit.littleEndian) { page.replaceSubrange(8..<16, with: $0) }
    withUnsafeBytes(of: UInt64(1234).littleEndian) { page.replaceSubrange((16 + length)..<(24 + length), with: $0) }
    let info = try page.withUnsafeBytes { try RingBufferPage.read($0, header: header, path: "p") { _, _ in } }
    #expect(info.missedEvents && info.missedCount == 1234 && info.records == 114)
  }

  @Test func damagedPagesAreErrorsWithOffsets() throws {
    let header = try Self.header()
    let good = Array(try Fixture.bytes(Fixture.file("tracefs", "cpu0.raw"))[0..<4096])
    func read(_ page: [UInt8]) throws { _ = try page.withUnsafeBytes { try RingBufferPage.read($0, header: header, path: "p.raw", pageOffset: 8192) { _, _ in } } }
    var long = good
    long[8] = 0xf1; long[9] = 0x0f  // length 4081 > 4080
    expectSnapshotError(.badTrace, ["p.raw at offset 8200", "4081 bytes of records"]) { try read(long) }
    var overrun = good
    // The first record claims 28 words; set the commit length so that it cannot fit.
    overrun[8] = 20; overrun[9] = 0
    overrun[16] = 28
    expectSnapshotError(.badTrace, ["p.raw at offset 8208", "runs past the page"]) { try read(overrun) }
    expectSnapshotError(.badTrace, ["shorter than its header"]) { try read([1, 2, 3]) }
  }

  @Test func unexpectedLayoutsAreRefused() throws {
    expectSnapshotError(.badTrace, ["no field 'commit'"]) {
      _ = try TracefsLayout.pageHeader("\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n", path: "h")
    }
    let other = try Self.text("header_event").replacingOccurrences(of: "type == 29", with: "type == 27")
    expectSnapshotError(.badTrace, ["padding 27"]) { _ = try TracefsLayout.eventHeader(other, path: "he") }
    expectSnapshotError(.badTrace, ["event ID"]) { _ = try TracefsLayout.event("name: x\nID: 70000\n", path: "f") }
    let noPFN = try Self.text("mm_page_free.format").replacingOccurrences(of: "pfn;", with: "page;")
    expectSnapshotError(.badTrace, ["kmem/mm_page_free", "'pfn'"]) {
      _ = try PageEventDecoder([.free: TracefsLayout.event(noPFN, path: "f")], path: "f")
    }
  }
}
