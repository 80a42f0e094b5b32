import Foundation
import Testing

/// What a finished process did.
public struct ProcessResult: Sendable {
  public var arguments: [String]
  public var reason: Process.TerminationReason
  /// The exit status, or the signal number when `reason` is `.uncaughtSignal`.
  public var status: Int32
  public var stdout: String
  public var stderr: String
  public var seconds: Double

  /// stderr split into lines, without the final newline.
  public var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast(stderr.hasSuffix("\n") ? 1 : 0) }
  public var killedBySignal: Bool { reason == .uncaughtSignal }
}

/// What a child reads on standard input.
public enum StandardInput: Sendable {
  /// This process's own (the default, as `Process` does).
  case inherited
  /// A file opened for reading (`< FILE`).
  case file(String)
  /// The bytes written into a pipe by a thread of this process, then closed (`... |`).
  case pipe(Data)
}

/// Runs `executable` with `arguments` to completion, reading stdout and stderr; in
/// `directory` when given, with `environment` added to this process's own and `stdin` as
/// its standard input.
public func runProcess(_ executable: URL, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:], stdin: StandardInput = .inherited) throws -> ProcessResult {
  let p = Process()
  p.executableURL = executable
  p.arguments = arguments
  if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
  if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
  let out = Pipe(), err = Pipe()
  p.standardOutput = out
  p.standardError = err
  var feed: (FileHandle, Data)?
  switch stdin {
  case .inherited: break
  case .file(let path):
    guard let h = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
    p.standardInput = h
  case .pipe(let data):
    let pipe = Pipe()
    p.standardInput = pipe
    feed = (pipe.fileHandleForWriting, data)
  }
  let start = Date()
  try p.run()
  let fed = DispatchSemaphore(value: 0)
  if let (writer, data) = feed {
    // A child that stops reading early (an error) closes the pipe: the write then fails
    // with EPIPE, which is ignored (SIGPIPE would end this process: it is ignored here).
    signal(SIGPIPE, SIG_IGN)
    let box = FeedBox(writer, data)
    DispatchQueue.global().async {
      try? box.writer.write(contentsOf: box.data)
      try? box.writer.close()
      fed.signal()
    }
  } else {
    fed.signal()
  }
  defer { fed.wait() }
  // Read both pipes at once: a child that fills one while we wait on the other blocks.
  let e = DataBox()
  let done = DispatchSemaphore(value: 0)
  DispatchQueue.global().async {
    e.data = err.fileHandleForReading.readDataToEndOfFile()
    done.signal()
  }
  let o = out.fileHandleForReading.readDataToEndOfFile()
  done.wait()
  p.waitUntilExit()
  return ProcessResult(
    arguments: arguments, reason: p.terminationReason, status: p.terminationStatus,
    stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e.data, as: UTF8.self),
    seconds: Date().timeIntervalSince(start))
}

/// The writing end of a child's standard input and what to write into it.
private final class FeedBox: @unchecked Sendable {
  let writer: FileHandle
  let data: Data
  init(_ writer: FileHandle, _ data: Data) { self.writer = writer; self.data = data }
}

/// Written by one reader thread, read after it signals.
private final class DataBox: @unchecked Sendable { var data = Data() }

/// The exit statuses of `memdesc`: 0 success, 1 bad data or environment, 64 usage.
public enum CLIExit: Int32, Sendable, CustomStringConvertible {
  case success = 0
  case failure = 1
  case usage = 64
  public var description: String { "\(rawValue) (\(self == .success ? "success" : self == .failure ? "data or environment" : "usage"))" }
}

/// The built `memdesc` binary, run the way a user runs it. Every run fails the test when
/// the process ends by a signal (a Swift runtime trap ends it with SIGILL or SIGTRAP) and,
/// unless `exit` is nil, when its exit status is not exactly `exit`.
public struct MemdescCLI: Sendable {
  /// Arguments put before the binary (for instance `setpriv --reuid=65534 ...`); empty
  /// to run it directly.
  public var launcher: [String]

  public init(launcher: [String] = []) { self.launcher = launcher }

  /// The test bundle and the executable are built into the same directory.
  public static var binary: URL {
    let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    return exe.deletingLastPathComponent().appendingPathComponent("memdesc")
  }

  /// Runs `memdesc args`. With `stderrLine`, the first line of stderr must be exactly it.
  @discardableResult
  public func run(_ args: [String], exit: CLIExit? = .success, stderrLine: String? = nil, directory: String? = nil, environment: [String: String] = [:],
                  stdin: StandardInput = .inherited, sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
    let r: ProcessResult
    if let tool = launcher.first {
      r = try runProcess(URL(fileURLWithPath: tool), Array(launcher.dropFirst()) + [Self.binary.path] + args, directory: directory, environment: environment, stdin: stdin)
    } else {
      r = try runProcess(Self.binary, args, directory: directory, environment: environment, stdin: stdin)
    }
    if r.killedBySignal {
      Issue.record("memdesc \(args.joined(separator: " ")) was killed by signal \(r.status); stderr: \(r.stderr)", sourceLocation: sourceLocation)
    } else if let exit, r.status != exit.rawValue {
      Issue.record("memdesc \(args.joined(separator: " ")) exited \(r.status), expected \(exit); stderr: \(r.stderr)", sourceLocation: sourceLocation)
    }
    if let stderrLine, r.stderrLines.first != stderrLine {
      Issue.record("memdesc \(args.joined(separator: " ")): stderr's first line is '\(r.stderrLines.first ?? "")', expected '\(stderrLine)'", sourceLocation: sourceLocation)
    }
    return r
  }

  /// Parses a JSON object.
  public func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], sourceLocation: sourceLocation)
  }
}
