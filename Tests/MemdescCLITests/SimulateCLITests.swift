import Foundation
import MemdescTestSupport
import Testing

@Suite struct SimulateCLITests {
  let cli = MemdescCLI()

  /// Acceptance (issue 4): the JSON keys, and memmaps of a half and an eighth.
  @Test func anonOrder0JSON() throws {
    let r = try cli.run(["simulate", "--ram", "1G", "--workload", "anon-order0", "--eras", "classic,mask,memdesc32,memdesc8", "--format", "json"])
    let j = try cli.json(r.stdout)
    let eras = try #require(j["eras"] as? [[String: Any]])
    #expect(eras.map { $0["era"] as? String } == ["classic", "mask", "memdesc32", "memdesc8"])
    for key in ["era", "struct_page_bytes", "memmap_bytes", "descriptor_bytes", "descriptor_bytes_by_type", "hvo_saved_bytes", "total_overhead_bytes", "overhead_percent"] {
      for e in eras { #expect(e[key] != nil, "\(key)") }
    }
    let memmap = eras.map { $0["memmap_bytes"] as? Int ?? 0 }
    #expect(memmap[2] * 2 == memmap[0] && memmap[3] * 8 == memmap[0])
    let byType = try #require(eras[3]["descriptor_bytes_by_type"] as? [String: Int])
    // 3085 pages of 80-byte folios; their 64-byte struct slabs (6.18's fields with
    // obj_exts, issue 14) in slab-cache pages of 63 plus their own.
    #expect(byType["folio"] == 3085 * 4096 && byType["slab"] == 49 * 4096)
    #expect(byType["hugetlb_folio"] == 0 && byType["hwpoison"] == 0)
  }

  @Test func csvAndText() throws {
    let csv = try cli.run(["simulate", "--ram", "256M", "--workload", "slab-heavy", "--format", "csv"])
    let lines = csv.stdout.split(separator: "\n")
    #expect(lines.count == 5)
    #expect(lines[0].hasPrefix("era,struct_page_bytes,memmap_bytes,descriptor_bytes"))
    let text = try cli.run(["simulate", "--ram", "256M", "--workload", "mixed", "--eras", "mask,memdesc8"])
    #expect(text.stdout.contains("memdesc8"))
  }

  @Test func traceReplay() throws {
    let scratch = try ScratchDirectory("cli-trace")
    defer { scratch.remove() }
    let dir = URL(fileURLWithPath: scratch.path)
    let good = dir.appendingPathComponent("good.trace")
    try "alloc a folio 9 anon\nalloc b slab 1\nalloc c pagetable\nfree a\n".write(to: good, atomically: true, encoding: .utf8)
    try cli.run(["simulate", "--ram", "128M", "--trace", good.path, "--format", "json"])
    let bad = dir.appendingPathComponent("bad.trace")
    try "alloc a folio 0 anon\n\nalloc b folio 0 sideways\n".write(to: bad, atomically: true, encoding: .utf8)
    try cli.run(["simulate", "--ram", "128M", "--trace", bad.path], exit: .failure, stderrLine: "memdesc: error: \(bad.path):3: folio kind 'sideways' is not anon or file: 'alloc b folio 0 sideways'")
    let never = dir.appendingPathComponent("never.trace")
    try "alloc a folio 0 anon\nfree zz\n".write(to: never, atomically: true, encoding: .utf8)
    try cli.run(["simulate", "--ram", "128M", "--trace", never.path], exit: .failure, stderrLine: "memdesc: error: \(never.path):2: 'free zz' frees an ID that was never allocated (or was already freed)")
  }

  @Test(arguments: [
    (["simulate", "--ram", "1G", "--workload", "banana"], CLIExit.usage, "Error: The value 'banana' is invalid for '--workload <workload>'. Please provide one of the following:"),
    (["simulate", "--ram", "1G", "--workload", "mixed", "--eras", "classic,tomorrow"], .usage, "Error: unknown era 'tomorrow' in --eras; expected some of: classic, mask, memdesc32, memdesc8"),
    (["simulate", "--ram", "1G"], .usage, "Error: give exactly one of --workload NAME or --trace FILE"),
    (["simulate", "--ram", "1G", "--trace", "/nonexistent/x.trace"], .failure, "memdesc: error: /nonexistent/x.trace: no such file or directory"),
    (["simulate", "--ram", "lots", "--workload", "mixed"], .usage, "Error: cannot read RAM size 'lots': expected a number with an optional K, M, G or T suffix, such as 16G"),
  ])
  func badInput(args: [String], exit: CLIExit, line: String) throws {
    try cli.run(args, exit: exit, stderrLine: line)
  }

  /// A trace that is not a regular file (a FIFO would block, /dev/zero never ends) is
  /// refused before it is opened.
  @Test func traceMustBeARegularFile() throws {
    let scratch = try ScratchDirectory("cli-fifo")
    defer { scratch.remove() }
    let fifo = scratch.file("trace.fifo")
    #expect(mkfifo(fifo, 0o600) == 0)
    for path in [fifo, "/dev/zero"] {
      try cli.run(["simulate", "--ram", "1G", "--trace", path], exit: .failure,
                  stderrLine: "memdesc: error: \(path): is not a regular file (a FIFO or a device); give a text file, or - for standard input")
    }
  }
}
