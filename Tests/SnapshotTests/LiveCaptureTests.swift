import Foundation
import MemdescTestSupport
import Snapshot
import Testing

enum Live {
  static var readable: Bool { FileManager.default.isReadableFile(atPath: "/proc/kpageflags") && getuid() == 0 }
}

/// Capture of this machine (we are root on the development VM and in CI).
@Suite struct LiveCaptureTests {
  @Test(.enabled(if: Live.readable, "skipped: /proc/kpageflags is not readable here (needs root)"))
  func captureThisMachine() throws {
    let scratch = try ScratchDirectory("live")
    defer { scratch.remove() }
    let dir = scratch.path
    let path = dir + "/live.mdsnap"
    let report = try SnapshotCapture.capture(to: path)
    let snap = try PageSnapshot.open(path)
    #expect(report.fileBytes == (try Fixture.bytes(path)).count)
    #expect(snap.pfnCount > 0)
    #expect(snap.kpagecount?.count == snap.pfnCount)
    #expect(snap.metadata.kernelRelease == HostInfo.uname()?.release)
    #expect(snap.metadata.captureSeconds != nil)
    for name in ["meminfo", "vmstat", "zoneinfo", "buddyinfo", "iomem", "hugepages", "meminfo.after", "vmstat.after"] {
      #expect(snap.texts[name] != nil, "missing \(name)")
    }
    #expect(try snap.hugepages()?.hstates.isEmpty == false)
    let summary = try PageTypesSummary.of(snap.kpageflags, mode: .wellKnown)
    #expect(summary.totalPages == UInt64(snap.pfnCount))
    // The live source itself reads the same PFN count.
    #expect(try PageSnapshot.live().pfnCount == snap.pfnCount)
  }
}
