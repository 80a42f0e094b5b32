import Foundation

/// One tracefs per host: tests that record (RecordCLITests, and the documented
/// `memdesc record` example that ExamplesCLITests runs) hold this lock while they do, so
/// that one test's instance is not in another's picture of the host's tracing state.
/// The lock is the process's own: `swift test` runs every suite in one process.
public enum TracefsLock {
  private static let mutex = NSLock()

  /// Waits until no other recording test runs; `unlock()` when done (a test body's
  /// first `defer`, so that its restore of the host runs before).
  public static func lock() { mutex.lock() }
  public static func unlock() { mutex.unlock() }

  /// Runs `body` with no other recording test running.
  public static func exclusive<T>(_ body: () throws -> T) rethrows -> T {
    lock()
    defer { unlock() }
    return try body()
  }
}
