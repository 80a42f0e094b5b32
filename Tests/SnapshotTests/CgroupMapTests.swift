import Foundation
import MemdescTestSupport
import PageModel
import Snapshot
import Testing

/// The cgroup map: its section text, the mountinfo reader and the live walk.
@Suite struct CgroupMapTests {
  @Test func sectionTextRoundTripsAnyPath() throws {
    var rng = SplitMix64(seed: TestSeed.seed("CgroupMapTests.sectionTextRoundTripsAnyPath"))
    for _ in 0..<200 {
      var entries: [CgroupMap.Entry] = []
      for i in 0..<Int(rng.next() % 6) {
        var bytes: [UInt8] = [0x2f]
        for _ in 0..<Int(rng.next() % 12) { bytes.append(UInt8(truncatingIfNeeded: rng.next() % 0x80)) }
        let path = String(decoding: bytes, as: UTF8.self)
        entries.append(CgroupMap.Entry(inode: UInt64(i + 1) * (1 + rng.next() % 1000), hierarchy: i % 2 == 0 ? "v2" : "v1:memory", path: path))
      }
      let map = CgroupMap(entries)
      let text = map.text
      // Three fields on every line, whatever bytes the paths have.
      for line in text.split(separator: "\n") { #expect(line.split(separator: " ", omittingEmptySubsequences: false).count == 3, "\(line)") }
      #expect(try CgroupMap.parse(text, path: "t") == map)
    }
  }

  @Test func escapesAsMountinfoDoes() throws {
    let map = CgroupMap([CgroupMap.Entry(inode: 7, hierarchy: "v2", path: "/a b\\c\nd")])
    #expect(map.text == "7 v2 /a\\040b\\134c\\012d\n")
    #expect(map.name(7) == "/a b\\c\nd")
    #expect(map.name(0) == "(none)")
    #expect(map.name(8) == "inode 8")
  }

  @Test func theMemoryHierarchyWinsAnInode() {
    let map = CgroupMap([
      .init(inode: 5, hierarchy: "v1:cpu", path: "/cpu-side"),
      .init(inode: 5, hierarchy: "v1:memory", path: "/mem-side"),
      .init(inode: 5, hierarchy: "v2", path: "/unified"),
    ])
    #expect(map.entries.count == 1)
    #expect(map.path(5) == "/mem-side")
  }

  @Test func badLinesNameTheLine() {
    let cases: [(String, String)] = [
      ("1 v2 /a\nx v2 /b\n", "line 2 'x v2 /b': inode 'x' is not a decimal number above 0"),
      ("0 v2 /\n", "line 1 '0 v2 /': inode '0'"),
      ("1 v3 /\n", "hierarchy 'v3'"),
      ("1 v2 relative\n", "does not start with '/'"),
      ("1 v2 /a\\09\n", "bad \\ooo escape"),
      ("1 v2 /a\n1 v2 /b\n", "line 2 '1 v2 /b': inode 1 appears twice"),
      ("1 v2 /a b\n", "three fields"),
    ]
    for (text, fragment) in cases {
      expectSnapshotError(.badText, ["snap (cgroups)", fragment]) { _ = try CgroupMap.parse(text, path: "snap (cgroups)") }
    }
  }

  @Test func mountinfoGivesOneMountPerHierarchy() throws {
    let text = """
      31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
      32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
      35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
      40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
      41 31 0:38 /sub /sys/fs/cgroup/uni\\040fied rw,relatime - cgroup2 cgroup2 rw
      42 31 0:38 / /mnt/again rw,relatime - cgroup2 cgroup2 rw

      """
    let mounts = try CgroupMap.cgroupMounts(mountinfo: text, path: "mi")
    #expect(mounts.map(\.hierarchy) == ["v1:cpu", "v1:memory", "v1:name=systemd", "v2"])
    #expect(mounts[3].root == "/sub" && mounts[3].mountPoint == "/sys/fs/cgroup/uni fied")
    expectSnapshotError(.badText, ["mi", "line 1"]) { _ = try CgroupMap.cgroupMounts(mountinfo: "31 23 0:28 / /x rw\n", path: "mi") }
  }

  @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/mountinfo"), "skipped: no /proc/self/mountinfo"))
  func liveWalkFindsEveryMountedRoot() throws {
    let mounts = try CgroupMap.cgroupMounts(mountinfo: String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8), path: "mountinfo")
    let map = try CgroupMap.live()
    let memory = CgroupMap.memoryMounts(mounts)
    #expect(memory.count <= 1 || memory.allSatisfy { $0.hierarchy.hasPrefix("v1:") })
    for m in memory {
      var st = stat()
      guard stat(m.mountPoint, &st) == 0 else { continue }
      #expect(map.path(UInt64(st.st_ino)) == m.root, "\(m.mountPoint) inode \(st.st_ino)")
    }
    #expect(map.entries.allSatisfy { e in memory.contains { $0.hierarchy == e.hierarchy } })
  }
}
