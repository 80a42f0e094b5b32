#!/bin/bash
# Checks that two memdesc binaries print the same bytes for every scan over every
# fixture: page-types tables (well-known and raw), analyze in each format, the HTML
# report, and the cgroup breakdown. Run it with the binary of the base commit and the
# one of a change to the scanners; any difference is printed and the exit status is 1.
#
#   Benchmarks/identical.sh OLD NEW
#   Benchmarks/identical.sh /tmp/memdesc-main .build/release/memdesc
#
# Inputs: every fixture directory and .mdsnap under Tests/SnapshotTests/Fixtures and
# examples/, each fixture's kpageflags as a gzip and raw, and generated dumps that put
# compound runs, HVO stretches and the refused-bit error across chunk boundaries (the
# thp-anon fixture tiled 3x, 2 Mi alternating words, a HugeTLB-only dump); then each bare
# dump through a pipe into NEW (`-`) against the file into OLD.
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD-BINARY NEW-BINARY" >&2; exit 64; }
old=$1 new=$2
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fx=Tests/SnapshotTests/Fixtures

inputs=()
for d in "$fx"/idle "$fx"/thp-anon; do inputs+=("$d"); done
for f in "$fx"/*.mdsnap examples/*.mdsnap "$fx"/fuzz/kpageflags-32k.gz; do inputs+=("$f"); done
for d in idle thp-anon; do
  inputs+=("$fx/$d/kpageflags.gz")
  gzip -dc "$fx/$d/kpageflags.gz" > "$work/$d.kpf"
  inputs+=("$work/$d.kpf")
done
for _ in 1 2 3; do cat "$work/thp-anon.kpf"; done > "$work/tiled3.kpf"
inputs+=("$work/tiled3.kpf")
python3 - "$work" <<'PY'
import struct, sys
w = sys.argv[1]
# Alternating page-cache and anon words: no run longer than one.
open(f"{w}/noruns.kpf", "wb").write(struct.pack('<2Q', 0x828, 0x5868) * (1 << 20))
# HugeTLB only: 2 MiB pages without HVO, then HVO 2 MiB and 1 GiB pages (head + 63 tails
# every 64 PFNs, one word), zero holes between, crossing every 1 Mi-word chunk boundary.
HEAD, TAIL, HUGE = 1 << 15, 1 << 16, 1 << 17
h, t = HEAD | HUGE, TAIL | HUGE
out = bytearray()
def put(word, n): out.extend(struct.pack('<Q', word) * n)
for _ in range(700): put(h, 1); put(t, 511)
put(0, 512 * 37)
for _ in range(600):
    for _ in range(8): put(h, 1); put(t, 63)
for _ in range(3):
    for _ in range(4096): put(h, 1); put(t, 63)
put(0, 4096)
open(f"{w}/hugetlb.kpf", "wb").write(out)
# A word with a bit page-types has no name for (bit 62 is unnamed there), past a chunk.
bad = bytearray(struct.pack('<Q', 0x828) * ((1 << 20) + 5))
bad[8 * ((1 << 20) + 3):8 * ((1 << 20) + 4)] = struct.pack('<Q', 0x828 | (1 << 58))
open(f"{w}/badbit.kpf", "wb").write(bad)
PY
inputs+=("$work/noruns.kpf" "$work/hugetlb.kpf" "$work/badbit.kpf")

failed=0 compared=0
# same NAME ARGS...: runs both binaries, compares stdout, stderr and exit status.
same() {
  local name=$1; shift
  local a="$work/a" b="$work/b"
  "$old" "$@" > "$a.out" 2> "$a.err"; echo "exit $?" >> "$a.err"
  "$new" "$@" > "$b.out" 2> "$b.err"; echo "exit $?" >> "$b.err"
  # The one figure of the run, not of the data: openmetrics' scan time.
  sed -i '/^memdesc_scan_duration_seconds /d' "$a.out" "$b.out"
  compared=$((compared + 1))
  if ! cmp -s "$a.out" "$b.out" || ! cmp -s "$a.err" "$b.err"; then
    failed=$((failed + 1))
    echo "DIFFERENT: $name: $*"
    diff <(cat "$a.out" "$a.err") <(cat "$b.out" "$b.err") | head -20
  fi
  rm -f "$a".* "$b".*
}
# report SRC: both binaries write their report; the HTML names its input and nothing of
# the run, so the files compare whole, and the rest of the output with the paths equalised.
report() {
  local r="$work/report"
  "$old" report "$1" -o "$r.html" > "$r.a.out" 2>&1; echo "exit $?" >> "$r.a.out"
  [ -e "$r.html" ] && mv "$r.html" "$r.a.html" || : > "$r.a.html"
  "$new" report "$1" -o "$r.html" > "$r.b.out" 2>&1; echo "exit $?" >> "$r.b.out"
  [ -e "$r.html" ] && mv "$r.html" "$r.b.html" || : > "$r.b.html"
  compared=$((compared + 1))
  if ! cmp -s "$r.a.out" "$r.b.out" || ! cmp -s "$r.a.html" "$r.b.html"; then
    failed=$((failed + 1))
    echo "DIFFERENT: report $1"
    diff <(cat "$r.a.out" "$r.a.html") <(cat "$r.b.out" "$r.b.html") | head -20
  fi
  rm -f "$r".*
}
for src in "${inputs[@]}"; do
  same summary snapshot summary "$src"
  same summary-raw snapshot summary -r "$src"
  for f in text json csv openmetrics jsonl; do same "analyze-$f" analyze "$src" --format "$f"; done
  report "$src"
  case $src in *.mdsnap|*/idle|*/thp-anon) same cgroup analyze "$src" --by cgroup;; esac
done
# piped SRC: NEW reading SRC from a pipe (`-`) against OLD reading the file: the same
# bytes but for the source line (text, JSON) and the stream's name in an error; the
# page-types tables exactly. For NEW binaries that read streams (MEMDESC_STREAM=0 skips).
piped() {
  local a="$work/p.a" b="$work/p.b" src=$1; shift
  "$old" "$@" "$src" > "$a.out" 2> "$a.err"; echo "exit $?" >> "$a.err"
  cat "$src" | "$new" "$@" - > "$b.out" 2> "$b.err"; echo "exit $?" >> "$b.err"
  sed -i -e '/^source  /d' -e '/"source" : /d' -e 's/"source":"[^"]*",//' -e '/^memdesc_scan_duration_seconds /d' "$a.out" "$b.out"
  sed -i "s|$src|standard input|" "$a.err"
  compared=$((compared + 1))
  if ! cmp -s "$a.out" "$b.out" || ! cmp -s "$a.err" "$b.err"; then
    failed=$((failed + 1))
    echo "DIFFERENT: piped $src: $*"
    diff <(cat "$a.out" "$a.err") <(cat "$b.out" "$b.err") | head -20
  fi
  rm -f "$a".* "$b".*
}
if [ "${MEMDESC_STREAM:-1}" = 1 ]; then
  for src in "${inputs[@]}"; do
    case $src in *.kpf|*kpageflags.gz|*kpageflags-32k.gz) ;; *) continue;; esac
    piped "$src" snapshot summary
    piped "$src" snapshot summary -r
    for f in text json csv jsonl; do piped "$src" analyze --format "$f"; done
  done
fi
echo "$compared outputs compared over ${#inputs[@]} inputs, $failed different"
[ "$failed" = 0 ]
