// libFuzzer target for the command line's value parsers, linked against an instrumented
// PageModel by Fuzz/run.sh. The first byte chooses the parser (its value mod 5):
// 0 = a size (`--ram`, ByteSize.parse, and ByteSize.format of what it gives must read
// back the same), 1 = a PFN or address (`explain PFN`, `--vmemmap-base`: parseUnsigned),
// 2 = RAM ranges (`--ram-ranges`: PhysicalLayout.parseRanges, then the layout built from
// them), 3 = HugeTLB pools (`--hugepages`: HugepagesSpec.parse), 4 = page_ext clients
// (`--page-ext`: PageExt.parse, whose spelling must read back). The rest is the value.

import PageModel

@_cdecl("LLVMFuzzerTestOneInput")
public func argumentFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  guard size >= 1 else { return 0 }
  let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
  switch data[0] % 5 {
  case 0:
    if let bytes = ByteSize.parse(text) {
      precondition(ByteSize.parse(ByteSize.format(bytes)) == bytes, "ByteSize.format does not read back")
      _ = ByteSize.human(bytes)
    }
  case 1:
    if let v = parseUnsigned(text) { precondition(parseUnsigned(hex(v)) == v, "hex does not read back") }
  case 2:
    // The layout walks every 128 MiB section: kept to 2^30 PFNs so that one input stays
    // far below the timeout (the CLI's own limit is the host's memory for the memmap).
    if let ranges = try? PhysicalLayout.parseRanges(text), ranges.count <= 64, ranges.allSatisfy({ $0.upperBound.rawValue <= 1 << 30 }) {
      _ = try? PhysicalLayout(ram: ranges, nodeCount: 1)
    }
  case 4:
    if let p = try? PageExt.parse(text) {
      precondition((try? PageExt.parse(p.spelling)) == p, "PageExt.spelling does not read back")
      precondition(p.framesPerSection <= 1 << Kernel.maxPageOrder, "a page_ext table above MAX_PAGE_ORDER")
    }
  default:
    if let pools = try? HugepagesSpec.parse(text) {
      precondition(Set(pools.map(\.order)).count == pools.count, "a pool size accepted twice")
    }
  }
  return 0
}
