import ArgumentParser
import PageModel
import Render
import Snapshot

extension Memdesc {
  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a snapshot's analysis for fleets: node_exporter's textfile folder, a row folder for SQL engines.",
      discussion: helpDiscussion(
        """
        Answers the fleet's question, what the memmap costs across many hosts, by \
        writing one host's analysis where fleet tools read it. --textfile-dir DIR writes \
        DIR/memdesc.prom in the Prometheus text format (docs/metrics.md); --rows-dir DIR \
        writes one JSON row into DIR/host=H/date=D/memdesc-TIME.jsonl for SQL engines \
        (docs/fleet-rows.md). Each file is written atomically: a reader sees the old \
        file or the new one. contrib/ has a systemd timer that runs 'memdesc export \
        --live' every few minutes.
        """,
        terms: [.textfile, .snapshot, .memmap, .era],
        examples: [
          "memdesc export Tests/SnapshotTests/Fixtures/idle --textfile-dir .",
          "memdesc export Tests/SnapshotTests/Fixtures/hvo-hugetlb.mdsnap --rows-dir .",
          "memdesc export --live --textfile-dir .   # needs root",
        ]))

    @OptionGroup var options: AnalysisOptions

    @Option(name: .customLong("textfile-dir"), help: "node_exporter's --collector.textfile.directory: write memdesc.prom there.")
    var textfileDir: String?

    @Option(name: .customLong("rows-dir"), help: "Root of a hive-partitioned row folder: write host=H/date=D/memdesc-TIME.jsonl under it.")
    var rowsDir: String?

    @Option(help: "Host name for the metrics and the row (default: the one the snapshot recorded).")
    var host: String?

    @Option(help: "Date of the row, YYYY-MM-DD (default: the snapshot's capture date, UTC).")
    var date: String?

    func validate() throws {
      if textfileDir == nil && rowsDir == nil { throw ValidationError("give --textfile-dir DIR, --rows-dir DIR or both") }
      if let host, !Self.isPathComponent(host) {
        throw ValidationError("cannot use host '\(host)': expected letters, digits, '.', '-' or '_' (it names a folder host=H)")
      }
      if let date, ISOTime.epochSeconds(date + "T00:00:00Z") == nil {
        throw ValidationError("cannot read date '\(date)': expected YYYY-MM-DD, such as 2026-12-02")
      }
    }

    static func isPathComponent(_ s: String) -> Bool {
      !s.isEmpty && s != "." && s != ".." && s.utf8.count <= 255
        && s.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "." || $0 == "-" || $0 == "_" }
    }

    func run() throws {
      let snapshot = try options.source.open()
      let start = HostInfo.monotonicSeconds()
      let analysis = try SnapshotAnalysis.of(snapshot, eras: options.eras.eras, pageExt: options.pageExt.value, threads: try options.threads.count())
      var run = RunInfo(snapshot, scanSeconds: HostInfo.monotonicSeconds() - start)
      if let host { run.hostName = host }
      // Everything is rendered before anything is written: a row this schema cannot hold
      // must not leave a fresh memdesc.prom beside a missing row.
      let metrics = textfileDir.map { _ in MetricsOutput.render(analysis, run: run, dialect: .prometheusText) }
      var rowFile: (dir: String, path: String, line: String)?
      if let rowsDir {
        guard let h = run.hostName else { throw DataError("\(snapshot.origin.description) records no host name; give --host NAME for the row folder") }
        guard Self.isPathComponent(h) else { throw DataError("host name '\(h)' of \(snapshot.origin.description) cannot name a folder; give --host NAME") }
        guard let d = date ?? run.capturedAt.map({ String($0.prefix(10)) }) else {
          throw DataError("\(snapshot.origin.description) records no capture time; give --date YYYY-MM-DD for the row folder")
        }
        let stamp = (run.capturedAt ?? d).filter { $0 != "-" && $0 != ":" }
        let dir = FileIOPath.join(rowsDir, "host=\(h)/date=\(d)")
        rowFile = (dir, FileIOPath.join(dir, "memdesc-\(stamp).jsonl"), try FleetRows.line(analysis, run: run, date: d))
      }
      if let textfileDir, let metrics {
        let path = FileIOPath.join(textfileDir, "memdesc.prom")
        try FileIO.writeAtomically(path, text: metrics)
        writeStdout("memdesc: wrote \(path)\n")
      }
      if let rowFile {
        try FileIO.makeDirectories(rowFile.dir)
        try FileIO.writeAtomically(rowFile.path, text: rowFile.line)
        writeStdout("memdesc: wrote \(rowFile.path)\n")
      }
    }
  }
}

/// Paths joined the way the messages print them.
enum FileIOPath {
  static func join(_ dir: String, _ name: String) -> String { dir.hasSuffix("/") ? dir + name : dir + "/" + name }
}

extension RunInfo {
  /// What the snapshot's metadata adds to an analysis that took `scanSeconds`.
  init(_ snapshot: PageSnapshot, scanSeconds: Double) {
    self.init(version: memdescVersion, scanSeconds: scanSeconds, hostName: snapshot.metadata.hostName,
              capturedAt: snapshot.metadata.capturedAt, captureSeconds: snapshot.metadata.captureSeconds)
  }
}
