import Testing
import MemdescTestSupport
@testable import PageModel

/// The large-folio mapcount words as Linux 6.18's rmap writes them (CONFIG_PAGE_MAPCOUNT,
/// CONFIG_MM_ID): PTE maps by two mms, a PMD map adding ENTIRELY_MAPPED, and the unmaps
/// back to the state prep_compound_head() leaves, pinned word by word in every era.
@Suite struct RmapBytesTests {
  @Test func constantsPinned() {
    #expect(LargeFolioRmap.entirelyMapped == 0x80_0000)
    #expect(LargeFolioRmap.pagesMappedMask == 0x7f_ffff)
    #expect(MMID.dummy.rawValue == 0 && MMID.first.rawValue == 1)
    #expect(MMID.bits == 31 && MMID.mask == 0x7fff_ffff)
    #expect(MMID.lockBit == 1 << 31 && MMID.sharedBit == 1 << 63)
  }

  /// The words after each step: _large_mapcount, _nr_pages_mapped, _entire_mapcount,
  /// _mm_id_mapcount[0], [1], _mm_ids.
  struct Words: Equatable, CustomStringConvertible {
    var large, mapped, entire, slot0, slot1: Int32
    var ids: UInt64
    var description: String { "large \(large) mapped \(hex(UInt64(UInt32(bitPattern: mapped)))) entire \(entire) slots \(slot0)/\(slot1) ids \(hex(ids))" }
  }

  static let shared = MMID.sharedBit
  /// (step, words with per-page mapcounts; memdesc8 has none, so `_nr_pages_mapped` stays 0)
  static let expected: [(String, Words)] = [
    ("prep_compound_head", Words(large: -1, mapped: 0, entire: -1, slot0: -1, slot1: -1, ids: 0)),
    ("mm 1 maps pages 0-15", Words(large: 15, mapped: 16, entire: -1, slot0: 15, slot1: -1, ids: 1)),
    ("mm 1 maps the PMD", Words(large: 16, mapped: 0x80_0010, entire: 0, slot0: 16, slot1: -1, ids: 1)),
    ("mm 2 maps pages 8-23", Words(large: 32, mapped: 0x80_0018, entire: 0, slot0: 16, slot1: 15, ids: shared | 2 << 32 | 1)),
    ("mm 1 unmaps the PMD", Words(large: 31, mapped: 0x18, entire: -1, slot0: 15, slot1: 15, ids: shared | 2 << 32 | 1)),
    ("mm 1 unmaps pages 0-15", Words(large: 15, mapped: 16, entire: -1, slot0: -1, slot1: 15, ids: 2 << 32)),
    ("mm 2 unmaps pages 8-23", Words(large: -1, mapped: 0, entire: -1, slot0: -1, slot1: -1, ids: 0)),
  ]

  @Test(arguments: Era.allCases)
  func mapUnmapSequence(era: Era) throws {
    switch era {
    case .classic: try body(flatMachine(ClassicEncoding.self, ram: 256 << 20))
    case .mask: try body(flatMachine(MaskEncoding.self, ram: 256 << 20))
    case .memdesc32: try body(flatMachine(Memdesc32Format.self, ram: 256 << 20))
    case .memdesc8: try body(flatMachine(Memdesc8Format.self, ram: 256 << 20))
    }
  }

  func body<M: MemoryModel>(_ m: M) throws {
    let f = try #require(m.allocFolio(order: 9, kind: .anon))
    let mm1 = MMID(1), mm2 = MMID(2)
    let steps: [() -> Void] = [
      {},
      { m.mapPages(f, 0..<16, 1, mm: mm1) },
      { m.mapEntire(f, 1, mm: mm1) },
      { m.mapPages(f, 8..<24, 1, mm: mm2) },
      { m.mapEntire(f, -1, mm: mm1) },
      { m.mapPages(f, 0..<16, -1, mm: mm1) },
      { m.mapPages(f, 8..<24, -1, mm: mm2) },
    ]
    let perPage = m.era != .memdesc8
    for ((name, want), step) in zip(Self.expected, steps) {
      step()
      var w = want
      if !perPage { w.mapped = 0 }
      #expect(words(m, f) == w, "\(m.era): after \(name)")
    }
    #expect(m.folioMapcount(f) == 0)
    m.folioPut(f)
  }

  /// A third mm finds both slots taken: its mappings count only in the total, and its
  /// unmap leaves the shared bit set even when one slot then holds every mapping
  /// (folio_sub_return_large_mapcount() returns before that check for an mm without a slot).
  @Test(arguments: Era.allCases)
  func mmWithoutSlot(era: Era) throws {
    switch era {
    case .classic: try slotless(flatMachine(ClassicEncoding.self, ram: 256 << 20))
    case .mask: try slotless(flatMachine(MaskEncoding.self, ram: 256 << 20))
    case .memdesc32: try slotless(flatMachine(Memdesc32Format.self, ram: 256 << 20))
    case .memdesc8: try slotless(flatMachine(Memdesc8Format.self, ram: 256 << 20))
    }
  }

  func slotless<M: MemoryModel>(_ m: M) throws {
    let f = try #require(m.allocFolio(order: 4, kind: .anon))
    let mm1 = MMID(1), mm2 = MMID(2), mm3 = MMID(3)
    let perPage = m.era != .memdesc8
    let steps: [(String, () -> Void, Words)] = [
      ("mm 1 maps pages 0-3", { m.mapPages(f, 0..<4, 1, mm: mm1) },
       Words(large: 3, mapped: 4, entire: -1, slot0: 3, slot1: -1, ids: 1)),
      ("mm 2 maps page 4", { m.mapPages(f, 4..<5, 1, mm: mm2) },
       Words(large: 4, mapped: 5, entire: -1, slot0: 3, slot1: 0, ids: Self.shared | 2 << 32 | 1)),
      ("mm 3 maps page 5", { m.mapPages(f, 5..<6, 1, mm: mm3) },
       Words(large: 5, mapped: 6, entire: -1, slot0: 3, slot1: 0, ids: Self.shared | 2 << 32 | 1)),
      ("mm 2 unmaps page 4", { m.mapPages(f, 4..<5, -1, mm: mm2) },
       Words(large: 4, mapped: 5, entire: -1, slot0: 3, slot1: -1, ids: Self.shared | 1)),
      ("mm 3 unmaps page 5", { m.mapPages(f, 5..<6, -1, mm: mm3) },
       Words(large: 3, mapped: 4, entire: -1, slot0: 3, slot1: -1, ids: Self.shared | 1)),
      ("mm 1 unmaps pages 0-3", { m.mapPages(f, 0..<4, -1, mm: mm1) },
       Words(large: -1, mapped: 0, entire: -1, slot0: -1, slot1: -1, ids: 0)),
    ]
    for (name, step, want) in steps {
      step()
      var w = want
      if !perPage { w.mapped = 0 }
      #expect(words(m, f) == w, "\(m.era): after \(name)")
    }
    m.folioPut(f)
  }

  func words<M: MemoryModel>(_ m: M, _ f: Folio) -> Words {
    let r: LargeFolioRmap
    if let p = m as? any Page64Family { r = p.rmapWords(f) } else { r = (m as! any MemdescFamily).rmapWords(f) }
    return Words(large: r.load(r.largeMapcount), mapped: r.load(r.nrPagesMapped), entire: r.load(r.entireMapcount),
                 slot0: r.slotCount(0), slot1: r.slotCount(1), ids: r.ids)
  }
}

protocol Page64Family { func rmapWords(_ f: Folio) -> LargeFolioRmap }
protocol MemdescFamily { func rmapWords(_ f: Folio) -> LargeFolioRmap }
extension Page64Model: Page64Family { func rmapWords(_ f: Folio) -> LargeFolioRmap { rmap(page(f.pfn)) } }
extension MemdescModel: MemdescFamily { func rmapWords(_ f: Folio) -> LargeFolioRmap { rmap(folioPointer(f)) } }
