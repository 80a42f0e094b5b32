#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// JSON output: Codable values encoded by Foundation's encoder.
///
/// Keys are sorted: the encoder does not keep a struct's declaration order, and sorted
/// keys make the output the same from run to run (diffable, cacheable). The keys
/// themselves are today's snake_case names, spelled out in each `CodingKeys`.
public enum JSONOutput {
  public static func render<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }
}

/// An optional that is written as `null` when absent instead of leaving its key out
/// (synthesised Codable skips nil): the keys of an output stay the same for every input.
@propertyWrapper
public struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
  public var wrappedValue: Value?
  public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    if let wrappedValue { try c.encode(wrappedValue) } else { try c.encodeNil() }
  }
}

/// A percentage as today's outputs write it: rounded to 6 decimals, so that the JSON
/// number is `0.048828` and not the binary fraction's 17 digits.
func percent6(_ v: Double) -> Double { (v * 1e6).rounded() / 1e6 }
