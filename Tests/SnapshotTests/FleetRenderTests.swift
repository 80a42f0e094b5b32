import Foundation
import PageModel
@testable import Render
import Snapshot
import Testing

/// The fleet renderings (OpenMetrics, rows) and the atomic writer they use, in-process.
@Suite struct FleetRenderTests {
  static func analysis() throws -> SnapshotAnalysis {
    try SnapshotAnalysis.of(PageSnapshot.open(Fixture.dir("thp-anon")))
  }

  @Test func isoTimes() {
    #expect(ISOTime.epochSeconds("1970-01-01T00:00:00Z") == 0)
    #expect(ISOTime.epochSeconds("2000-02-29T00:00:00Z") == 951_782_400)
    #expect(ISOTime.epochSeconds("2026-11-27T17:04:09Z") == 1_795_799_049)
    for bad in ["", "2026-11-27", "2026-11-27T17:04:09", "2026-13-01T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27 17:04:09Z", "2026-1a-27T17:04:09Z"] {
      #expect(ISOTime.epochSeconds(bad) == nil, "\(bad)")
    }
  }

  /// Label values and HELP text that could break a line are escaped as the formats say.
  @Test func escaping() throws {
    var a = try Self.analysis()
    a.kernelRelease = "6.18 \"rc\" \\ x\ny"
    let run = RunInfo(version: "0.1.0", scanSeconds: 0.25, hostName: "h\"1", capturedAt: "2026-12-02T03:00:00Z")
    let om = MetricsOutput.render(a, run: run, dialect: .openMetrics)
    #expect(om.contains("memdesc_build_info{version=\"0.1.0\",kernel_release=\"6.18 \\\"rc\\\" \\\\ x\\ny\"} 1\n"))
    #expect(om.contains("\nmemdesc_snapshot_timestamp_seconds 1796180400\n") && om.contains("\nmemdesc_scan_duration_seconds 0.250000\n"))
    #expect(MetricsOutput.escapeHelp("a\\b\nc") == "a\\\\b\\nc")
    // Every sample line is NAME{...} VALUE or NAME VALUE, and every family has HELP and TYPE once.
    var typed = Set<String>()
    for line in om.split(separator: "\n") {
      if line.hasPrefix("# TYPE ") { #expect(typed.insert(String(line.split(separator: " ")[2])).inserted) }
    }
    for line in om.split(separator: "\n") where !line.hasPrefix("#") {
      let name = String(line.prefix { $0 != "{" && $0 != " " })
      #expect(typed.contains(name), "\(line)")
    }
    let row = try FleetRows.line(a, run: run)
    let j = try #require(try JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any])
    #expect(j["kernel_release"] as? String == a.kernelRelease && j["host"] as? String == "h\"1" && j["date"] as? String == "2026-12-02")
    #expect(FleetRows.jsonString("\u{1}\t") == "\"\\u0001\\t\"")
  }

  /// Every column, in the schema's order; a pool the schema has no column for is refused.
  @Test func rowColumns() throws {
    var a = try Self.analysis()
    let run = RunInfo(version: "0.1.0", scanSeconds: 0)
    let cols = try FleetRows.columns(a, run: run, date: nil).map(\.0)
    #expect(cols == FleetRows.columnNames && Set(cols).count == cols.count)
    a.census.hugetlb[0].name = "32768kB"
    #expect(throws: FleetRows.RowError.self) { try FleetRows.line(a, run: run) }
  }

  /// A write that fails half-way leaves the old file and no temporary one.
  @Test func atomicWrite() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memdesc-outputfile-\(getpid())").path
    try FileIO.makeDirectories(dir + "/a/b")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/a/b/memdesc.prom"
    try FileIO.writeAtomically(path, text: "old\n")
    struct Stop: Error {}
    #expect(throws: Stop.self) {
      try FileIO.writeAtomically(path) { write in
        try write(Array("memdesc_ram_bytes ".utf8))
        throw Stop()
      }
    }
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/a/b") == ["memdesc.prom"])
    try "x".write(toFile: dir + "/file", atomically: false, encoding: .utf8)
    #expect(throws: SnapshotError.self) { try FileIO.makeDirectories(dir + "/file/c") }
  }
}
