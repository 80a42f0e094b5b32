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
        legacy hole and the PCI hole at 3-4 GiB. --page-ext adds the page_ext tables \
        that page_owner, memory allocation profiling and page_table_check keep beside \
        the memmap: one table per present section, taken from the page allocator.
        """,
        terms: [.era, .memmap, .vmemmap, .section, .pfn, .node, .zone, .buddy, .pageExt],
        examples: [
          "memdesc boot --ram 4G                 # memmap 16384 frames",
          "memdesc boot --ram 4G --era memdesc8  # memmap 2048 frames",
          "memdesc boot --ram 4G --layout pc     # the PCI hole has no memmap",
          "memdesc boot --ram 2G --nodes 2 --format json",
          "memdesc boot --ram 4G --page-ext owner,table_check  # 80 bytes a page",
          "memdesc boot --ram 4G --page-ext idle  # exit 64",
          "memdesc boot --ram 4G --vmemmap-base 0xffffea0000200000  # exit 1",
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
