import Foundation
import MemdescTestSupport
import PageModel
import Testing

@testable import Snapshot

/// The validating readers of the kernel's text files: the fixtures' real files read
/// whole, and every kind of damage an error naming the file, the line and the value.
@Suite struct ProcTextTests {
  @Test(arguments: Fixture.scenarios)
  func fixturesReadWhole(scenario: String) throws {
    let s = try PageSnapshot.open(Fixture.dir(scenario))
    try s.validateTexts()
    let meminfo = try ProcText.counters(Fixture.text(scenario, "meminfo"), path: "meminfo")
    #expect(meminfo["MemTotal"] != nil && meminfo["Hugetlb"] != nil)
    let vmstat = try ProcText.counters(Fixture.text(scenario, "vmstat"), path: "vmstat")
    // The fixtures' machine: 80872 + 17432 pages of memmap (98304 = 512 x 192 sections).
    #expect(try ProcText.memmapPages(vmstat, path: "vmstat", limit: s.pfnCount) == 98304)
    #expect(try ProcText.zoneinfo(Fixture.text(scenario, "zoneinfo"), path: "zoneinfo") == 5)
    #expect(try ProcText.buddyinfo(Fixture.text(scenario, "buddyinfo"), path: "buddyinfo").count == 11)
  }

  @Test func constantsArePinned() {
    #expect(ProcText.maxPages == 1 << 40)  // 52-bit physical addresses, 4 KiB pages
    #expect(ProcText.pageOrders == 11)  // NR_PAGE_ORDERS on x86-64
    #expect(ProcText.maxReleaseLength == 64)  // __NEW_UTS_LEN
    #expect(FileIO.oTmpfile == 0o20_200_000)  // __O_TMPFILE | O_DIRECTORY on x86-64
  }

  /// Each damaged text an error naming the file, the line and the value.
  @Test(arguments: [
    ("meminfo", "MemTotal: 24572080 kB\nMemFree: 99999999999999999999999 kB\n", "line 2 'MemFree: 99999999999999999999999 kB': count '99999999999999999999999' does not fit in 63 bits"),
    ("meminfo", "MemTotal: lots kB\n", "line 1 'MemTotal: lots kB': 'lots' is not a count (unsigned decimal)"),
    ("meminfo", "MemTotal: 5 MB\n", "line 1 'MemTotal: 5 MB': unit 'MB' is not kB"),
    ("meminfo", "MemTotal: 5 kB\nMemTotal: 6 kB\n", "line 2 'MemTotal: 6 kB': 'MemTotal' appears twice"),
    ("meminfo", "MemTotal 5 kB extra\n", "line 1 'MemTotal 5 kB extra': expected 'Key: value [kB]' or 'key value'"),
    ("vmstat", "nr_free_pages 10\nnr_memmap_pages -5\n", "line 2 'nr_memmap_pages -5': '-5' is not a count (unsigned decimal)"),
    ("vmstat", "nr_free_pages\n", "line 1 'nr_free_pages': expected 'Key: value [kB]' or 'key value'"),
    ("buddyinfo", "Node 0, zone Normal " + Array(repeating: "1", count: 65).joined(separator: " ") + "\n", "65 counts of free blocks; x86-64 has 11 orders (0-10)"),
    ("buddyinfo", "Node 0, zone Normal 1 x\n", "line 1 'Node 0, zone Normal 1 x': 'x' is not a count (unsigned decimal)"),
    ("buddyinfo", "Node 0, zone Normal 0 0 0 0 0 0 0 0 0 0 9223372036854775807\n", "9223372036854775807 free blocks of order 10 is more memory than a 52-bit physical address space holds"),
    ("buddyinfo", "garbage here\n", "line 1 'garbage here': expected 'Node N, zone NAME count...'"),
    ("iomem", "00000000-00000fff : Reserved\nNT9mu7wMhGyUIIUc\n", "line 2 'NT9mu7wMhGyUIIUc': expected 'START-END : NAME' in hex"),
    ("iomem", "10-zz : System RAM\n", "line 1 '10-zz : System RAM': '10-zz' is not START-END in hex (at most 16 digits each)"),
    ("iomem", "2000-1000 : System RAM\n", "line 1 '2000-1000 : System RAM': range starts after it ends"),
    ("iomem", "00000000-3fffffff : System RAM\n20000000-4fffffff : System RAM\n", "line 2: System RAM overlaps the range of line 1"),
    ("zoneinfo", "  pages free 5\n", "line 1 '  pages free 5': indented line before the first 'Node N, zone NAME'"),
    ("zoneinfo", "Node 0, zone DMA\nNode zero\n", "line 2 'Node zero': expected 'Node N, zone NAME'"),
  ])
  func damageIsNamed(file: String, text: String, message: String) {
    let named = message.hasPrefix("line ") ? [file + ": " + message] : [file + ": line ", message]
    expectSnapshotError(.badText, named) {
      switch file {
      case "meminfo", "vmstat": _ = try ProcText.counters(text, path: file)
      case "buddyinfo": _ = try ProcText.buddyinfo(text, path: file)
      case "iomem": _ = try ProcText.systemRAM(text, path: file)
      default: try ProcText.zoneinfo(text, path: file)
      }
    }
  }

  /// iomem's whole 64-bit range: no overflow forming END + 1, and the RAM clipped to the
  /// snapshot's PFNs (it trapped in `ProcText.systemRAM`).
  @Test func iomemFullRangeDoesNotOverflow() throws {
    let r = try #require(try ProcText.systemRAM("00000000-ffffffffffffffff : System RAM\n", path: "iomem"))
    #expect(r == [PFN(0)..<PFN(1 << 52)])
    #expect(SnapshotRAM.clip(r, pfns: 4096) == [PFN(0)..<PFN(4096)])
    // Whole pages only: a range that starts or ends inside a page loses that page.
    #expect(try ProcText.systemRAM("00000800-00002fff : System RAM\n", path: "iomem") == [PFN(1)..<PFN(3)])
  }

  /// The memmap sum: more pages than the machine has is an error, and so is an overflow.
  @Test func memmapPagesBounded() {
    expectSnapshotError(.badText, ["vmstat: nr_memmap_boot_pages 80872 + nr_memmap_pages 4611686018427387904 is more pages of memmap than the machine has pages (6553600)"]) {
      _ = try ProcText.memmapPages(["nr_memmap_boot_pages": 80872, "nr_memmap_pages": 1 << 62], path: "vmstat", limit: 6_553_600)
    }
    expectSnapshotError(.badText, ["vmstat"]) {
      _ = try ProcText.memmapPages(["nr_memmap_boot_pages": Int.max, "nr_memmap_pages": Int.max], path: "vmstat")
    }
  }

  @Test func kernelReleaseAndLongLines() {
    expectSnapshotError(.badText, ["kernel-release: 'two words' is not a kernel release"]) { try ProcText.kernelRelease("two words", path: "kernel-release") }
    expectSnapshotError(.badText, ["kernel-release"]) { try ProcText.kernelRelease(String(repeating: "6", count: 65), path: "kernel-release") }
    expectSnapshotError(.badText, ["meminfo: line 1 is 5000 bytes long; lines of this file are at most 4096"]) {
      _ = try ProcText.counters(String(repeating: "x", count: 5000), path: "meminfo")
    }
  }

  /// Random damage to the fixtures' text files: every reader ends in a value or a
  /// `badText` error naming the file (a trap would end the test process).
  @Test func randomDamageEndsInValueOrNamedError() throws {
    var rng = SplitMix64(seed: testSeed("ProcTextTests.randomDamage"))
    for name in ["meminfo", "vmstat", "buddyinfo", "iomem", "zoneinfo"] {
      let original = Array(try Fixture.text("thp-anon", name).utf8)
      for _ in 0..<60 {
        var bytes = original
        for _ in 0..<(1 + Int(rng.next() % 4)) {
          let i = Int(rng.next() % UInt64(bytes.count))
          switch rng.next() % 3 {
          case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
          case 1: bytes.insert(contentsOf: Array("99999999999999999999".utf8), at: i)
          default: bytes.remove(at: i)
          }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        do {
          switch name {
          case "meminfo", "vmstat": _ = try ProcText.memmapPages(ProcText.counters(text, path: name), path: name)
          case "buddyinfo": _ = try ProcText.buddyinfo(text, path: name)
          case "iomem": _ = try ProcText.systemRAM(text, path: name)
          default: try ProcText.zoneinfo(text, path: name)
          }
        } catch let e as SnapshotError {
          #expect(e.kind == .badText && e.description.hasPrefix(name + ": "), "\(e)")
        }
      }
    }
  }
}
