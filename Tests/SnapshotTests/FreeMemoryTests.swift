import PageModel
import Render
import Snapshot
import Testing

/// Free memory told three ways (census, buddyinfo, MemFree) with the RAM that reads zero,
/// on the fixtures, whose kernel initialises struct pages lazily: most free RAM is in
/// sections that read zero, which MemFree counts and the free lists do not hold yet.
@Suite struct FreeMemoryTests {
  @Test func thpAnonFreeIsMostlyInZeroSections() throws {
    let f = Analysed.thpAnon.analysis.free
    #expect(f.buddyPages == 819_036 && f.buddyinfoPages == 820_135)
    #expect(f.memFreePages == 17_517_504 / 4)
    #expect(f.offListPages == 17_517_504 / 4 - 820_135)
    #expect(f.zeroSections == 112 && f.zeroSectionPages == 112 * 32_768)
    #expect(f.zeroSectionsExplainOffList && f.mostFreeUnseen)
  }

  /// The buddyinfo check does not say "agree" on a part of the free memory, and MemFree
  /// is checked beside it.
  @Test func freeChecksSayPartial() throws {
    for a in [Analysed.thpAnon.analysis, Analysed.idle.analysis] {
      let buddy = try #require(a.crosschecks.first { $0.name == "free pages" })
      #expect(buddy.status == "partial" && !buddy.agree)
      #expect(buddy.note.contains("only part of the free memory"))
      let memFree = try #require(a.crosschecks.first { $0.name == "MemFree" })
      #expect(memFree.kernel == a.free.memFreePages! * 4 && memFree.status == "differ" && !memFree.exact)
    }
  }

  /// The first screen (text) and the report say the same: the free lists, MemFree, and
  /// where the rest is.
  @Test func headlineInTextAndReport() throws {
    let a = Analysed.thpAnon.analysis
    let lines = AnalysisOutput.freeLines(a.free, pageSize: a.pageSize)
    #expect(lines == [
      "3.12 GiB on the free lists (census 819,036 pages, buddyinfo 820,135); MemFree 16.71 GiB (4,379,376 pages)",
      "13.58 GiB of it on no free list: in the 112 sections that read zero (14.00 GiB of RAM), free but with struct pages not initialised yet (deferred init)",
    ])
    let text = AnalysisOutput.text(a)
    let head = text.split(separator: "\n").prefix(7).joined(separator: "\n")
    #expect(head.contains("free            " + lines[0]) && head.contains(lines[1]), "\(head)")
  }

  /// Without meminfo the line says so, and nothing is guessed.
  @Test func withoutMemFree() {
    var c = Census()
    c.buddyPages = 10
    let f = FreeMemory(census: c, memFreePages: nil)
    #expect(f.offListPages == nil && !f.mostFreeUnseen && !f.zeroSectionsExplainOffList)
    #expect(AnalysisOutput.freeLines(f, pageSize: 4096) == ["40.00 KiB on the free lists (census 10 pages); MemFree not in this snapshot"])
  }
}
