import Testing
@testable import PageModel

/// Every byte layout the model writes, checked as the kernel checks its own with
/// `static_assert` and `FOLIO_MATCH`: fields inside the object, no overlap outside a
/// union, sizes the memdesc tag allows, and offsets shared where one struct overlays
/// another.
@Suite struct StructLayoutTests {
  static let layouts: [any StructLayout.Type] = [
    StructPageLayout.self, FolioOverlayLayout.self, Memdesc32PageLayout.self, Memdesc8PageLayout.self,
    MemdescFolioLayout.self, SlabDescriptorLayout.self, PtdescLayout.self, HWPoisonLayout.self,
  ]

  /// What `static_assert`s would say of a field table: each field inside the object,
  /// naturally aligned, and no two fields on the same bytes outside a union.
  static func violations(_ name: String, size: Int, _ fields: [LayoutField]) -> [String] {
    var out: [String] = []
    for f in fields {
      if f.offset < 0 || f.size <= 0 || f.end > size { out.append("\(name).\(f.name) at \(f.offset)+\(f.size) outside \(size) bytes") }
      if f.offset % min(max(f.size, 1), 8) != 0 { out.append("\(name).\(f.name) at \(f.offset) is not aligned to its size \(f.size)") }
    }
    for (i, a) in fields.enumerated() {
      for b in fields[(i + 1)...] where a.offset < b.end && b.offset < a.end && (a.union == nil || a.union != b.union) {
        out.append("\(name): \(a.name) and \(b.name) overlap outside a union")
      }
    }
    return out
  }

  @Test(arguments: layouts.indices)
  func fieldsFitAndDoNotOverlap(index: Int) {
    let layout = Self.layouts[index]
    #expect(!layout.fields.isEmpty, "\(layout.name) has no fields")
    #expect(Self.violations(layout.name, size: layout.size, layout.fields) == [])
  }

  /// The descriptors field by field, as derived from Linux 6.18's structs (see each
  /// layout's comment): name, offset, size, and for the folio the descriptor the field
  /// belongs in (order-0, large, HugeTLB). A field moved, resized, dropped or added
  /// fails here; one moved into another descriptor size or onto another field fails
  /// `descriptorFieldsStayInTheirObject` too.
  static let folioFields: [(String, Int, Int, MemdescFolioLayout.Part)] = [
    ("flags", 0, 8, .small), ("lru", 8, 16, .small), ("mapping", 24, 8, .small), ("index", 32, 8, .small),
    ("private", 40, 8, .small), ("_refcount", 48, 4, .small), ("_mapcount", 52, 4, .small), ("_pincount", 56, 4, .small),
    ("order", 60, 1, .small), ("pfn", 64, 8, .small), ("memcg_data", 72, 8, .small),
    ("_large_mapcount", 80, 4, .large), ("_nr_pages_mapped", 84, 4, .large), ("_entire_mapcount", 88, 4, .large),
    ("_mm_id_mapcount[0]", 92, 4, .large), ("_mm_id_mapcount[1]", 96, 4, .large), ("_mm_ids", 104, 8, .large),
    ("_deferred_list", 112, 16, .large),
    ("_hugetlb_subpool", 128, 8, .hugetlb), ("_hugetlb_cgroup", 136, 8, .hugetlb), ("_hugetlb_cgroup_rsvd", 144, 8, .hugetlb),
    ("_hugetlb_hwpoison", 152, 8, .hugetlb),
  ]
  static let slabFields: [(String, Int, Int)] = [
    ("flags", 0, 8), ("slab_cache", 8, 8), ("slab_list", 16, 16), ("freelist", 32, 8), ("counters", 40, 8), ("obj_exts", 48, 8),
  ]
  static let ptdescFields: [(String, Int, Int)] = [
    ("pt_flags", 0, 8), ("pt_list", 8, 16), ("pt_mm", 24, 8), ("ptl", 32, 8), ("pt_memcg_data", 40, 8),
  ]

  /// Where a folio field may live: inside the descriptor of its part and past the
  /// smaller ones (an order-0 folio's descriptor has no large-folio field).
  static func folioPartViolations(_ fields: [LayoutField], parts: [String: MemdescFolioLayout.Part]) -> [String] {
    var out: [String] = []
    for f in fields {
      guard let part = parts[f.name] else { out.append("folio field \(f.name) has no part"); continue }
      let below = part == .small ? 0 : MemdescFolioLayout.size(of: MemdescFolioLayout.Part(rawValue: part.rawValue - 1)!)
      if f.offset < below || f.end > MemdescFolioLayout.size(of: part) {
        out.append("folio field \(f.name) at \(f.offset)+\(f.size) is outside its \(part) descriptor (\(below)..<\(MemdescFolioLayout.size(of: part)))")
      }
    }
    return out
  }

  @Test func descriptorFieldsAreTheKernels() {
    #expect(MemdescFolioLayout.fields.map { [$0.name, "\($0.offset)", "\($0.size)"] } == Self.folioFields.map { [$0.0, "\($0.1)", "\($0.2)"] })
    #expect(SlabDescriptorLayout.fields.map { [$0.name, "\($0.offset)", "\($0.size)"] } == Self.slabFields.map { [$0.0, "\($0.1)", "\($0.2)"] })
    #expect(PtdescLayout.fields.map { [$0.name, "\($0.offset)", "\($0.size)"] } == Self.ptdescFields.map { [$0.0, "\($0.1)", "\($0.2)"] })
    #expect(MemdescFolioLayout.kernelVersion == "6.18" && SlabDescriptorLayout.kernelVersion == "6.18" && PtdescLayout.kernelVersion == "6.18")
    // The constants the code writes through are the table's.
    let f = MemdescFolioLayout.self
    let byName = Dictionary(uniqueKeysWithValues: f.fields.map { ($0.name, $0.offset) })
    let code: [(String, Int)] = [
      ("flags", f.flags), ("lru", f.lru), ("mapping", f.mapping), ("index", f.index), ("private", f.private),
      ("_refcount", f.refcount), ("_mapcount", f.mapcount), ("_pincount", f.pincount), ("order", f.order), ("pfn", f.pfn),
      ("memcg_data", f.memcg), ("_large_mapcount", f.largeMapcount), ("_nr_pages_mapped", f.nrPagesMapped),
      ("_entire_mapcount", f.entireMapcount), ("_mm_id_mapcount[0]", f.mmIdMapcount), ("_mm_ids", f.mmIds),
      ("_deferred_list", f.deferredList), ("_hugetlb_subpool", f.hugetlbSubpool), ("_hugetlb_cgroup", f.hugetlbCgroup),
      ("_hugetlb_cgroup_rsvd", f.hugetlbCgroupRsvd), ("_hugetlb_hwpoison", f.hugetlbHwpoison),
    ]
    for (name, offset) in code { #expect(byName[name] == offset, "MemdescFolioLayout.\(name)") }
    let s = SlabDescriptorLayout.self
    #expect([s.flags, s.cache, s.list, s.freelist, s.counters, s.objExts] == s.fields.map(\.offset))
    let p = PtdescLayout.self
    #expect([p.flags, p.list, p.mm, p.ptl, p.memcg] == p.fields.map(\.offset))
  }

  @Test func descriptorFieldsStayInTheirObject() {
    let parts = Dictionary(uniqueKeysWithValues: Self.folioFields.map { ($0.0, $0.3) })
    #expect(Self.folioPartViolations(MemdescFolioLayout.fields, parts: parts) == [])
    // SLUB's cmpxchg pair stays one aligned double word.
    #expect(SlabDescriptorLayout.freelist % 16 == 0 && SlabDescriptorLayout.counters == SlabDescriptorLayout.freelist + 8)
  }

  /// The checks can fail: a large-folio field moved into the order-0 descriptor, a
  /// HugeTLB word moved out of the object, and a field moved onto another are each
  /// reported.
  @Test func movedFieldsAreCaught() {
    let parts = Dictionary(uniqueKeysWithValues: Self.folioFields.map { ($0.0, $0.3) })
    func moved(_ name: String, to offset: Int, in fields: [LayoutField]) -> [LayoutField] {
      fields.map { $0.name == name ? LayoutField($0.name, offset, $0.size, union: $0.union) : $0 }
    }
    let intoSmall = moved("_deferred_list", to: 64, in: MemdescFolioLayout.fields)
    #expect(Self.folioPartViolations(intoSmall, parts: parts).contains { $0.contains("_deferred_list") })
    let outOfObject = moved("_hugetlb_hwpoison", to: 160, in: MemdescFolioLayout.fields)
    #expect(!Self.violations("struct folio", size: MemdescFolioLayout.size, outOfObject).isEmpty)
    let ontoAnother = moved("obj_exts", to: SlabDescriptorLayout.counters, in: SlabDescriptorLayout.fields)
    #expect(Self.violations("struct slab", size: SlabDescriptorLayout.size, ontoAnother).contains { $0.contains("overlap") })
    let ptOnto = moved("pt_memcg_data", to: PtdescLayout.ptl, in: PtdescLayout.fields)
    #expect(!Self.violations("struct ptdesc", size: PtdescLayout.size, ptOnto).isEmpty)
  }

  /// Struct page sizes are the eras' and fill a 4 KiB vmemmap page exactly.
  @Test func structPageSizes() {
    #expect(StructPageLayout.size == 64 && Memdesc32PageLayout.size == 32 && Memdesc8PageLayout.size == 8)
    #expect(StructPageLayout.size == ClassicEncoding.structPageSize)
    #expect(Memdesc32PageLayout.size == Memdesc32Format.structPageSize)
    #expect(Memdesc8PageLayout.size == Memdesc8Format.structPageSize)
    for size in [StructPageLayout.size, Memdesc32PageLayout.size, Memdesc8PageLayout.size] { #expect(Kernel.pageSize % size == 0) }
  }

  /// A memdesc is a pointer with a 4-bit type in its low bits: descriptors are allocated
  /// 16-byte aligned, so their sizes are multiples of 16, and the caches cut pages by them.
  @Test func descriptorSizes() {
    // 56 bytes of struct slab fields round up to 64; the folio's parts are 80, 128, 160.
    #expect(MemdescFolioLayout.smallSize == 80 && MemdescFolioLayout.largeSize == 128 && MemdescFolioLayout.size == 160)
    #expect(SlabDescriptorLayout.size == 64 && PtdescLayout.size == 48 && HWPoisonLayout.size == 16)
    let bySize: [DescriptorKind: Int] = [
      .folio: 80, .largeFolio: 128, .hugetlbFolio: 160, .slab: 64, .ptdesc: 48, .hwpoison: 16,
    ]
    for kind in DescriptorKind.allCases {
      #expect(kind.objectSize == bySize[kind], "\(kind)")
      #expect(kind.objectSize % 16 == 0, "\(kind) objects are not 16-byte aligned")
    }
    // The small folio holds every field up to memcg_data; the large-folio fields follow.
    let small = MemdescFolioLayout.fields.filter { $0.end <= MemdescFolioLayout.smallSize }.map(\.name)
    #expect(small.last == "memcg_data")
    #expect(MemdescFolioLayout.largeMapcount == MemdescFolioLayout.smallSize)
  }

  /// Kernel: `FOLIO_MATCH(pg, fl)`: the folio's first words are the head page's, and
  /// `FOLIO_MATCH2` / `FOLIO_MATCH3`: each tail keeps its `flags` and `compound_info` at
  /// the struct page's offsets, so a tail still decodes as a tail.
  @Test func folioOverlaysTheHeadAndTails() {
    for f in StructPageLayout.fields {
      #expect(FolioOverlayLayout.field(at: f.offset) == f, "folio field at \(f.offset) is not the head page's \(f.name)")
    }
    let page = StructPageLayout.size
    #expect(StructPageLayout.folioFlags1 == 1 * page + StructPageLayout.flags)
    #expect(StructPageLayout.folioHead1 == 1 * page + StructPageLayout.compoundInfo)
    #expect(StructPageLayout.folioFlags2 == 2 * page + StructPageLayout.flags)
    #expect(StructPageLayout.folioHead2 == 2 * page + StructPageLayout.compoundInfo)
    #expect(StructPageLayout.folioFlags3 == 3 * page + StructPageLayout.flags)
    #expect(StructPageLayout.folioHead3 == 3 * page + StructPageLayout.compoundInfo)
    // page[1]'s _mapcount and _refcount stay where every struct page has them.
    #expect(StructPageLayout.folioMapcount1 == 1 * page + StructPageLayout.mapcount)
    #expect(StructPageLayout.folioRefcount1 == 1 * page + StructPageLayout.refcount)
  }

  /// In the memdesc eras the descriptors keep the page's flags word first (zone and node
  /// are copied there), and the 32-byte page keeps flags, the memdesc word and the
  /// refcount where the 64-byte page has flags, `lru.next` and `_refcount`'s word pair.
  @Test func descriptorsMatchThePageWhereTheyShareAField() {
    #expect(MemdescFolioLayout.flags == StructPageLayout.flags)
    #expect(SlabDescriptorLayout.flags == StructPageLayout.flags)
    #expect(PtdescLayout.flags == StructPageLayout.flags)
    #expect(Memdesc32PageLayout.flags == StructPageLayout.flags)
    #expect(Memdesc32PageLayout.memdesc == StructPageLayout.lruNext)
    #expect(MemdescFolioLayout.lru == StructPageLayout.lruNext)
    #expect(MemdescFolioLayout.mapping == StructPageLayout.mapping)
    #expect(MemdescFolioLayout.index == StructPageLayout.index)
    #expect(MemdescFolioLayout.private == StructPageLayout.private)
    #expect(Memdesc32Format.memdescOffset == Memdesc32PageLayout.memdesc)
    #expect(Memdesc8Format.memdescOffset == Memdesc8PageLayout.memdesc)
  }
}
