#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Which cgroup path each /proc/kpagecgroup value names.
///
/// kpagecgroup holds, per PFN, the inode number of the directory of the memory cgroup the
/// page is charged to (0 when it is charged to none). Inode numbers mean nothing on
/// another machine or after the cgroup is gone, so a capture walks the mounted cgroup
/// hierarchies and stores the inode of every cgroup directory with its path; the map is
/// the snapshot's `cgroups` section (docs/snapshot-format.md, docs/cgroups.md).
///
/// Kernel: mm/memcontrol.c `page_cgroup_ino()` (the nearest online ancestor's
/// `cgroup_ino()`, the kernfs node id that `stat` shows as the directory's inode).
public struct CgroupMap: Sendable, Equatable {
  /// One cgroup: its inode, the hierarchy it was found in (`v2`, or `v1:` and the
  /// controllers, as mountinfo names them) and its path from the hierarchy's root (`/` is
  /// the root cgroup).
  public struct Entry: Sendable, Equatable {
    public var inode: UInt64
    public var hierarchy: String
    public var path: String

    public init(inode: UInt64, hierarchy: String, path: String) {
      self.inode = inode
      self.hierarchy = hierarchy
      self.path = path
    }
  }

  /// Entries sorted by inode, one per inode.
  public private(set) var entries: [Entry]

  /// Cgroups above this are refused when read (a damaged section); a host has thousands at most.
  public static let maxEntries = 1 << 20
  /// Paths above this are refused (the kernel's PATH_MAX).
  public static let maxPathBytes = 4096

  /// `entries` sorted by inode; where two hierarchies have the same inode, the one that
  /// holds the memory controller wins (kpagecgroup names memory cgroups only).
  public init(_ entries: [Entry]) {
    var best: [UInt64: Entry] = [:]
    for e in entries {
      if let old = best[e.inode], Self.rank(old) >= Self.rank(e) { continue }
      best[e.inode] = e
    }
    self.entries = best.values.sorted { $0.inode < $1.inode }
  }

  static func rank(_ e: Entry) -> Int { e.hierarchy.hasPrefix("v1:") && e.hierarchy.split(separator: ",").contains { $0.hasSuffix("memory") } ? 2 : e.hierarchy == "v2" ? 1 : 0 }

  /// The path of `inode`, nil when the map does not know it.
  public func path(_ inode: UInt64) -> String? {
    var lo = 0, hi = entries.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if entries[mid].inode < inode { lo = mid + 1 } else { hi = mid }
    }
    return lo < entries.count && entries[lo].inode == inode ? entries[lo].path : nil
  }

  /// The name a report gives a kpagecgroup value: its path, `(none)` for 0 (no memory
  /// cgroup), `inode N` for an inode the map does not know (a cgroup removed before the
  /// walk, or a source without a map).
  public func name(_ inode: UInt64) -> String {
    if inode == 0 { return "(none)" }
    return path(inode) ?? "inode \(inode)"
  }

  // MARK: the `cgroups` section

  /// The section's text: one line per cgroup, `INODE HIERARCHY PATH`, the path with
  /// backslash and the bytes below 0x21 and 0x7f written as `\ooo` (octal, as
  /// /proc/self/mountinfo escapes them), so that each line has exactly three fields.
  public var text: String {
    entries.map { "\($0.inode) \($0.hierarchy) \(Self.escape($0.path))\n" }.joined()
  }

  static func escape(_ s: String) -> String {
    var out: [UInt8] = []
    for b in s.utf8 {
      if b <= 0x20 || b == 0x7f || b == 0x5c {
        out += [0x5c, 0x30 + (b >> 6), 0x30 + ((b >> 3) & 7), 0x30 + (b & 7)]
      } else {
        out.append(b)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// `\ooo` escapes undone; nil for a backslash not followed by three octal digits.
  static func unescape(_ s: Substring) -> String? {
    var bytes: [UInt8] = []
    var u = Array(s.utf8)[...]
    while let b = u.first {
      u = u.dropFirst()
      guard b == 0x5c else {
        bytes.append(b)
        continue
      }
      guard u.count >= 3 else { return nil }
      var v = 0
      for d in u.prefix(3) {
        guard d >= 0x30 && d <= 0x37 else { return nil }
        v = v * 8 + Int(d - 0x30)
      }
      guard v <= 0xff else { return nil }
      bytes.append(UInt8(v))
      u = u.dropFirst(3)
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Reads the `cgroups` section. Every line must be `INODE HIERARCHY PATH` (an unsigned
  /// decimal inode, not 0; a hierarchy `v2` or `v1:NAMES`; a path from `/`), each inode
  /// once; any other line is an error naming `path` and the line.
  public static func parse(_ text: String, path: String) throws -> CgroupMap {
    var entries: [Entry] = []
    var seen = Set<UInt64>()
    var n = 0
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      n += 1
      if raw.isEmpty { continue }
      func bad(_ why: String) -> SnapshotError {
        SnapshotError(.badText, path: path, "line \(n) '\(raw.prefix(120))': \(why)")
      }
      guard raw.utf8.count <= maxPathBytes + 64 else { throw bad("longer than \(maxPathBytes + 64) bytes") }
      let fields = raw.split(separator: " ", omittingEmptySubsequences: false)
      guard fields.count == 3 else { throw bad("expected 'INODE HIERARCHY PATH' (three fields separated by one space)") }
      guard let inode = UInt64(fields[0]), inode > 0, fields[0].first != "+" else { throw bad("inode '\(fields[0])' is not a decimal number above 0") }
      let h = fields[1]
      guard h == "v2" || (h.hasPrefix("v1:") && h.count > 3 && h.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f })) else {
        throw bad("hierarchy '\(h)' is neither 'v2' nor 'v1:' and its controllers")
      }
      guard let p = unescape(fields[2]), p.hasPrefix("/") else { throw bad("path '\(fields[2])' does not start with '/' or has a bad \\ooo escape") }
      guard seen.insert(inode).inserted else { throw bad("inode \(inode) appears twice") }
      guard entries.count < maxEntries else { throw bad("more than \(maxEntries) cgroups") }
      entries.append(Entry(inode: inode, hierarchy: String(h), path: p))
    }
    return CgroupMap(entries)
  }

  // MARK: this machine

  /// A cgroup hierarchy as /proc/self/mountinfo shows it.
  public struct Mount: Sendable, Equatable {
    /// `v2`, or `v1:` and the hierarchy's controllers (`v1:memory`, `v1:name=systemd`).
    public var hierarchy: String
    /// The cgroup this mount shows at its mount point (mountinfo's root field).
    public var root: String
    public var mountPoint: String
  }

  /// The cgroup mounts of a mountinfo text (`cgroup2`, and `cgroup` with the controllers
  /// from its super options), one per hierarchy (the first mount of each). A line that
  /// is not in mountinfo's shape is an error naming `path` and the line.
  ///
  /// Kernel: fs/proc_namespace.c `show_mountinfo()`.
  public static func cgroupMounts(mountinfo text: String, path: String) throws -> [Mount] {
    var mounts: [Mount] = []
    var n = 0
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      n += 1
      if raw.isEmpty { continue }
      let f = raw.split(separator: " ", omittingEmptySubsequences: false)
      // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
      guard f.count >= 10, let dash = f[6...].firstIndex(of: "-"), f.count - dash == 4 else {
        throw SnapshotError(.badText, path: path, "line \(n) '\(raw.prefix(120))': expected 'ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE OPTIONS'")
      }
      let type = f[dash + 1]
      let hierarchy: String
      if type == "cgroup2" {
        hierarchy = "v2"
      } else if type == "cgroup" {
        let known = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio", "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"]
        let names = f[dash + 3].split(separator: ",").filter { known.contains(String($0)) || $0.hasPrefix("name=") }
        guard !names.isEmpty else { continue }
        hierarchy = "v1:" + names.joined(separator: ",")
      } else {
        continue
      }
      guard let root = unescape(f[3]), let point = unescape(f[4]) else {
        throw SnapshotError(.badText, path: path, "line \(n): a bad \\ooo escape in the root or mount point")
      }
      if mounts.contains(where: { $0.hierarchy == hierarchy }) { continue }
      mounts.append(Mount(hierarchy: hierarchy, root: root, mountPoint: point))
    }
    return mounts
  }

  /// The hierarchies whose inodes kpagecgroup can name: the cgroup v1 hierarchy with the
  /// memory controller when one is mounted (the controller is then not on v2), else v2.
  public static func memoryMounts(_ mounts: [Mount]) -> [Mount] {
    let v1 = mounts.filter { $0.hierarchy.hasPrefix("v1:") && $0.hierarchy.dropFirst(3).split(separator: ",").contains("memory") }
    return v1.isEmpty ? mounts.filter { $0.hierarchy == "v2" } : v1
  }

  /// This machine's memory cgroups: every directory under the hierarchy of the memory
  /// controller (`memoryMounts`) of /proc/self/mountinfo, by inode. Directories that
  /// vanish during the walk are skipped (cgroups come and go); a hierarchy deeper than
  /// 64 levels is not followed further.
  public static func live(proc: String = "/proc") throws -> CgroupMap {
    let mountinfoPath = FileIO.join(proc, "self/mountinfo")
    let mounts = try cgroupMounts(mountinfo: FileIO.readText(mountinfoPath), path: mountinfoPath)
    var entries: [Entry] = []
    for m in memoryMounts(mounts) {
      walk(m.mountPoint, cgroup: m.root, depth: 0) { inode, cgroup in
        entries.append(Entry(inode: inode, hierarchy: m.hierarchy, path: cgroup))
      }
    }
    return CgroupMap(entries)
  }

  static func walk(_ dir: String, cgroup: String, depth: Int, _ found: (UInt64, String) -> Void) {
    var st = stat()
    guard stat(dir, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { return }
    found(UInt64(st.st_ino), cgroup)
    guard depth < 64 else { return }
    for name in PageSnapshot.directoryEntries(dir).sorted() {
      let child = FileIO.join(dir, name)
      var cs = stat()
      // lstat: a cgroup is a directory, never a link; files (cgroup.procs, ...) are skipped.
      guard lstat(child, &cs) == 0, cs.st_mode & S_IFMT == S_IFDIR else { continue }
      walk(child, cgroup: cgroup == "/" ? "/" + name : cgroup + "/" + name, depth: depth + 1, found)
    }
  }
}

extension PageSnapshot {
  /// The snapshot's cgroup map (its `cgroups` section), nil when it has none (a version-1
  /// snapshot, a raw directory without a `cgroups` file, a bare dump).
  public func cgroupMap() throws -> CgroupMap? {
    guard let t = texts["cgroups"] else { return nil }
    return try CgroupMap.parse(t, path: describePath("cgroups"))
  }
}
