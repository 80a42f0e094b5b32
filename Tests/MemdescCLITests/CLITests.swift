import Foundation
import MemdescTestSupport
import Testing

/// Runs the built `memdesc` binary the way a user does and checks what it prints and
/// how it exits.
@Suite struct CLITests {
  let cli = MemdescCLI()

  /// Acceptance: 4 GiB reports 1048576 PFNs and a 64 MiB memmap in both 64-byte eras.
  @Test(arguments: ["memdesc32", "memdesc8"])
  func bootMemdescEras(era: String) throws {
    let j = try cli.json(try cli.run(["boot", "--ram", "4G", "--era", era, "--format", "json"]).stdout)
    #expect(j["memmap_bytes"] as? Int == (era == "memdesc32" ? 32 : 8) << 20)
  }

  @Test(arguments: ["mask", "classic"])
  func bootFourGigabytesJSON(era: String) throws {
    let r = try cli.run(["boot", "--ram", "4G", "--era", era, "--format", "json"])
    let j = try cli.json(r.stdout)
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
    let r = try cli.run(["boot", "--ram", "24G", "--layout", "pc", "--format", "json"])
    let j = try cli.json(r.stdout)
    #expect(j["memmap_frames"] as? Int == 98304)
    #expect(j["pfns"] as? Int == 0x640000)
  }

  /// The kernel warns (`VM_WARN_ON_ONCE`) and boots; `--strict-alignment` refuses.
  @Test func misalignedBaseWarnsOrIsRefused() throws {
    let line = "vmemmap base 0xffffea0000200000 is not aligned to 256 MiB (0x10000000 = MAX_FOLIO_NR_PAGES * sizeof(struct page)), which the mask era needs for head = tail & mask"
    let warned = try cli.run(["boot", "--ram", "4G", "--era", "mask", "--vmemmap-base", "0xffffea0000200000", "--format", "json"],
                             stderrLine: "memdesc: warning: \(line); booting anyway, as the kernel does: large folios' tails decode to wrong heads (--strict-alignment refuses)")
    #expect(warned.stderrLines.count == 1)
    #expect(try cli.json(warned.stdout)["vmemmap_base_misaligned"] as? Bool == true)
    try cli.run(["boot", "--ram", "4G", "--era", "mask", "--vmemmap-base", "0xffffea0000200000", "--strict-alignment"], exit: .failure,
                stderrLine: "memdesc: error: \(line)")
    // Aligned, or the classic era (pointers, no mask): no warning.
    #expect(try cli.run(["boot", "--ram", "4G", "--era", "classic", "--vmemmap-base", "0xffffea0000200000", "--strict-alignment"]).stderr.isEmpty)
    #expect(try cli.run(["boot", "--ram", "4G", "--era", "mask"]).stderr.isEmpty)
  }

  /// Bad input: one clear first line on stderr and an exact exit status (64 usage,
  /// 1 data or environment), never a runtime trap.
  @Test(arguments: [
    (["boot", "--ram", "0"], CLIExit.failure, "memdesc: error: RAM size must be more than 0 bytes"),
    (["boot", "--ram", "banana"], .usage, "Error: cannot read RAM size 'banana': expected a number with an optional K, M, G or T suffix, such as 4G"),
    (["boot", "--ram", "4G", "--era", "sideways"], .usage, "Error: The value 'sideways' is invalid for '--era <era>'. Please provide one of 'classic', 'mask', 'memdesc32' or 'memdesc8'."),
    (["boot", "--ram", "4G", "--vmemmap-base", "0xnothex"], .usage, "Error: cannot read vmemmap base '0xnothex': expected a hexadecimal address such as 0xffffea0000000000"),
    (["boot", "--ram", "4G", "--vmemmap-base", "0x1000"], .failure, "memdesc: error: vmemmap base 0x1000 must lie in the kernel half of the address space, above the direct map at 0xffff888040000000, with room for the whole memmap below the kernel image at 0xffffffff80000000"),
    (["boot", "--ram", "4G", "--vmemmap-base", "0xffffea0000000100"], .failure, "memdesc: error: vmemmap base 0xffffea0000000100 is not aligned to the 4 KiB page size"),
    (["boot", "--ram", "1000"], .failure, "memdesc: error: RAM size 1000 bytes is not a multiple of the 4 KiB page size"),
    (["boot", "--ram", "4G", "--ram-ranges", "0x10-0x1"], .failure, "memdesc: error: cannot read RAM range '0x10-0x1': expected FIRST-LAST PFNs such as 0x100-0xbffff"),
    (["boot", "--ram", "64M", "--nodes", "3"], .failure, "memdesc: error: cannot split RAM into 3 nodes: it spans 1 memory section of 128 MiB, and each node needs at least one"),
    (["boot", "--ram", "4G", "--nodes", "0"], .failure, "memdesc: error: cannot split RAM into 0 nodes: a machine has at least one node"),
    (["boot"], .usage, "Error: Missing expected argument '--ram <ram>'"),
  ])
  func badInput(args: [String], exit: CLIExit, line: String) throws {
    let r = try cli.run(args, exit: exit, stderrLine: line)
    #expect(!r.stderr.contains("Fatal error"))
  }

  /// The memdesc eras through the same command and keys: an optimised page keeps its
  /// head's writable vmemmap frame and one read-only copy for the rest, so a 2 MiB page
  /// keeps 2 of its 4 frames in memdesc32 and has only 1 in memdesc8 (nothing to free); a
  /// 1 GiB page keeps 2 of 2048 and of 512.
  @Test(arguments: [
    ("memdesc32", "2M:1000", 16384, 2000, 4, 2),
    ("memdesc8", "2M:1000", 4096, 0, 1, 0),
    ("memdesc32", "1G:2", 16384, 4092, 2048, 2046),
    ("memdesc8", "1G:2", 4096, 1020, 512, 510),
  ])
  func hvoMemdescEras(era: String, pages: String, before: Int, freed: Int, perPage: Int, freedPerPage: Int) throws {
    let r = try cli.run(["hvo", "--ram", "8G", "--era", era, "--hugepages", pages, "--optimize", "--format", "json"])
    let j = try cli.json(r.stdout)
    #expect(j["era"] as? String == era)
    #expect(j["memmap_frames_before"] as? Int == before)
    #expect(j["memmap_frames_after"] as? Int == before - freed)
    #expect(j["freed_frames"] as? Int == freed)
    #expect(j["shared_tail_frames"] as? Int == 0)
    #expect(j["fake_heads_seen"] as? Int == 0)
    #expect(j["kpageflags_heads"] is NSNull)
    let h = try #require((j["hstates"] as? [[String: Any]])?.first)
    #expect(h["vmemmap_frames_per_page"] as? Int == perPage)
    #expect(h["freed_frames_per_page"] as? Int == freedPerPage)
  }

  /// A machine whose memmap does not fit in this host's memory is refused (the figure
  /// of available memory is the host's).
  /// memdesc8 has no size limit of its own past 1 TiB (issue 14): 64 TiB stops only at
  /// the host's memory, for its 128 GiB memmap.
  @Test(arguments: [("64T", "1 TiB", "classic"), ("4P", "64 TiB", "classic"), ("64T", "128 GiB", "memdesc8")])
  func tooLargeForHost(ram: String, memmap: String, era: String) throws {
    let r = try cli.run(["boot", "--ram", ram, "--era", era], exit: .failure)
    let line = r.stderrLines.first ?? ""
    #expect(line.hasPrefix("memdesc: error: the memmap of this machine needs \(memmap) of host memory but this host has "), "\(line)")
    #expect(line.hasSuffix(" available; choose a smaller --ram"), "\(line)")
  }

  /// Issue 3 acceptance figures through the CLI.
  @Test(arguments: [
    ("classic", "2M:1000", 7000, 0, 7000, 8000),
    ("mask", "2M:1000", 7000, 1, 0, 1000),
    ("classic", "1G:2", 8190, 0, 8190, 8192),
    ("mask", "1G:2", 8190, 1, 0, 2),
  ])
  func hvoFigures(era: String, pages: String, freed: Int, sharedTails: Int, fakeHeads: Int, kpfHeads: Int) throws {
    let r = try cli.run(["hvo", "--ram", "8G", "--era", era, "--hugepages", pages, "--optimize", "--format", "json"])
    let j = try cli.json(r.stdout)
    #expect(j["freed_frames"] as? Int == freed)
    #expect(j["shared_tail_frames"] as? Int == sharedTails)
    #expect(j["fake_heads_seen"] as? Int == fakeHeads)
    #expect(j["kpageflags_heads"] as? Int == kpfHeads)
    let off = try cli.json(try cli.run(["hvo", "--ram", "8G", "--era", era, "--hugepages", pages, "--no-optimize", "--format", "json"]).stdout)
    #expect(off["freed_frames"] as? Int == 0)
    #expect(off["fake_heads_seen"] as? Int == 0)
  }

  @Test(arguments: [
    (["hvo", "--ram", "8G", "--hugepages", "3M:1"], "Error: unsupported huge page size '3M' in --hugepages: x86-64 has 2M and 1G"),
    (["hvo", "--ram", "8G", "--hugepages", "garbage"], "Error: cannot read --hugepages entry 'garbage': expected SIZE:COUNT such as 2M:1000"),
    (["hvo", "--ram", "8G", "--hugepages", "2M:-4"], "Error: cannot read --hugepages entry '2M:-4': expected SIZE:COUNT such as 2M:1000"),
    (["hvo", "--ram", "8G", "--hugepages", "2M:99999999999"], "Error: huge page count 99999999999 in --hugepages is too large"),
  ])
  func hvoBadInput(args: [String], line: String) throws {
    try cli.run(args, exit: .usage, stderrLine: line)
  }

  /// The demonstration (plain `memdesc` runs it where /proc/kpageflags is unreadable).
  @Test func demoShowsEveryEra() throws {
    let r = try cli.run(["demo"])
    #expect(r.stdout.contains("demonstration"))
    for era in ["classic", "mask", "memdesc32", "memdesc8"] { #expect(r.stdout.contains("== era \(era)")) }
    #expect(r.stdout.contains("compound_head(tail) = PFN"))
    #expect(r.stdout.contains("BUG: compound_head()"))
  }
}

/// `--page-ext`: the tables in boot's text and JSON, in hvo's, and in analyze's
/// projection; bad values are one usage line naming the clients.
@Suite struct PageExtCLITests {
  let cli = MemdescCLI()

  @Test func bootCountsTables() throws {
    let j = try cli.json(try cli.run(["boot", "--ram", "64G", "--page-ext", "owner", "--format", "json"]).stdout)
    let p = try #require(j["page_ext"] as? [String: Any])
    #expect(p["entry_bytes"] as? Int == 72)
    #expect(p["frames"] as? Int == 512 * 576)
    #expect(p["bytes"] as? Int == 512 * 576 * 4096)
    #expect(p["clients"] as? [String] == ["owner"])
    #expect(j["memmap_frames"] as? Int == 262_144)
    let text = try cli.run(["boot", "--ram", "4G", "--page-ext", "owner,table_check"]).stdout
    #expect(text.contains("page_ext          20,480 frames = 80.00 MiB (1.95 % of RAM), 80 bytes a page for owner,table_check"), "\(text)")
    let off = try cli.json(try cli.run(["boot", "--ram", "4G", "--format", "json"]).stdout)
    #expect((off["page_ext"] as? [String: Any])?["frames"] as? Int == 0)
  }

  @Test func hvoAndAnalyzeShowTables() throws {
    let h = try cli.json(try cli.run(["hvo", "--ram", "2G", "--hugepages", "2M:10", "--page-ext", "table_check", "--format", "json"]).stdout)
    #expect(h["page_ext_frames"] as? Int == 16 * 64)
    let a = try cli.json(try cli.run(["analyze", "--demo", "--page-ext", "owner", "--format", "json"]).stdout)
    let sections = try #require(a["present_sections"] as? Int)
    #expect((a["page_ext"] as? [String: Any])?["frames"] as? Int == sections * 576)
    let eras = try #require(a["eras"] as? [[String: Any]])
    #expect(eras.count == 4 && eras.allSatisfy { $0["page_ext_bytes"] as? Int == sections * 576 * 4096 })
    let text = try cli.run(["analyze", "--demo", "--page-ext", "owner"]).stdout
    #expect(text.contains("page_ext in every era: "), "\(text)")
  }

  @Test(arguments: [
    (["boot", "--ram", "4G", "--page-ext", "frobnicate"], "Error: --page-ext: unknown page_ext client 'frobnicate'; the clients are owner, alloc_tag, table_check, or none"),
    (["boot", "--ram", "4G", "--page-ext", "owner,owner"], "Error: --page-ext names 'owner' twice: give each client once (owner, alloc_tag, table_check)"),
    (["hvo", "--ram", "4G", "--hugepages", "2M:1", "--page-ext", ""], "Error: --page-ext '' has an empty entry: give clients separated by commas (owner, alloc_tag, table_check) or none"),
    (["analyze", "--demo", "--page-ext", "idle"], "Error: --page-ext: page_idle keeps its bits in the page flags on 64-bit kernels and has no page_ext entry; the clients are owner, alloc_tag, table_check, or none"),
  ])
  func badValues(args: [String], line: String) throws {
    try cli.run(args, exit: .usage, stderrLine: line)
  }
}
