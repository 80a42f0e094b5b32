/// A request for HugeTLB pools as people write it: `SIZE:COUNT[,SIZE:COUNT]`, SIZE 2M or
/// 1G (also 2048K, 1048576kB), each size once, COUNT 0 to 2^32 - 1 (what
/// `nr_hugepages` takes as an unsigned long on the command line of `memdesc hvo`).
public enum HugepagesSpec {
  /// Why a request cannot be read; `description` names the entry.
  public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
  }

  /// The pools requested, in the order given.
  public static func parse(_ text: String, option: String = "--hugepages") throws(ParseError) -> [(order: Int, count: Int)] {
    var pools: [(order: Int, count: Int)] = []
    var seen: [Int: Substring] = [:]
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      let kv = part.split(separator: ":", omittingEmptySubsequences: false)
      let digits = kv.count == 2 && !kv[1].isEmpty && kv[1].allSatisfy { $0.isASCII && $0.isNumber }
      guard digits else { throw ParseError(description: "cannot read \(option) entry '\(part)': expected SIZE:COUNT such as 2M:1000") }
      guard let count = Int(kv[1]), count <= Int(UInt32.max) else {
        throw ParseError(description: "huge page count \(kv[1]) in \(option) is too large")
      }
      let order: Int
      switch kv[0].uppercased() {
      case "2M", "2048K", "2048KB": order = Hstate.pmd
      case "1G", "1048576K", "1048576KB": order = Hstate.pud
      default: throw ParseError(description: "unsupported huge page size '\(kv[0])' in \(option): x86-64 has 2M and 1G")
      }
      if let first = seen[order] {
        throw ParseError(description: "\(option) gives the \(order == Hstate.pmd ? "2M" : "1G") pool twice ('\(first)' and '\(part)'): give each size once")
      }
      seen[order] = part
      pools.append((order, count))
    }
    return pools
  }
}
