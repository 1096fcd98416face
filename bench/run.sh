#!/usr/bin/env bash
# Throughput and memory benchmark for `refctrace check`.
#
# Builds refctrace and the trace generator in Release, generates a valid trace
# (bench/out/trace-<N>.ndjson, kept between runs), then times `refctrace check`
# on it: file input, standard input, and --format json. Prints figures and the
# targets (>= 3 M events/s, <= 64 MB peak RSS) as PASS/MISS; it is a report,
# not a test, and exits 0 unless something could not run.
#
# usage: bench/run.sh [--events N] [--runs R] [--no-build]
set -euo pipefail

events=2000000
runs=3
build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) events="${2:?--events needs a value}"; shift 2 ;;
    --runs) runs="${2:?--runs needs a value}"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$events" =~ ^[0-9]+$ && "$events" -ge 2 ]] || { echo "run.sh: --events must be an integer >= 2" >&2; exit 2; }
[[ "$runs" =~ ^[0-9]+$ && "$runs" -ge 1 ]] || { echo "run.sh: --runs must be an integer >= 1" >&2; exit 2; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # repo root, whatever the caller's cwd

TIME=/usr/bin/time
if [[ ! -x "$TIME" ]]; then
  echo "run.sh: $TIME not found: install the Debian package 'time' (apt-get install -y time)" >&2
  exit 2
fi

BUILD_DIR="build-bench"
if [[ "$build" -eq 1 ]]; then
  echo "== building (Release) in $BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target refctrace refctrace_bench_gen
fi
TOOL="$BUILD_DIR/refctrace"
GEN="$BUILD_DIR/refctrace_bench_gen"
for f in "$TOOL" "$GEN"; do
  [[ -x "$f" ]] || { echo "run.sh: $f not built" >&2; exit 2; }
done

mkdir -p bench/out
if [[ "$events" -eq 2000000 ]]; then
  trace=bench/out/trace-2m.ndjson
else
  trace="bench/out/trace-${events}.ndjson"
fi
if [[ ! -s "$trace" ]]; then
  echo "== generating $trace ($events events)"
  "$GEN" --events "$events" -o "$trace.tmp"
  mv "$trace.tmp" "$trace"
fi
bytes=$(stat -c %s "$trace")
echo "== trace: $trace, $events events, $bytes bytes"

warned=0
# run_case NAME CMD...: warm-up run, then $runs timed runs; prints one result line.
# The command's stdout goes to a scratch file (not the terminal) and its exit
# status must be 0: the generated trace has no findings.
run_case() {
  local name="$1"; shift
  local out tfile rc best="" rss=0 line wall maxrss case_warned=0
  out=$(mktemp) tfile=$(mktemp)
  "$@" >"$out" 2>&1 && rc=0 || rc=$?   # warm the page cache
  for ((i = 0; i < runs; i++)); do
    if "$TIME" -o "$tfile" -f '%e %M' "$@" >"$out" 2>&1; then rc=0; else rc=$?; fi
    if [[ "$rc" -ne 0 && "$case_warned" -eq 0 ]]; then
      warned=1 case_warned=1
      echo
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
      echo "!!! WARNING: '$name' exited with status $rc on the generated trace."
      echo "!!! The trace is valid by construction, so exit 0 was expected: either"
      echo "!!! bench/gen_trace.cpp or the model is wrong. First lines of output:"
      head -n 15 "$out" | sed 's/^/!!!   /'
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
      echo
    fi
    line=$(tail -n 1 "$tfile")
    wall=${line% *}
    maxrss=${line#* }
    if [[ -z "$best" ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$wall; fi
    if ((maxrss > rss)); then rss=$maxrss; fi
  done
  rm -f "$out" "$tfile"
  awk -v name="$name" -v ev="$events" -v by="$bytes" -v wall="$best" -v rss="$rss" -v rc="$rc" 'BEGIN {
    w = (wall > 0) ? wall : 0.005            # /usr/bin/time resolution is 10 ms
    eps = ev / w; mbs = by / 1e6 / w; rssmb = rss / 1024
    printf "%-14s %12d %14d %9.2f %13.2f %9.1f %10.1f   %-4s %-4s %s\n", name, ev, by, wall,
           eps / 1e6, mbs, rssmb, (eps >= 3e6 ? "PASS" : "MISS"), (rssmb <= 64 ? "PASS" : "MISS"),
           (rc == 0 ? "0" : rc " !!")
  }'
}

echo "== $runs timed runs per case after one warm-up; best wall time, max peak RSS"
printf "%-14s %12s %14s %9s %13s %9s %10s   %-4s %-4s %s\n" case events bytes best_s \
  "M_events/s" "MB/s" peak_RSS_MB "3M/s" "64MB" exit
run_case "file"          "$TOOL" check "$trace"
# shellcheck disable=SC2016  # expanded by the inner bash, with $0/$1 as given
run_case "stdin"         bash -c 'exec "$0" check - < "$1"' "$TOOL" "$trace"
run_case "file,json"     "$TOOL" check --format json "$trace"
echo "targets: >= 3 M events/s (3M/s column), <= 64 MB peak RSS (64MB column); MB = 10^6 bytes for"
echo "throughput, MiB for RSS (GNU time reports KiB)."
if [[ "$warned" -ne 0 ]]; then
  echo "!!! WARNING: refctrace reported findings or failed on a trace that should be clean (see above)."
fi
