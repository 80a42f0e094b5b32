import Foundation
import MemdescTestSupport
import Testing

/// Each fixture's report, opened by headless Chromium in a 1400-pixel window, fits it
/// (no horizontal scroll) and draws the map with its axis titles. The report has no
/// script of its own; a copy gets a small one that writes what the browser measured into
/// the DOM, which `--dump-dom` then shows.
@Suite struct ReportLayoutCLITests {
  static let fixtures = ["idle", "thp-anon", "hvo-hugetlb.mdsnap"]

  static let probe = """
    <script>
    addEventListener('load', () => {
      const d = document.documentElement, titles = [...document.querySelectorAll('#map .axis-title')];
      const p = document.createElement('div');
      p.id = 'layout-probe';
      p.dataset.scrollWidth = d.scrollWidth;
      p.dataset.clientWidth = d.clientWidth;
      p.dataset.axisTitles = titles.filter(t => t.getBBox().width > 0).map(t => t.id).join(' ');
      document.body.appendChild(p);
    });
    </script>
    """

  @Test(.enabled(if: Chromium.path != nil, "skipped: chromium is not installed (.ci/run installs it)"),
        arguments: fixtures)
  func fitsAt1400Pixels(fixture: String) throws {
    let dir = try ScratchDirectory("report-layout")
    defer { dir.remove() }
    let html = dir.file("report.html")
    try MemdescCLI().run(["report", PackageRoot.file("Tests/SnapshotTests/Fixtures/" + fixture), "-o", html])
    let page = try String(contentsOfFile: html, encoding: .utf8)
    let probed = dir.file("probed.html")
    try page.replacingOccurrences(of: "</body>", with: Self.probe + "</body>").write(toFile: probed, atomically: false, encoding: .utf8)
    let r = try runProcess(URL(fileURLWithPath: Chromium.path!), [
      "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--window-size=1400,1000", "--dump-dom", "file://" + probed,
    ])
    #expect(!r.killedBySignal && r.status == 0, "chromium: \(r.stderr.suffix(400))")
    let probe = try #require(r.stdout.firstMatch(#"<div id="layout-probe"[^>]*>"#)?.first, "no probe in the DOM: \(r.stderr.suffix(400))")
    let scroll = Int(probe.firstMatch(#"data-scroll-width="(\d+)""#)?[1] ?? "")
    let client = Int(probe.firstMatch(#"data-client-width="(\d+)""#)?[1] ?? "")
    #expect(client == 1400 && scroll != nil && scroll! <= client!, "\(fixture): \(probe)")
    #expect(probe.contains(#"data-axis-titles="map-y-title map-x-title""#), "\(fixture): \(probe)")
  }
}
