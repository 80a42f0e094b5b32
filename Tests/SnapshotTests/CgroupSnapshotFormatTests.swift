import Foundation
import MemdescTestSupport
import PageModel
import Snapshot
import Testing

/// Snapshot format version 2 (the `cgroups` section), version 1 files still read, and a
/// kpagecgroup of another length refused.
@Suite struct CgroupSnapshotFormatTests {
  static func le32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * $1) } }

  @Test func versionsArePinned() {
    #expect(SnapshotFormat.version == 3)
    #expect(SnapshotFormat.oldestVersion == 1)
  }

  @Test func theCgroupMapRoundTrips() throws {
    let map = CgroupMap([.init(inode: 3170, hierarchy: "v1:memory", path: "/system.slice/a b.service"), .init(inode: 1, hierarchy: "v1:memory", path: "/")])
    let snap = try PageSnapshot(
      origin: .live, kpageflags: KPageArray(file: .kpageflags, words: [0, 1 << 12]), kpagecgroup: KPageArray(file: .kpagecgroup, words: [0, 3170]),
      texts: ["cgroups": map.text])
    let (bytes, sections) = try SnapshotFormat.encode(snap)
    #expect(Self.le32(bytes, 8) == 3)
    #expect(sections.contains { $0.name == "cgroups" && $0.encoding == .bytes })
    let back = try SnapshotFormat.parse(bytes, path: "x.mdsnap")
    #expect(try back.cgroupMap() == map)
    let g = try CgroupCensus.of(back, census: try Census.of(back))
    #expect(g.usages.first?.name == "/system.slice/a b.service")
  }

  @Test func aDamagedMapIsRefusedWhenTheSourceIsValidated() throws {
    let snap = try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: [0]), texts: ["cgroups": "1 v2 /\nnope\n"])
    let back = try SnapshotFormat.parse(try SnapshotFormat.encode(snap).bytes, path: "x.mdsnap")
    expectSnapshotError(.badText, ["x.mdsnap (cgroups)", "line 2 'nope'"]) { try back.validateTexts() }
  }

  @Test func versionOneFilesStillOpen() throws {
    let path = Fixture.file("", "hvo-hugetlb.mdsnap")
    #expect(Self.le32(try Fixture.bytes(path), 8) == 1)
    let snap = try PageSnapshot.open(path)
    try snap.validateTexts()
    #expect(try snap.cgroupMap() == nil)
    #expect(snap.kpagecgroup?.count == snap.pfnCount)
  }

  @Test func laterVersionsAreRefused() throws {
    var bytes = try SnapshotFormat.encode(try PageSnapshot(origin: .live, kpageflags: KPageArray(file: .kpageflags, words: [0]))).bytes
    bytes[8] = 4
    expectSnapshotError(.unsupportedVersion, ["v4.mdsnap at offset 8", "version 4; this memdesc reads versions 1-3"]) { _ = try SnapshotFormat.parse(bytes, path: "v4.mdsnap") }
    bytes[8] = 0
    expectSnapshotError(.unsupportedVersion, ["version 0"]) { _ = try SnapshotFormat.parse(bytes, path: "v0.mdsnap") }
  }

  @Test func kpagecgroupOfAnotherLengthNamesBothLengths() throws {
    try withScratchDirectory("cgroup-length") { scratch in
      let d = scratch.file("raw")
      try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
      try Fixture.write([UInt64](repeating: 0, count: 16).withUnsafeBytes { Array($0) }, to: d + "/kpageflags")
      try Fixture.write([UInt64](repeating: 1, count: 12).withUnsafeBytes { Array($0) }, to: d + "/kpagecgroup")
      expectSnapshotError(.lengthMismatch, ["raw/kpagecgroup", "kpagecgroup has 12 PFNs (96 bytes)", "kpageflags has 16 PFNs (128 bytes)"]) { _ = try PageSnapshot.open(d) }
    }
  }
}
