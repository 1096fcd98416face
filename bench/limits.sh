#!/usr/bin/env bash
# The limits of docs/hardening.md, measured: for each case, the input is
# generated on the fly and piped into `refctrace check -`; the script prints
# refctrace's exit status, wall time, peak RSS and the first line of its
# stderr (the error, for the cases that must be refused). A report, not a
# test: it exits 0 unless something could not run.
#
# usage: bench/limits.sh [--scale F] [CASE...]
#   --scale F  multiply the big counts (10 M binaries, 1 M processes, 20 M
#              events) by F, e.g. 0.1 for a quick look
#   CASE       long-line deep-nesting int-range long-id live-binaries
#              findings processes events (default: all)
# Uses build/refctrace and build/refctrace_bench_gen (BUILD_DIR to change).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scale=1
cases=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scale) scale="${2:?--scale needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) cases+=("$1"); shift ;;
  esac
done
((${#cases[@]})) || cases=(long-line deep-nesting int-range long-id live-binaries findings processes events)

build="${BUILD_DIR:-build}"
tool="$build/refctrace"
gen="$build/refctrace_bench_gen"
TIME=/usr/bin/time
for f in "$tool" "$gen" "$TIME"; do
  [[ -x "$f" ]] || { echo "limits.sh: $f not found (build first; /usr/bin/time is Debian's 'time')" >&2; exit 2; }
done
scaled() { awk -v n="$1" -v f="$scale" 'BEGIN { printf "%d", n * f }'; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# measure NAME GENERATOR...: GENERATOR's stdout is refctrace's stdin.
measure() {
  local name=$1
  shift
  set +e
  "$@" | "$TIME" -o "$work/time" -f '%e %M' "$tool" check --color never - >"$work/out" 2>"$work/err"
  local rc=${PIPESTATUS[1]}
  set -e
  read -r secs kib < <(tail -1 "$work/time")
  local first
  first="$(grep -v "^ *$" "$work/err" | head -1 | cut -c1-150 || true)"
  [[ -n "$first" ]] || first="$(tail -1 "$work/out" | cut -c1-150)"
  printf '%-34s exit %-3s %8.2f s %9.1f MiB  %s\n' "$name" "$rc" "$secs" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$first"
}

# A line of N bytes: one event whose note fills it.
long_line() { awk -v n="$1" 'BEGIN { printf "{\"op\":\"alloc\",\"bin\":1,\"note\":\""; s = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; for (i = 0; i < (n - 40) / 64; i++) printf "%s", s; printf "\"}\n{\"op\":\"free\",\"bin\":1}\n" }'; }
# An unknown field nested N deep, in NDJSON or inside a JSON document.
nested() { awk -v n="$1" -v doc="$2" 'BEGIN { if (doc) printf "{\"refctrace\":1,\"events\":["; printf "{\"op\":\"alloc\",\"bin\":1,\"x\":"; for (i = 0; i < n; i++) printf "["; for (i = 0; i < n; i++) printf "]"; printf "}"; if (doc) printf "]}"; printf "\n" }'; }
# N binaries whose ids are L characters long, each allocated, output and freed.
long_ids() { awk -v n="$1" -v l="$2" 'BEGIN { pad = ""; while (length(pad) < l - 12) pad = pad "abcdefghij"; pad = substr(pad, 1, l - 12); for (i = 0; i < n; i++) { id = pad sprintf("%012d", i); print "{\"op\":\"alloc\",\"bin\":\"" id "\",\"size\":64}"; print "{\"op\":\"output\",\"bin\":\"" id "\",\"to\":\"<0.1.0>\"}"; print "{\"op\":\"free\",\"bin\":\"" id "\"}"; print "{\"op\":\"receive\",\"bin\":\"" id "\",\"actor\":\"<0.1.0>\"}"; print "{\"op\":\"gc\",\"bin\":\"" id "\",\"actor\":\"<0.1.0>\"}" } }'; }
# N binaries left live, held by one process each (no leak: the driver freed them).
live_binaries() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "{\"op\":\"alloc\",\"bin\":%d,\"size\":64}\n{\"op\":\"output\",\"bin\":%d,\"to\":\"<0.1.0>\"}\n{\"op\":\"free\",\"bin\":%d}\n", i, i, i }'; }
# The same, but the driver never frees them: N leaks to report.
leaked_binaries() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "{\"op\":\"alloc\",\"bin\":%d,\"size\":64}\n", i }'; }
# N processes one after another, each receiving a binary, collecting it and exiting.
processes_in_turn() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "{\"op\":\"alloc\",\"bin\":1,\"size\":64}\n{\"op\":\"output\",\"bin\":1,\"to\":\"<0.%d.0>\"}\n{\"op\":\"free\",\"bin\":1}\n{\"op\":\"receive\",\"bin\":1,\"actor\":\"<0.%d.0>\"}\n{\"op\":\"exit\",\"actor\":\"<0.%d.0>\"}\n", i, i, i }'; }
# One binary sent to N processes, which then exit.
fan_out() { awk -v n="$1" 'BEGIN { print "{\"op\":\"alloc\",\"bin\":1}"; for (i = 0; i < n; i++) printf "{\"op\":\"output\",\"bin\":1,\"to\":\"<0.%d.0>\"}\n", i; print "{\"op\":\"free\",\"bin\":1}"; for (i = 0; i < n; i++) printf "{\"op\":\"exit\",\"actor\":\"<0.%d.0>\"}\n", i }'; }
# N processes, each holding a binary until it exits at the end.
processes() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "{\"op\":\"alloc\",\"bin\":%d,\"size\":64}\n{\"op\":\"output\",\"bin\":%d,\"to\":\"<0.%d.0>\"}\n{\"op\":\"free\",\"bin\":%d}\n{\"op\":\"receive\",\"bin\":%d,\"actor\":\"<0.%d.0>\"}\n", i, i, i, i, i, i; for (i = 0; i < n; i++) printf "{\"op\":\"exit\",\"actor\":\"<0.%d.0>\"}\n", i }'; }

printf '%-34s %-8s %10s %13s  %s\n' case status time "peak RSS" "first line of stderr (or the summary)"
for c in "${cases[@]}"; do
  case "$c" in
    long-line)
      measure "line of 60 MiB (under the limit)" long_line $((60 << 20))
      measure "line of 65 MiB (over 64 MiB)" long_line $((65 << 20)) ;;
    deep-nesting)
      measure "nesting 256 deep (NDJSON)" nested 255 0
      measure "nesting 100,000 deep (NDJSON)" nested 100000 0
      measure "nesting 100,000 deep (document)" nested 100000 1
      measure "nesting 10,000,000 deep (document)" nested 10000000 1 ;;
    int-range)
      measure "bin 2^64" echo '{"op":"alloc","bin":18446744073709551616}'
      measure "refc below int64" echo '{"op":"observe","bin":1,"refc":-9223372036854775809}'
      measure "gc count 2^64-1" printf '%s\n' '{"op":"alloc","bin":1}' '{"op":"output","bin":1,"to":"P"}' '{"op":"free","bin":1}' '{"op":"gc","bin":1,"actor":"P","count":18446744073709551615}'
      measure "size 2^64-1, leaked" echo '{"op":"alloc","bin":1,"size":18446744073709551615}' ;;
    long-id)
      measure "100,000 ids of 10,000 chars" long_ids 100000 10000 ;;
    live-binaries)
      n=$(scaled 10000000)
      measure "$n live binaries (held by P)" live_binaries "$n"
      measure "$n leaked binaries" leaked_binaries "$n" ;;
    findings)
      measure "200000 leaks (findings limit)" leaked_binaries 200000 ;;
    processes)
      n=$(scaled 1000000)
      measure "$n processes, all alive at once" processes "$n"
      measure "$n processes, one after another" processes_in_turn "$n"
      measure "one binary sent to $n processes" fan_out "$n" ;;
    events)
      n=$(scaled 20000000)
      measure "$n events (bench generator)" "$gen" --events "$n" ;;
    *) echo "limits.sh: unknown case '$c'" >&2; exit 2 ;;
  esac
done
