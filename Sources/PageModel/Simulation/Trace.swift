/// One operation of an allocation trace.
public enum TraceOp: Equatable, Sendable {
  /// `alloc ID folio ORDER anon|file`
  case allocFolio(id: Int, order: Int, kind: FolioKind)
  /// `alloc ID slab ORDER`
  case allocSlab(id: Int, order: Int)
  /// `alloc ID pagetable`
  case allocPageTable(id: Int)
  /// `free ID`
  case free(id: Int)
  /// `hugepages 2M|1G COUNT`: set a HugeTLB pool's size.
  case hugepages(order: Int, count: Int)
  /// `hvo on|off`: `vm.hugetlb_optimize_vmemmap` for pages allocated after it.
  case hvo(Bool)
}

/// A line-based allocation trace, the format `memdesc simulate --trace` replays:
///
/// ```
/// # comments and blank lines are skipped
/// alloc a1 folio 0 anon
/// alloc f9 folio 9 file
/// alloc s1 slab 1
/// alloc p1 pagetable
/// free a1
/// hvo on
/// hugepages 2M 100
/// ```
///
/// IDs are any word without spaces; each names one live allocation. They are numbered
/// in order of first appearance; `names` maps the numbers back.
public struct Trace: Sendable, Equatable {
  public var ops: [TraceOp]
  /// The source line of each op, for messages (op index + 1 for generated traces).
  public var lines: [Int]
  /// The ID words of a parsed trace, by number (empty for generated traces).
  public var names: [String]
  /// What the trace is called in messages: the file name, or the workload's.
  public var name: String

  public init(name: String, ops: [TraceOp], lines: [Int]? = nil, names: [String] = []) {
    self.name = name
    self.ops = ops
    self.lines = lines ?? ops.indices.map { $0 + 1 }
    self.names = names
  }

  /// The ID word of a number, for messages.
  public func idName(_ id: Int) -> String { id < names.count ? names[id] : "#\(id)" }

  /// One more than the largest ID an op names: IDs are numbered densely from 0, so this
  /// is how many there are.
  public var idCount: Int {
    var top = -1
    for op in ops {
      switch op {
      case .allocFolio(let id, _, _), .allocSlab(let id, _), .allocPageTable(let id), .free(let id): top = max(top, id)
      case .hugepages, .hvo: break
      }
    }
    return top + 1
  }

  /// Pages the trace's allocations take, each allocation counted once (a page freed and
  /// allocated again counts twice) and each HugeTLB pool at the largest size it is set to.
  public var pagesAllocated: Int {
    var pages = 0
    var pools: [Int: Int] = [:]
    for op in ops {
      switch op {
      case .allocFolio(_, let order, _), .allocSlab(_, let order): pages &+= 1 << order
      case .allocPageTable: pages &+= 1
      case .hugepages(let order, let count): pools[order] = max(pools[order] ?? 0, count << order)
      case .free, .hvo: break
      }
    }
    return pools.values.reduce(pages, &+)
  }

  /// Parses trace text; the error names the line and what is wrong with it. Lines end
  /// at '\n', a '\r' before it is dropped (CRLF files).
  public static func parse(_ text: String, name: String = "trace") throws(TraceError) -> Trace {
    var parser = TraceParser(name: name)
    var number = 0
    for piece in text.utf8.split(separator: 10, omittingEmptySubsequences: false) {
      number += 1
      var line = Substring(piece)
      if line.utf8.last == 13 { line = Substring(line.utf8.dropLast()) }
      try parser.add(line, number: number)
    }
    return parser.finish()
  }
}

/// Reads a trace one line at a time, so that a file is never held whole in memory:
/// what it keeps is the operations (bounded by `maxOperations`) and the ID words.
public struct TraceParser: Sendable {
  /// The most operations a trace may have (a generated workload is not limited).
  public static let maxOperations = 1 << 24
  public let name: String
  var ops: [TraceOp] = []
  var lines: [Int] = []
  var numbers: [String: Int] = [:]
  var names: [String] = []

  public init(name: String) { self.name = name }

  mutating func number(_ word: String) -> Int {
    if let n = numbers[word] { return n }
    numbers[word] = names.count
    names.append(word)
    return names.count - 1
  }

  /// Reads one line (without its line end), numbered `number` from 1.
  public mutating func add(_ raw: Substring, number line: Int) throws(TraceError) {
    let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
    if words.isEmpty { return }
    let name = self.name
    func bad(_ why: String) -> TraceError { .badLine(file: name, line: line, text: String(raw.prefix(200)), why: why) }
    func order(_ s: String, max: Int) throws(TraceError) -> Int {
      guard let o = Int(s), o >= 0, o <= max else { throw bad("order '\(s)' is not a number from 0 to \(max)") }
      return o
    }
    guard ops.count < Self.maxOperations else { throw bad("more than \(Self.maxOperations) operations; a trace may have at most that many") }
    switch words[0] {
    case "alloc":
      guard words.count >= 3 else { throw bad("expected 'alloc ID folio ORDER anon|file', 'alloc ID slab ORDER' or 'alloc ID pagetable'") }
      switch words[2] {
      case "folio":
        guard words.count == 5 else { throw bad("expected 'alloc ID folio ORDER anon|file'") }
        guard let kind = FolioKind(rawValue: words[4]) else { throw bad("folio kind '\(words[4])' is not anon or file") }
        ops.append(.allocFolio(id: number(words[1]), order: try order(words[3], max: Kernel.maxPageOrder), kind: kind))
      case "slab":
        guard words.count == 4 else { throw bad("expected 'alloc ID slab ORDER'") }
        ops.append(.allocSlab(id: number(words[1]), order: try order(words[3], max: Kernel.pageAllocCostlyOrder)))
      case "pagetable":
        guard words.count == 3 else { throw bad("expected 'alloc ID pagetable'") }
        ops.append(.allocPageTable(id: number(words[1])))
      default: throw bad("unknown allocation kind '\(words[2])' (folio, slab or pagetable)")
      }
    case "free":
      guard words.count == 2 else { throw bad("expected 'free ID'") }
      ops.append(.free(id: number(words[1])))
    case "hugepages":
      guard words.count == 3 else { throw bad("expected 'hugepages 2M|1G COUNT'") }
      let o: Int
      switch words[1].uppercased() {
      case "2M": o = Hstate.pmd
      case "1G": o = Hstate.pud
      default: throw bad("huge page size '\(words[1])' is not 2M or 1G")
      }
      guard let n = Int(words[2]), n >= 0, n <= Int(UInt32.max) else { throw bad("count '\(words[2])' is not a number from 0 to \(UInt32.max)") }
      ops.append(.hugepages(order: o, count: n))
    case "hvo":
      guard words.count == 2, words[1] == "on" || words[1] == "off" else { throw bad("expected 'hvo on' or 'hvo off'") }
      ops.append(.hvo(words[1] == "on"))
    default:
      throw bad("unknown operation '\(words[0])' (alloc, free, hugepages, hvo)")
    }
    lines.append(line)
  }

  /// The trace read so far.
  public func finish() -> Trace { Trace(name: name, ops: ops, lines: lines, names: names) }
}

/// Why a trace cannot be read or replayed.
public enum TraceError: Error, Equatable, CustomStringConvertible {
  case badLine(file: String, line: Int, text: String, why: String)
  case unknownID(file: String, line: Int, id: String)
  case duplicateID(file: String, line: Int, id: String)
  case outOfMemory(file: String, line: Int, era: Era)

  public var description: String {
    switch self {
    case .badLine(let f, let l, let t, let why): "\(f):\(l): \(why): '\(t)'"
    case .unknownID(let f, let l, let id): "\(f):\(l): 'free \(id)' frees an ID that was never allocated (or was already freed)"
    case .duplicateID(let f, let l, let id): "\(f):\(l): ID '\(id)' is already allocated"
    case .outOfMemory(let f, let l, let era): "\(f):\(l): out of memory in era \(era.rawValue): the machine is too small for the trace"
    }
  }
}
