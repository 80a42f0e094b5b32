#!/usr/bin/env bash
# Builds and runs the libFuzzer target for the snapshot and gzip readers (gzip: the
# Swift wrapper over the system zlib).
#   Fuzz/run.sh [SECONDS] [extra libFuzzer flags...]     (default 60 s)
# Builds with swiftc directly (-sanitize=fuzzer,address), outside the root package's build.
# Findings (crash-*, leak-*, timeout-*) land in Fuzz/findings/; replay one with
#   Fuzz/.build/snapshot-fuzz Fuzz/findings/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
shift || true
OUT=Fuzz/.build
mkdir -p "$OUT" Fuzz/corpus Fuzz/findings
# swift-system (SystemPackage) as a plain static library: the checkout SwiftPM resolved.
swift package resolve >/dev/null
SYS=.build/checkouts/swift-system
clang -O2 -c -I "$SYS/Sources/CSystem/include" "$SYS/Sources/CSystem/shims.c" -o "$OUT/CSystem.o"
swiftc -O -parse-as-library -module-name SystemPackage -D SYSTEM_PACKAGE -enable-experimental-feature Lifetimes \
  -I "$SYS/Sources/CSystem/include" -emit-module -emit-module-path "$OUT/SystemPackage.swiftmodule" \
  -emit-library -static -o "$OUT/libSystemPackage.a" $(find "$SYS/Sources/System" -name '*.swift')
# PageModel as a plain static library (Snapshot imports it), Snapshot instrumented.
swiftc -O -parse-as-library -module-name PageModel -emit-module -emit-module-path "$OUT/PageModel.swiftmodule" \
  -emit-library -static -o "$OUT/libPageModel.a" $(find Sources/PageModel -name '*.swift')
# zlib is the system's (Sources/CZlib's module map links -lz), not instrumented.
swiftc -O -g -parse-as-library -sanitize=fuzzer,address -module-name Snapshot -I "$OUT" -L "$OUT" -lPageModel -lSystemPackage "$OUT/CSystem.o" \
  -I Sources/CZlib -I "$SYS/Sources/CSystem/include" \
  Sources/Snapshot/*.swift Fuzz/SnapshotFuzz.swift -o "$OUT/snapshot-fuzz"
# Seeds: a small valid snapshot (selector byte 0) and a small gzip (selector byte 1).
if [ -z "$(ls -A Fuzz/corpus)" ]; then
  cp Fuzz/seeds/* Fuzz/corpus/
fi
"$OUT/snapshot-fuzz" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -artifact_prefix=Fuzz/findings/ -print_final_stats=1 "$@" Fuzz/corpus
