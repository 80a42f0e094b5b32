#!/usr/bin/env bash
# Builds and runs the libFuzzer targets, one after another.
#   Fuzz/run.sh [SECONDS] [TARGET...] [-- extra libFuzzer flags...]
# SECONDS per target (default 60); TARGETs default to all of:
#   snapshot        snapshot file and gzip readers (Fuzz/SnapshotFuzz.swift, compiled into Snapshot)
#   stream          the stream reader of `analyze -`, against the file readers (Fuzz/StreamFuzz.swift, same)
#   tracefs         tracefs layouts, ring-buffer pages, recordings (Fuzz/TracefsFuzz.swift, same)
#   trace           the simulate --trace reader (Fuzz/TraceFuzz.swift)
#   arguments       --ram sizes, PFNs, --ram-ranges, --hugepages (Fuzz/ArgumentFuzz.swift)
#   meminfo buddyinfo iomem zoneinfo hugepages kernel-release cgroups memory-blocks mountinfo
#                   the /proc text readers and the cgroup map's (Fuzz/ProcTextFuzz.swift,
#                   built once per reader)
# Builds with swiftc directly (-sanitize=fuzzer,address), outside the root package's build.
# Seeds are Fuzz/seeds/TARGET/ (small, in git); each target's working corpus is
# Fuzz/corpus/TARGET/ (started from the seeds). Findings (crash-*, leak-*, timeout-*) land
# in Fuzz/findings/TARGET-*; replay one with  Fuzz/.build/TARGET-fuzz Fuzz/findings/...
# Each run's last stats line is appended to Fuzz/.build/runs.log.
set -euo pipefail
cd "$(dirname "$0")/.."
ALL="snapshot stream tracefs trace arguments meminfo buddyinfo iomem zoneinfo hugepages kernel-release cgroups memory-blocks mountinfo"
SECONDS_TO_RUN=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then SECONDS_TO_RUN=$1; shift; fi
TARGETS=()
while [[ $# -gt 0 && $1 != -- && $1 != -* ]]; do TARGETS+=("$1"); shift; done
[[ ${1:-} == -- ]] && shift
[[ ${#TARGETS[@]} -eq 0 ]] && read -r -a TARGETS <<<"$ALL"
for t in "${TARGETS[@]}"; do
  [[ " $ALL " == *" $t "* ]] || { echo "Fuzz/run.sh: unknown target '$t'; targets: $ALL" >&2; exit 64; }
done
OUT=Fuzz/.build
mkdir -p "$OUT" Fuzz/findings
FUZZ="-sanitize=fuzzer,address -package-name memdesc"
# swift-system (SystemPackage) as a plain static library: the checkout SwiftPM resolved.
swift package resolve >/dev/null
SYS=.build/checkouts/swift-system
if [[ ! -f $OUT/libSystemPackage.a ]]; then
  clang -O2 -c -I "$SYS/Sources/CSystem/include" "$SYS/Sources/CSystem/shims.c" -o "$OUT/CSystem.o"
  swiftc -O -parse-as-library -module-name SystemPackage -D SYSTEM_PACKAGE -enable-experimental-feature Lifetimes \
    -I "$SYS/Sources/CSystem/include" -emit-module -emit-module-path "$OUT/SystemPackage.swiftmodule" \
    -emit-library -static -o "$OUT/libSystemPackage.a" $(find "$SYS/Sources/System" -name '*.swift')
fi
# The userfaultfd shim PageModel's lazy memmap calls (SwiftPM makes its module map; here
# one is written beside the object).
mkdir -p "$OUT/CUserfaultfd"
printf 'module CUserfaultfd {\n  header "%s"\n  export *\n}\n' "$PWD/Sources/CUserfaultfd/include/memdesc_uffd.h" >"$OUT/CUserfaultfd/module.modulemap"
clang -O2 -c -I Sources/CUserfaultfd/include Sources/CUserfaultfd/memdesc_uffd.c -o "$OUT/CUserfaultfd.o"
UFFD=(-I "$OUT/CUserfaultfd" "$OUT/CUserfaultfd.o")
# PageModel instrumented (the trace and argument parsers live there; Snapshot imports it).
swiftc -O -g -parse-as-library -package-name memdesc $FUZZ -module-name PageModel -I "$OUT/CUserfaultfd" -emit-module -emit-module-path "$OUT/PageModel.swiftmodule" \
  -emit-library -static -o "$OUT/libPageModel.a" $(find Sources/PageModel -name '*.swift')
LINK_PM=(-I "$OUT" -L "$OUT" -lPageModel "${UFFD[@]}")
# zlib is the system's (Sources/CZlib's module map links -lz), not instrumented.
SNAP_DEPS=(-I "$OUT" -L "$OUT" -lPageModel "${UFFD[@]}" -lSystemPackage "$OUT/CSystem.o" -I Sources/CZlib -I "$SYS/Sources/CSystem/include")
needs_snapshot_lib=0
for t in "${TARGETS[@]}"; do case $t in snapshot|stream|tracefs|trace|arguments) ;; *) needs_snapshot_lib=1 ;; esac; done
if [[ $needs_snapshot_lib == 1 ]]; then
  mkdir -p "$OUT/snapshot-lib"
  swiftc -O -g -parse-as-library -package-name memdesc $FUZZ -module-name Snapshot "${SNAP_DEPS[@]}" \
    -emit-module -emit-module-path "$OUT/snapshot-lib/Snapshot.swiftmodule" \
    -emit-library -static -o "$OUT/snapshot-lib/libSnapshot.a" Sources/Snapshot/*.swift
fi
build() {
  local t=$1
  case $t in
    snapshot)
      # Compiled into the Snapshot module: it reaches internal readers.
      swiftc -O -g -parse-as-library -package-name memdesc $FUZZ -module-name Snapshot "${SNAP_DEPS[@]}" \
        Sources/Snapshot/*.swift Fuzz/SnapshotFuzz.swift -o "$OUT/snapshot-fuzz" ;;
    stream)
      swiftc -O -g -parse-as-library -package-name memdesc $FUZZ -module-name Snapshot "${SNAP_DEPS[@]}" \
        Sources/Snapshot/*.swift Fuzz/StreamFuzz.swift -o "$OUT/stream-fuzz" ;;
    tracefs)
      swiftc -O -g -parse-as-library -package-name memdesc $FUZZ -module-name Snapshot "${SNAP_DEPS[@]}" \
        Sources/Snapshot/*.swift Fuzz/TracefsFuzz.swift -o "$OUT/tracefs-fuzz" ;;
    trace) swiftc -O -g -parse-as-library -package-name memdesc $FUZZ "${LINK_PM[@]}" Fuzz/TraceFuzz.swift -o "$OUT/trace-fuzz" ;;
    arguments) swiftc -O -g -parse-as-library -package-name memdesc $FUZZ "${LINK_PM[@]}" Fuzz/ArgumentFuzz.swift -o "$OUT/arguments-fuzz" ;;
    *)
      local flag
      flag=FUZZ_$(echo "$t" | tr 'a-z-' 'A-Z_')
      swiftc -O -g -parse-as-library -package-name memdesc $FUZZ -D "$flag" -I "$OUT/snapshot-lib" -L "$OUT/snapshot-lib" -lSnapshot "${SNAP_DEPS[@]}" -lz \
        Fuzz/ProcTextFuzz.swift -o "$OUT/$t-fuzz" ;;
  esac
}
for t in "${TARGETS[@]}"; do
  build "$t"
  mkdir -p "Fuzz/corpus/$t"
  if [[ -z "$(ls -A "Fuzz/corpus/$t")" ]]; then
    cp "Fuzz/seeds/$t"/* "Fuzz/corpus/$t/"
    # Seeds a merge left at the old place (plain files in Fuzz/seeds/) belong to the snapshot target.
    [[ $t == snapshot ]] && find Fuzz/seeds -maxdepth 1 -type f -exec cp {} "Fuzz/corpus/$t/" \;
  fi
  echo "== $t: $SECONDS_TO_RUN s"
  # Text inputs longer than a few KiB only repeat lines: 8 KiB keeps the parsers' runs fast.
  maxlen=8192
  [[ $t == snapshot ]] && maxlen=65536
  [[ $t == tracefs ]] && maxlen=16384
  "$OUT/$t-fuzz" -max_total_time="$SECONDS_TO_RUN" -max_len=$maxlen -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="Fuzz/findings/$t-" -print_final_stats=1 "$@" "Fuzz/corpus/$t" 2>&1 | tee "$OUT/$t.log" | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==|SUMMARY)' || true
  echo "$(date -u +%Y-%m-%dT%H:%MZ) $t max_len $maxlen: $(grep -E 'stat::number_of_executed_units' "$OUT/$t.log" | awk '{print $2}') executions in $SECONDS_TO_RUN s" >> "$OUT/runs.log"
done
