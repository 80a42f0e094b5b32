import Foundation
import Testing
@testable import PageModel

/// The KPF bits against the kernel's own uapi header where the machine has it (Debian's
/// linux-libc-dev): a cross-check, not only a pin to numbers typed by hand. The header
/// holds bits 0-26; the kernel-internal bits from 32 are pinned in ConstantsTests.
@Suite struct KPFHeaderTests {
  static let header = "/usr/include/linux/kernel-page-flags.h"

  @Test(.enabled(if: FileManager.default.fileExists(atPath: header), "skipped: \(header) is not installed (linux-libc-dev)"))
  func kpfBitsMatchTheHeader() throws {
    let text = try String(contentsOfFile: Self.header, encoding: .utf8)
    var fromHeader: [String: Int] = [:]
    for line in text.split(separator: "\n") {
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard words.count >= 3, words[0] == "#define", words[1].hasPrefix("KPF_"), let bit = Int(words[2]) else { continue }
      fromHeader[String(words[1].dropFirst(4))] = bit
    }
    #expect(fromHeader.count == 27, "the header defines \(fromHeader.count) KPF bits")
    // KPF case names are the header's in Swift case: COMPOUND_HEAD is compoundHead.
    func headerName(_ k: KPF) -> String {
      let special: [KPF: String] = [.hwPoison: "HWPOISON", .noPage: "NOPAGE", .zeroPage: "ZERO_PAGE", .pgtable: "PGTABLE", .swapcache: "SWAPCACHE", .swapbacked: "SWAPBACKED"]
      if let s = special[k] { return s }
      return "\(k)".reduce(into: "") { out, c in out += c.isUppercase ? "_" + String(c) : String(c).uppercased() }
    }
    for k in KPF.allCases where k.rawValue < 32 {
      #expect(fromHeader[headerName(k)] == k.rawValue, "KPF.\(k) is \(k.rawValue), the header's KPF_\(headerName(k)) is \(fromHeader[headerName(k)].map(String.init) ?? "absent")")
    }
    #expect(Set(KPF.allCases.filter { $0.rawValue < 32 }.map(headerName)) == Set(fromHeader.keys))
  }
}
