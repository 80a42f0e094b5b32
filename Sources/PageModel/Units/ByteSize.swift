/// Parsing and printing of memory sizes as people write them: `64M`, `24G`, `1T`.
public enum ByteSize {
  /// Parses a size with an optional binary suffix (K, M, G, T, P; an optional trailing
  /// `B` or `iB`; case-insensitive). A bare number is bytes. Returns nil for anything
  /// else, including overflow.
  public static func parse(_ text: String) -> UInt64? {
    var s = Substring(text.trimmingSpaces())
    guard !s.isEmpty else { return nil }
    if s.lowercased().hasSuffix("ib") { s = s.dropLast(2) } else if s.lowercased().hasSuffix("b") { s = s.dropLast() }
    var shift: UInt64 = 0
    if let last = s.last, last.isLetter {
      switch last.lowercased() {
      case "k": shift = 10
      case "m": shift = 20
      case "g": shift = 30
      case "t": shift = 40
      case "p": shift = 50
      default: return nil
      }
      s = s.dropLast()
    }
    guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt64(s) else { return nil }
    let (value, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
    return overflow ? nil : value
  }

  /// The shortest exact binary form of a size (`4G`, `1536M`, `4096`), for messages.
  public static func format(_ bytes: UInt64) -> String {
    if bytes == 0 { return "0" }
    for (shift, suffix) in [(UInt64(50), "P"), (40, "T"), (30, "G"), (20, "M"), (10, "K")]
    where bytes & ((1 << shift) - 1) == 0 {
      return "\(bytes >> shift)\(suffix)"
    }
    return "\(bytes)"
  }

  /// A size in the largest unit that keeps it at or above 1, with two decimals
  /// (`384.00 MiB`), for reports.
  public static func human(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var value = Double(bytes)
    var i = 0
    while value >= 1024 && i < units.count - 1 { value /= 1024; i += 1 }
    if i == 0 { return "\(bytes) B" }
    if value == value.rounded() { return "\(Int(value)) " + units[i] }
    return formatFixed(value, decimals: 2) + " " + units[i]
  }
}

/// Formats a number with a fixed count of decimals without Foundation.
public func formatFixed(_ value: Double, decimals: Int) -> String {
  var scale = 1.0
  for _ in 0..<decimals { scale *= 10 }
  let scaled = (abs(value) * scale).rounded()
  let whole = UInt64(scaled / scale)
  var frac = UInt64(scaled - Double(whole) * scale)
  let sign = value < 0 && scaled != 0 ? "-" : ""
  if decimals == 0 { return sign + String(whole) }
  var digits = ""
  for _ in 0..<decimals { digits = String(frac % 10) + digits; frac /= 10 }
  return sign + String(whole) + "." + digits
}

/// Parses an unsigned integer in decimal or `0x` hexadecimal.
public func parseUnsigned(_ text: String) -> UInt64? {
  let s = text.trimmingSpaces()
  if s.hasPrefix("0x") || s.hasPrefix("0X") {
    let digits = s.dropFirst(2)
    guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit }) else { return nil }
    return UInt64(digits, radix: 16)
  }
  guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
  return UInt64(s)
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while let f = s.first, f.isWhitespace { s = s.dropFirst() }
    while let l = s.last, l.isWhitespace { s = s.dropLast() }
    return String(s)
  }
}
