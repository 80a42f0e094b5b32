#!/bin/bash
# Issue 16's test row: `swift test` (debug) on this machine in at most 150 s, no test
# slower than 20 s. Builds the tests first (`swift build --build-tests`, not counted),
# then times `swift test --skip-build` alone, reads Swift Testing's event stream (the
# JSON records of every test's, suite's and test case's start and end) and prints the
# total wall time, the slowest tests and suites (timed as below), and whether the row
# holds, with the load average at the start and the end.
#
#   Benchmarks/tests.sh                       # the whole suite
#   Benchmarks/tests.sh --filter FleetRows    # arguments go to `swift test`
#   TOP=25 KEEP=/tmp/run1 Benchmarks/tests.sh # more rows; keep the log and event stream
#   Benchmarks/tests.sh --report /tmp/run1    # print a kept run again
#   SERIAL=1 Benchmarks/tests.sh              # one test at a time (--no-parallel)
#
# Swift Testing starts every test at once and runs their bodies on a pool of one thread
# per CPU, so in a parallel run a test's own start-to-end time includes its wait for a
# thread. A parameterized test's cases are timed from the moment each body starts, so
# their sum is its running time; a plain test's is known only as that upper bound, and
# the row's "no test slower than 20 s" is then judged on the tests timed exactly.
# SERIAL=1 runs one test at a time: then every test's time is its own (the total is the
# sum, not the row's parallel total).
#
# Exit status: 0 when the row holds (a serial run: when no test is over 20 s), 1 when it
# does not or a test failed, 2 when the run produced no event stream. A filtered run
# reports the same figures for its subset.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
top=${TOP:-15}
total_limit=${TOTAL_LIMIT:-150}
test_limit=${TEST_LIMIT:-20}
cd "$root"

if [ "${1:-}" = "--report" ]; then
  # Re-read a run kept with KEEP=DIR.
  [ -s "${2:-}/meta" ] || { echo "usage: $0 --report DIR (a KEEP=DIR run)" >&2; exit 64; }
  work=$2
else
  if [ -n "${KEEP:-}" ]; then
    work=$KEEP
    mkdir -p "$work"
  else
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    work=$scratch
  fi
  echo "building the tests (not timed) ..."
  build_start=$(date +%s.%N)
  swift build --build-tests >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; echo "tests.sh: the build failed" >&2; exit 1; }
  build_end=$(date +%s.%N)
  rm -f "$work/events.jsonl"
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "swift test --skip-build ${SERIAL:+--no-parallel }$*: started $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, load $load_start"
  start=$(date +%s.%N)
  serial=${SERIAL:-0}
  parallel=()
  [ "$serial" = 1 ] && parallel=(--no-parallel)
  swift test --skip-build "${parallel[@]}" --event-stream-output-path "$work/events.jsonl" --event-stream-version 0 "$@" >"$work/test.log" 2>&1
  status=$?
  end=$(date +%s.%N)
  load_end=$(cut -d' ' -f1-3 /proc/loadavg)
  printf '%s\n' "$status" "$start" "$end" "$build_start" "$build_end" "$load_start" "$load_end" \
    "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$(date -u +%Y-%m-%dT%H:%MZ)" "$serial" >"$work/meta"
fi

python3 - "$work" "$top" "$total_limit" "$test_limit" <<'PY'
import json, os, re, sys
work, top, total_limit, test_limit = sys.argv[1:]
events_path, log_path = f"{work}/events.jsonl", f"{work}/test.log"
status, start, end, build_start, build_end, load_start, load_end, commit, when, serial = open(f"{work}/meta").read().split("\n")[:10]
serial = serial == "1"
status, top = int(status), int(top)
wall, build = float(end) - float(start), float(build_end) - float(build_start)
total_limit, test_limit = float(total_limit), float(test_limit)

if not os.path.exists(events_path) or os.path.getsize(events_path) == 0:
    print(f"tests.sh: swift test wrote no event stream (exit {status}); its last lines:", file=sys.stderr)
    print("".join(open(log_path, errors="replace").readlines()[-30:]), file=sys.stderr)
    sys.exit(2)

tests = {}     # id -> {"name", "suite": bool, "parameterized": bool}
started, ended, skipped, failed = {}, {}, set(), set()
case_start, cases = {}, {}   # (test, case id) -> start; test -> [(seconds, case name)]
for line in open(events_path, errors="replace"):
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    p = rec.get("payload", {})
    if rec.get("kind") == "test":
        tests[p["id"]] = {"name": p.get("name", p["id"]), "suite": p.get("kind") == "suite",
                          "parameterized": p.get("isParameterized", False)}
        continue
    if rec.get("kind") != "event":
        continue
    kind, tid = p.get("kind"), p.get("testID")
    t = p.get("instant", {}).get("since1970")
    if tid is None or t is None:
        continue
    if kind == "testStarted":
        started[tid] = t
    elif kind == "testEnded":
        ended[tid] = t
    elif kind == "testSkipped":
        skipped.add(tid)
    elif kind in ("testCaseStarted", "testCaseEnded"):
        case = p.get("_testCase", {})
        key = (tid, case.get("id", ""))
        if kind == "testCaseStarted":
            case_start[key] = t
        elif key in case_start:
            cases.setdefault(tid, []).append((t - case_start.pop(key), case.get("displayName", "")))
    elif kind == "issueRecorded" and not p.get("issue", {}).get("isKnown", False):
        failed.add(tid)

def label(tid):
    # "Module.Suite/func(_:)/File.swift:12:3" -> "Suite/func(_:)"
    parts = tid.split("/")
    if re.match(r".*\.swift:\d+:\d+$", parts[-1]):
        parts = parts[:-1]
    parts[0] = parts[0].split(".", 1)[-1]
    return "/".join(parts)

def suite_of(tid):
    return tid.split("/")[0]

# A test's time: in a serial run, its start to its end; in a parallel run, the sum of its
# cases' times for a parameterized test (exact) and its start to its end, an upper bound,
# for the others (see the header).
durations = {tid: ended[tid] - started[tid] for tid in ended if tid in started}
funcs = {tid for tid in tests if not tests[tid]["suite"] and tid in durations}
run, exact = {}, {}
for tid in funcs:
    if serial or not tests[tid]["parameterized"]:
        run[tid], exact[tid] = durations[tid], serial
    else:
        run[tid], exact[tid] = sum(d for d, _ in cases.get(tid, [])), True
suite_run = {}
for tid in funcs:
    suite_run[suite_of(tid)] = suite_run.get(suite_of(tid), 0) + run[tid]
# A failure inside a suite is recorded against its test; count tests, not suites.
failed_tests = sorted(label(t) for t in failed if not tests.get(t, {}).get("suite", False))
summary = ""
for line in open(log_path, errors="replace"):
    if re.search(r"Test run with \d+ tests? (in \d+ suites? )?(passed|failed)", line):
        summary = line.strip()
busy = sum(run[t] for t in funcs if exact[t])
n_skipped = sum(1 for t in skipped if t in tests and not tests[t]["suite"])

print(f"{when}, commit {commit}; build of the tests {build:.1f} s (not counted)")
print(f"swift test: wall {wall:.1f} s, exit {status}; {len(funcs)} tests run, {n_skipped} skipped, "
      f"{len(suite_run)} suites; load at start {load_start}, at end {load_end}")
print(f"{'serial run: each test alone' if serial else 'parallel run'}; tests timed exactly: {sum(1 for t in funcs if exact[t])}, {busy:.1f} s in all")
if summary:
    print(f"Swift Testing: {summary}")
def show(tid):
    extra = ""
    if tests[tid]["parameterized"] and cases.get(tid):
        worst = max(cases[tid])
        extra = f"  [{len(cases[tid])} cases, longest {worst[0]:.2f} s: {worst[1][:50]}]"
    print(f"  {run[tid]:7.2f} {durations.get(tid, float('nan')):7.1f}  {label(tid)}{extra}{'  FAILED' if label(tid) in failed_tests else ''}")

timed = [t for t in funcs if exact[t]]
print(f"\n{min(top, len(timed))} slowest tests: their time (s), then Swift Testing's start-to-end (s):")
for tid in sorted(timed, key=lambda t: -run[t])[:top]:
    show(tid)
if not serial:
    plain = [t for t in funcs if not exact[t]]
    print(f"{len(plain)} plain tests are not timed by themselves in a parallel run (SERIAL=1 times them); "
          f"their start-to-end times run up to {max((durations[t] for t in plain), default=0):.1f} s")
added = ", then their tests' times added (s)" if serial else ""
print(f"\n{min(top, len(suite_run))} slowest suites: Swift Testing's start-to-end (s){added}:")
for sid in sorted(suite_run, key=lambda t: -(suite_run[t] if serial else durations.get(t, 0)))[:top]:
    print(f"  {durations.get(sid, float('nan')):7.1f}{f' {suite_run[sid]:7.2f}' if serial else ''}  {label(sid)}")

slow = [(label(t), run[t]) for t in funcs if run[t] > test_limit and exact[t]]
slowest = max((run[t] for t in funcs if exact[t]), default=0)
n_exact = sum(1 for t in funcs if exact[t])
ok_total = wall <= total_limit and not serial
each = ("met" if not slow else "NOT met: " + ", ".join(f"{n} {d:.1f} s" for n, d in slow)) + \
    ("" if serial else f" (of the {n_exact} tests timed exactly; SERIAL=1 times the other {len(funcs) - n_exact})")
total_text = "not measured (serial run)" if serial else f"{wall:.1f} s {'<=' if wall <= total_limit else '>'} {total_limit:g} ({'met' if ok_total else 'NOT met'})"
print(f"\nrow 'swift test <= {total_limit:g} s, no test slower than {test_limit:g} s': total {total_text}; "
      f"slowest test timed exactly {slowest:.1f} s; per test: {each}")
if failed_tests or status != 0:
    print(f"tests failed (exit {status}): {', '.join(failed_tests) or 'see the log'}")
sys.exit(0 if (ok_total or serial) and not slow and status == 0 and not failed_tests else 1)
PY
