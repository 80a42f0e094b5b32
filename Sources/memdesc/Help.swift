/// The help every subcommand shows after its abstract: one plain paragraph, the terms it
/// uses a line each (from one glossary, so a term reads the same everywhere), and an
/// `Examples:` section of commands that run as written from the root of a clone.
///
/// An example may end in a comment: `# needs root` marks one that reads the live machine
/// (root only), `# exit N` one that is meant to fail with status N. The CLI tests run every
/// example and hold them to both. ArgumentParser wraps help at 80 columns, so an example
/// line is kept within 78 characters (it is indented by two).
func helpDiscussion(_ paragraph: String, terms: [Term], examples: [String]) -> String {
  var text = paragraph
  if !terms.isEmpty {
    text += "\n\n" + terms.map { "\($0.rawValue): \($0.meaning)" }.joined(separator: "\n")
  }
  text += "\n\nExamples:\n" + examples.map { "  " + $0 }.joined(separator: "\n")
  return text
}

/// Words a capacity engineer may not know, each explained once.
enum Term: String {
  case pfn = "PFN"
  case page = "struct page"
  case memmap
  case vmemmap
  case section
  case folio
  case order
  case era
  case memdesc
  case buddy = "free (BUDDY)"
  case slab
  case hugetlb = "HugeTLB"
  case hvo = "HVO"
  case fakeHead = "fake head"
  case kpageflags
  case snapshot = "SOURCE"
  case readZero = "RAM reading zero"
  case pageTypes = "page-types"
  case crosscheck = "cross-check"
  case trace
  case node = "NUMA node"
  case zone
  case textfile = "textfile collector"
  case cgroup
  case mapcount
  case tracefs
  case tracepoint
  case lostEvents = "lost events"
  case pageExt = "page_ext"

  var meaning: String {
    switch self {
    case .pfn: "page frame number: the index of a 4 KiB frame of physical memory."
    case .page: "the kernel's description of one frame, 64 bytes today."
    case .memmap: "the array of struct pages, one per frame (1.5625 % of RAM at 64 bytes)."
    case .vmemmap: "the virtual addresses where the kernel maps the memmap, 4 KiB at a time."
    case .section: "a 128 MiB block of physical memory; the memmap exists per present section."
    case .folio: "2^order contiguous pages the kernel manages as one (a head page and its tails)."
    case .order: "log2 of a block's size in pages (order 9 is 512 pages, 2 MiB)."
    case .era: "a struct page design: classic (today), mask (Linux 7.1), memdesc32, memdesc8 (32 and 8 bytes)."
    case .memdesc: "Matthew Wilcox's plan: a small struct page that points to a typed descriptor (folio, slab, ...)."
    case .buddy: "pages on the kernel's free lists, kept as blocks of 2^order pages."
    case .slab: "pages that hold the kernel's small objects (SLUB caches)."
    case .hugetlb: "huge pages (2 MiB, 1 GiB) set aside in pools by vm.nr_hugepages."
    case .hvo: "HugeTLB vmemmap optimisation: most memmap frames of a huge page freed and remapped to one."
    case .fakeHead: "with HVO in the classic era, a tail struct page that reads as a head (kpageflags of 6.17 to 7.0 shows one every 64 PFNs)."
    case .kpageflags: "/proc/kpageflags, one 64-bit flags word per PFN, readable by root."
    case .snapshot: "a Memdesc snapshot file, a raw directory of /proc files, or a kpageflags dump."
    case .readZero: "PFNs whose kpageflags word is 0: whole sections (offline memory, deferred init, or cause unknown), or pages in use without flags."
    case .pageTypes: "the kernel's tools/mm/page-types, which prints a table of kpageflags."
    case .crosscheck: "a census figure beside the kernel's own counter for it (meminfo, vmstat, buddyinfo)."
    case .trace: "a text file of operations, one a line: alloc ID folio ORDER anon|file, free ID, hvo on, ..."
    case .node: "a group of CPUs and the RAM nearest them; each has its own zones."
    case .zone: "a PFN range with one allocation rule: DMA (below 16 MiB), DMA32 (below 4 GiB), Normal."
    case .textfile: "node_exporter's folder of .prom files that it serves as metrics."
    case .cgroup: "a group of processes whose memory the kernel charges together (/proc/kpagecgroup names each page's)."
    case .mapcount: "how many page tables map a page (/proc/kpagecount)."
    case .tracefs: "the kernel's tracing file system (/sys/kernel/tracing), mounted if needed."
    case .tracepoint: "a named hook in the kernel that reports an event with its fields."
    case .lostEvents: "events the kernel dropped because a ring buffer was full."
    case .pageExt: "per-page records that page_owner, allocation profiling and page_table_check keep outside struct page."
    }
  }
}
