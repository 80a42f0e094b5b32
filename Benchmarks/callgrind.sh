#!/bin/sh
# Instruction counts (callgrind Ir) of the measured loops, via `ratios --callgrind`.
# Builds Benchmarks/.build-dwarf4 (DWARF 4, which valgrind 3.19 reads) and runs
# valgrind once per loop function and input, with --toggle-collect on that one
# function, so the run's total Ir is exactly that loop's (setup is not counted).
#
#   Benchmarks/callgrind.sh            # both eras, about 3 minutes on 2 cores
#   KEEP=dir Benchmarks/callgrind.sh   # keep the callgrind.out.* files in dir
set -eu
cd "$(dirname "$0")"
swift build -c release --product ratios --scratch-path .build-dwarf4 \
  -Xswiftc -dwarf-version=4 -Xcc -gdwarf-4 >/dev/null
bin=.build-dwarf4/release/ratios
out=${KEEP:-$(mktemp -d)}
mkdir -p "$out"
pfns=1048576   # PFNs per compoundHead array (benchPFNCount)
pairs=1048576  # pairs / ring steps / burst pairs per loop (ratios --callgrind default)

# ir FUNCTION ARGS...: the Ir of BenchSupport.FUNCTION during `ratios --callgrind ARGS`.
ir() {
  f=$1; shift
  sym="\$s12BenchSupport${#f}$f*"   # Swift mangling: length-prefixed name
  file="$out/callgrind.out.$f$(printf '.%s' "$@" | tr -d ' -')"
  valgrind --tool=callgrind --callgrind-out-file="$file" --toggle-collect="$sym" \
    "$bin" --callgrind "$@" >/dev/null 2>"$file.log"
  sed -n 's/^totals: //p' "$file"
}
per() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { printf "%.*f", d, a / b }'; }

printf '| era | measured loop | Ir | Ir per unit |\n|---|---|---:|---:|\n'
for era in classic mask; do
  Era=$(printf '%s' "$era" | sed 's/^./\U&/')
  for pattern in sequential random; do
    s=$(ir "swiftCompoundHead$Era" --era "$era" --part heads --pattern "$pattern")
    c=$(ir "cCompoundHead$Era" --era "$era" --part heads --pattern "$pattern")
    printf '| %s | compoundHead %s, Swift | %s | %s Ir/PFN |\n' "$era" "$pattern" "$s" "$(per "$s" $pfns 2)"
    printf '| %s | compoundHead %s, C | %s | %s Ir/PFN |\n' "$era" "$pattern" "$c" "$(per "$c" $pfns 2)"
    printf '| %s | compoundHead %s, **Swift/C** | | **%s** |\n' "$era" "$pattern" "$(per "$s" "$c" 3)"
  done
  for loop in allocFreePairs allocFreeRing allocFreeBursts; do
    n=$(ir "$loop$Era" --era "$era" --part alloc)
    printf '| %s | %s | %s | %s Ir/pair |\n' "$era" "$loop" "$n" "$(per "$n" $pairs 1)"
  done
  n=$(ir "boot$Era" --era "$era" --part boot)
  printf '| %s | boot 4 GiB | %s | %s Ir/struct page |\n' "$era" "$n" "$(per "$n" 1048576 1)"
done
echo
echo "callgrind files: $out (callgrind_annotate --inclusive=yes FILE)"
