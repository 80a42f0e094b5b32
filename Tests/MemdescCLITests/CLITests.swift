import Foundation
import Testing

/// Runs the built `memdesc` binary the way a user does and checks what it prints and
/// how it exits.
@Suite struct CLITests {
  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static var binary: URL {
    // The test bundle and the executable are built into the same directory.
    let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    return exe.deletingLastPathComponent().appendingPathComponent("memdesc")
  }

  func run(_ args: [String]) throws -> Result {
    let p = Process()
    p.executableURL = Self.binary
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
  }

  func json(_ text: String) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }

  /// Acceptance: 4 GiB reports 1048576 PFNs and a 64 MiB memmap in both 64-byte eras.
  @Test(arguments: ["memdesc32", "memdesc8"])
  func bootMemdescEras(era: String) throws {
    let j = try json(try run(["boot", "--ram", "4G", "--era", era, "--format", "json"]).stdout)
    #expect(j["memmap_bytes"] as? Int == (era == "memdesc32" ? 32 : 8) << 20)
  }

  @Test(arguments: ["mask", "classic"])
  func bootFourGigabytesJSON(era: String) throws {
    let r = try run(["boot", "--ram", "4G", "--era", era, "--format", "json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try json(r.stdout)
    #expect(j["era"] as? String == era)
    #expect(j["pfns"] as? Int == 1_048_576)
    #expect(j["memmap_bytes"] as? Int == 67_108_864)
    #expect(j["memmap_frames"] as? Int == 16384)
    #expect(j["struct_page_bytes"] as? Int == 64)
    #expect(j["ram_bytes"] as? Int == 4 << 30)
    #expect(j["free_pages"] as? Int == 1_048_576 - 16384)
    let zones = try #require(j["zones"] as? [[String: Any]])
    #expect(zones.map { $0["name"] as? String } == ["DMA", "DMA32"])
    for key in ["name", "start_pfn", "end_pfn", "free_pages"] { #expect(zones[0][key] != nil) }
  }

  @Test func bootFixtureLayout() throws {
    let r = try run(["boot", "--ram", "24G", "--layout", "pc", "--format", "json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try json(r.stdout)
    #expect(j["memmap_frames"] as? Int == 98304)
    #expect(j["pfns"] as? Int == 0x640000)
  }

  @Test func misalignedBaseIsRefused() throws {
    let r = try run(["boot", "--ram", "4G", "--era", "mask", "--vmemmap-base", "0xffffea0000200000"])
    #expect(r.status != 0)
    #expect(r.stderr.contains("256 MiB"))
    let allowed = try run(["boot", "--ram", "4G", "--era", "mask", "--vmemmap-base", "0xffffea0000200000", "--allow-misaligned-vmemmap"])
    #expect(allowed.status == 0)
  }

  /// Bad input: a clear error and a non-zero exit, never a runtime trap.
  @Test(arguments: [
    (["boot", "--ram", "0"], "more than 0"),
    (["boot", "--ram", "banana"], "cannot read RAM size 'banana'"),
    (["boot", "--ram", "64T"], "host memory"),
    (["boot", "--ram", "4P"], "host memory"),
    (["boot", "--ram", "4G", "--era", "sideways"], "The value 'sideways' is invalid for '--era"),
    (["boot", "--ram", "4G", "--vmemmap-base", "0xnothex"], "cannot read vmemmap base"),
    (["boot", "--ram", "4G", "--vmemmap-base", "0x1000"], "kernel half"),
    (["boot", "--ram", "4G", "--vmemmap-base", "0xffffea0000000100"], "not aligned to the 4 KiB"),
    (["boot", "--ram", "1000"], "multiple of the 4 KiB"),
    (["boot", "--ram", "4G", "--ram-ranges", "0x10-0x1"], "cannot read RAM range"),
    (["boot", "--ram", "64M", "--nodes", "3"], "nodes"),
    (["boot", "--ram", "4G", "--nodes", "0"], "nodes"),
    (["boot", "--ram", "2T", "--era", "memdesc8"], "28-bit PFNs"),
    (["hvo", "--ram", "4G", "--era", "memdesc8", "--hugepages", "2M:1"], "not implemented"),
    (["boot"], "--ram"),
  ])
  func badInput(args: [String], message: String) throws {
    let r = try run(args)
    #expect(r.status != 0)
    #expect(r.status < 128, "killed by a signal: \(r.stderr)")
    #expect(r.stderr.contains(message), "\(r.stderr)")
    #expect(!r.stderr.contains("Fatal error"))
  }

  /// Issue 3 acceptance figures through the CLI.
  @Test(arguments: [
    ("classic", "2M:1000", 7000, 0, 7000, 8000),
    ("mask", "2M:1000", 7000, 1, 0, 1000),
    ("classic", "1G:2", 8190, 0, 8190, 8192),
    ("mask", "1G:2", 8190, 1, 0, 2),
  ])
  func hvoFigures(era: String, pages: String, freed: Int, sharedTails: Int, fakeHeads: Int, kpfHeads: Int) throws {
    let r = try run(["hvo", "--ram", "8G", "--era", era, "--hugepages", pages, "--optimize", "--format", "json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try json(r.stdout)
    #expect(j["freed_frames"] as? Int == freed)
    #expect(j["shared_tail_frames"] as? Int == sharedTails)
    #expect(j["fake_heads_seen"] as? Int == fakeHeads)
    #expect(j["kpageflags_heads"] as? Int == kpfHeads)
    let off = try json(try run(["hvo", "--ram", "8G", "--era", era, "--hugepages", pages, "--no-optimize", "--format", "json"]).stdout)
    #expect(off["freed_frames"] as? Int == 0)
    #expect(off["fake_heads_seen"] as? Int == 0)
  }

  @Test(arguments: [
    (["hvo", "--ram", "8G", "--hugepages", "3M:1"], "unsupported huge page size '3M'"),
    (["hvo", "--ram", "8G", "--hugepages", "garbage"], "cannot read --hugepages entry 'garbage'"),
    (["hvo", "--ram", "8G", "--hugepages", "2M:-4"], "cannot read --hugepages entry"),
    (["hvo", "--ram", "8G", "--hugepages", "2M:99999999999"], "too large"),
  ])
  func hvoBadInput(args: [String], message: String) throws {
    let r = try run(args)
    #expect(r.status != 0 && r.status < 128)
    #expect(r.stderr.contains(message), "\(r.stderr)")
  }

  /// The demonstration (plain `memdesc` runs it where /proc/kpageflags is unreadable).
  @Test func demoShowsEveryEra() throws {
    let r = try run(["demo"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("demonstration"))
    for era in ["classic", "mask", "memdesc32", "memdesc8"] { #expect(r.stdout.contains("== era \(era)")) }
    #expect(r.stdout.contains("compound_head(tail) = PFN"))
    #expect(r.stdout.contains("BUG: compound_head()"))
  }
}
