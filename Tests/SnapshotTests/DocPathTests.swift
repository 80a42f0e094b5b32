import Foundation
import MemdescTestSupport
import Testing

/// What the program and its comments cite must be in the repository: every `docs/*.md`
/// path named in `Sources` exists, and every "kpageflags.md point N" names a point the
/// document has.
@Suite struct DocPathTests {
  static func sourceTexts() throws -> [(path: String, text: String)] {
    let root = PackageRoot.file("Sources")
    let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
    return try files.map { ("Sources/" + $0, try String(contentsOfFile: root + "/" + $0, encoding: .utf8)) }
  }

  static func matches(_ pattern: String, in text: String) -> [[String]] {
    let re = try! NSRegularExpression(pattern: pattern)
    return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { m in
      (0..<m.numberOfRanges).map { i in Range(m.range(at: i), in: text).map { String(text[$0]) } ?? "" }
    }
  }

  @Test func citedDocsExist() throws {
    let sources = try Self.sourceTexts()
    #expect(sources.count > 50, "found only \(sources.count) source files under \(PackageRoot.path)")
    var cited = 0
    for (path, text) in sources {
      for m in Self.matches(#"docs/[A-Za-z0-9_-]+\.md"#, in: text) {
        cited += 1
        #expect(FileManager.default.fileExists(atPath: PackageRoot.file(m[0])), "\(path) cites \(m[0]), which is not in the repository")
      }
      // A bare document name is a citation that lost its folder.
      for m in Self.matches(#"(?<![/\w])(kpageflags|hvo|memdesc|snapshot-format|benchmarks|architecture)\.md"#, in: text) {
        Issue.record("\(path) cites \(m[0]) without its docs/ folder")
      }
      #expect(!text.contains("../shared"), "\(path) refers to ../shared, which a user's clone does not have")
    }
    #expect(cited > 5)
  }

  @Test func citedKPageFlagsPointsExist() throws {
    let doc = try String(contentsOfFile: PackageRoot.file("docs/kpageflags.md"), encoding: .utf8)
    let points = Set(Self.matches(#"(?m)^(\d+)\. \*\*"#, in: doc).map { Int($0[1])! })
    #expect(points == Set(1...11), "docs/kpageflags.md has points \(points.sorted())")
    for (path, text) in try Self.sourceTexts() {
      for m in Self.matches(#"kpageflags\.md point (\d+)"#, in: text) {
        #expect(points.contains(Int(m[1])!), "\(path) cites docs/kpageflags.md point \(m[1]), which the document does not have")
      }
    }
  }
}
