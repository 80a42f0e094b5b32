import PageModel

extension String {
  /// Left-aligned in a column of `width` characters (longer strings are kept whole).
  public func rightPadded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
  /// Right-aligned in a column of `width` characters, filled with `fill`.
  public func leftPadded(_ width: Int, fill: Character = " ") -> String {
    count >= width ? self : String(repeating: fill, count: width - count) + self
  }
}

/// The one number format of everything Memdesc prints for people (text and the HTML
/// report; CSV, JSON and metrics stay raw): counts with thousands separators, sizes in
/// binary units with two decimals, percentages with two decimals.
public enum Fmt {
  /// `1,234,567`.
  public static func group(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, ch) in s.enumerated() {
      if i > 0 && (s.count - i) % 3 == 0 { out += "," }
      out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
  }

  /// A size: bytes below 1 KiB (`512 B`), else a binary unit with two decimals
  /// (`384.00 MiB`, `24.00 GiB`).
  public static func bytes(_ bytes: UInt64) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    guard bytes >= 1024 else { return "\(bytes) B" }
    var value = Double(bytes) / 1024
    var i = 0
    while value >= 1024 && i < units.count - 1 { value /= 1024; i += 1 }
    return formatFixed(value, decimals: 2) + " " + units[i]
  }

  /// A percentage without its sign, two decimals: `1.56`.
  public static func percentValue(_ value: Double) -> String { formatFixed(value, decimals: 2) }

  /// A percentage: `1.56 %`.
  public static func percent(_ value: Double) -> String { percentValue(value) + " %" }

  /// `N pages (SIZE)`.
  static func pages(_ n: Int, pageSize: Int) -> String { "\(group(n)) pages (\(bytes(UInt64(n) * UInt64(pageSize))))" }

  /// An inclusive PFN range as `0xLO-0xHI`.
  static func range(_ r: PFNRange) -> String { "\(hex(r.lowerBound.rawValue))-\(hex(r.upperBound.rawValue - 1))" }

  /// `order:count` pairs in order, count > 0.
  static func orders(_ d: [Int: Int], separator: String = ":", joiner: String = " ") -> String {
    d.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)\(separator)\($0.value)" }.joined(separator: joiner)
  }
}
