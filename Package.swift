// swift-tools-version: 6.1
import PackageDescription

import Foundation

// Debug builds (what `swift test` builds) are optimised too: the tests boot machines of
// gigabytes, replay 100,000-step differential runs and run the CLI hundreds of times, and
// unoptimised Swift spends about three times the CPU on them (measured on two cores: 490 s
// against 172 s for the model and CLI suites). What makes a debug build a debug build
// stays: VM_BUG_ON checks (below), preconditions, overflow and exclusivity checks, and
// debug info. MEMDESC_ONONE=1 builds them unoptimised, for stepping through in a debugger.
let optimisedDebug: [SwiftSetting] =
  ProcessInfo.processInfo.environment["MEMDESC_ONONE"] == "1" ? [] : [.unsafeFlags(["-O"], .when(configuration: .debug))]

// VM_BUG_ON-style invariant checks are compiled into debug builds (tests) and out of
// release builds (benchmarks, the CLI), as CONFIG_DEBUG_VM is in the kernel.
let debugVM: [SwiftSetting] = [.define("PAGEMODEL_DEBUG_VM", .when(configuration: .debug))] + optimisedDebug

let package = Package(
  name: "memdesc",
  products: [
    .library(name: "PageModel", targets: ["PageModel"]),
    .library(name: "Snapshot", targets: ["Snapshot"]),
    .library(name: "Render", targets: ["Render"]),
    .executable(name: "memdesc", targets: ["memdesc"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
  ],
  targets: [
    // The userfaultfd handler thread behind the lazy memmap (docs/boot.md).
    .target(name: "CUserfaultfd"),
    .target(name: "PageModel", dependencies: ["CUserfaultfd"], swiftSettings: debugVM),
    // Reading real machines: /proc and saved snapshots, page-types summaries, the census.
    // The system zlib (gzip sources, CRC-32); zlib1g-dev is among Swift's Linux prerequisites.
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .target(
      name: "Snapshot",
      dependencies: ["PageModel", "CZlib", .product(name: "SystemPackage", package: "swift-system")],
      swiftSettings: debugVM),
    // Everything meant for people or other programs: text tables, JSON, CSV, HTML/SVG.
    // The libraries above return values; the CLI hands them to this target.
    .target(name: "Render", dependencies: ["PageModel", "Snapshot"], swiftSettings: optimisedDebug),
    .executableTarget(
      name: "memdesc",
      dependencies: [
        "PageModel",
        "Snapshot",
        "Render",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ], swiftSettings: optimisedDebug),
    // Seeds, scratch directories and the CLI runner shared by the three test targets.
    .target(name: "MemdescTestSupport", dependencies: ["PageModel"], path: "Tests/MemdescTestSupport", swiftSettings: optimisedDebug),
    .testTarget(
      name: "PageModelTests",
      dependencies: [
        "PageModel",
        "MemdescTestSupport",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      swiftSettings: debugVM),
    .testTarget(
      name: "SnapshotTests",
      dependencies: ["Snapshot", "PageModel", "Render", "MemdescTestSupport"],
      resources: [.copy("Fixtures")],
      swiftSettings: debugVM),
    .testTarget(name: "MemdescCLITests", dependencies: ["PageModel", "MemdescTestSupport"], exclude: ["Helpers"], swiftSettings: optimisedDebug),
  ]
)
