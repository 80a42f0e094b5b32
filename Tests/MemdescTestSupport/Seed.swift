import Foundation
import PageModel
import Testing

/// The tests' one seeded generator: the library's SplitMix64 (replayable from its seed).
public typealias SplitMix64 = SplitMix

/// Seeds for randomised tests: a fresh random seed on every run, printed with the test's
/// name, or the value of `MEMDESC_SEED` to replay a run
/// (`MEMDESC_SEED=0x1234 swift test --filter Suite`).
public enum TestSeed {
  public static let environmentVariable = "MEMDESC_SEED"

  /// `0x`-prefixed hexadecimal (as printed) or decimal; nil for anything else.
  public static func parse(_ text: String) -> UInt64? {
    let s = text.trimmingCharacters(in: .whitespaces)
    if s.hasPrefix("0x") || s.hasPrefix("0X") {
      let digits = s.dropFirst(2)
      guard !digits.isEmpty, digits.allSatisfy(\.isHexDigit) else { return nil }
      return UInt64(digits, radix: 16)
    }
    guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return UInt64(s)
  }

  /// The seed for the randomised test `name`, printed. A `MEMDESC_SEED` that does not
  /// parse is a test failure, never silently replaced.
  public static func seed(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> UInt64 {
    var seed = UInt64.random(in: 0...UInt64.max)
    if let text = ProcessInfo.processInfo.environment[environmentVariable] {
      if let s = parse(text) {
        seed = s
      } else {
        Issue.record("\(environmentVariable)='\(text)' is not a 0x-hexadecimal or decimal number", sourceLocation: sourceLocation)
      }
    }
    print("\(name): seed \(hex(seed)) (replay with \(environmentVariable)=\(hex(seed)))")
    return seed
  }

  public static func hex(_ seed: UInt64) -> String { "0x" + String(seed, radix: 16) }
}

/// `TestSeed.seed(name)`.
public func testSeed(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> UInt64 {
  TestSeed.seed(name, sourceLocation: sourceLocation)
}
