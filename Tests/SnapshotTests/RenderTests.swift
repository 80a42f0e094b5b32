import Foundation
import PageModel
import Render
import Snapshot
import Testing

/// The render layer's shared pieces.
@Suite struct RenderTests {
  @Test func padding() {
    #expect("ab".rightPadded(4) == "ab  ")
    #expect("ab".leftPadded(4) == "  ab")
    #expect("7f".leftPadded(4, fill: "0") == "007f")
    #expect("abcdef".leftPadded(4) == "abcdef")
    #expect(hex(255) == "0xff" && hexDigits(UInt64(10), minimumDigits: 8) == "0000000a")
  }

  /// Absent values are written as null, so every output has the same keys.
  @Test func analysisJSONKeepsNullKeys() throws {
    let a = try SnapshotAnalysis.of(try PageClassifierTests.snapshot([UInt64](repeating: KPF.buddy.mask, count: 1 << Kernel.pfnSectionShift)))
    let j = try #require(JSONSerialization.jsonObject(with: Data(try AnalysisOutput.json(a).utf8)) as? [String: Any])
    #expect(j["kernel_release"] is NSNull)
    #expect(j["vmstat_memmap_pages"] is NSNull)
    let census = try #require(j["census"] as? [String: Any])
    #expect(census["buddy_pages"] as? Int == 1 << Kernel.pfnSectionShift)
    #expect(census["hugetlb_note"] is NSNull)
    #expect((j["eras"] as? [[String: Any]])?.count == Era.allCases.count)
  }
}
