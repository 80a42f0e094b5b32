// libFuzzer entry point for the snapshot reader and the gzip reader (over zlib). Compiled into the
// Snapshot module itself by Fuzz/run.sh (not part of the root package's build).
//
// The first input byte chooses the reader (its value mod 3): 0 = snapshot file, 1 = gzip
// stream, 2 = snapshot file after its CRCs are recomputed (so that mutations reach the
// structure checks and the block decoder behind them); the rest is the file. Snapshots are
// read from memory (`SnapshotFormat.parse`) and from a file (`SnapshotFormat.read`, the
// `pread` path every command uses); gzip is decoded whole (`Gzip.decompress`) and as a
// stream from a file (`GzipWords`, with look-ups behind the decoder that resume from a
// checkpoint). The file is an unlinked file in /dev/shm, so no disk is touched. Every input must end in a value
// or a SnapshotError: a trap, an out-of-bounds access (AddressSanitizer) or a leak is a finding.

#if canImport(Glibc)
  import Glibc
#endif
import SystemPackage

/// `bytes` as a file: an unlinked file in /dev/shm (closed by the caller) and its /proc/self/fd path.
private func memoryFile(_ bytes: [UInt8]) -> (FileDescriptor, String)? {
  var template = Array("/dev/shm/memdesc-fuzz-XXXXXX".utf8CString)
  let fd = mkstemp(&template)
  guard fd >= 0 else { return nil }
  unlink(template)  // gone when closed, even after a crash
  var done = 0
  while done < bytes.count {
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
    if n <= 0 { break }
    done += n
  }
  return (FileDescriptor(rawValue: fd), "/proc/self/fd/\(fd)")
}

private func scan(_ s: PageSnapshot) throws {
  for a in s.arrays { try a.forEachChunk { _, _ in } }
  _ = try PageTypesSummary.of(s.kpageflags, mode: .raw, threads: 1)
  _ = try? s.hugepages()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func snapshotFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  guard size >= 1 else { return 0 }
  var body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let selector = data[0] % 3
  if selector == 2 { body = SnapshotFormat.recomputingChecksums(body) }
  guard let (fd, path) = memoryFile(body) else { return 0 }
  defer { try? fd.close() }
  if selector != 1 {
    do { try scan(SnapshotFormat.parse(body, path: "fuzz")) } catch {}
    do { try scan(SnapshotFormat.read(path)) } catch {}
  } else {
    _ = try? Gzip.decompress(body, path: "fuzz.gz", maxOutput: 1 << 24)
    // GzipWords owns (and closes) its descriptor: give it a duplicate.
    guard let dup = try? fd.duplicate() else { return 0 }
    guard let gz = try? GzipWords(fd: dup, path: "fuzz.gz", maxOutput: 1 << 24, spacing: 4096) else { return 0 }
    var buffer = [UInt8](repeating: 0, count: 512)
    let size = gz.size
    // Forward, then back (a resume from a checkpoint), then the end.
    for offset in [size / 2, size / 5, max(0, size - 512), 0] {
      let n = min(512, size - offset)
      buffer.withUnsafeMutableBytes { _ = try? gz.read(offset: offset, count: n, into: $0.baseAddress!) }
    }
  }
  return 0
}
