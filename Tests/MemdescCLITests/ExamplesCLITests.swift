import Foundation
import MemdescTestSupport
import Testing

/// Every command the documentation shows runs as written: each `memdesc` line of the
/// README's code blocks and of every subcommand's `Examples:` section (the subcommands
/// listed from `memdesc --help`, so that subcommands added later are covered too). Each
/// runs in a folder of its own that sees the clone's `Tests/`, `examples/`, `docs/` and
/// `contrib/`, as if run from the root of a clone; it must exit as its comment says
/// (`# exit N`, else 0), and every number in its comment must be in its output.
/// `# needs root` examples run only as root with /proc/kpageflags readable.
@Suite struct ExamplesCLITests {
  /// One documented command.
  struct Example: Sendable, CustomStringConvertible {
    var origin: String
    var line: String
    var arguments: [String]
    var needsRoot: Bool
    var exit: Int32
    var figures: [String]
    /// `< FILE` after the arguments: the file the command reads on standard input.
    var stdin: String? = nil
    var description: String { "\(origin): \(line)" }
  }

  static let canReadLive = getuid() == 0 && FileManager.default.isReadableFile(atPath: "/proc/kpageflags")

  /// Programs the README shows that are not memdesc, and why the test does not run them.
  static let notRun: [String: String] = [
    "swift": "builds and tests the package (the suite is that run)",
    "cp": "installs files into the system",
    "systemctl": "changes the system's services",
    "python3": "contrib/fleet.py needs DuckDB or Spark (FleetCLITests runs it when they are installed)",
  ]

  // MARK: reading the examples

  /// A documented line `memdesc ARGS [# COMMENT]`; nil for other lines.
  static func example(_ text: String, origin: String, substitutions: [String: String] = [:]) -> Example? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard trimmed == "memdesc" || trimmed.hasPrefix("memdesc ") else { return nil }
    var command = trimmed, comment = ""
    if let hash = trimmed.range(of: " #") ?? (trimmed.hasPrefix("#") ? trimmed.range(of: "#") : nil) {
      command = String(trimmed[..<hash.lowerBound])
      comment = String(trimmed[hash.upperBound...]).trimmingCharacters(in: .whitespaces)
    }
    var words = command.split(separator: " ").map(String.init)
    var stdin: String?
    if words.count >= 2, words[words.count - 2] == "<" {
      stdin = words.removeLast()
      words.removeLast()
    }
    // A stand-in is substituted where it is read, never where it is written (`-o host.mdsnap`):
    // the fixtures are read through links into the clone.
    let arguments = words.indices.dropFirst().map { i in words[i - 1] == "-o" ? words[i] : substitutions[words[i]] ?? words[i] }
    var exit: Int32 = 0
    var figureText = comment
    if let m = comment.firstMatch(#"^exit (\d+)"#) {
      exit = Int32(m[1])!
      figureText = String(comment.dropFirst(m[0].count))
    }
    return Example(origin: origin, line: trimmed, arguments: Array(arguments), needsRoot: comment.hasPrefix("needs root"),
                   exit: exit, figures: numbers(in: figureText), stdin: stdin)
  }

  /// Numbers standing as words (`7000`, `7,000`, `0.7862`, `0x240000`), thousands
  /// separators removed; the digits of `memdesc32` or `2M:100` are not figures.
  static func numbers(in text: String) -> [String] {
    text.allMatches(#"(?<![\w.:])(0x[0-9a-fA-F]+|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\w|\.\d|:\w)"#).map { ungrouped($0[1]) }
  }

  static func ungrouped(_ s: String) -> String { s.replacingOccurrences(of: #"(?<=\d),(?=\d{3})"#, with: "", options: .regularExpression) }

  /// The README's code blocks: the memdesc lines, and the other commands (not run).
  static func readme() throws -> (examples: [Example], others: [String]) {
    let text = try String(contentsOfFile: PackageRoot.file("README.md"), encoding: .utf8)
    // "`host.mdsnap` stands for a capture of your machine; without one, use `FIXTURE` in its place"
    var substitutions: [String: String] = [:]
    for m in text.replacingOccurrences(of: "\n", with: " ").allMatches(#"`([^`]+)` stands for [^;]*; without one, use `([^`]+)` in its place"#) {
      substitutions[m[1]] = m[2]
    }
    var examples: [Example] = [], others: [String] = []
    var inBlock = false
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let t = line.trimmingCharacters(in: .whitespaces)
      if t.hasPrefix("```") { inBlock.toggle(); continue }
      guard inBlock, !t.isEmpty, !t.hasPrefix("#") else { continue }
      if let e = example(t, origin: "README.md:\(i + 1)", substitutions: substitutions) { examples.append(e) } else { others.append(t) }
    }
    return (examples, others)
  }

  /// Runs `memdesc ARGS --help` at 80 columns.
  static func help(_ path: [String]) throws -> String {
    let r = try runProcess(MemdescCLI.binary, path + ["--help"], environment: ["COLUMNS": "80"])
    guard !r.killedBySignal, r.status == 0 else { throw HelpError(description: "memdesc \((path + ["--help"]).joined(separator: " ")) exited \(r.status): \(r.stderr)") }
    return r.stdout
  }

  struct HelpError: Error, CustomStringConvertible { var description: String }

  /// The subcommands a help text lists.
  static func subcommands(in help: String) -> [String] {
    guard let start = help.range(of: "\nSUBCOMMANDS:\n") else { return [] }
    var names: [String] = []
    for line in help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
      if line.isEmpty { break }
      if let m = String(line).firstMatch(#"^  ([a-z][a-z0-9-]*)(?: \(default\))?(?:\s|$)"#) { names.append(m[1]) }
    }
    return names
  }

  /// Every command path from the root down (`[]`, `["boot"]`, `["snapshot", "capture"]`,
  /// ...) with its help text.
  static func commandHelps() throws -> [(path: [String], help: String)] {
    var out: [(path: [String], help: String)] = []
    var queue: [[String]] = [[]]
    while !queue.isEmpty {
      let path = queue.removeFirst()
      let text = try help(path)
      out.append((path, text))
      queue += subcommands(in: text).map { path + [$0] }
    }
    return out
  }

  /// The `Examples:` section of a help text: its lines, and lines in it that are not a
  /// command (such as an example wrapped at 80 columns).
  static func examples(in help: String, origin: String) -> (examples: [Example], strays: [String])? {
    let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "Examples:" }) else { return nil }
    var examples: [Example] = [], strays: [String] = []
    for line in lines[(start + 1)...] {
      if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
      if line.hasPrefix("  memdesc"), let e = example(line, origin: origin) { examples.append(e) } else { strays.append(line) }
    }
    return (examples, strays)
  }

  // MARK: running them

  struct Outcome: Sendable {
    var example: Example
    var problems: [String]
    var seconds: Double
  }

  /// Runs one example in a folder of its own and says what is wrong with it.
  static func check(_ e: Example) -> (problems: [String], seconds: Double) {
    do {
      let dir = try ScratchDirectory("example")
      defer { dir.remove() }
      for name in ["Tests", "examples", "docs", "contrib"] {
        try FileManager.default.createSymbolicLink(atPath: dir.file(name), withDestinationPath: PackageRoot.file(name))
      }
      // Standard input is a file of the clone (`< FILE`), or nothing: no example waits for a terminal.
      let input = e.stdin.map { StandardInput.file($0.hasPrefix("/") ? $0 : dir.file($0)) } ?? .pipe(Data())
      let run = { try runProcess(MemdescCLI.binary, e.arguments, directory: dir.path, stdin: input) }
      let r = try e.arguments.first == "record" ? TracefsLock.exclusive(run) : run()
      if r.killedBySignal { return (["killed by signal \(r.status); stderr: \(r.stderr.prefix(300))"], r.seconds) }
      var problems: [String] = []
      if r.status != e.exit { problems.append("exited \(r.status), documented \(e.exit); stderr: \(r.stderr.prefix(300))") }
      let output = ungrouped(r.stdout + "\n" + r.stderr)
      for figure in e.figures where output.firstMatch("(?<![\\w.])" + NSRegularExpression.escapedPattern(for: figure) + "(?![\\w]|\\.\\d)") == nil {
        problems.append("the figure \(figure) of its comment is not in the output: \(output.prefix(2000))")
      }
      return (problems, r.seconds)
    } catch {
      return (["could not run: \(error)"], 0)
    }
  }

  /// Runs the examples a few at a time (each is one process, mostly one core).
  static func runAll(_ examples: [Example]) -> [Outcome] {
    let work = WorkList(examples)
    DispatchQueue.concurrentPerform(iterations: max(2, min(4, ProcessInfo.processInfo.activeProcessorCount + 1))) { _ in
      while let e = work.take() {
        let (problems, seconds) = check(e)
        work.put(Outcome(example: e, problems: problems, seconds: seconds))
      }
    }
    return work.outcomes
  }

  /// The examples still to run and what those run did, behind one lock.
  final class WorkList: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [Example]
    private(set) var outcomes: [Outcome] = []
    init(_ examples: [Example]) { pending = examples.reversed() }
    func take() -> Example? { lock.withLock { pending.popLast() } }
    func put(_ o: Outcome) { lock.withLock { outcomes.append(o) } }
  }

  // MARK: the tests

  /// Every command, with its subcommands, shows an `Examples:` section of commands that
  /// fit in 80 columns; and the README shows no command of another program that the
  /// test does not know why it leaves out.
  @Test func everyCommandHasExamples() throws {
    for (path, text) in try Self.commandHelps() {
      let name = (["memdesc"] + path).joined(separator: " ")
      guard let (examples, strays) = Self.examples(in: text, origin: name) else {
        Issue.record("\(name) --help has no Examples: section")
        continue
      }
      #expect(!examples.isEmpty, "\(name) --help: the Examples: section lists no command")
      #expect(strays.isEmpty, "\(name) --help: lines in Examples: that are not a memdesc command (wrapped at 80 columns?): \(strays)")
      // Each example shows the command it belongs to.
      for e in examples where !path.isEmpty {
        #expect(e.arguments.starts(with: path), "\(name) --help shows an example of another command: \(e.line)")
      }
    }
    let (readme, others) = try Self.readme()
    #expect(readme.count >= 20, "README.md: \(readme.count) memdesc commands found")
    for line in others {
      let program = String(line.split(separator: " ").first ?? "")
      #expect(Self.notRun[program] != nil, "README.md shows '\(line)', which this test neither runs nor knows why not")
    }
  }

  @Test func documentedExamplesRun() throws {
    var all = try Self.readme().examples
    for (path, text) in try Self.commandHelps() {
      all += Self.examples(in: text, origin: (["memdesc"] + path).joined(separator: " ") + " --help")?.examples ?? []
    }
    // A command shown in several places runs once, held to every comment it has.
    var byCommand: [[String]: Example] = [:]
    var order: [[String]] = []
    for e in all {
      if var seen = byCommand[e.arguments] {
        if seen.exit != e.exit { Issue.record("\(e) is documented with exit \(e.exit), elsewhere (\(seen.origin)) with \(seen.exit)") }
        seen.figures += e.figures.filter { !seen.figures.contains($0) }
        seen.needsRoot = seen.needsRoot || e.needsRoot
        byCommand[e.arguments] = seen
      } else {
        byCommand[e.arguments] = e
        order.append(e.arguments)
      }
    }
    let unique = order.map { byCommand[$0]! }
    let runnable = unique.filter { !$0.needsRoot || Self.canReadLive }
    for e in unique where e.needsRoot && !Self.canReadLive {
      print("skipped: \(e): needs root and a readable /proc/kpageflags")
    }
    let start = Date()
    let outcomes = Self.runAll(runnable)
    print("ExamplesCLITests: \(runnable.count) of \(unique.count) documented commands run in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    #expect(outcomes.count == runnable.count)
    for o in outcomes.sorted(by: { $0.seconds > $1.seconds }).prefix(8) { print(String(format: "  %5.1f s  %@", o.seconds, o.example.line)) }
    for o in outcomes where !o.problems.isEmpty {
      Issue.record("\(o.example): \(o.problems.joined(separator: "; "))")
    }
  }

  /// The figure rule itself: numbers as words, separators removed, no digits of names.
  @Test func figuresAreNumbersStandingAlone() {
    #expect(Self.numbers(in: "freed 7,000: 2 of 512 frames, memdesc32 0.7862 %, head 0x240000, 2M:100.") == ["7000", "2", "512", "0.7862", "0x240000"])
    #expect(Self.example("memdesc boot --ram 4G --vmemmap-base 0x1   # exit 1: not aligned to 256 MiB", origin: "t")?.exit == 1)
    #expect(Self.example("memdesc boot --ram 4G --vmemmap-base 0x1   # exit 1: not aligned to 256 MiB", origin: "t")?.figures == ["256"])
    #expect(Self.example("memdesc analyze --live   # needs root", origin: "t")?.needsRoot == true)
    #expect(Self.example("memdesc analyze host.mdsnap", origin: "t", substitutions: ["host.mdsnap": "F"])?.arguments == ["analyze", "F"])
    #expect(Self.example("memdesc snapshot capture -o host.mdsnap", origin: "t", substitutions: ["host.mdsnap": "F"])?.arguments == ["snapshot", "capture", "-o", "host.mdsnap"])
    #expect(Self.example("swift test", origin: "t") == nil)
    let piped = Self.example("memdesc analyze - < Tests/x.gz   # 2 eras", origin: "t")
    #expect(piped?.arguments == ["analyze", "-"] && piped?.stdin == "Tests/x.gz" && piped?.figures == ["2"])
  }
}

extension String {
  /// The groups of the first match of an ICU pattern (lookbehind included), or nil.
  func firstMatch(_ pattern: String) -> [String]? { allMatches(pattern).first }

  /// The groups of every match of an ICU pattern.
  func allMatches(_ pattern: String) -> [[String]] {
    // The patterns are this file's own (figures escaped): one that does not compile is a bug here.
    let re = try! NSRegularExpression(pattern: pattern)
    let ns = self as NSString
    return re.matches(in: self, range: NSRange(location: 0, length: ns.length)).map { m in
      (0..<m.numberOfRanges).map { m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0)) }
    }
  }
}
