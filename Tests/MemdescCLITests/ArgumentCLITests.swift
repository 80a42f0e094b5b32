import Foundation
import MemdescTestSupport
import Testing

/// The exit-code rule (64: usage, with the usage text; 1: bad data or environment, one
/// line) and the arguments parsed by ArgumentParser.
@Suite struct ArgumentCLITests {
  let cli = MemdescCLI()

  @Test(arguments: [
    ["boot", "--ram", "4G", "--era", "sideways"],
    ["analyze", "--demo", "--eras", "classic,tomorrow"],
    ["analyze"],
    ["explain", "zz", "--ram", "8G"],
    ["simulate", "--ram", "lots", "--workload", "mixed"],
    ["report", "--demo", "--live", "-o", "/tmp/never.html"],
  ])
  func usageErrorsExit64(args: [String]) throws {
    let r = try cli.run(args, exit: .usage)
    #expect(r.stderr.contains("Usage:"), "\(args): \(r.stderr)")
  }

  @Test(arguments: [
    (["analyze", "/nonexistent/snap"], "memdesc: error: /nonexistent/snap: no such file or directory"),
    (["simulate", "--ram", "1G", "--trace", "/nonexistent/x.trace"], "memdesc: error: /nonexistent/x.trace: no such file or directory"),
    (["explain", "0x8000000000000000", "--demo"], "memdesc: error: PFN 0x8000000000000000 is beyond the snapshot's"),
    (["explain", "0x900000", "--ram", "8G"], "memdesc: error: PFN 0x900000 is not RAM in the model machine"),
  ])
  func dataErrorsAreOneLine(args: [String], message: String) throws {
    let r = try cli.run(args, exit: .failure)
    #expect(r.stderr.hasPrefix(message), "\(args): \(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
  }

  /// `--help` prints help and exits 0 for the root and every subcommand (it once came
  /// back from `run()` as an error: exit 1, "memdesc: error: CommandError(...)").
  @Test(arguments: [[], ["demo"], ["boot"], ["hvo"], ["simulate"], ["snapshot"], ["snapshot", "capture"],
                    ["snapshot", "summary"], ["snapshot", "info"], ["analyze"], ["report"], ["explain"], ["export"], ["diff"], ["record"], ["replay"]])
  func helpExitsZero(command: [String]) throws {
    let r = try cli.run(command + ["--help"])
    #expect(r.stdout.contains("USAGE: memdesc"), "\(command): \(r.stdout.prefix(200))")
    #expect(r.stderr.isEmpty, "\(command): \(r.stderr)")
    #expect(try cli.run(["help"] + command).stdout == r.stdout)
  }

  /// A first word that names no subcommand is called an unknown subcommand, by name
  /// (not an unexpected argument of the hidden default subcommand).
  @Test func unknownSubcommandIsNamed() throws {
    let r = try cli.run(["frobnicate"], exit: .usage,
                        stderrLine: "Error: unknown subcommand 'frobnicate'; the subcommands are: demo, boot, hvo, simulate, snapshot, analyze, report, explain, export, diff, record, replay")
    #expect(r.stderr.contains("Usage: memdesc <subcommand>"))
    #expect(!r.stderr.contains("default"))
  }

  /// `--eras` takes spaces after commas and names each era once.
  @Test func eraListTrimsAndDeduplicates() throws {
    let r = try cli.run(["analyze", "--demo", "--eras", "classic, mask,classic", "--format", "csv"])
    let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("era,") && $0.contains(":memmap_bytes") }
    #expect(rows.map { $0.split(separator: ",")[1] } == ["classic:memmap_bytes", "mask:memmap_bytes"])
  }
}
