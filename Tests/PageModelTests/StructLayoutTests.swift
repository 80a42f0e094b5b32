import Testing
@testable import PageModel

/// Every byte layout the model writes, checked as the kernel checks its own with
/// `static_assert` and `FOLIO_MATCH`: fields inside the object, no overlap outside a
/// union, sizes the memdesc tag allows, and offsets shared where one struct overlays
/// another.
@Suite struct StructLayoutTests {
  static let layouts: [any StructLayout.Type] = [
    StructPageLayout.self, FolioOverlayLayout.self, Memdesc32PageLayout.self, Memdesc8PageLayout.self,
    MemdescFolioLayout.self, SlabDescriptorLayout.self, PtdescLayout.self,
  ]

  @Test(arguments: layouts.indices)
  func fieldsFitAndDoNotOverlap(index: Int) {
    let layout = Self.layouts[index]
    #expect(!layout.fields.isEmpty, "\(layout.name) has no fields")
    for f in layout.fields {
      #expect(f.offset >= 0 && f.size > 0 && f.end <= layout.size, "\(layout.name).\(f.name) at \(f.offset)+\(f.size) outside \(layout.size) bytes")
      // Natural alignment, as the kernel's types have it.
      #expect(f.offset % min(f.size, 8) == 0, "\(layout.name).\(f.name) at \(f.offset) is not aligned to its size \(f.size)")
    }
    for (i, a) in layout.fields.enumerated() {
      for b in layout.fields[(i + 1)...] where a.offset < b.end && b.offset < a.end {
        #expect(a.union != nil && a.union == b.union, "\(layout.name): \(a.name) and \(b.name) overlap outside a union")
      }
    }
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
    #expect(MemdescFolioLayout.smallSize == 80 && MemdescFolioLayout.size == 128)
    #expect(SlabDescriptorLayout.size == 48 && PtdescLayout.size == 48)
    let bySize: [DescriptorKind: Int] = [
      .folio: MemdescFolioLayout.smallSize, .largeFolio: MemdescFolioLayout.size,
      .slab: SlabDescriptorLayout.size, .ptdesc: PtdescLayout.size,
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
