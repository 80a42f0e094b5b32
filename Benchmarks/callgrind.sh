#!/bin/sh
# Instruction counts (callgrind Ir) of the measured loops, via `ratios --callgrind`.
# Builds Benchmarks/.build-dwarf4 (DWARF 4, which valgrind 3.19 reads) and runs
# valgrind once per loop function and input, with --toggle-collect on that one
# function, so the run's total Ir is exactly that loop's (setup is not counted).
#
#   Benchmarks/callgrind.sh            # both tables, about 4 minutes on 2 cores
#   KEEP=dir Benchmarks/callgrind.sh   # keep the callgrind.out.* files in dir
#   TABLES=model Benchmarks/callgrind.sh   # only the issue 3/4 table (compound: only the first)
#
# The second table (issues 3 and 4, four eras) runs valgrind once per era and part
# without --toggle-collect and reads each loop function's inclusive Ir from
# callgrind_annotate (the largest of its per-file entries, which equals what
# --toggle-collect on that function counts).
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

tables=${TABLES:-compound model}
case " $tables " in *" compound "*)
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
    if [ "$era" = classic ]; then
      # The C reference of the same fast path over the same memory (CReference/Buddy.c).
      cloop=c$(printf '%s' "$loop" | sed 's/^./\U&/')
      c=$(ir "$cloop$Era" --era "$era" --part alloc)
      printf '| %s | %s, C | %s | %s Ir/pair |\n' "$era" "$loop" "$c" "$(per "$c" $pairs 1)"
      printf '| %s | %s, **Swift/C** | | **%s** |\n' "$era" "$loop" "$(per "$n" "$c" 3)"
    fi
  done
  n=$(ir "boot$Era" --era "$era" --part boot)
  printf '| %s | boot 4 GiB | %s | %s Ir/struct page |\n' "$era" "$n" "$(per "$n" 1048576 1)"
done
echo
;; esac

# run NAME ARGS...: one valgrind run of `ratios --callgrind ARGS` collecting everything.
run() {
  f=$1; shift
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out.$f" \
    "$bin" --callgrind "$@" >"$out/callgrind.out.$f.stdout" 2>"$out/callgrind.out.$f.log"
  callgrind_annotate --inclusive=yes --threshold=100 "$out/callgrind.out.$f" >"$out/callgrind.out.$f.txt" 2>/dev/null
}
# incl NAME FUNCTION: inclusive Ir of BenchSupport.FUNCTION in run NAME.
incl() {
  sym="\$s12BenchSupport${#2}$2"
  awk -v s="$sym" 'index($0, s) { gsub(",", "", $1); if ($1 + 0 > m) m = $1 + 0 } END { printf "%d", m }' "$out/callgrind.out.$1.txt"
}
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }

case " $tables " in *" model "*)
pool2m=512; pool1g=2; hvo2m=64; hvo1g=2   # poolPages2M, poolPages1G, hvoPages2M, hvoPages1G
fpairs=65536   # folio pairs per loop (the memdesc eras take about 8000 Ir per pair)
printf '| era | measured loop (issues 3 and 4) | Ir | Ir per unit |\n|---|---|---:|---:|\n'
for era in classic mask memdesc32 memdesc8; do
  Era=$(printf '%s' "$era" | sed 's/^./\U&/')
  run "folio.$era" --era "$era" --part folio --pattern random
  for fn in "pageFolio$Era" "folioContaining$Era" folioContainingAny; do
    n=$(incl "folio.$era" "$fn"); row "$era" "$fn, random PFNs" "$n" "$(per "$n" $pfns 1) Ir/PFN"
  done
  run "folioalloc.$era" --era "$era" --part folioalloc --pairs $fpairs
  run "folioallockept.$era" --era "$era" --part folioalloc --pairs $fpairs --keep-one
  for fn in "folioAllocFree$Era" folioAllocFreeAny; do
    n=$(incl "folioalloc.$era" "$fn"); row "$era" "$fn" "$n" "$(per "$n" $fpairs 1) Ir/pair"
  done
  n=$(incl "folioallockept.$era" "folioAllocFree$Era"); row "$era" "folioAllocFree$Era, one folio kept" "$n" "$(per "$n" $fpairs 1) Ir/pair"
  for size in 2m 1g; do
    run "hvo$size.$era" --era "$era" --part "hvo$size"
    pages=$([ $size = 2m ] && echo $hvo2m || echo $hvo1g)
    n=$(incl "hvo$size.$era" "hvoOptimizeRestore$Era"); row "$era" "hvoOptimizeRestore$Era, $size pages" "$n" "$(per "$n" "$pages" 0) Ir/page"
  done
  for size in 2m 1g; do
    pages=$([ $size = 2m ] && echo $pool2m || echo $pool1g)
    for hvo in off on; do
      run "pool$size$hvo.$era" --era "$era" --part "pool$size" --hvo $hvo
      g=$(incl "pool$size$hvo.$era" "hugetlbGrow$Era"); s=$(incl "pool$size$hvo.$era" "hugetlbShrink$Era")
      row "$era" "pool $size: grow by $pages, HVO $hvo" "$g" "$(per "$g" "$pages" 0) Ir/page"
      row "$era" "pool $size: shrink by $pages, HVO $hvo" "$s" "$(per "$s" "$pages" 0) Ir/page"
    done
  done
done
echo
;; esac
echo "callgrind files: $out (callgrind_annotate --inclusive=yes FILE)"
