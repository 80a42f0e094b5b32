/// Lowercase hexadecimal digits of `v`, zero-filled to at least `minimumDigits`: the
/// kernel's `%x` / `%08llx` (iomem, page-types' flag column).
public func hexDigits<T: BinaryInteger>(_ v: T, minimumDigits: Int = 1) -> String {
  let s = String(v, radix: 16)
  return s.count >= minimumDigits ? s : String(repeating: "0", count: minimumDigits - s.count) + s
}

/// `0x` and the hexadecimal digits of `v`: how the kernel prints PFNs and addresses (`%#lx`).
public func hex<T: BinaryInteger>(_ v: T) -> String { "0x" + hexDigits(v) }
