#!/bin/bash
# Issue 13's replay speed: events per second per era of `memdesc replay` (release), and
# the replay's time per event against reading (inflating and loading) the events alone,
# both measured inside each run (so the ratio is of one process at one load); RUNS runs
# (default 5), medians with the min-max spread. Goal: at least 5 M events/s per era.
#
#   Benchmarks/replay.sh                  # records the input first if it is missing
#   REC=web.mdrec RUNS=9 Benchmarks/replay.sh
# The input (REC, default $REPLAY_DIR/load10.mdrec, REPLAY_DIR default /work/tmp/replay):
# 10 s of `memdesc record` while Tests/MemdescCLITests/Helpers/pageload.py writes and
# frees 1 GiB of anonymous memory and 1 GiB of page cache (needs root to record once).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${REPLAY_DIR:-/work/tmp/replay}
runs=${RUNS:-5}
rec=${REC:-$dir/load10.mdrec}
mkdir -p "$dir"
cd "$root"
swift build -c release --product memdesc >/dev/null
m=$root/.build/release/memdesc
if [ ! -s "$rec" ]; then
  [ "$(id -u)" = 0 ] || { echo "no $rec, and recording one needs root" >&2; exit 1; }
  head -c 32M /dev/urandom > "$dir/read.dat"
  "$m" record --duration 10 --no-progress -o "$rec" > "$dir/record.txt" &
  rpid=$!
  sleep 1
  python3 Tests/MemdescCLITests/Helpers/pageload.py 1024 "$dir/read.dat" 1024
  wait "$rpid"
  cat "$dir/record.txt"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "replay rows, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $rec"
for r in $(seq "$runs"); do "$m" replay "$rec" --format json -o "$out/r$r.json"; done
python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
rows = [json.load(open(f"{out}/r{r}.json")) for r in range(1, runs + 1)]
print(f"{rows[0]['eras'][0]['events']} events; models start from the start snapshot: {rows[0]['from_start_snapshot']}")
print("| era | M events/s (replay: decode + model) | model ns/event | decode ns/event | replay / decode | goal >= 5 M/s |")
print("|---|---|---|---|---|---|")
for i, e in enumerate(rows[0]["eras"]):
    eps = [r["eras"][i]["events_per_second"] / 1e6 for r in rows]
    model = [r["eras"][i]["model_ns_per_event"] for r in rows]
    dec = [r["eras"][i]["decode_ns_per_event"] for r in rows]
    ratio = [r["eras"][i]["replay_to_decode_ratio"] for r in rows]
    med = statistics.median
    print(f"| {e['era']} | {med(eps):.2f} ({min(eps):.2f}-{max(eps):.2f}) | {med(model):.1f} | {med(dec):.1f} | "
          f"{med(ratio):.1f}x ({min(ratio):.1f}-{max(ratio):.1f}) | {'met' if med(eps) >= 5 else 'NOT met'} |")
PY
