import Foundation
import Snapshot
import Testing

@Suite struct GzipTests {
  static func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
      let j = s.index(i, offsetBy: 2)
      out.append(UInt8(s[i..<j], radix: 16)!)
      i = j
    }
    return out
  }

  // Made with zlib: a stored block, a fixed-Huffman block, an empty member.
  static let stored = hex("1f8b0800000000000403011200edff68656c6c6f2c206b70616765666c6167730af281700712000000")
  static let fixed = hex("1f8b08000000000002034b4c4a4e44450a19a93939f9c82400aed86c3b24000000")
  static let empty = hex("1f8b080000000000000303000000000000000000")

  func inflate(_ bytes: [UInt8]) throws -> [UInt8] {
    let store = try Gzip.decompress(bytes, path: "test.gz")
    return [UInt8](UnsafeRawBufferPointer(start: store.base, count: store.count))
  }

  @Test func storedFixedAndEmptyMembers() throws {
    #expect(String(decoding: try inflate(Self.stored), as: UTF8.self) == "hello, kpageflags\n")
    #expect(String(decoding: try inflate(Self.fixed), as: UTF8.self) == "abcabcabcabcabcabc hello hello hello")
    #expect(try inflate(Self.empty).isEmpty)
    // Concatenated members decode one after another, as gzip -d does.
    #expect(String(decoding: try inflate(Self.stored + Self.fixed), as: UTF8.self) == "hello, kpageflags\nabcabcabcabcabcabc hello hello hello")
  }

  /// The fixtures' dynamic-Huffman streams: the CRC-32 and ISIZE checks inside prove the
  /// bytes; the sizes are the fixtures' 6,553,600 PFNs.
  @Test(arguments: Fixture.scenarios)
  func fixtureKPageFilesDecompress(scenario: String) throws {
    for name in ["kpageflags.gz", "kpagecount.gz", "kpagecgroup.gz"] {
      let store = try Gzip.decompress(Fixture.bytes(Fixture.file(scenario, name)), path: name)
      #expect(store.count == 6_553_600 * 8)
    }
  }

  @Test func damagedStreamsAreErrors() throws {
    expectSnapshotError(.badGzip, ["test.gz", "empty"]) { _ = try inflate([]) }
    expectSnapshotError(.badGzip, ["not a gzip file"]) { _ = try inflate(Array("hello".utf8)) }
    // Truncated inside the deflate data and inside the trailer.
    expectSnapshotError(.badGzip, ["truncated"]) { _ = try inflate(Array(Self.fixed.prefix(15))) }
    expectSnapshotError(.badGzip, ["truncated"]) { _ = try inflate(Array(Self.fixed.dropLast(3))) }
    // A flipped data bit: CRC mismatch or an invalid code, never a trap.
    var flipped = Self.stored
    flipped[22] ^= 0x01
    expectSnapshotError(.badGzip, ["CRC-32 mismatch"]) { _ = try inflate(flipped) }
    var badISize = Self.fixed
    badISize[badISize.count - 4] ^= 1
    expectSnapshotError(.badGzip, ["ISIZE mismatch"]) { _ = try inflate(badISize) }
    expectSnapshotError(.badGzip, ["trailing garbage"]) { _ = try inflate(Self.fixed + [0x00, 0x01]) }
    var method = Self.fixed
    method[2] = 7
    expectSnapshotError(.badGzip, ["compression method 7"]) { _ = try inflate(method) }
  }

  /// Truncating the fixture's kpageflags.gz anywhere gives an error, never a trap.
  @Test func truncatedFixtureAtManyPoints() throws {
    let full = try Fixture.bytes(Fixture.file("idle", "kpageflags.gz"))
    for cut in stride(from: 1, to: full.count, by: full.count / 12) {
      expectSnapshotError(.badGzip, ["kpageflags.gz"]) { _ = try Gzip.decompress(Array(full.prefix(cut)), path: "kpageflags.gz") }
    }
  }

  @Test func crc32KnownValues() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([]) == 0)
  }
}
