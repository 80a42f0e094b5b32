// libFuzzer target for the tracefs readers (`memdesc record`'s layouts and ring-buffer
// pages, `memdesc replay`'s recording reader), compiled into the Snapshot module by
// Fuzz/run.sh. The first byte picks the reader; the rest is its input. A trap, an
// out-of-bounds access or a leak is a finding; a SnapshotError is the expected refusal.

@_cdecl("LLVMFuzzerTestOneInput")
public func tracefsFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  guard size > 0 else { return 0 }
  let rest = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
  let text = String(decoding: rest, as: UTF8.self)
  switch data[0] % 4 {
  case 0: _ = try? TracefsLayout.pageHeader(text, path: "fuzz")
  case 1: _ = try? TracefsLayout.eventHeader(text, path: "fuzz")
  case 2:
    if let e = try? TracefsLayout.event(text, path: "fuzz") {
      _ = try? PageEventDecoder([.alloc: e], path: "fuzz")
    }
  default:
    // A page with the layout this kernel publishes, decoded with a decoder that knows
    // event IDs 1-7 as the seven kinds (pfn at 8, order at 16, aux at 24).
    let header = TracefsLayout.PageHeader(timestampOffset: 0, timestampSize: 8, commitOffset: 8, commitSize: 8, dataOffset: 16, dataSize: 4080)
    var layouts: [PageEvent.Kind: TracefsLayout.Event] = [:]
    for k in PageEvent.Kind.allCases {
      layouts[k] = TracefsLayout.Event(name: "\(k)", id: Int(k.rawValue), fields: [
        .init(name: "pfn", type: "u64", offset: 8, size: 8, isSigned: false),
        .init(name: k.orderField ?? "-", type: "u32", offset: 16, size: 4, isSigned: false),
        .init(name: k.auxField ?? "-", type: "u64", offset: 24, size: 8, isSigned: false),
      ])
    }
    guard let decoder = try? PageEventDecoder(layouts, path: "fuzz") else { preconditionFailure("decoder") }
    var last: UInt64 = 0
    _ = try? RingBufferPage.read(rest, header: header, path: "fuzz") { time, payload in
      if case .event(let e) = decoder.decode(payload, time: time, cpu: 0) { last &+= e.pfn }
    }
    _ = try? Recording.parse(Array(rest), path: "fuzz")
    _ = last
  }
  return 0
}
