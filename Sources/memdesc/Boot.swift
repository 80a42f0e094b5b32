import ArgumentParser
import PageModel
import Render

extension Memdesc {
  struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Boot a model machine and print its census: memmap frames, zones, free pages.",
      discussion: helpDiscussion(
        """
        Answers how much RAM the memmap of a machine of this size and layout takes in an \
        era, counted as the frames its vmemmap page table maps, and how boot leaves the \
        zones and free lists. The 'pc' layout is the fixtures' 24 GiB machine, with the \
        legacy hole and the PCI hole at 3-4 GiB. --boot-hugepages reserves HugeTLB \
        pools as hugepagesz=/hugepages= on the kernel command line do, and the census \
        shows vmstat's two memmap counters right after the memmap is populated and \
        after the pools' late optimisation; --boot-hvo picks how a kernel optimises \
        them. The vmemmap is mapped with 2 MiB PMDs where all the sections a PMD covers \
        are present, and with PTE tables elsewhere. A mask-era vmemmap base that is not \
        256 MiB aligned gets a warning and boots with wrong heads, as in the kernel; \
        --strict-alignment refuses it (exit 1). --page-ext adds the page_ext tables \
        that page_owner, memory allocation profiling and page_table_check keep beside \
        the memmap: one table per present section, taken from the page allocator.
        """,
        terms: [.era, .memmap, .vmemmap, .section, .pfn, .node, .zone, .buddy, .hugetlb, .hvo, .pageExt],
        examples: [
          "memdesc boot --ram 4G                 # memmap 16384 frames",
          "memdesc boot --ram 4G --era memdesc8  # memmap 2048 frames",
          "memdesc boot --ram 4G --layout pc     # the PCI hole has no memmap",
          "memdesc boot --ram 2G --nodes 2 --format json",
          "memdesc boot --ram 4G --vmemmap-base 0xffffea0000200000  # warns, boots",
          "memdesc boot --ram 64G --boot-hugepages 1G:32  # memmap 131104 frames",
          "memdesc boot --ram 64G --era classic --boot-hugepages 1G:32  # 131072 boot",
          "memdesc boot --ram 1G --ram-ranges 0x0-0x7fff,0x10000-0x17fff --era memdesc32",
          "memdesc boot --ram 4G --page-ext owner,table_check  # 80 bytes a page",
          "memdesc boot --ram 4G --page-ext idle  # exit 64",
        ]))

    @OptionGroup var machine: MachineOptions

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() throws {
      let config = try machine.config()
      let census = try bootModel(config).census()
      switch format {
      case .json: print(try BootOutput.json(census))
      case .text: print(BootOutput.text(census))
      }
    }
  }
}
