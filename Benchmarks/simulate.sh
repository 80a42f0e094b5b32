#!/bin/bash
# Issue 16's simulate row: `memdesc simulate --workload mixed` at 16, 32 and 64 GiB in
# one hyperfine run (release), reported as the 64G/16G and 32G/16G ratios of the medians
# (linear is 4x and 2x; the goal is 64G/16G <= 5x), with the min-max spread, and the
# same ratio of CPU time (user + system), which memory pressure from others inflates less.
#
#   Benchmarks/simulate.sh             # RUNS=3 by default
#   RUNS=5 ERAS=classic Benchmarks/simulate.sh
# Needs hyperfine (Debian: apt-get install hyperfine) and python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
eras=${ERAS:-classic,mask,memdesc32,memdesc8}
cd "$root"
swift build -c release --product memdesc >/dev/null
m=$root/.build/release/memdesc
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "simulate row, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), eras $eras"
hyperfine -N -w 1 -r "$runs" --export-json "$out/sim.json" \
  -n 16G "$m simulate --ram 16G --workload mixed --eras $eras" \
  -n 32G "$m simulate --ram 32G --workload mixed --eras $eras" \
  -n 64G "$m simulate --ram 64G --workload mixed --eras $eras" >/dev/null
python3 - "$out/sim.json" <<'PY'
import json, statistics, sys
d = {x["command"]: x["times"] for x in json.load(open(sys.argv[1]))["results"]}
med = {k: statistics.median(v) for k, v in d.items()}
print("| RAM | median | min-max |")
print("|---|---|---|")
for k in ("16G", "32G", "64G"):
    print(f"| {k} | {med[k]:.2f} s | {min(d[k]):.2f}-{max(d[k]):.2f} s |")
r64, r32 = med["64G"] / med["16G"], med["32G"] / med["16G"]
spread = f"{min(d['64G']) / max(d['16G']):.2f}-{max(d['64G']) / min(d['16G']):.2f}"
cpu = {x["command"]: x["user"] + x["system"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"CPU (user + system, hyperfine means): 16G {cpu['16G']:.2f} s, 32G {cpu['32G']:.2f} s, 64G {cpu['64G']:.2f} s; 64G/16G {cpu['64G'] / cpu['16G']:.2f}x")
print(f"64G/16G {r64:.2f}x (spread {spread}; linear 4x, goal <= 5x: {'met' if r64 <= 5 else 'NOT met'}), 32G/16G {r32:.2f}x")
PY
