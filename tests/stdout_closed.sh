#!/usr/bin/env bash
# `refctrace check big.ndjson | head -1` ends quietly: no error text, no
# crash; refctrace dies of SIGPIPE like any Unix filter (141). A closed
# standard output is like /dev/null; a full disk is an error (2).
#
#   stdout_closed.sh REFCTRACE BENCH_GEN WORKDIR
set -u
refctrace=$1 gen=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# ~3,000 findings: far more text than a pipe holds, so the writer must hit
# the closed pipe whatever the scheduling.
trace="$work/many-findings.ndjson"
"$gen" --events 100000 --inject-bugs 3000 -o "$trace" || fail "generator"

for format in text json; do
  "$refctrace" check --color never --format "$format" "$trace" 2>"$work/err" | head -1 >"$work/first"
  statuses=("${PIPESTATUS[@]}")
  [ "${statuses[0]}" -eq 141 ] || fail "$format: exit ${statuses[0]}, expected 141 (SIGPIPE)"
  [ ! -s "$work/err" ] || fail "$format: stderr not empty: $(head -5 "$work/err")"
  [ -s "$work/first" ] || fail "$format: head got nothing"
done

# Standard output closed altogether: as if it were /dev/null.
"$refctrace" check --color never "$trace" >&- 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] || fail "closed stdout: exit $rc, expected 1 (findings)"
[ ! -s "$work/err" ] || fail "closed stdout: stderr not empty: $(head -5 "$work/err")"

# A write error other than a closed pipe is reported.
if [ -w /dev/full ]; then
  "$refctrace" check --color never "$trace" >/dev/full 2>"$work/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "/dev/full: exit $rc, expected 2"
  grep -q "cannot write standard output: No space left on device" "$work/err" ||
    fail "/dev/full: stderr: $(cat "$work/err")"
fi
echo "ok"
