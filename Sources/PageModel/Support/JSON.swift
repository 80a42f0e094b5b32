/// A JSON value with ordered object keys, for the CLI's machine-readable output.
public indirect enum JSON: Equatable, Sendable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([JSON])
  case object([(String, JSON)])

  public static func == (a: JSON, b: JSON) -> Bool { a.rendered() == b.rendered() }

  /// The value as JSON text; pretty-printed with two-space indents unless `compact`.
  public func rendered(compact: Bool = false) -> String {
    var out = ""
    write(to: &out, indent: compact ? nil : 0)
    return out
  }

  private func write(to out: inout String, indent: Int?) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d): out += d.isFinite ? JSON.number(d) : "null"
    case .string(let s): JSON.quote(s, into: &out)
    case .array(let items):
      if items.isEmpty { out += "[]"; return }
      if items.allSatisfy({ $0.isScalar }) {
        // Rows of numbers (buddyinfo-style) stay on one line.
        out += "[" + items.map { $0.rendered(compact: true) }.joined(separator: indent == nil ? "," : ", ") + "]"
        return
      }
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        JSON.newline(&out, indent.map { $0 + 1 })
        item.write(to: &out, indent: indent.map { $0 + 1 })
      }
      JSON.newline(&out, indent)
      out += "]"
    case .object(let pairs):
      if pairs.isEmpty { out += "{}"; return }
      out += "{"
      for (i, (key, value)) in pairs.enumerated() {
        if i > 0 { out += "," }
        JSON.newline(&out, indent.map { $0 + 1 })
        JSON.quote(key, into: &out)
        out += indent == nil ? ":" : ": "
        value.write(to: &out, indent: indent.map { $0 + 1 })
      }
      JSON.newline(&out, indent)
      out += "}"
    }
  }

  private var isScalar: Bool {
    switch self {
    case .array, .object: false
    default: true
    }
  }

  private static func newline(_ out: inout String, _ indent: Int?) {
    guard let indent else { return }
    out += "\n" + String(repeating: "  ", count: indent)
  }

  private static func number(_ d: Double) -> String {
    if d == d.rounded() && abs(d) < 1e15 { return String(Int(d)) }
    return formatFixed(d, decimals: 6).replacingTrailingZeros()
  }

  private static func quote(_ s: String, into out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }
}

extension String {
  fileprivate func replacingTrailingZeros() -> String {
    guard contains(".") else { return self }
    var s = Substring(self)
    while s.last == "0" { s = s.dropLast() }
    if s.last == "." { s = s.dropLast() }
    return String(s)
  }
}
