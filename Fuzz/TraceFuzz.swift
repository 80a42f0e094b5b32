// libFuzzer target for the trace reader (`memdesc simulate --trace`), linked against an
// instrumented PageModel by Fuzz/run.sh. The input is a trace file. It is read twice, as
// text (`Trace.parse`) and line by line (`TraceParser`, what the CLI streams), and both
// must agree: a trap, an out-of-bounds access, a leak or a disagreement is a finding.

import PageModel

@_cdecl("LLVMFuzzerTestOneInput")
public func traceFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  var whole: Result<Trace, TraceError>
  do { whole = .success(try Trace.parse(text, name: "fuzz")) } catch { whole = .failure(error) }
  var parser = TraceParser(name: "fuzz")
  var failure: TraceError?
  var number = 0
  for piece in text.utf8.split(separator: 10, omittingEmptySubsequences: false) where failure == nil {
    number += 1
    var line = Substring(piece)
    if line.utf8.last == 13 { line = Substring(line.utf8.dropLast()) }
    do { try parser.add(line, number: number) } catch { failure = error }
  }
  switch whole {
  case .success(let t): precondition(failure == nil && t == parser.finish(), "Trace.parse and TraceParser disagree")
  case .failure(let e): precondition(failure == e, "Trace.parse and TraceParser disagree on the error")
  }
  return 0
}
