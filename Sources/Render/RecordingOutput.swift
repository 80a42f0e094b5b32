import PageModel
import Snapshot

/// `memdesc record` and `memdesc replay`.
public enum RecordingOutput {
  /// The progress line (carriage return, no newline).
  public static func progress(seconds: Double, events: Int, lost: Int) -> String {
    "\rrecord: \(formatFixed(seconds, decimals: 1)) s, \(events) events, \(lost) lost   "
  }

  /// What `record` prints after writing the file.
  public static func recorded(_ s: TracefsRecorder.Summary, check c: RecordingCheck, path: String) -> String {
    var out = ""
    func line(_ t: String) { out += t + "\n" }
    line("wrote \(path): \(s.events) events in \(formatFixed(s.seconds, decimals: 2)) s on \(s.cpus) CPUs (\(Int((Double(s.events) / max(s.seconds, 1e-9)).rounded())) events/s)")
    for k in PageEvent.Kind.allCases { line("  \(k.tracepoint.rightPadded(42)) \(String(s.byKind[k] ?? 0).leftPadded(10))") }
    line("lost events     \(s.lostEvents) (ring-buffer overruns and drops; \(s.pagesAfterLoss) pages flagged)")
    line("failed allocs   \(s.failedAllocations)")
    line("recorder CPU    \(formatFixed(s.recorderCPUSeconds, decimals: 3)) s (\(formatFixed(100 * s.recorderCPUSeconds / max(s.seconds, 1e-9), decimals: 1)) % of one CPU over the window)")
    line("pages allocated \(c.recordedAllocPages) recorded, \(c.vmstatAllocPages) by vmstat pgalloc_* (\(percent(c.allocError)))")
    line("pages freed     \(c.recordedFreePages) recorded, \(c.vmstatFreePages) by vmstat pgfree (\(percent(c.freeError)))")
    if s.full { line("note: stopped early: the event limit (--max-events) was reached") }
    if !s.removedOrphans.isEmpty { line("removed orphaned tracing instances: \(s.removedOrphans.joined(separator: ", "))") }
    return out
  }

  static func percent(_ e: Double?) -> String {
    guard let e else { return "no vmstat delta" }
    return (e >= 0 ? "+" : "") + formatFixed(100 * e, decimals: 2) + " %"
  }
}

extension RecordingOutput {
  /// Where the models started, in a line.
  static func startLine(_ rs: [RecordingReplay.Result]) -> String {
    guard let r = rs.first else { return "no eras" }
    return r.fromStart
      ? "models start from the start snapshot's population (its folios, slabs, page tables, HugeTLB pools and free memory)"
      : "models start as booted (no start snapshot): frees of pages allocated before the recording are skipped"
  }

  public static func replayText(_ rs: [RecordingReplay.Result], attribution a: RecordingAttribution, path: String, ramBytes: UInt64) -> String {
    var out = ""
    func line(_ t: String) { out += t + "\n" }
    let events = rs.first?.events ?? 0
    line("recording \(path): \(events) events over \(formatFixed(rs.first?.seconds ?? 0, decimals: 2)) s; models of \(ByteSize.human(ramBytes)) RAM")
    line(startLine(rs))
    line("kinds (pages allocated): " + RecordingAttribution.Kind.allCases.map { "\($0.label) \(a.pages[$0] ?? 0)" }.joined(separator: ", "))
    if let g = a.agreement {
      line("still allocated at the end: \(a.livePages) pages; kind told by events for \(a.eventKindPages), \(formatFixed(100 * g, decimals: 2)) % as the end snapshot shows; \(a.snapshotKindPages) named from the end snapshot")
    } else {
      line("still allocated at the end: \(a.livePages) pages\(a.hadEndSnapshot ? "" : " (no end snapshot: kernel kinds unknown)")")
    }
    if let r = rs.first {
      line("decoding alone: \(formatFixed(r.decodeNanosecondsPerEvent, decimals: 1)) ns/event; replay (decoding + model) per era: " + rs.map {
        "\($0.era.rawValue) \(formatFixed($0.eventsPerSecond / 1e6, decimals: 2)) M events/s (\(formatFixed($0.replayToDecodeRatio, decimals: 1))x decoding)"
      }.joined(separator: ", "))
    }
    line("era        desc allocs/s  desc frees/s  desc pages start   mean   peak  slab pages mean   peak  memmap      model ns/event  start frees  unpaired frees  failed")
    for r in rs {
      line(r.era.rawValue.rightPadded(10) + " " + formatFixed(r.descriptorAllocsPerSecond, decimals: 1).leftPadded(13) + " "
        + formatFixed(r.descriptorFreesPerSecond, decimals: 1).leftPadded(13) + " " + String(r.startDescriptorPages).leftPadded(17) + " "
        + formatFixed(r.descriptorPagesMean, decimals: 1).leftPadded(6) + " " + String(r.descriptorPagesPeak).leftPadded(6) + " "
        + formatFixed(r.descriptorSlabPagesMean, decimals: 1).leftPadded(16) + " " + String(r.descriptorSlabPagesPeak).leftPadded(6) + "  "
        + ByteSize.human(UInt64(r.memmapFrames) << 12).rightPadded(10) + " " + formatFixed(r.modelNanosecondsPerEvent, decimals: 1).leftPadded(15) + " "
        + String(r.startFrees).leftPadded(12) + " " + String(r.earlierFrees).leftPadded(15) + " " + String(r.failedAllocations).leftPadded(7))
    }
    return out
  }

  struct ReplayJSON: Encodable {
    struct EraRow: Encodable {
      var era: String
      var events, allocations, frees, start_frees, earlier_frees, failed_allocations, descriptor_allocs, descriptor_frees: Int
      var seconds, descriptor_allocs_per_second, descriptor_frees_per_second, descriptor_pages_mean, descriptor_slab_pages_mean: Double
      var start_descriptor_pages, descriptor_pages_peak, descriptor_slab_pages_peak, memmap_frames: Int
      var model_ns_per_event, decode_ns_per_event, events_per_second, replay_to_decode_ratio: Double
      /// [seconds, descriptor pages, descriptor-slab pages, descriptor allocs so far, frees so far]
      var samples: [[Double]]
    }
    var recording: String
    var ram_bytes: UInt64
    var from_start_snapshot: Bool
    var kind_pages: [String: Int]
    var live_pages, event_kind_pages, agreeing_pages, snapshot_kind_pages: Int
    var eras: [EraRow]
  }

  public static func replayJSON(_ rs: [RecordingReplay.Result], attribution a: RecordingAttribution, path: String, ramBytes: UInt64) throws -> String {
    var kinds: [String: Int] = [:]
    for k in RecordingAttribution.Kind.allCases { kinds[k.label] = a.pages[k] ?? 0 }
    return try JSONOutput.render(ReplayJSON(
      recording: path, ram_bytes: ramBytes, from_start_snapshot: rs.first?.fromStart ?? false, kind_pages: kinds, live_pages: a.livePages,
      event_kind_pages: a.eventKindPages, agreeing_pages: a.agreeingPages, snapshot_kind_pages: a.snapshotKindPages,
      eras: rs.map { r in
        .init(era: r.era.rawValue, events: r.events, allocations: r.allocations, frees: r.frees, start_frees: r.startFrees, earlier_frees: r.earlierFrees,
          failed_allocations: r.failedAllocations, descriptor_allocs: r.descriptorAllocs, descriptor_frees: r.descriptorFrees,
          seconds: r.seconds, descriptor_allocs_per_second: r.descriptorAllocsPerSecond, descriptor_frees_per_second: r.descriptorFreesPerSecond,
          descriptor_pages_mean: r.descriptorPagesMean, descriptor_slab_pages_mean: r.descriptorSlabPagesMean,
          start_descriptor_pages: r.startDescriptorPages, descriptor_pages_peak: r.descriptorPagesPeak,
          descriptor_slab_pages_peak: r.descriptorSlabPagesPeak, memmap_frames: r.memmapFrames,
          model_ns_per_event: r.modelNanosecondsPerEvent, decode_ns_per_event: r.decodeNanosecondsPerEvent,
          events_per_second: r.eventsPerSecond, replay_to_decode_ratio: r.replayToDecodeRatio,
          samples: r.samples.map { [$0.seconds, Double($0.descriptorPages), Double($0.descriptorSlabPages), Double($0.descriptorAllocs), Double($0.descriptorFrees)] })
      }))
  }

  public static func replayCSV(_ rs: [RecordingReplay.Result]) -> String {
    var out = "era,events,allocations,frees,start_frees,earlier_frees,failed_allocations,descriptor_allocs_per_second,descriptor_frees_per_second,start_descriptor_pages,descriptor_pages_mean,descriptor_pages_peak,descriptor_slab_pages_mean,descriptor_slab_pages_peak,memmap_frames,model_ns_per_event,decode_ns_per_event\n"
    for r in rs {
      out += [r.era.rawValue, String(r.events), String(r.allocations), String(r.frees), String(r.startFrees), String(r.earlierFrees), String(r.failedAllocations),
        formatFixed(r.descriptorAllocsPerSecond, decimals: 3), formatFixed(r.descriptorFreesPerSecond, decimals: 3), String(r.startDescriptorPages),
        formatFixed(r.descriptorPagesMean, decimals: 3), String(r.descriptorPagesPeak), formatFixed(r.descriptorSlabPagesMean, decimals: 3),
        String(r.descriptorSlabPagesPeak), String(r.memmapFrames), formatFixed(r.modelNanosecondsPerEvent, decimals: 3),
        formatFixed(r.decodeNanosecondsPerEvent, decimals: 3)].joined(separator: ",") + "\n"
    }
    return out
  }

  static let eraColors: [Era: String] = [.classic: "#555555", .mask: "#3d85c6", .memdesc32: "#e69138", .memdesc8: "#6aa84f"]

  /// The replay as one self-contained HTML page (inline CSS and SVG, no script): the
  /// per-era table and time series of descriptor memory, descriptor-slab pages and
  /// descriptor allocations and frees per second.
  public static func replayHTML(_ rs: [RecordingReplay.Result], attribution a: RecordingAttribution, path: String, ramBytes: UInt64, meta: [(key: String, value: String)]) -> String {
    func esc(_ s: String) -> String { SnapshotReport.esc(s) }
    func metaValue(_ k: String) -> String? { meta.last { $0.key == k }?.value }
    var h = ""
    let sub = [esc(path), metaValue("host_name").map { "host " + esc($0) }, metaValue("kernel_release").map { "kernel " + esc($0) },
               metaValue("started_at").map { "recorded " + esc($0) }].compactMap { $0 }.joined(separator: " · ")
    h += SnapshotReport.pageHead(title: "Memdesc replay: \(path)", subtitle: sub)
    let r0 = rs.first
    h += "<div class=\"facts\">"
    h += "<div><b>events</b> \(Fmt.group(r0?.events ?? 0)) over \(formatFixed(r0?.seconds ?? 0, decimals: 2)) s</div>"
    h += "<div><b>lost events</b> \(esc(metaValue("lost_events") ?? "not recorded"))</div>"
    h += "<div><b>models</b> \(ByteSize.human(ramBytes)) RAM</div>"
    h += "<div class=\"free\"><b>start</b> \(esc(startLine(rs)))</div>"
    h += "<div class=\"free\"><b>kinds</b> (pages allocated) " + RecordingAttribution.Kind.allCases.map { "\($0.label) \(Fmt.group(a.pages[$0] ?? 0))" }.joined(separator: ", ") + "</div>"
    h += "</div>\n"
    h += "<h2>Per era</h2>\n<table><tr><th class=\"l\">era</th><th>descriptor<br>allocs/s</th><th>descriptor<br>frees/s</th><th>descriptor pages<br>at start</th><th>descriptor<br>pages mean</th><th>descriptor<br>pages peak</th><th>desc.-slab<br>pages mean</th><th>desc.-slab<br>pages peak</th><th>memmap</th><th>model<br>ns/event</th><th>start<br>frees</th><th>unpaired<br>frees</th><th>failed<br>allocs</th></tr>\n"
    for r in rs {
      let cells = [formatFixed(r.descriptorAllocsPerSecond, decimals: 1), formatFixed(r.descriptorFreesPerSecond, decimals: 1), Fmt.group(r.startDescriptorPages),
                   formatFixed(r.descriptorPagesMean, decimals: 1), Fmt.group(r.descriptorPagesPeak), formatFixed(r.descriptorSlabPagesMean, decimals: 1),
                   Fmt.group(r.descriptorSlabPagesPeak), ByteSize.human(UInt64(r.memmapFrames) << 12), formatFixed(r.modelNanosecondsPerEvent, decimals: 1),
                   Fmt.group(r.startFrees), Fmt.group(r.earlierFrees), Fmt.group(r.failedAllocations)]
      h += "<tr data-era=\"\(r.era.rawValue)\"><td class=\"l\">\(r.era.rawValue)</td>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
    }
    h += "</table>\n"
    let none = rs.filter { $0.era != .memdesc32 && $0.era != .memdesc8 }.map(\.era.rawValue)
    let noneNote = none.isEmpty ? "" : " In \(none.joined(separator: " and ")) the 64-byte struct page is the descriptor: their lines lie on 0."
    func series(_ value: (RecordingReplay.Sample) -> Double) -> [LineChart.Series] {
      rs.map { LineChart.Series(name: $0.era.rawValue, color: eraColors[$0.era] ?? "#000", points: $0.samples.map { ($0.seconds, value($0)) }) }
    }
    h += "<h2>Descriptor memory over time</h2>\n<p class=\"sub\">Frames of all descriptor caches (folios, slabs, ptdescs), in MiB, sampled \(r0?.samples.count ?? 0) times at even steps of event time; time 0 is the recording's first event.\(noneNote)</p>\n"
    h += LineChart(id: "descriptor-memory", xTitle: "time since the first event (s)", yTitle: "descriptor memory (MiB)",
                   series: series { Double($0.descriptorPages) * 4096 / 1_048_576 }).svg()
    h += "<h2>Descriptor-slab pages over time</h2>\n<p class=\"sub\">Pages of the struct slab descriptor cache, which describes every slab of every cache, the descriptor caches' own included.\(noneNote)</p>\n"
    h += LineChart(id: "descriptor-slab-pages", xTitle: "time since the first event (s)", yTitle: "descriptor-slab pages (4 KiB)",
                   series: series { Double($0.descriptorSlabPages) }).svg()
    var rates: [LineChart.Series] = []
    for r in rs {
      var allocs: [(Double, Double)] = [], frees: [(Double, Double)] = []
      for (p, q) in zip(r.samples, r.samples.dropFirst()) where q.seconds > p.seconds {
        let dt = q.seconds - p.seconds
        allocs.append((q.seconds, Double(q.descriptorAllocs - p.descriptorAllocs) / dt))
        frees.append((q.seconds, Double(q.descriptorFrees - p.descriptorFrees) / dt))
      }
      let color = eraColors[r.era] ?? "#000"
      rates.append(.init(name: r.era.rawValue, suffix: " allocs", color: color, points: allocs))
      rates.append(.init(name: r.era.rawValue, suffix: " frees", color: color, dashed: true, points: frees))
    }
    h += "<h2>Descriptor allocations and frees per second</h2>\n<p class=\"sub\">Between consecutive samples: solid lines allocations, dashed lines frees, per era.\(noneNote)</p>\n"
    h += LineChart(id: "descriptor-rates", xTitle: "time since the first event (s)", yTitle: "descriptors per second", series: rates).svg()
    h += "<p class=\"note\">Made by memdesc replay. Each recorded allocation is replayed as the model's allocation of the kind it was given; the model picks its own PFNs.</p>\n"
    h += SnapshotReport.pageFoot
    return h
  }
}
