import Foundation
import Snapshot
import Testing

/// Paths of the bundled fixtures for the snapshot tests.
enum Fixture {
  static let scenarios = ["idle", "thp-anon"]

  static func dir(_ scenario: String) -> String {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(scenario).path
  }

  static func file(_ scenario: String, _ name: String) -> String { dir(scenario) + "/" + name }

  static func text(_ scenario: String, _ name: String) throws -> String {
    try String(contentsOfFile: file(scenario, name), encoding: .utf8)
  }

  static func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  static func bytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
  }
}

/// Expects `body` to throw a `SnapshotError` of `kind` whose description contains every
/// one of `fragments`; returns the error.
@discardableResult
func expectSnapshotError(_ kind: SnapshotError.Kind, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> SnapshotError? {
  do {
    try body()
    Issue.record("expected a \(kind) error, got none", sourceLocation: sourceLocation)
  } catch let e as SnapshotError {
    #expect(e.kind == kind, "\(e)", sourceLocation: sourceLocation)
    for f in fragments { #expect(e.description.contains(f), "'\(e)' should contain '\(f)'", sourceLocation: sourceLocation) }
    return e
  } catch {
    Issue.record("expected SnapshotError, got \(error)", sourceLocation: sourceLocation)
  }
  return nil
}
