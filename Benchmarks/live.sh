#!/bin/bash
# The two live rows of issue 16 (as in scan.sh), on this machine, with a second binary
# beside the first when given (a build before a change), so that every ratio is taken
# in one hyperfine run: `analyze --live` against `summary --live`, and `snapshot capture`
# against the three kpage files read one after another by cat.
#
#   Benchmarks/live.sh                          # the release build of this checkout
#   Benchmarks/live.sh /tmp/memdesc-main        # and that binary beside it
#   ROUNDS=3 RUNS=10 Benchmarks/live.sh
# Needs root, a readable /proc/kpageflags, hyperfine and python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-1}
runs=${RUNS:-5}
if [ "$(id -u)" != 0 ] || ! head -c 8 /proc/kpageflags >/dev/null 2>&1; then
  echo "live.sh: needs root and a readable /proc/kpageflags" >&2
  exit 1
fi
cd "$root"
swift build -c release --product memdesc >/dev/null
m=$root/.build/release/memdesc
old=${1:-}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "live rows, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD)"
for r in $(seq "$rounds"); do
  args=(-n summary-live "$m snapshot summary --live" -n analyze-live "$m analyze --live"
    -n cat-kpage "sh -c 'cat /proc/kpageflags > /dev/null; cat /proc/kpagecount > /dev/null; cat /proc/kpagecgroup > /dev/null'"
    -n capture "$m snapshot capture -o $out/live.mdsnap")
  [ -n "$old" ] && args+=(-n old-summary-live "$old snapshot summary --live" -n old-analyze-live "$old analyze --live"
    -n old-capture "$old snapshot capture -o $out/old.mdsnap")
  hyperfine -N -w 1 -r "$runs" --export-json "$out/live.$r.json" "${args[@]}" >/dev/null
done
python3 - "$out" "$rounds" "$old" <<'PY'
import json, statistics, sys
out, rounds, old = sys.argv[1], int(sys.argv[2]), sys.argv[3] != ""
rows = []
for r in range(1, rounds + 1):
    d = json.load(open(f"{out}/live.{r}.json"))
    rows.append({x["command"]: x["times"] for x in d["results"]})
def med(cmd): return statistics.median(statistics.median(r[cmd]) for r in rows)
def spread(cmd):
    t = [x for r in rows for x in r[cmd]]
    return f"{min(t):.3f}-{max(t):.3f}"
print("| command | median | min-max |")
print("|---|---|---|")
for cmd in rows[0]: print(f"| {cmd} | {med(cmd):.3f} s | {spread(cmd)} s |")
def ratio(label, a, b, goal):
    rs = [statistics.median(r[a]) / statistics.median(r[b]) for r in rows]
    print(f"{label}: {statistics.median(rs):.2f}x ({min(rs):.2f}-{max(rs):.2f} over rounds), goal <= {goal}x")
ratio("analyze --live vs summary --live", "analyze-live", "summary-live", 1.1)
ratio("capture vs the three kpage files", "capture", "cat-kpage", 0.5)
if old:
    ratio("before: analyze --live vs summary --live", "old-analyze-live", "old-summary-live", 1.1)
    ratio("before: capture vs the three kpage files", "old-capture", "cat-kpage", 0.5)
PY
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
