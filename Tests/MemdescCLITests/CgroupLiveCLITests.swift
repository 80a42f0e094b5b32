import Foundation
import MemdescTestSupport
import Testing

/// A memory cgroup made for the test, with a process in it that holds 256 MiB of
/// anonymous memory; `capture` then `analyze --by cgroup` must name it by path.
@Suite struct CgroupLiveCLITests {
  /// The directory under which a memory cgroup can be made: the v1 memory hierarchy's
  /// mount, or the v2 mount when its root hands the memory controller to children.
  static var memoryParent: String? {
    guard getuid() == 0, FileManager.default.isReadableFile(atPath: "/proc/kpagecgroup"),
      let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
    else { return nil }
    // mountinfo: ... ROOT MOUNTPOINT ... - FSTYPE SOURCE SUPEROPTIONS; mounts of the
    // cgroup root only (ROOT "/"), the v1 memory hierarchy first.
    var v1: String?, v2: String?
    for line in text.split(separator: "\n") {
      let f = line.split(separator: " ")
      guard let dash = f.firstIndex(of: "-"), dash + 3 < f.count, f.count > 4, f[3] == "/" else { continue }
      if f[dash + 1] == "cgroup" && f[dash + 3].split(separator: ",").contains("memory") { v1 = v1 ?? String(f[4]) }
      if f[dash + 1] == "cgroup2" { v2 = v2 ?? String(f[4]) }
    }
    if let v1 { return v1 }
    guard let v2, let control = try? String(contentsOfFile: v2 + "/cgroup.subtree_control", encoding: .utf8),
      control.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("memory")
    else { return nil }
    return v2
  }

  static let perl = "/usr/bin/perl"

  @Test(.enabled(if: memoryParent != nil && FileManager.default.isExecutableFile(atPath: perl), "skipped: needs root, /proc/kpagecgroup, a memory cgroup hierarchy mounted at its root and /usr/bin/perl"))
  func aCgroupsAnonymousMemoryIsNamedByPath() throws {
    let name = "memdesc-test-\(getpid())"
    let cgroup = Self.memoryParent! + "/" + name
    try FileManager.default.createDirectory(atPath: cgroup, withIntermediateDirectories: false)
    let p = Process()
    defer {
      if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
      }
      // The cgroup is empty once its process is reaped; rmdir until the kernel agrees.
      for _ in 0..<200 where rmdir(cgroup) != 0 && errno == EBUSY { usleep(10_000) }
      #expect(!FileManager.default.fileExists(atPath: cgroup), "\(cgroup) left behind")
    }
    // The shell joins the cgroup, then perl writes 260 MiB (one string grown in place:
    // `x=` makes no second copy) and says so. 4 MiB above the 256 MiB the check needs: a
    // capture is not atomic, and pages that migrate while it reads (compaction) are missed
    // or seen twice; on this VM the census came 88-148 pages short of memory.stat's.
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "echo $$ > '\(cgroup)/cgroup.procs' && exec \(Self.perl) -e '$| = 1; my $x = \"m\"; $x x= (260 << 20); print \"ready\\n\"; sleep 600; print length $x'"]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let line = out.fileHandleForReading.readData(ofLength: 6)
    try #require(String(decoding: line, as: UTF8.self) == "ready\n", "the process in \(cgroup) did not get ready")

    // The kernel's own count of the cgroup's anonymous memory (v1 `rss`, v2 `anon`), bytes.
    let stat = (try? String(contentsOfFile: cgroup + "/memory.stat", encoding: .utf8)) ?? ""
    let kernelAnon = stat.split(separator: "\n").compactMap { line -> Int? in
      let f = line.split(separator: " ")
      return f.count == 2 && (f[0] == "rss" || f[0] == "anon") ? Int(f[1]) : nil
    }.first.map { $0 / 4096 }
    try withScratchDirectory("cgroup-live") { scratch in
      let snap = scratch.file("live.mdsnap")
      try MemdescCLI().run(["snapshot", "capture", "-o", snap, "--no-progress"])
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      let r = try MemdescCLI().run(["analyze", snap, "--by", "cgroup", "--format", "json", "--top", "10000", "--eras", "classic"])
      let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
      #expect(json["cgroup_map"] as? Bool == true)
      let rows = json["cgroups"] as! [[String: Any]]
      let row = rows.first { $0["path"] as? String == "/" + name }
      try #require(row != nil, "/\(name) not among \(rows.compactMap { $0["path"] as? String })")
      let anon = row!["anon_pages"] as! Int
      #expect(anon >= 65536, "only \(anon) anonymous pages in /\(name)")
      if let kernelAnon { #expect(abs(anon - kernelAnon) * 100 <= kernelAnon, "census \(anon) anonymous pages, memory.stat \(kernelAnon)") }
      let eras = row!["eras"] as! [[String: Any]]
      #expect(eras.first?["memmap_bytes"] as? Int == (row!["pages"] as! Int) * 64)
    }
  }
}
