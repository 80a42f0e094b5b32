import PageModel
import Snapshot

/// A time-series chart as inline SVG, in the report's conventions (system font, axis
/// titles with their units, a legend naming every series, a `<title>` tooltip per
/// series): x is time in seconds, y a quantity starting at 0.
struct LineChart {
  struct Series {
    /// The series' name in the legend; merged series join theirs with " = ", then
    /// `suffix` (so "memdesc32 = memdesc8 allocs").
    var name: String
    var suffix = ""
    var color: String
    var dashed = false
    /// (seconds, value) points in time order.
    var points: [(Double, Double)]
  }

  var id: String
  var xTitle: String
  var yTitle: String
  var series: [Series]

  static let width = 1100.0, plotHeight = 300.0
  static let left = 86.0, right = 16.0, top = 14.0, bottom = 46.0

  /// Round steps of 1, 2 or 5 times a power of ten that give at most about 6 ticks.
  static func step(_ maxValue: Double) -> Double {
    guard maxValue > 0, maxValue.isFinite else { return 1 }
    var p = 1.0
    while p * 10 <= maxValue { p *= 10 }
    while p > maxValue { p /= 10 }
    for m in [0.2, 0.5, 1, 2, 5, 10] where maxValue / (p * m) <= 6 { return p * m }
    return p * 10
  }

  static func number(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return Fmt.group(Int(v)) }
    return formatFixed(v, decimals: abs(v) < 1 ? 2 : 1)
  }

  /// Series whose points are all the same are drawn once, their names joined with " = "
  /// (memdesc32 and memdesc8 allocate the same descriptors): a line drawn over another
  /// would hide it.
  static func merged(_ series: [Series]) -> [Series] {
    var out: [Series] = []
    for s in series {
      if let i = out.firstIndex(where: { $0.dashed == s.dashed && $0.points.elementsEqual(s.points, by: { $0 == $1 }) }) {
        out[i].name += " = " + s.name
      } else {
        out.append(s)
      }
    }
    return out
  }

  func svg() -> String {
    func f(_ v: Double) -> String { formatFixed(v, decimals: 1) }
    let series = Self.merged(self.series)
    let plotW = Self.width - Self.left - Self.right, plotH = Self.plotHeight - Self.top - Self.bottom
    // The legend goes under the plot, in rows; a label is about 6.5 px a character.
    var legend: [(x: Double, row: Int)] = []
    var lx = Self.left, row = 0
    for s in series {
      let w = 40 + 6.5 * Double((s.name + s.suffix).count + 1)
      if lx + w > Self.width - Self.right && lx > Self.left { lx = Self.left; row += 1 }
      legend.append((lx, row))
      lx += w
    }
    let height = Self.plotHeight + 8 + Double(row + 1) * 18
    let xMax = max(series.flatMap { $0.points.map(\.0) }.max() ?? 0, 1e-9)
    let yData = series.flatMap { $0.points.map(\.1) }.max() ?? 0
    let yStep = Self.step(yData), xStep = Self.step(xMax)
    let yMax = max(yStep, (yData / yStep).rounded(.up) * yStep)
    func px(_ x: Double) -> Double { Self.left + x / xMax * plotW }
    func py(_ y: Double) -> Double { Self.top + plotH - y / yMax * plotH }
    var h = "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(Self.width)) \(f(height))\" width=\"100%\">\n"
    // Grid and y ticks.
    var y = 0.0
    while y <= yMax + yStep / 2 {
      h += "<line x1=\"\(f(Self.left))\" x2=\"\(f(Self.left + plotW))\" y1=\"\(f(py(y)))\" y2=\"\(f(py(y)))\" stroke=\"#e3e3e3\"/>"
      h += "<text x=\"\(f(Self.left - 6))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(Self.number(y))</text>\n"
      y += yStep
    }
    var x = 0.0
    while x <= xMax + xStep / 1000 {
      h += "<line x1=\"\(f(px(x)))\" x2=\"\(f(px(x)))\" y1=\"\(f(Self.top + plotH))\" y2=\"\(f(Self.top + plotH + 4))\" stroke=\"#888\"/>"
      h += "<text x=\"\(f(px(x)))\" y=\"\(f(Self.top + plotH + 17))\" text-anchor=\"middle\">\(Self.number(x))</text>\n"
      x += xStep
    }
    h += "<rect x=\"\(f(Self.left))\" y=\"\(f(Self.top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#888\"/>\n"
    h += "<text class=\"axis-title\" x=\"\(f(Self.left + plotW / 2))\" y=\"\(f(Self.plotHeight - 8))\" text-anchor=\"middle\">\(SnapshotReport.esc(xTitle))</text>\n"
    h += "<text class=\"axis-title\" transform=\"translate(16 \(f(Self.top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(SnapshotReport.esc(yTitle))</text>\n"
    // Series, then the legend under the plot.
    for (i, s) in series.enumerated() {
      let name = SnapshotReport.esc(s.name + s.suffix)
      let pts = s.points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
      h += "<polyline data-series=\"\(name)\" points=\"\(pts)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.8\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "")>"
      h += "<title>\(name): peak \(Self.number(s.points.map(\.1).max() ?? 0))</title></polyline>\n"
      let ly = Self.plotHeight + 6 + Double(legend[i].row) * 18, lx = legend[i].x
      h += "<line x1=\"\(f(lx))\" x2=\"\(f(lx + 22))\" y1=\"\(f(ly))\" y2=\"\(f(ly))\" stroke=\"\(s.color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
      h += "<text x=\"\(f(lx + 28))\" y=\"\(f(ly + 4))\">\(name)</text>\n"
    }
    h += "</svg>\n"
    return h
  }
}
