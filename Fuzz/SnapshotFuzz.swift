// libFuzzer entry point for the snapshot reader and the gzip reader (over zlib). Compiled into the
// Snapshot module itself by Fuzz/run.sh (not part of the root package's build).
//
// The first input byte chooses the reader (its value mod 3): 0 = snapshot file, 1 = gzip
// stream, 2 = snapshot file after its CRCs are recomputed (so that mutations reach the
// structure checks and the block decoder behind them); the rest is the file. Every input must end in a value or a SnapshotError: a trap, an
// out-of-bounds access (AddressSanitizer) or a leak is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func snapshotFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  guard size >= 1 else { return 0 }
  var body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let selector = data[0] % 3
  if selector == 2 { body = SnapshotFormat.recomputingChecksums(body) }
  if selector != 1 {
    do {
      let s = try SnapshotFormat.parse(body, path: "fuzz")
      for a in s.arrays { try a.forEachChunk { _, _ in } }
      _ = try PageTypesSummary.of(s.kpageflags, mode: .raw, threads: 1)
      _ = try? s.hugepages()
    } catch {}
  } else {
    _ = try? Gzip.decompress(body, path: "fuzz.gz", maxOutput: 1 << 24)
  }
  return 0
}

