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
