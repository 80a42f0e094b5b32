import PageModel

extension String {
  /// Left-aligned in a column of `width` characters (longer strings are kept whole).
  public func rightPadded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
  /// Right-aligned in a column of `width` characters, filled with `fill`.
  public func leftPadded(_ width: Int, fill: Character = " ") -> String {
    count >= width ? self : String(repeating: fill, count: width - count) + self
  }
}

/// Small formatters shared by the text and HTML renderers.
enum Fmt {
  /// `1,234,567`.
  static func group(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, ch) in s.enumerated() {
      if i > 0 && (s.count - i) % 3 == 0 { out += "," }
      out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
  }

  /// `N pages (SIZE)`.
  static func pages(_ n: Int, pageSize: Int) -> String { "\(n) pages (\(ByteSize.human(UInt64(n) * UInt64(pageSize))))" }

  /// An inclusive PFN range as `0xLO-0xHI`.
  static func range(_ r: PFNRange) -> String { "\(hex(r.lowerBound.rawValue))-\(hex(r.upperBound.rawValue - 1))" }

  /// `order:count` pairs in order, count > 0.
  static func orders(_ d: [Int: Int], separator: String = ":", joiner: String = " ") -> String {
    d.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)\(separator)\($0.value)" }.joined(separator: joiner)
  }
}
