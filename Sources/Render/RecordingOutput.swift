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
  public static func replayText(_ rs: [RecordingReplay.Result], attribution a: RecordingAttribution, path: String, ramBytes: UInt64) -> String {
    var out = ""
    func line(_ t: String) { out += t + "\n" }
    let events = rs.first?.events ?? 0
    line("recording \(path): \(events) events over \(formatFixed(rs.first?.seconds ?? 0, decimals: 2)) s; models of \(ByteSize.human(ramBytes)) RAM")
    line("kinds (pages allocated): " + RecordingAttribution.Kind.allCases.map { "\($0.label) \(a.pages[$0] ?? 0)" }.joined(separator: ", "))
    if let g = a.agreement {
      line("still allocated at the end: \(a.livePages) pages; kind told by events for \(a.eventKindPages), \(formatFixed(100 * g, decimals: 2)) % as the end snapshot shows; \(a.snapshotKindPages) named from the end snapshot")
    } else {
      line("still allocated at the end: \(a.livePages) pages\(a.hadEndSnapshot ? "" : " (no end snapshot: kernel kinds unknown)")")
    }
    line("era        desc allocs/s  desc frees/s  desc pages mean   peak  memmap        model ns/event  earlier frees  failed")
    for r in rs {
      line(r.era.rawValue.rightPadded(10) + " " + formatFixed(r.descriptorAllocsPerSecond, decimals: 1).leftPadded(13) + " "
        + formatFixed(r.descriptorFreesPerSecond, decimals: 1).leftPadded(13) + " " + formatFixed(r.descriptorPagesMean, decimals: 1).leftPadded(16) + " "
        + String(r.descriptorPagesPeak).leftPadded(6) + "  " + ByteSize.human(UInt64(r.memmapFrames) << 12).rightPadded(12) + " "
        + formatFixed(r.modelNanosecondsPerEvent, decimals: 1).leftPadded(15) + " " + String(r.earlierFrees).leftPadded(14) + " " + String(r.failedAllocations).leftPadded(7))
    }
    return out
  }

  struct ReplayJSON: Encodable {
    struct EraRow: Encodable {
      var era: String
      var events, allocations, frees, earlier_frees, failed_allocations, descriptor_allocs, descriptor_frees: Int
      var seconds, descriptor_allocs_per_second, descriptor_frees_per_second, descriptor_pages_mean: Double
      var descriptor_pages_peak, memmap_frames: Int
      var model_ns_per_event: Double
      var samples: [[Double]]
    }
    var recording: String
    var ram_bytes: UInt64
    var kind_pages: [String: Int]
    var live_pages, event_kind_pages, agreeing_pages, snapshot_kind_pages: Int
    var eras: [EraRow]
  }

  public static func replayJSON(_ rs: [RecordingReplay.Result], attribution a: RecordingAttribution, path: String, ramBytes: UInt64) throws -> String {
    var kinds: [String: Int] = [:]
    for k in RecordingAttribution.Kind.allCases { kinds[k.label] = a.pages[k] ?? 0 }
    return try JSONOutput.render(ReplayJSON(
      recording: path, ram_bytes: ramBytes, kind_pages: kinds, live_pages: a.livePages, event_kind_pages: a.eventKindPages,
      agreeing_pages: a.agreeingPages, snapshot_kind_pages: a.snapshotKindPages,
      eras: rs.map { r in
        .init(era: r.era.rawValue, events: r.events, allocations: r.allocations, frees: r.frees, earlier_frees: r.earlierFrees,
          failed_allocations: r.failedAllocations, descriptor_allocs: r.descriptorAllocs, descriptor_frees: r.descriptorFrees,
          seconds: r.seconds, descriptor_allocs_per_second: r.descriptorAllocsPerSecond, descriptor_frees_per_second: r.descriptorFreesPerSecond,
          descriptor_pages_mean: r.descriptorPagesMean, descriptor_pages_peak: r.descriptorPagesPeak, memmap_frames: r.memmapFrames,
          model_ns_per_event: r.modelNanosecondsPerEvent, samples: r.samples.map { [$0.seconds, Double($0.descriptorPages)] })
      }))
  }

  public static func replayCSV(_ rs: [RecordingReplay.Result]) -> String {
    var out = "era,events,allocations,frees,earlier_frees,failed_allocations,descriptor_allocs_per_second,descriptor_frees_per_second,descriptor_pages_mean,descriptor_pages_peak,memmap_frames,model_ns_per_event\n"
    for r in rs {
      out += [r.era.rawValue, String(r.events), String(r.allocations), String(r.frees), String(r.earlierFrees), String(r.failedAllocations),
        formatFixed(r.descriptorAllocsPerSecond, decimals: 3), formatFixed(r.descriptorFreesPerSecond, decimals: 3),
        formatFixed(r.descriptorPagesMean, decimals: 3), String(r.descriptorPagesPeak), String(r.memmapFrames),
        formatFixed(r.modelNanosecondsPerEvent, decimals: 3)].joined(separator: ",") + "\n"
    }
    return out
  }
}
