import Foundation
import Testing

@Suite struct SimulateCLITests {
  let cli = CLITests()

  /// Acceptance (issue 4): the JSON keys, and memmaps of a half and an eighth.
  @Test func anonOrder0JSON() throws {
    let r = try cli.run(["simulate", "--ram", "1G", "--workload", "anon-order0", "--eras", "classic,mask,memdesc32,memdesc8", "--format", "json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try cli.json(r.stdout)
    let eras = try #require(j["eras"] as? [[String: Any]])
    #expect(eras.map { $0["era"] as? String } == ["classic", "mask", "memdesc32", "memdesc8"])
    for key in ["era", "struct_page_bytes", "memmap_bytes", "descriptor_bytes", "descriptor_bytes_by_type", "hvo_saved_bytes", "total_overhead_bytes", "overhead_percent"] {
      for e in eras { #expect(e[key] != nil, "\(key)") }
    }
    let memmap = eras.map { $0["memmap_bytes"] as? Int ?? 0 }
    #expect(memmap[2] * 2 == memmap[0] && memmap[3] * 8 == memmap[0])
    let byType = try #require(eras[3]["descriptor_bytes_by_type"] as? [String: Int])
    #expect(byType["folio"] == 3085 * 4096 && byType["slab"] == 37 * 4096)
  }

  @Test func csvAndText() throws {
    let csv = try cli.run(["simulate", "--ram", "256M", "--workload", "slab-heavy", "--format", "csv"])
    #expect(csv.status == 0)
    let lines = csv.stdout.split(separator: "\n")
    #expect(lines.count == 5)
    #expect(lines[0].hasPrefix("era,struct_page_bytes,memmap_bytes,descriptor_bytes"))
    let text = try cli.run(["simulate", "--ram", "256M", "--workload", "mixed", "--eras", "mask,memdesc8"])
    #expect(text.status == 0, "\(text.stderr)")
    #expect(text.stdout.contains("memdesc8"))
  }

  @Test func traceReplay() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memdesc-trace-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let good = dir.appendingPathComponent("good.trace")
    try "alloc a folio 9 anon\nalloc b slab 1\nalloc c pagetable\nfree a\n".write(to: good, atomically: true, encoding: .utf8)
    let r = try cli.run(["simulate", "--ram", "128M", "--trace", good.path, "--format", "json"])
    #expect(r.status == 0, "\(r.stderr)")
    let bad = dir.appendingPathComponent("bad.trace")
    try "alloc a folio 0 anon\n\nalloc b folio 0 sideways\n".write(to: bad, atomically: true, encoding: .utf8)
    let e1 = try cli.run(["simulate", "--ram", "128M", "--trace", bad.path])
    #expect(e1.status != 0 && e1.status < 128)
    #expect(e1.stderr.contains("bad.trace:3"), "\(e1.stderr)")
    let never = dir.appendingPathComponent("never.trace")
    try "alloc a folio 0 anon\nfree zz\n".write(to: never, atomically: true, encoding: .utf8)
    let e2 = try cli.run(["simulate", "--ram", "128M", "--trace", never.path])
    #expect(e2.status != 0 && e2.stderr.contains("never.trace:2") && e2.stderr.contains("zz"), "\(e2.stderr)")
  }

  @Test(arguments: [
    (["simulate", "--ram", "1G", "--workload", "banana"], "The value 'banana' is invalid for '--workload"),
    (["simulate", "--ram", "1G", "--workload", "mixed", "--eras", "classic,tomorrow"], "unknown era 'tomorrow'"),
    (["simulate", "--ram", "1G"], "exactly one of --workload"),
    (["simulate", "--ram", "1G", "--trace", "/nonexistent/x.trace"], "cannot open '/nonexistent/x.trace'"),
    (["simulate", "--ram", "lots", "--workload", "mixed"], "cannot read RAM size 'lots'"),
  ])
  func badInput(args: [String], message: String) throws {
    let r = try cli.run(args)
    #expect(r.status != 0 && r.status < 128)
    #expect(r.stderr.contains(message), "\(r.stderr)")
  }
}
