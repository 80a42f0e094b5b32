#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension PageSnapshot {
  /// This machine's page state: /proc/kpageflags, /proc/kpagecount, /proc/kpagecgroup
  /// (read on demand, at any offset, so that several threads can read different chunks),
  /// the /proc text files, the HugeTLB pools from /sys and the kernel release.
  ///
  /// The kpage files are root-only (mode 0400): without root this throws a `.needsRoot`
  /// error that says so. The PFN count is found by probing: the kernel returns 0 bytes at
  /// and past `max_pfn`.
  ///
  /// Kernel: fs/proc/page.c (`kpageflags_read()` and friends), mm/hugetlb_sysfs.c.
  public static func live(proc: String = "/proc", sys: String = "/sys") throws -> PageSnapshot {
    var snapshot = try liveKPageFiles(proc: proc)
    try snapshot.texts.merge(liveTexts(proc: proc, sys: sys)) { _, new in new }
    return snapshot
  }

  /// The live source without the texts of `liveTexts`: the three kpage files opened,
  /// the cgroup map walked (before any kpage file is read, so a cgroup made during the
  /// reads is named by inode) and the metadata.
  static func liveKPageFiles(proc: String) throws -> PageSnapshot {
    guard let flags = try openLiveKPageFile(.kpageflags, proc: proc) else {
      throw SnapshotError(.notFound, path: FileIO.join(proc, "kpageflags"), "no such file: this kernel has no /proc/kpageflags (CONFIG_PROC_PAGE_MONITOR is off)")
    }
    var others: [KPageFile: KPageArray] = [:]
    // kpagecgroup exists only with CONFIG_MEMCG.
    for file in [KPageFile.kpagecount, .kpagecgroup] { others[file] = try openLiveKPageFile(file, proc: proc) }
    others[.kpagecount]?.zeroUnlessMapped = true
    var texts: [String: String] = [:]
    // The cgroup map names kpagecgroup's inodes.
    if others[.kpagecgroup] != nil { texts["cgroups"] = try CgroupMap.live(proc: proc).text }
    var meta = SnapshotMetadata()
    if let u = HostInfo.uname() {
      meta.kernelRelease = u.release
      meta.hostName = u.hostName
    }
    meta.pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    meta.capturedAt = HostInfo.isoTimeNow()
    return try PageSnapshot(origin: .live, kpageflags: flags, kpagecount: others[.kpagecount], kpagecgroup: others[.kpagecgroup], texts: texts, metadata: meta)
  }

  /// The /proc and /sys texts of a live source: /proc's meminfo, vmstat, zoneinfo,
  /// buddyinfo, iomem (and pagetypeinfo, slabinfo when readable), the HugeTLB pools and
  /// the memory blocks.
  static func liveTexts(proc: String, sys: String) throws -> [String: String] {
    var texts: [String: String] = [:]
    for name in ["meminfo", "vmstat", "zoneinfo", "buddyinfo", "iomem"] {
      texts[name] = try FileIO.readText(FileIO.join(proc, name))
    }
    // Root-only or config-dependent: kept when readable.
    for name in ["pagetypeinfo", "slabinfo"] {
      if let t = try? FileIO.readText(FileIO.join(proc, name)) { texts[name] = t }
    }
    texts["hugepages"] = try liveHugepagesText(proc: proc, sys: sys)
    // Which memory blocks are offline tells an all-zero section's cause.
    if let blocks = try MemoryBlocks.live(sys: sys) { texts["memory-blocks"] = blocks.text }
    return texts
  }

  /// Opens one /proc kpage file for on-demand reads; nil if the kernel has none.
  static func openLiveKPageFile(_ file: KPageFile, proc: String) throws -> KPageArray? {
    let path = FileIO.join(proc, file.rawValue)
    let fd: FileIO.Descriptor
    do {
      fd = try FileIO.openForReading(path)
    } catch let e as SnapshotError where e.kind == .permissionDenied {
      throw SnapshotError(.needsRoot, path: path, "permission denied: the kpage files are readable by root only (mode 0400); run this as root, e.g. with sudo")
    } catch let e as SnapshotError where e.kind == .notFound {
      return nil
    }
    do {
      let count = try probePFNCount(fd, path: path)
      return KPageArray(file: file, path: path, count: count, chunkWords: 1 << 17, backing: .file(fd: fd))
    } catch {
      try? fd.close()
      throw error
    }
  }

  /// The number of PFNs a /proc kpage file covers: the first word offset at which a read
  /// returns nothing, found by binary search (about 40 one-word reads).
  static func probePFNCount(_ fd: FileIO.Descriptor, path: String) throws -> Int {
    var word: UInt64 = 0
    func present(_ pfn: Int) throws -> Bool {
      try FileIO.pread(fd, path: path, into: &word, count: 8, offset: UInt64(pfn) * 8) == 8
    }
    guard try present(0) else { throw SnapshotError(.badSize, path: path, "reads as empty: no PFNs") }
    var lo = 0  // present
    var hi = 1
    while try present(hi) {
      lo = hi
      hi *= 2
      guard hi <= 1 << 42 else { throw SnapshotError(.badSize, path: path, "still returns data past PFN 2^42") }
    }
    while hi - lo > 1 {
      let mid = lo + (hi - lo) / 2
      if try present(mid) { lo = mid } else { hi = mid }
    }
    return hi
  }

  /// The `hugepages` text from /sys/kernel/mm/hugepages/*/ and the
  /// vm.hugetlb_optimize_vmemmap sysctl, hstates sorted by name as `ls` lists them.
  static func liveHugepagesText(proc: String, sys: String) throws -> String {
    let dir = FileIO.join(sys, "kernel/mm/hugepages")
    var lines: [String] = []
    for name in directoryEntries(dir).filter({ $0.hasPrefix("hugepages-") }).sorted() {
      var line = name
      for attr in HugepagesInfo.attributes {
        let p = FileIO.join(FileIO.join(dir, name), attr)
        let value = try FileIO.readText(p).trimmingWhitespace()
        guard Int(value) != nil else { throw SnapshotError(.badText, path: p, "'\(value)' is not a count") }
        line += " \(attr)=\(value)"
      }
      lines.append(line)
    }
    if let v = try? FileIO.readText(FileIO.join(proc, "sys/vm/hugetlb_optimize_vmemmap")).trimmingWhitespace() {
      lines.append("vm.hugetlb_optimize_vmemmap=\(v)")
    }
    return lines.map { $0 + "\n" }.joined()
  }

  static func directoryEntries(_ path: String) -> [String] {
    guard let d = opendir(path) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
      let name = withUnsafeBytes(of: &e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }
}

/// Facts about this host that a capture records.
public enum HostInfo {
  /// The current time as ISO 8601 UTC, seconds precision (`2026-11-27T16:20:00Z`).
  public static func isoTimeNow() -> String {
    var t = time(nil)
    var tm = tm()
    gmtime_r(&t, &tm)
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))Z"
  }

  /// Seconds on the monotonic clock, for timing.
  /// The calling thread's CPU time (user and system), for timings that other load on
  /// the host should not inflate.
  public static func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  public static func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  /// `uname -r` and the host name, from uname(2).
  public static func uname() -> (release: String, hostName: String)? {
    var u = utsname()
    guard Glibc.uname(&u) == 0 else { return nil }
    let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let host = withUnsafeBytes(of: &u.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    return (release, host)
  }
}

/// Capturing this machine into a snapshot file.
public enum SnapshotCapture {
  /// Reads the live sources and writes them to `path` as a snapshot file, atomically.
  ///
  /// The three kpage files are read in 1 Mi-PFN blocks by `threads` threads at once
  /// (`pread` at different offsets: reading them is kernel-bound, about 12.5 M PFN/s per
  /// core), compressed as they arrive. The text files (and the HugeTLB pools and memory
  /// blocks from /sys) are read by one more thread while the kpage files are, so that no
  /// core waits for them; the cgroup map is walked before. meminfo and vmstat are read
  /// again right after the kpage files (`meminfo.after`, `vmstat.after`) so that an
  /// analysis can see how much the machine moved during the capture.
  public static func capture(to path: String, proc: String = "/proc", sys: String = "/sys", threads: Int = Parallel.defaultThreads, progress: SnapshotFormat.Progress? = nil) throws -> SnapshotFormat.WriteReport {
    let live = try PageSnapshot.liveKPageFiles(proc: proc)
    let start = HostInfo.monotonicSeconds()
    let texts = BackgroundTexts { try PageSnapshot.liveTexts(proc: proc, sys: sys) }
    defer { _ = try? texts.wait() }
    return try SnapshotFormat.write(live, to: path, threads: threads, progress: progress) { snapshot in
      try snapshot.texts.merge(texts.wait()) { _, new in new }
      snapshot.metadata.captureSeconds = ((HostInfo.monotonicSeconds() - start) * 1000).rounded() / 1000
      for name in ["meminfo", "vmstat"] {
        if let t = try? FileIO.readText(FileIO.join(proc, name)) { snapshot.texts[name + ".after"] = t }
      }
    }
  }
}

/// Texts read on a thread of its own (pthread, not a task on a shared pool that the
/// caller's parallel loop may fill), and the result. (Not generic: a C thread entry
/// cannot name a generic class.)
final class BackgroundTexts: @unchecked Sendable {
  typealias T = [String: String]
  let body: () throws -> T
  var result: Result<T, any Error>?
  var thread: pthread_t?

  /// Starts `body`; if no thread can be had, runs it here.
  init(_ body: @escaping () throws -> T) {
    self.body = body
    var t = pthread_t()
    let me = Unmanaged.passRetained(self).toOpaque()
    let rc = pthread_create(&t, nil, { arg in
      let work = Unmanaged<BackgroundTexts>.fromOpaque(arg!).takeRetainedValue()
      work.result = Result { try work.body() }
      return nil
    }, me)
    if rc == 0 {
      thread = t
    } else {
      Unmanaged<BackgroundTexts>.fromOpaque(me).release()
      result = Result { try body() }
    }
  }

  /// Waits for the work (once; later calls return the same result).
  func wait() throws -> T {
    if let t = thread {
      pthread_join(t, nil)
      thread = nil
    }
    return try result!.get()
  }
}
