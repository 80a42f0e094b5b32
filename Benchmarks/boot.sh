#!/bin/bash
# The boot row of issue 16: `boot --ram 1T` in every era, goal <= 5 s, host memory as
# README documents. One hyperfine run over the four eras (RUNS runs each, default 5),
# medians and min-max spread, then one run each under GNU time for peak RSS and the
# memmap_init line (lazy: built on first touch; eager: why not).
#
#   Benchmarks/boot.sh                     # release build, 1T
#   RAM=256G RUNS=3 Benchmarks/boot.sh
#   OLD=/tmp/memdesc-main Benchmarks/boot.sh   # also a "before" binary, side by side,
#                                              # in OLD_ERAS (default memdesc32 memdesc8:
#                                              # an eager 1T classic/mask needs 16 GiB free)
#
# Takes /tmp/memdesc-bigmem.lock around the runs (an eager 1T boot of a 64-byte era
# commits 16 GiB; OLD binaries are eager). Needs hyperfine, GNU time, python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ram=${RAM:-1T}
runs=${RUNS:-5}
cd "$root"
swift build -c release --product memdesc >/dev/null
m=$root/.build/release/memdesc
eras="classic mask memdesc32 memdesc8"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "boot row, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(git -C "$root" rev-parse --short HEAD), MemAvailable $(awk '/MemAvailable/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
cmds=()
for e in $eras; do cmds+=(-n "new $e" "$m boot --ram $ram --era $e"); done
if [ -n "${OLD:-}" ]; then
  for e in ${OLD_ERAS:-memdesc32 memdesc8}; do cmds+=(-n "old $e" "$OLD boot --ram $ram --era $e"); done
fi
flock /tmp/memdesc-bigmem.lock hyperfine -N -w 1 -r "$runs" --export-json "$out/boot.json" "${cmds[@]}" >/dev/null
python3 - "$out/boot.json" <<'PY'
import json, statistics, sys
print(f"{'command':<16} {'median s':>9} {'min s':>7} {'max s':>7} {'user s':>7} {'sys s':>7}  goal <= 5 s")
for r in json.load(open(sys.argv[1]))["results"]:
    t = r["times"]
    med = statistics.median(t)
    print(f"{r['command']:<16} {med:9.3f} {min(t):7.3f} {max(t):7.3f} {r['user']:7.3f} {r['system']:7.3f}  {'met' if med <= 5 else 'NOT met'}")
PY
echo
printf '%-16s %12s  %s\n' command "peak RSS" "memmap init"
for e in $eras; do
  init=$(flock /tmp/memdesc-bigmem.lock /usr/bin/time -f '%M' -o "$out/rss" "$m" boot --ram "$ram" --era "$e" | grep '^memmap init' | sed 's/^memmap init *//')
  printf '%-16s %8.1f MiB  %s\n' "new $e" "$(echo "$(cat "$out/rss") / 1024" | bc -l)" "$init"
done
if [ -n "${OLD:-}" ]; then
  for e in ${OLD_ERAS:-memdesc32 memdesc8}; do
    flock /tmp/memdesc-bigmem.lock /usr/bin/time -f '%M' -o "$out/rss" "$OLD" boot --ram "$ram" --era "$e" >/dev/null
    printf '%-16s %8.1f MiB  %s\n' "old $e" "$(echo "$(cat "$out/rss") / 1024" | bc -l)" "eager"
  done
fi
