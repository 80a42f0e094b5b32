import Foundation
import MemdescTestSupport
import Testing


/// The external programs the fleet tests drive, found where Debian and pip put them.
enum FleetTools {
  static func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/bin", "/usr/sbin"] {
      let p = "\(dir)/\(name)"
      if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
  }

  static let promtool = which("promtool")
  static let prometheus = which("prometheus")
  static let nodeExporter = which("prometheus-node-exporter") ?? which("node_exporter")
  /// Every python3 that may hold pip's modules: on PATH, and pyenv's (SwiftPM's test
  /// runner may put /usr/bin first, where Debian's python3 has no duckdb).
  static let pythons: [String] = {
    let env = ProcessInfo.processInfo.environment
    var dirs = (env["PATH"] ?? "").split(separator: ":").map(String.init)
    if let root = env["PYENV_ROOT"] { dirs.append(root + "/shims") }
    if let home = env["HOME"] { dirs.append(home + "/.pyenv/shims") }
    dirs += ["/usr/local/bin", "/usr/bin"]
    var seen: [String] = []
    for d in dirs where FileManager.default.isExecutableFile(atPath: d + "/python3") && !seen.contains(d + "/python3") { seen.append(d + "/python3") }
    return seen
  }()
  static let python = pythons.first

  /// The first python3 that imports `module`, or nil (the reason printed).
  static func python(with module: String) -> String? {
    for p in pythons {
      if let r = try? runProcess(URL(fileURLWithPath: p), ["-c", "import \(module)"]), r.ok { return p }
    }
    print("FleetTools: no python3 of \(pythons) imports \(module)")
    return nil
  }
  static let duckdbPython = python(with: "duckdb")
  static let sparkPython = which("java") != nil ? python(with: "pyspark") : nil

  /// Runs a tool, feeding `stdin` from a file, with `environment` added to this process's.
  static func run(_ tool: String, _ args: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
    guard let stdin else { return try runProcess(URL(fileURLWithPath: tool), args, environment: environment) }
    // The file is the shell's $0 and the tool its $1: nothing is interpolated.
    return try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$@\" < \"$0\"", stdin, tool] + args, environment: environment)
  }

  static let fixtures = ["idle", "thp-anon", "hvo-hugetlb.mdsnap"]
  static func fixture(_ name: String) -> String { SnapshotCLITests.fixture(name) }
  static let fleetPy = PackageRoot.file("contrib/fleet.py")
  static let rules = PackageRoot.file("contrib/prometheus/memdesc-rules.yml")
}

extension ProcessResult {
  var ok: Bool { status == 0 && !killedBySignal }
}

/// The samples of an exposition: `name{labels}` -> value.
func parseSamples(_ text: String) -> [String: Double] {
  var out: [String: Double] = [:]
  for line in text.split(separator: "\n") where !line.hasPrefix("#") {
    guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
    out[String(line[..<space])] = v
  }
  return out
}

/// OpenMetrics and the textfile collector's file: promtool, the values against JSON,
/// atomic writes, the rules file.
@Suite struct FleetMetricsTests {
  let cli = MemdescCLI()

  /// Acceptance: `promtool check metrics` accepts the OpenMetrics output (and the
  /// textfile file) for every fixture.
  @Test(.enabled(if: FleetTools.promtool != nil, "promtool is not installed (Debian package prometheus)"), arguments: FleetTools.fixtures)
  func promtoolAccepts(_ fixture: String) throws {
    try withScratchDirectory("fleet-promtool") { dir in
      let om = try cli.run(["analyze", FleetTools.fixture(fixture), "--format", "openmetrics"]).stdout
      #expect(om.hasSuffix("\n# EOF\n"))
      try om.write(toFile: dir.file("om.txt"), atomically: false, encoding: .utf8)
      let r = try FleetTools.run(FleetTools.promtool!, ["check", "metrics"], stdin: dir.file("om.txt"))
      #expect(r.ok, "promtool check metrics on \(fixture): \(r.stdout) \(r.stderr)")
      #expect(r.stdout.isEmpty && r.stderr.isEmpty, "promtool's lint findings: \(r.stdout) \(r.stderr)")

      try cli.run(["export", FleetTools.fixture(fixture), "--textfile-dir", dir.path])
      let t = try FleetTools.run(FleetTools.promtool!, ["check", "metrics"], stdin: dir.file("memdesc.prom"))
      #expect(t.ok && t.stdout.isEmpty && t.stderr.isEmpty, "promtool check metrics on memdesc.prom of \(fixture): \(t.stdout) \(t.stderr)")
    }
  }

  /// Every figure of the OpenMetrics output is the JSON document's.
  @Test(arguments: FleetTools.fixtures) func valuesEqualJSON(_ fixture: String) throws {
    let s = parseSamples(try cli.run(["analyze", FleetTools.fixture(fixture), "--format", "openmetrics"]).stdout)
    let j = try cli.json(try cli.run(["analyze", FleetTools.fixture(fixture), "--format", "json"]).stdout)
    let c = try #require(j["census"] as? [String: Any])
    #expect(s["memdesc_ram_bytes"] == (j["ram_bytes"] as? Double))
    for e in try #require(j["eras"] as? [[String: Any]]) {
      let era = try #require(e["era"] as? String)
      for (metric, key) in [("memdesc_memmap_bytes", "memmap_bytes"), ("memdesc_hvo_saved_bytes", "hvo_saved_bytes"),
                            ("memdesc_total_overhead_bytes", "total_overhead_bytes"), ("memdesc_struct_page_bytes", "struct_page_bytes")] {
        #expect(s["\(metric){era=\"\(era)\"}"] == (e[key] as? Double), "\(metric) \(era)")
      }
      for (type, bytes) in try #require(e["descriptor_bytes_by_type"] as? [String: Double]) {
        #expect(s["memdesc_descriptor_bytes{era=\"\(era)\",type=\"\(type)\"}"] == bytes, "descriptor \(era) \(type)")
      }
    }
    for (kind, orders) in try #require(c["folios"] as? [String: [String: Double]]) {
      for (order, n) in orders {
        #expect(s["memdesc_folios{kind=\"\(kind)\",order=\"\(order)\"}"] == n, "folios \(kind) \(order)")
        #expect(s["memdesc_folio_pages{kind=\"\(kind)\",order=\"\(order)\"}"] == n * Double(1 << Int(order)!))
      }
    }
    let pools = try #require(c["hugetlb_pages"] as? [String: Double]), hvo = try #require(c["hugetlb_hvo_optimized"] as? [String: Double])
    for (pool, n) in pools {
      #expect(s["memdesc_hugetlb_huge_pages{pool=\"\(pool)\",hvo=\"optimized\"}"] == hvo[pool])
      #expect(s["memdesc_hugetlb_huge_pages{pool=\"\(pool)\",hvo=\"unoptimized\"}"] == n - hvo[pool]!)
    }
    #expect(s["memdesc_hvo_fake_heads_corrected_pages"] == (c["hvo_fake_heads_corrected"] as? Double))
    #expect(s["memdesc_pages{class=\"free\"}"] == (c["buddy_pages"] as? Double))
    #expect(s["memdesc_kernel_memmap_bytes"] == (j["vmstat_memmap_bytes"] as? Double))
    for x in try #require(j["crosschecks"] as? [[String: Any]]) {
      #expect(s["memdesc_crosscheck_agreement{check=\"\(x["name"] as! String)\"}"] == ((x["agree"] as? Bool) == true ? 1 : 0))
    }
    #expect(s.keys.contains { $0.hasPrefix("memdesc_build_info{version=\"") })
  }

  /// The textfile file is the OpenMetrics output without `# UNIT` and `# EOF`.
  @Test func textfileIsTheTextFormat() throws {
    try withScratchDirectory("fleet-textfile") { dir in
      let src = FleetTools.fixture("hvo-hugetlb.mdsnap")
      let r = try cli.run(["export", src, "--textfile-dir", dir.path])
      #expect(r.stdout == "memdesc: wrote \(dir.file("memdesc.prom"))\n")
      let prom = try String(contentsOfFile: dir.file("memdesc.prom"), encoding: .utf8)
      let om = try cli.run(["analyze", src, "--format", "openmetrics"]).stdout
      func stable(_ s: String) -> [Substring] { s.split(separator: "\n").filter { !$0.hasPrefix("memdesc_scan_duration_seconds ") } }
      #expect(stable(prom) == stable(om).filter { !$0.hasPrefix("# UNIT ") && $0 != "# EOF" })
      #expect(!prom.contains("# EOF") && !prom.contains("# UNIT"))
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["memdesc.prom"])
    }
  }

  /// Acceptance: a failed export leaves the old memdesc.prom whole and nothing else.
  @Test func failedExportLeavesTheOldFile() throws {
    try withScratchDirectory("fleet-atomic") { dir in
      let old = "# HELP memdesc_ram_bytes old\n# TYPE memdesc_ram_bytes gauge\nmemdesc_ram_bytes 1\n"
      try old.write(toFile: dir.file("memdesc.prom"), atomically: false, encoding: .utf8)
      // A kpageflags dump whose length is not a whole number of 8-byte words.
      try Data(repeating: 0xff, count: 8 * 4096 + 3).write(to: URL(fileURLWithPath: dir.file("broken.kpageflags")))
      let r = try cli.run(["export", dir.file("broken.kpageflags"), "--textfile-dir", dir.path], exit: .failure)
      #expect(r.stderrLines.count == 1 && r.stderr.hasPrefix("memdesc: error: ") && r.stderr.contains("broken.kpageflags"), "\(r.stderr)")
      #expect(try String(contentsOfFile: dir.file("memdesc.prom"), encoding: .utf8) == old)
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["broken.kpageflags", "memdesc.prom"])
      // A row that cannot be named (no host): the metrics are not written either.
      let n = try cli.run(["export", FleetTools.fixture("idle"), "--textfile-dir", dir.path, "--rows-dir", dir.file("rows")], exit: .failure)
      #expect(n.stderrLines.count == 1 && n.stderr.contains("records no host name; give --host NAME for the row folder"), "\(n.stderr)")
      #expect(!FileManager.default.fileExists(atPath: dir.file("rows")))
      #expect(try String(contentsOfFile: dir.file("memdesc.prom"), encoding: .utf8) == old)
    }
  }

  @Test func exportUsageAndDataErrors() throws {
    let idle = FleetTools.fixture("idle")
    try cli.run(["export", idle], exit: .usage, stderrLine: "Error: give --textfile-dir DIR, --rows-dir DIR or both")
    try cli.run(["export", idle, "--rows-dir", "/tmp", "--host", "a/b"], exit: .usage,
                stderrLine: "Error: cannot use host 'a/b': expected letters, digits, '.', '-' or '_' (it names a folder host=H)")
    try cli.run(["export", idle, "--rows-dir", "/tmp", "--host", "h", "--date", "2026-13-01"], exit: .usage,
                stderrLine: "Error: cannot read date '2026-13-01': expected YYYY-MM-DD, such as 2026-12-02")
    try cli.run(["export", idle, "--textfile-dir", "/nonexistent-memdesc-dir"], exit: .failure,
                stderrLine: "memdesc: error: /nonexistent-memdesc-dir/memdesc.prom: directory '/nonexistent-memdesc-dir' does not exist (no such file or directory)")
  }

  /// A row in the hive-partitioned folder is `analyze --format jsonl`'s line.
  @Test func rowsFolder() throws {
    try withScratchDirectory("fleet-rowsdir") { dir in
      let src = FleetTools.fixture("hvo-hugetlb.mdsnap")
      try cli.run(["export", src, "--rows-dir", dir.file("rows")])
      let path = dir.file("rows/host=vm/date=2026-11-27/memdesc-20261127T170409Z.jsonl")
      #expect(try String(contentsOfFile: path, encoding: .utf8) == (try cli.run(["analyze", src, "--format", "jsonl"]).stdout))
      try cli.run(["export", FleetTools.fixture("idle"), "--rows-dir", dir.file("rows"), "--host", "idle-1", "--date", "2026-12-01"])
      let row = try cli.json(try String(contentsOfFile: dir.file("rows/host=idle-1/date=2026-12-01/memdesc-20261201.jsonl"), encoding: .utf8))
      #expect(row["host"] as? String == "idle-1" && row["date"] as? String == "2026-12-01" && row["captured_at"] is NSNull)
    }
  }

  /// The rows' columns are the ones fleet.py checks and docs/fleet-rows.md lists.
  @Test(.enabled(if: FleetTools.python != nil, "python3 is not installed")) func schemaAgrees() throws {
    let line = try cli.run(["analyze", FleetTools.fixture("thp-anon"), "--format", "jsonl"]).stdout
    #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
    let keys = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
    let schema = try FleetTools.run(FleetTools.python!, [FleetTools.fleetPy, "--print-schema"])
    let columns = try #require((try JSONSerialization.jsonObject(with: Data(schema.stdout.utf8)) as? [String: Any])?["columns"] as? [[String]]).map { $0[0] }
    #expect(Set(keys.keys) == Set(columns) && keys.count == columns.count)
    let doc = try String(contentsOfFile: PackageRoot.file("docs/fleet-rows.md"), encoding: .utf8)
    for c in columns { #expect(doc.contains("| `\(c)` |"), "docs/fleet-rows.md lacks \(c)") }
  }

  /// The units parse (`systemd-analyze verify`), with ExecStart pointed at this build.
  @Test(.enabled(if: FleetTools.which("systemd-analyze") != nil, "systemd-analyze is not installed")) func systemdUnitsVerify() throws {
    try withScratchDirectory("fleet-systemd") { dir in
      for unit in ["memdesc-export.service", "memdesc-export.timer"] {
        let text = try String(contentsOfFile: PackageRoot.file("contrib/systemd/\(unit)"), encoding: .utf8)
        try text.replacingOccurrences(of: "/usr/local/bin/memdesc", with: MemdescCLI.binary.path).write(toFile: dir.file(unit), atomically: false, encoding: .utf8)
      }
      let service = try String(contentsOfFile: dir.file("memdesc-export.service"), encoding: .utf8)
      for line in ["Type=oneshot", "Nice=19", "IOSchedulingClass=idle", "CPUQuota=25%"] { #expect(service.contains("\n\(line)\n"), "\(line)") }
      let r = try FleetTools.run(FleetTools.which("systemd-analyze")!, ["verify", dir.file("memdesc-export.service"), dir.file("memdesc-export.timer")])
      #expect(r.ok && r.stderr.isEmpty, "\(r.stdout) \(r.stderr)")
    }
  }

  @Test(.enabled(if: FleetTools.promtool != nil, "promtool is not installed (Debian package prometheus)")) func rulesCheck() throws {
    let r = try FleetTools.run(FleetTools.promtool!, ["check", "rules", FleetTools.rules])
    #expect(r.ok && r.stdout.contains("SUCCESS: 6 rules found"), "\(r.stdout) \(r.stderr)")
  }
}

/// A daemon the test started, stopped by its PID.
final class Daemon: @unchecked Sendable {
  let process = Process()
  let name: String

  init(_ name: String, _ executable: String, _ args: [String], log: String) throws {
    self.name = name
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = args
    FileManager.default.createFile(atPath: log, contents: nil)
    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    process.standardOutput = h
    process.standardError = h
    try process.run()
  }

  /// SIGTERM, then up to 10 s for it to exit, then SIGKILL.
  func stop() {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGTERM)
    let deadline = Date().addingTimeInterval(10)
    while process.isRunning && Date() < deadline { usleep(50_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
  }
}

/// A loopback port free right now (bound to port 0, read back, closed).
func freeLoopbackPort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { throw POSIXError(.EMFILE) }
  defer { close(fd) }
  var addr = sockaddr_in()
  addr.sin_family = sa_family_t(AF_INET)
  addr.sin_addr.s_addr = inet_addr("127.0.0.1")
  addr.sin_port = 0
  var len = socklen_t(MemoryLayout<sockaddr_in>.size)
  let ok = withUnsafeMutablePointer(to: &addr) { p in
    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
  }
  guard ok else { throw POSIXError(.EADDRINUSE) }
  return Int(UInt16(bigEndian: addr.sin_port))
}

/// Acceptance: node_exporter serves memdesc.prom, Prometheus scrapes it, and its query
/// API gives back the JSON document's figures.
@Suite struct FleetPrometheusLiveTests {
  let cli = MemdescCLI()

  /// An instant query against Prometheus' HTTP API: the first result's value, or nil.
  /// A blocking HTTP/1.0 GET on a socket with a 5 s timeout, not URLSession: Swift
  /// Testing's cooperative pool has two threads on this machine and the other suites
  /// block them with processes, which starved async requests for minutes.
  static func query(_ port: Int, _ promql: String) -> Double? {
    var c = URLComponents()
    c.path = "/api/v1/query"
    c.queryItems = [URLQueryItem(name: "query", value: promql)]
    guard let target = c.percentEncodedQuery.map({ "/api/v1/query?" + $0.replacingOccurrences(of: "+", with: "%2B") }),
          let body = httpGet(port: port, target: target),
          let j = try? JSONSerialization.jsonObject(with: body) as? [String: Any], j["status"] as? String == "success",
          let result = (j["data"] as? [String: Any])?["result"] as? [[String: Any]], let first = result.first,
          let value = first["value"] as? [Any], value.count == 2, let v = value[1] as? String else { return nil }
    return Double(v)
  }

  /// The body of a 200 answer to `GET target` on 127.0.0.1:`port`, or nil.
  static func httpGet(port: Int, target: String) -> Data? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &addr) { p in
      p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard connected else { return nil }
    let request = Array("GET \(target) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
    var answer = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while answer.count < 16 << 20 {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      answer.append(contentsOf: buffer[0..<n])
    }
    guard let split = answer.range(of: Data("\r\n\r\n".utf8)), String(decoding: answer[..<split.lowerBound], as: UTF8.self).hasPrefix("HTTP/1.") else { return nil }
    let status = String(decoding: answer[..<split.lowerBound], as: UTF8.self).split(separator: " ").dropFirst().first
    return status == "200" ? answer[split.upperBound...] : nil
  }

  @Test(.enabled(if: FleetTools.prometheus != nil && FleetTools.nodeExporter != nil, "prometheus or prometheus-node-exporter is not installed (Debian packages)"))
  func scrapedThroughNodeExporter() throws {
    let dir = try ScratchDirectory("fleet-live")
    defer { dir.remove() }
    let src = FleetTools.fixture("hvo-hugetlb.mdsnap")
    try FileManager.default.createDirectory(atPath: dir.file("textfile"), withIntermediateDirectories: true)
    try cli.run(["export", src, "--textfile-dir", dir.file("textfile")])
    let j = try cli.json(try cli.run(["analyze", src, "--format", "json"]).stdout)
    let eras = try #require(j["eras"] as? [[String: Any]])
    func era(_ name: String, _ key: String) -> Double? { eras.first { $0["era"] as? String == name }?[key] as? Double }

    let nePort = try freeLoopbackPort()
    let ne = try Daemon("node_exporter", FleetTools.nodeExporter!, [
      "--web.listen-address=127.0.0.1:\(nePort)", "--collector.textfile.directory=\(dir.file("textfile"))",
      "--collector.disable-defaults", "--collector.textfile",
    ], log: dir.file("node_exporter.log"))
    defer { ne.stop() }
    let promPort = try freeLoopbackPort()
    let config = """
      global:
        scrape_interval: 300ms
        scrape_timeout: 300ms
        evaluation_interval: 300ms
      rule_files:
        - \(FleetTools.rules)
      scrape_configs:
        - job_name: node
          static_configs:
            - targets: ['127.0.0.1:\(nePort)']
      """
    try config.write(toFile: dir.file("prometheus.yml"), atomically: false, encoding: .utf8)
    let prom = try Daemon("prometheus", FleetTools.prometheus!, [
      "--config.file=\(dir.file("prometheus.yml"))", "--storage.tsdb.path=\(dir.file("tsdb"))",
      "--web.listen-address=127.0.0.1:\(promPort)",
    ], log: dir.file("prometheus.log"))
    defer { prom.stop() }

    // The first scrape comes within one interval of startup, the recording rules one
    // evaluation later: short intervals, so that the test waits for Prometheus' start-up
    // and little else (a scrape that times out on a loaded machine is retried at the
    // next). Up to 90 s on a loaded machine.
    var memmap8: Double?, total32: Double?, saved8: Double?
    let start = Date()
    while Date().timeIntervalSince(start) < 90 {
      memmap8 = Self.query(promPort, "memdesc_memmap_bytes{era=\"memdesc8\"}")
      total32 = Self.query(promPort, "memdesc_total_overhead_bytes{era=\"memdesc32\"}")
      saved8 = Self.query(promPort, "era:memdesc_saved_vs_classic_bytes:sum{era=\"memdesc8\"}")
      if memmap8 != nil && total32 != nil && saved8 != nil { break }
      usleep(100_000)
    }
    print("FleetPrometheusLiveTests: Prometheus answered after \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    let log = { (try? String(contentsOfFile: dir.file("prometheus.log"), encoding: .utf8)) ?? "" }
    #expect(memmap8 != nil && memmap8 == era("memdesc8", "memmap_bytes"), "memdesc8 memmap: Prometheus \(String(describing: memmap8)), JSON \(String(describing: era("memdesc8", "memmap_bytes"))); \(log().suffix(2000))")
    #expect(total32 != nil && total32 == era("memdesc32", "total_overhead_bytes"), "memdesc32 total: Prometheus \(String(describing: total32))")
    let expected = era("classic", "total_overhead_bytes").flatMap { c in era("memdesc8", "total_overhead_bytes").map { c - $0 } }
    #expect(saved8 != nil && saved8 == expected, "recording rule: \(String(describing: saved8)) against \(String(describing: expected))")
  }
}
