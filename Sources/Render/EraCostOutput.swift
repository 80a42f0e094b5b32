import PageModel

/// One era's cost as `simulate` and `analyze` write it in JSON (an `eras` entry).
struct EraCostJSON: Encodable, Sendable {
  var era: String
  var structPageBytes: Int
  var memmapBytes: UInt64
  var descriptorBytes: UInt64
  var descriptorBytesByType: [String: Int]
  var hvoSavedBytes: UInt64
  var hvoPTETableBytes: UInt64
  var vmemmapPMDSplits: Int
  var totalOverheadBytes: UInt64
  var overheadPercent: Double
  var pageExtBytes: UInt64

  enum CodingKeys: String, CodingKey {
    case era, structPageBytes = "struct_page_bytes", memmapBytes = "memmap_bytes", descriptorBytes = "descriptor_bytes"
    case descriptorBytesByType = "descriptor_bytes_by_type", hvoSavedBytes = "hvo_saved_bytes"
    case hvoPTETableBytes = "hvo_pte_table_bytes", vmemmapPMDSplits = "vmemmap_pmd_splits"
    case totalOverheadBytes = "total_overhead_bytes", overheadPercent = "overhead_percent", pageExtBytes = "page_ext_bytes"
  }

  init(_ c: EraCost) {
    era = c.era.rawValue
    structPageBytes = c.structPageBytes
    memmapBytes = c.memmapBytes
    descriptorBytes = c.descriptorBytes
    descriptorBytesByType = Dictionary(uniqueKeysWithValues: DescriptorKind.allCases.map { ($0.rawValue, (c.descriptorFrames[$0] ?? 0) << Kernel.pageShift) })
    hvoSavedBytes = c.hvoSavedBytes
    hvoPTETableBytes = c.hvoPTETableBytes
    vmemmapPMDSplits = c.hvoPTETableFrames
    totalOverheadBytes = c.totalOverheadBytes
    overheadPercent = percent6(c.overheadPercent)
    pageExtBytes = c.pageExtBytes
  }
}

/// The era table that `simulate` and `analyze` print (`analyze` adds a column).
enum EraTable {
  static let header = "era        page   memmap        descriptors   HVO saved     PMD splits  total         % of RAM"

  static func row(_ c: EraCost) -> String {
    c.era.rawValue.rightPadded(10) + " " + "\(c.structPageBytes) B".rightPadded(6) + " " + Fmt.bytes(c.memmapBytes).rightPadded(13) + " "
      + Fmt.bytes(c.descriptorBytes).rightPadded(13) + " " + Fmt.bytes(c.hvoSavedBytes).rightPadded(13) + " "
      + Fmt.group(c.hvoPTETableFrames).rightPadded(11) + " " + Fmt.bytes(c.totalOverheadBytes).rightPadded(13) + " "
  }
}
