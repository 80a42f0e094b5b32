import Foundation
import MemdescTestSupport
import PageModel
import Testing

/// A fleet made of the fixtures: 100 hosts over 3 dates, each (host, date) one of the
/// three fixtures drawn by a seeded generator, some hosts with an earlier row on the same
/// day (which the queries must ignore). The expected results are computed here from the
/// fixtures' `analyze --format json` documents.
struct FleetOfFixtures {
  static let hosts = 100
  static let dates = ["2026-12-01", "2026-12-02", "2026-12-03"]

  /// Each fixture's JSON document and JSON row, read once per test process.
  static let fixtureOutputs: [(json: String, row: String)] = FleetTools.fixtures.map { f in
    let cli = MemdescCLI()
    let json = (try? cli.run(["analyze", FleetTools.fixture(f), "--format", "json"]).stdout) ?? ""
    let row = (try? cli.run(["analyze", FleetTools.fixture(f), "--format", "jsonl"]).stdout) ?? ""
    return (json, row)
  }

  /// (host, date) -> the fixture of its last row that day.
  var pick: [String: [String: Int]] = [:]

  /// Writes the rows under `root` as `memdesc export --rows-dir` lays them out.
  init(root: String, seed: UInt64) throws {
    var rng = SplitMix64(seed: seed)
    for h in 0..<Self.hosts {
      let host = String(format: "h%03d", h)
      for date in Self.dates {
        let f = Int(rng.next() % 3)
        pick[host, default: [:]][date] = f
        let dir = "\(root)/host=\(host)/date=\(date)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.row(f, host: host, date: date, time: "12:00:00").write(toFile: "\(dir)/memdesc-\(date)T120000Z.jsonl", atomically: true, encoding: .utf8)
        if rng.next() % 10 == 0 {
          // An earlier run the same day, superseded by the one above.
          try Self.row(Int(rng.next() % 3), host: host, date: date, time: "11:55:00").write(toFile: "\(dir)/memdesc-\(date)T115500Z.jsonl", atomically: true, encoding: .utf8)
        }
      }
    }
  }

  static func row(_ f: Int, host: String, date: String, time: String) throws -> String {
    var r = try #require(try JSONSerialization.jsonObject(with: Data(fixtureOutputs[f].row.utf8)) as? [String: Any])
    r["host"] = host
    r["date"] = date
    r["captured_at"] = "\(date)T\(time)Z"
    return String(decoding: try JSONSerialization.data(withJSONObject: r, options: [.sortedKeys]), as: UTF8.self) + "\n"
  }

  // MARK: expected results, from the JSON documents

  struct Doc {
    var ram: Int
    var kernelMemmap: Int?
    var era: [String: [String: Int]]
    var pools: [String: Int]
    var hvo: [String: Int]
  }

  static func docs() throws -> [Doc] {
    try fixtureOutputs.map { out in
      let j = try #require(try JSONSerialization.jsonObject(with: Data(out.json.utf8)) as? [String: Any])
      let c = try #require(j["census"] as? [String: Any])
      var era: [String: [String: Int]] = [:]
      for e in try #require(j["eras"] as? [[String: Any]]) {
        era[e["era"] as! String] = e.compactMapValues { $0 as? Int }
      }
      return Doc(ram: try #require(j["ram_bytes"] as? Int), kernelMemmap: j["vmstat_memmap_bytes"] as? Int, era: era,
                 pools: try #require(c["hugetlb_pages"] as? [String: Int]), hvo: try #require(c["hugetlb_hvo_optimized"] as? [String: Int]))
    }
  }

  /// percentile_cont: linear interpolation between the closest ranks.
  static func percentile(_ sorted: [Double], _ p: Double) -> Double {
    let pos = p * Double(sorted.count - 1)
    let lo = Int(pos.rounded(.down)), hi = Int(pos.rounded(.up))
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
  }

  /// The results fleet.sql must give, as fleet.py prints them (rows of JSON values).
  func expected() throws -> [String: [[Any]]] {
    let docs = try Self.docs()
    let eras = Era.allCases.map(\.rawValue).sorted()
    var totals: [[Any]] = []
    for date in Self.dates {
      for era in eras {
        let ds = pick.values.map { docs[$0[date]!] }
        func sum(_ f: (Doc) -> Int) -> Int { ds.reduce(0) { $0 + f($1) } }
        totals.append([date, era, ds.count, sum(\.ram), sum { $0.era[era]!["memmap_bytes"]! }, sum { $0.era[era]!["descriptor_bytes"]! },
                       sum { $0.era[era]!["hvo_saved_bytes"]! }, sum { $0.era[era]!["total_overhead_bytes"]! },
                       sum { $0.era["classic"]!["total_overhead_bytes"]! - $0.era[era]!["total_overhead_bytes"]! }])
      }
    }
    let last = Self.dates.last!
    let latest = pick.sorted { $0.key < $1.key }.map { ($0.key, docs[$0.value[last]!]) }
    var percentiles: [[Any]] = []
    for era in eras where era != "classic" {
      let v = latest.map { Double($0.1.era["classic"]!["total_overhead_bytes"]! - $0.1.era[era]!["total_overhead_bytes"]!) * 100 / Double($0.1.ram) }.sorted()
      percentiles.append([era, v.count, Self.percentile(v, 0.5), Self.percentile(v, 0.9), Self.percentile(v, 0.99)])
    }
    let shares = latest.map { (host, d) -> (String, Int, Int, Double) in
      let m = d.kernelMemmap ?? d.era["classic"]!["memmap_bytes"]!
      return (host, m, d.ram, Double(m) * 100 / Double(d.ram))
    }.sorted { $0.3 != $1.3 ? $0.3 > $1.3 : $0.0 < $1.0 }
    let top: [[Any]] = shares.prefix(10).map { [$0.0, last, $0.1, $0.2, $0.3] }
    var adoption: [[Any]] = []
    for pool in ["1048576kB", "2048kB"] {
      let pages = latest.map { $0.1.pools[pool] ?? 0 }, hvo = latest.map { $0.1.hvo[pool] ?? 0 }
      let total = pages.reduce(0, +), optimized = hvo.reduce(0, +)
      adoption.append([pool, latest.count, pages.filter { $0 > 0 }.count, hvo.filter { $0 > 0 }.count, total, optimized,
                       total == 0 ? NSNull() : Double(optimized) / Double(total) as Any])
    }
    return ["totals_per_era": totals, "savings_percentiles": percentiles, "top_memmap_share": top, "hvo_adoption": adoption]
  }

  /// Compares fleet.py's results with the expected ones: integers and strings exactly,
  /// fractions to 1e-12 relative (both engines sum the same doubles in one order or
  /// another).
  static func check(_ got: [String: Any], _ want: [String: [[Any]]], engine: String) {
    for (name, rows) in want {
      guard let q = got[name] as? [String: Any], let gotRows = q["rows"] as? [[Any]] else {
        Issue.record("\(engine): no result \(name) in \(got.keys.sorted())")
        continue
      }
      #expect(gotRows.count == rows.count, "\(engine) \(name): \(gotRows.count) rows, expected \(rows.count)")
      for (i, (g, w)) in zip(gotRows, rows).enumerated() {
        #expect(g.count == w.count, "\(engine) \(name) row \(i)")
        for (k, (gv, wv)) in zip(g, w).enumerated() {
          let ok: Bool
          switch wv {
          case let d as Double: ok = (gv as? NSNumber).map { abs($0.doubleValue - d) <= 1e-12 * max(1, abs(d)) } ?? false
          case let n as Int: ok = (gv as? NSNumber).map { $0.int64Value == Int64(n) && $0.doubleValue == Double(n) } ?? false
          case let s as String: ok = gv as? String == s
          default: ok = gv is NSNull
          }
          #expect(ok, "\(engine) \(name) row \(i) column \(k): \(gv), expected \(wv)")
        }
      }
    }
  }

  /// A seeded fleet in a scratch folder, fleet.py on `engine` over it, the results
  /// against the JSON documents' sums; the engine's wall time printed.
  static func engineEqualsJSON(_ engine: String, python: String, test: String) throws {
    let dir = try ScratchDirectory("fleet-\(engine)")
    defer { dir.remove() }
    let fleet = try FleetOfFixtures(root: dir.file("rows"), seed: testSeed(test))
    let start = Date()
    let (r, j) = try query(engine: engine, root: dir.file("rows"), python: python)
    print("\(test): fleet.py --engine \(engine) took \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    #expect(r.ok, "\(r.stderr.suffix(3000))")
    #expect(j?["files"] as? Int ?? 0 >= hosts * dates.count)
    check(try #require(j?["results"] as? [String: Any]), try fleet.expected(), engine: engine)
  }

  /// Runs contrib/fleet.py on `root`. Spark gets one local thread: the other tests keep
  /// both cores busy, and a second thread of the same small job only competes with them.
  static func query(engine: String, root: String, python: String) throws -> (ProcessResult, [String: Any]?) {
    let r = try FleetTools.run(python, [FleetTools.fleetPy, "--engine", engine, root],
                               environment: engine == "spark" ? ["FLEET_SPARK_MASTER": "local[1]"] : [:])
    let j = r.ok ? (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] : nil
    return (r, j)
  }
}

/// Acceptance: fleet.sql on DuckDB over the fixtures' fleet equals the sums of the JSON
/// documents; bad row folders get an error naming the file.
@Suite struct FleetRowsDuckDBTests {
  @Test(.enabled(if: FleetTools.duckdbPython != nil, "python3 with the duckdb module is missing (.ci/run installs it from PyPI)"))
  func duckdbEqualsJSON() throws {
    try FleetOfFixtures.engineEqualsJSON("duckdb", python: FleetTools.duckdbPython!, test: "FleetRowsDuckDBTests.duckdbEqualsJSON")
  }

  func writeRows(_ dir: ScratchDirectory, _ bad: String) throws -> String {
    let good = try FleetOfFixtures.row(0, host: "h1", date: "2026-12-01", time: "12:00:00")
    for (host, text) in [("h1", good), ("h2", bad)] {
      let d = dir.file("rows/host=\(host)/date=2026-12-01")
      try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
      try text.write(toFile: d + "/memdesc.jsonl", atomically: true, encoding: .utf8)
    }
    return dir.file("rows/host=h2/date=2026-12-01/memdesc.jsonl")
  }

  @Test(.enabled(if: FleetTools.python != nil, "python3 is not installed"))
  func badRowsNameTheFile() throws {
    try withScratchDirectory("fleet-bad") { dir in
      let good = try FleetOfFixtures.row(1, host: "h2", date: "2026-12-01", time: "12:00:00")
      var other = try #require(try JSONSerialization.jsonObject(with: Data(good.utf8)) as? [String: Any])
      // A row of schema 1 (before the zero-section causes and HVO's PTE tables) is refused.
      other["schema_version"] = 1
      let v1 = String(decoding: try JSONSerialization.data(withJSONObject: other), as: UTF8.self) + "\n"
      other["schema_version"] = 2
      other.removeValue(forKey: "memdesc8_memmap_bytes")
      let missing = String(decoding: try JSONSerialization.data(withJSONObject: other), as: UTF8.self) + "\n"
      let cases: [(String, String)] = [
        (good + "{\"schema_version\": 2, \"host\": ", ":2: not a JSON row"),
        (v1, ":1: schema_version 1, this runner reads schema 2 (docs/fleet-rows.md)"),
        (missing, ":1: columns do not match schema 2: missing ['memdesc8_memmap_bytes'], unknown none"),
        (good.replacingOccurrences(of: "\"ram_bytes\":", with: "\"ram_bytes\":\"x\",\"_\":"), ":1: column"),
      ]
      for (text, message) in cases {
        let path = try writeRows(dir, text)
        let r = try FleetTools.run(FleetTools.python!, [FleetTools.fleetPy, "--engine", "duckdb", dir.file("rows")])
        #expect(r.status == 1 && r.stdout.isEmpty, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.hasPrefix("fleet.py: error: \(path)\(message)") && r.stderrLines.count == 1, "\(r.stderr)")
      }
    }
  }
}

/// Acceptance: the same fleet.sql on Spark SQL (local mode, one thread) gives the same
/// results. In a suite of its own so that it runs beside the others.
@Suite struct FleetRowsSparkTests {
  @Test(.enabled(if: FleetTools.sparkPython != nil, "python3 with pyspark, or Java 17, is missing (.ci/run installs pyspark from PyPI)"))
  func sparkEqualsJSON() throws {
    try FleetOfFixtures.engineEqualsJSON("spark", python: FleetTools.sparkPython!, test: "FleetRowsSparkTests.sparkEqualsJSON")
  }
}
