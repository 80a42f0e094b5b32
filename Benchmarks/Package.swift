// swift-tools-version: 6.1
// Benchmarks for the memdesc model, kept out of the root package so that its
// `swift build` / `swift test` / CI never build package-benchmark.
// See ../docs/benchmarks.md for the commands and the results.
import Foundation
import PackageDescription

// SwiftPM names a path dependency by its folder, so the root package's identity is
// whatever the checkout is called ("main", or a worktree's folder); read it from here.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
  name: "memdesc-benchmarks",
  platforms: [.macOS(.v13)],
  dependencies: [
    // The root package (name "memdesc"), identity `root`.
    .package(path: "../"),
    .package(
      url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0",
      traits: ["MallocInterposer"]),
  ],
  targets: [
    // compound_head() in plain C over the same vmemmap page table and frames.
    .target(name: "CReference"),
    // Workloads and the measured loops, shared by the benchmarks and `ratios`.
    // LLVM's function merging would fold each classic/mask pair of loop wrappers into
    // one body behind two thunks (symbols ending in `Tm`), which hides the era from
    // callgrind's --toggle-collect; it is turned off for this target only.
    .target(
      name: "BenchSupport",
      dependencies: [
        "CReference",
        .product(name: "PageModel", package: root),
      ],
      swiftSettings: [.unsafeFlags(["-Xfrontend", "-disable-llvm-merge-functions-pass"])]),
    // One-process Swift/C and mask/classic ratios, and a callgrind mode.
    .executableTarget(
      name: "ratios",
      dependencies: [
        "BenchSupport",
        .product(name: "PageModel", package: root),
      ]),
    // package-benchmark suite: `swift package benchmark`.
    .executableTarget(
      name: "MemdescBenchmarks",
      dependencies: [
        "BenchSupport",
        .product(name: "PageModel", package: root),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "Benchmarks/MemdescBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
  ]
)
