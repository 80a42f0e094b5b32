import Foundation
import Testing

@Suite struct FixtureTests {
  /// The fixtures ship inside the test bundle (a user's clone has no ../shared).
  @Test func fixturesAreBundled() throws {
    let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    for scenario in ["idle", "thp-anon"] {
      for file in ["kpageflags.gz", "page-types.txt", "page-types-raw.txt", "meminfo", "hugepages"] {
        #expect(FileManager.default.fileExists(atPath: url.appendingPathComponent(scenario).appendingPathComponent(file).path))
      }
    }
  }
}
