// libFuzzer entry point for the stream reader (`KPageStream`: `analyze -`, a FIFO), compiled
// into the Snapshot module by Fuzz/run.sh (not part of the root package's build).
//
// The first input byte chooses the chunk length ((b & 63) + 1 words, so that chunk ends
// fall everywhere) and the workers ((b >> 6) + 1); the rest is the stream: raw words, or
// gzip by its magic. The stream is read from an unlinked file in /dev/shm (the reader uses
// read(2), as on a pipe). The census of the stream must equal the census of the same bytes
// read as a file (`openKPageFile`, pread or the gzip file reader), and one must fail where
// the other does (a stream also refuses a snapshot file's magic). A trap, an out-of-bounds
// access (AddressSanitizer), a leak or a difference is a finding.

#if canImport(Glibc)
  import Glibc
#endif

/// `bytes` in an unlinked file in /dev/shm: its descriptor (the caller closes it) and its
/// /proc/self/fd path.
private func memoryFile(_ bytes: [UInt8]) -> (Int32, String)? {
  var template = Array("/dev/shm/memdesc-fuzz-XXXXXX".utf8CString)
  let fd = mkstemp(&template)
  guard fd >= 0 else { return nil }
  unlink(template)
  var done = 0
  while done < bytes.count {
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
    if n <= 0 { break }
    done += n
  }
  lseek(fd, 0, SEEK_SET)
  return (fd, "/proc/self/fd/\(fd)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func streamFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  guard size >= 1 else { return 0 }
  let chunk = Int(data[0] & 63) + 1, workers = Int(data[0] >> 6) + 1
  let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  guard let (fd, path) = memoryFile(body) else { return 0 }
  defer { close(fd) }
  var streamed: Census?
  do {
    let stream = try KPageStream(fd: dup(fd), ownsFD: true, path: "fuzz", chunkWords: chunk)
    let s = try PageSnapshot(origin: .kpageflagsStream("fuzz"), kpageflags: KPageArray(stream: stream))
    streamed = try Census.of(s, threads: workers)
    precondition(s.pfnCount == streamed!.pfns)
  } catch {}
  var file: Census?
  do {
    let s = try PageSnapshot(origin: .kpageflagsDump(path), kpageflags: PageSnapshot.openKPageFile(.kpageflags, path: path))
    file = try Census.of(s, threads: 1)
  } catch {}
  let magic = body.starts(with: SnapshotFormat.magic)
  if let streamed, let file { precondition(streamed == file, "the stream's census differs from the file's") }
  precondition((streamed == nil) == (file == nil) || (magic && streamed == nil), "one reader failed where the other did not")
  return 0
}
