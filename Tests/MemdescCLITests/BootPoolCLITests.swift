import Foundation
import MemdescTestSupport
import Testing

/// Issue 15 (boot side) through the CLI: boot-time pools and vmstat's two memmap
/// counters, `pfns` as kpageflags' length, PMD splits in `hvo`, bad option values.
@Suite struct BootPoolCLITests {
  let cli = MemdescCLI()

  /// 16 GiB with 8 boot-time 1 GiB pages, every JSON counter: the mask era (7.1)
  /// populates their vmemmap optimised, so all 65536 - 8 x 4095 frames are boot memmap;
  /// the classic era populates 65536 and the late optimisation leaves 32768 boot frames
  /// and one new head frame per page in nr_memmap_pages. (The acceptance figures, 64 GiB
  /// with 32 pages, are the README's two `boot --ram 64G` lines, which ExamplesCLITests
  /// runs and checks; booting 64 GiB twice more here cost seconds for the same code.)
  @Test(arguments: [
    ("mask", "early", 65_536 - 8 * 4095, 0, 65_536 - 8 * 4095, 0),
    ("classic", "late", 32_768, 8, 65_536, 0),
  ])
  func gigantic(era: String, hvo: String, boot: Int, ordinary: Int, populatedBoot: Int, populatedOrdinary: Int) throws {
    let j = try cli.json(try cli.run(["boot", "--ram", "16G", "--era", era, "--boot-hugepages", "1G:8", "--format", "json"]).stdout)
    #expect(j["memmap_frames"] as? Int == 32_776)
    #expect(j["nr_memmap_boot_pages"] as? Int == boot)
    #expect(j["nr_memmap_pages"] as? Int == ordinary)
    #expect(j["populated_nr_memmap_boot_pages"] as? Int == populatedBoot)
    #expect(j["populated_nr_memmap_pages"] as? Int == populatedOrdinary)
    #expect(j["boot_hvo"] as? String == hvo)
    let pool = try #require((j["boot_hugepages"] as? [[String: Any]])?.first)
    #expect(pool["name"] as? String == "hugepages-1048576kB")
    #expect(pool["requested"] as? Int == 8)
    #expect(pool["count"] as? Int == 8)
    #expect(pool["optimized"] as? Int == 8)
    // 8 PTE tables per pre-optimised or split 1 GiB page; the other 64 sections one PMD each.
    #expect(j["vmemmap_pte_tables"] as? Int == 64)
    #expect(j["vmemmap_pmd_mappings"] as? Int == 64)
  }

  /// `--boot-hvo off` keeps the full memmap; a pool without --boot-hugepages is absent.
  @Test func offAndAbsent() throws {
    let off = try cli.json(try cli.run(["boot", "--ram", "8G", "--boot-hugepages", "1G:2,2M:10", "--boot-hvo", "off", "--format", "json"]).stdout)
    #expect(off["memmap_frames"] as? Int == 32768)
    #expect(off["nr_memmap_pages"] as? Int == 0)
    #expect((off["boot_hugepages"] as? [[String: Any]])?.map { $0["count"] as? Int } == [10, 2])
    let none = try cli.json(try cli.run(["boot", "--ram", "8G", "--format", "json"]).stdout)
    #expect((none["boot_hugepages"] as? [Any])?.isEmpty == true)
    #expect(none["vmemmap_pte_tables"] as? Int == 0)
  }

  /// `pfns` is /proc/kpageflags' length: max_pfn rounded up to a whole section.
  @Test func pfnsRoundUpToASection() throws {
    let j = try cli.json(try cli.run(["boot", "--ram", "4160M", "--format", "json"]).stdout)
    #expect(j["max_pfn"] as? Int == 0x104000)
    #expect(j["pfns"] as? Int == 0x108000)
  }

  /// HVO on PMD-mapped vmemmap: 100 pages of 2 MiB from the top of 2 GiB have their
  /// vmemmap in two PMDs, each split into a PTE table at one frame.
  @Test func hvoSplitsPMDs() throws {
    let j = try cli.json(try cli.run(["hvo", "--ram", "2G", "--era", "mask", "--hugepages", "2M:100", "--optimize", "--format", "json"]).stdout)
    #expect(j["vmemmap_pmd_splits"] as? Int == 2)
    #expect(j["vmemmap_pte_tables"] as? Int == 2)
    #expect(j["freed_frames"] as? Int == 700)
    let off = try cli.json(try cli.run(["hvo", "--ram", "2G", "--hugepages", "2M:100", "--no-optimize", "--format", "json"]).stdout)
    #expect(off["vmemmap_pmd_splits"] as? Int == 0)
  }

  /// The memdesc eras' PMD spans 2 or 8 sections: lone sections are mapped with PTEs.
  @Test func memdescPMDGranularity() throws {
    let j = try cli.json(try cli.run(["boot", "--ram", "1G", "--ram-ranges", "0x0-0x7fff,0x10000-0x17fff", "--era", "memdesc32", "--format", "json"]).stdout)
    #expect(j["vmemmap_pmd_mappings"] as? Int == 0)
    #expect(j["vmemmap_pte_tables"] as? Int == 2)
    #expect(j["memmap_frames"] as? Int == 512)
  }

  @Test(arguments: [
    (["boot", "--ram", "4G", "--boot-hugepages", "1G:-1"], "Error: cannot read --boot-hugepages entry '1G:-1': expected SIZE:COUNT such as 2M:1000"),
    (["boot", "--ram", "4G", "--boot-hugepages", "3M:2"], "Error: unsupported huge page size '3M' in --boot-hugepages: x86-64 has 2M and 1G"),
    (["boot", "--ram", "4G", "--boot-hugepages", "1G:1,1G:2"], "Error: --boot-hugepages gives the 1G pool twice ('1G:1' and '1G:2'): give each size once"),
    (["boot", "--ram", "4G", "--boot-hugepages", "1G:5"], "Error: --boot-hugepages '1G:5' needs 5 GiB, more than the 4 GiB of RAM"),
    (["boot", "--ram", "4G", "--ram-ranges", "0x0-0x3ffff", "--boot-hugepages", "1G:2"], "Error: --boot-hugepages '1G:2' needs 2 GiB, more than the 1 GiB of RAM"),
    (["boot", "--ram", "4G", "--boot-hugepages", ""], "Error: cannot read --boot-hugepages entry '': expected SIZE:COUNT such as 2M:1000"),
    (["boot", "--ram", "4G", "--boot-hvo", "sideways"], "Error: The value 'sideways' is invalid for '--boot-hvo <boot-hvo>'. Please provide one of 'early', 'late' or 'off'."),
    (["hvo", "--ram", "4G", "--hugepages", "2M:1", "--boot-hugepages", "2M:1000,2M:5"], "Error: --boot-hugepages gives the 2M pool twice ('2M:1000' and '2M:5'): give each size once"),
  ])
  func badValues(args: [String], line: String) throws {
    let r = try cli.run(args, exit: .usage, stderrLine: line)
    #expect(!r.stderr.contains("Fatal error"))
  }
}
