#!/bin/bash
# The snapshot-scan rows of issue 16, each a ratio against `cat` of the same input, measured
# in one hyperfine run per round (cat and the commands side by side), ROUNDS rounds
# (default 3), reported as the median ratio over the rounds with its min-max spread.
#
#   Benchmarks/scan.sh                 # release build, inputs generated in $SCAN_DIR
#   ROUNDS=5 RUNS=5 Benchmarks/scan.sh
#   SCAN_STREAM=0 Benchmarks/scan.sh   # without the streamed 16 TiB row (about a minute)
#
# Inputs (made once, kept in SCAN_DIR, default /work/tmp/scan; not in the repository):
#   tiled.kpf    the thp-anon fixture's kpageflags tiled 41x: 2 GiB, a 1 TiB host
#   noruns.kpf   2 GiB of alternating words (page cache, anon): no run longer than one
#   big5.kpf.gz  a gzip of the fixture tiled 103x (5 GiB, a 2.5 TiB host), for peak RSS
#   zeros4.gz    a gzip of 4 GiB of zeros, for peak RSS
# The 16 TiB host's dump (the fixture tiled 655x: 32 GiB) is never on disk: the generator
# Benchmarks/gen-kpageflags.c (compiled into SCAN_DIR) writes it to a pipe, into
# `memdesc analyze -` against `cat > /dev/null`.
# Needs hyperfine (Debian: apt-get install hyperfine), GNU time, python3, cc; the live rows
# need root and a readable /proc/kpageflags (skipped with a note otherwise).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${SCAN_DIR:-/work/tmp/scan}
rounds=${ROUNDS:-3}
runs=${RUNS:-3}
mkdir -p "$dir"
cd "$root"
swift build -c release --product memdesc >/dev/null
m=$root/.build/release/memdesc
fixture=Tests/SnapshotTests/Fixtures/thp-anon/kpageflags.gz

tile() {  # tile N FILE: the fixture's words N times
  [ -s "$2" ] && return
  gzip -dc "$fixture" > "$dir/one.kpf"
  for _ in $(seq "$1"); do cat "$dir/one.kpf"; done > "$2.tmp" && mv "$2.tmp" "$2"
}
tile 41 "$dir/tiled.kpf"
if [ ! -s "$dir/noruns.kpf" ]; then
  python3 -c "
import struct, sys
block = struct.pack('<2Q', 0x828, 0x5868) * 65536
with open(sys.argv[1], 'wb') as f:
    for _ in range(2048): f.write(block)" "$dir/noruns.kpf.tmp" && mv "$dir/noruns.kpf.tmp" "$dir/noruns.kpf"
fi
if [ ! -s "$dir/big5.kpf.gz" ]; then
  tile 103 "$dir/big5.kpf"
  gzip -1 -c "$dir/big5.kpf" > "$dir/big5.kpf.gz.tmp" && mv "$dir/big5.kpf.gz.tmp" "$dir/big5.kpf.gz"
fi
[ -s "$dir/zeros4.gz" ] || { head -c 4G /dev/zero | gzip -1 > "$dir/zeros4.gz.tmp" && mv "$dir/zeros4.gz.tmp" "$dir/zeros4.gz"; }
stream=${SCAN_STREAM:-1}
gen=$dir/gen-kpageflags
if [ "$stream" = 1 ] && { [ ! -x "$gen" ] || [ "$root/Benchmarks/gen-kpageflags.c" -nt "$gen" ]; }; then
  cc -O2 -o "$gen" "$root/Benchmarks/gen-kpageflags.c"
fi
[ "$stream" = 1 ] && [ ! -s "$dir/one.kpf" ] && gzip -dc "$fixture" > "$dir/one.kpf"

live=0
if [ "$(id -u)" = 0 ] && head -c 8 /proc/kpageflags >/dev/null 2>&1; then live=1; fi

echo "scan rows, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(git -C "$root" rev-parse --short HEAD)"
out=$(mktemp -d)
for r in $(seq "$rounds"); do
  cat "$dir/tiled.kpf" "$dir/noruns.kpf" > /dev/null  # cached
  hyperfine -N -w 1 -r "$runs" --export-json "$out/files.$r.json" \
    -n cat "cat $dir/tiled.kpf" \
    -n summary "$m snapshot summary $dir/tiled.kpf" \
    -n analyze "$m analyze $dir/tiled.kpf" \
    -n report "$m report $dir/tiled.kpf -o $out/r.html" \
    -n cat-noruns "cat $dir/noruns.kpf" \
    -n analyze-noruns "$m analyze $dir/noruns.kpf" >/dev/null
  if [ "$live" = 1 ]; then
    hyperfine -N -w 1 -r "$runs" --export-json "$out/live.$r.json" \
      -n summary-live "$m snapshot summary --live" \
      -n analyze-live "$m analyze --live" \
      -n cat-kpage "sh -c 'cat /proc/kpageflags > /dev/null; cat /proc/kpagecount > /dev/null; cat /proc/kpagecgroup > /dev/null'" \
      -n capture "$m snapshot capture -o $out/live.mdsnap" >/dev/null
  fi
done
if [ "$stream" = 1 ]; then
  # 32 GiB through a pipe, STREAM_RUNS runs each (default 3, about 6 s a run here): the same
  # generator feeds both; peak RSS of memdesc alone by GNU time (its largest run).
  hyperfine -N -r "${STREAM_RUNS:-3}" --export-json "$out/huge.json" \
    -n cat "sh -c '$gen $dir/one.kpf 655 | cat > /dev/null'" \
    -n analyze "sh -c '$gen $dir/one.kpf 655 | /usr/bin/time -a -f %M -o $out/huge.rss $m analyze - > /dev/null'" >/dev/null
fi
python3 - "$out" "$rounds" "$live" <<'PY'
import json, os, statistics, sys
out, rounds, live = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
def medians(kind):
    rows = []
    for r in range(1, rounds + 1):
        d = json.load(open(f"{out}/{kind}.{r}.json"))
        rows.append({x["command"]: statistics.median(x["times"]) for x in d["results"]})
    return rows
def row(label, rows, cmd, base, goal):
    ratios = [r[cmd] / r[base] for r in rows]
    t = statistics.median(r[cmd] for r in rows)
    b = statistics.median(r[base] for r in rows)
    ok = "yes" if statistics.median(ratios) <= goal else "no"
    print(f"| {label} | {t:.3f} s | {b:.3f} s | {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) | <= {goal}x | {ok} |")
print("| row | command median | baseline median | ratio median (min-max over rounds) | goal | met |")
print("|---|---|---|---|---|---|")
f = medians("files")
row("snapshot summary, 2 GiB dump, vs cat", f, "summary", "cat", 1.1)
row("analyze (4 eras), 2 GiB dump, vs cat", f, "analyze", "cat", 1.5)
row("analyze, no-runs 2 GiB dump, vs cat", f, "analyze-noruns", "cat-noruns", 3)
row("report, 2 GiB dump, vs cat", f, "report", "cat", 2)
if live:
    l = medians("live")
    row("analyze --live vs summary --live", l, "analyze-live", "summary-live", 1.1)
    row("live capture vs the three kpage files read one after another", l, "capture", "cat-kpage", 0.5)
else:
    print("| live rows | skipped: needs root and /proc/kpageflags | | | | no |")
if os.path.exists(f"{out}/huge.json"):
    t = {x["command"]: x["times"] for x in json.load(open(f"{out}/huge.json"))["results"]}
    d = {k: statistics.median(v) for k, v in t.items()}
    rss = max(int(w) for w in open(f"{out}/huge.rss").read().split() if w.isdigit()) / 1024
    ok = "yes" if d["analyze"] / d["cat"] <= 1.5 and rss <= 256 else "no"
    spread = f"{min(t['analyze']) / d['cat']:.2f}-{max(t['analyze']) / d['cat']:.2f}"
    print(f"| analyze -, 16 TiB host's 32 GiB dump streamed, vs cat; peak RSS | {d['analyze']:.3f} s, {rss:.1f} MiB | {d['cat']:.3f} s | {d['analyze'] / d['cat']:.2f}x ({spread} over {len(t['analyze'])} runs, against cat's median) | <= 1.5x, <= 256 MiB | {ok} |")
else:
    print("| analyze -, 16 TiB host's 32 GiB dump streamed, vs cat; peak RSS | not run (SCAN_STREAM=0) | | | <= 1.5x, <= 256 MiB | no |")
print("| order-0 alloc+free, Swift vs C reference | measured by `ratios --skip-heads --skip-boot --skip-folio --skip-hvo` (its Swift vs C table; Ir/pair: callgrind.sh) | | | <= 1.2x | see ratios |")
PY
echo
echo "peak RSS (GNU time, one run each):"
rss() { /usr/bin/time -f "$1: %e s, peak RSS %M KiB, exit %x" "${@:2}" >/dev/null 2>"$out/rss.err" || true; tail -1 "$out/rss.err"; }
rss "analyze big5.kpf.gz (5 GiB, 2.5 TiB host)" "$m" analyze "$dir/big5.kpf.gz"
rss "report big5.kpf.gz" "$m" report "$dir/big5.kpf.gz" -o "$out/r.html"
rss "analyze zeros4.gz (4 GiB of zeros)" "$m" analyze "$dir/zeros4.gz"
[ -s "$dir/big5.kpf" ] && rss "analyze big5.kpf (raw 5 GiB)" "$m" analyze "$dir/big5.kpf"
[ -s "$dir/big5.kpf" ] && rss "report big5.kpf (raw 5 GiB)" "$m" report "$dir/big5.kpf" -o "$out/r.html"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$out"
