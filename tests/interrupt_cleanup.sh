#!/usr/bin/env bash
# Ctrl-C leaves no partial output: `refctrace graph - -o FILE` is reading a
# big trace from a pipe (still open, so it waits for more) when SIGINT or
# SIGTERM arrives; afterwards neither a new file nor a temporary exists, and
# a file that was there before is untouched. It dies of the signal.
#
#   interrupt_cleanup.sh REFCTRACE BENCH_GEN WORKDIR
set -u
set -m  # background jobs get SIGINT (a script's jobs would ignore it otherwise)
refctrace=$1 gen=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
trace="$work/big.ndjson"
"$gen" --events 200000 -o "$trace" || fail "generator"
# Everything but the generator's `end`, so the reader waits for more.
grep -v '"op":"end"' "$trace" >"$work/no-end.ndjson"

run_and_interrupt() {  # SIGNAL EXPECTED_STATUS OUTPUT_DIR
  local sig=$1 expected=$2 out=$3
  mkfifo "$work/feed"
  "$refctrace" graph - -o "$out/life.svg" <"$work/feed" 2>"$work/err" &
  local pid=$!
  exec 3>"$work/feed"
  cat "$work/no-end.ndjson" >&3
  # The temporary exists from the start; wait until it is there.
  local waited=0
  until compgen -G "$out/.life.svg.tmp.*" >/dev/null; do
    sleep 0.1
    waited=$((waited + 1))
    [ "$waited" -lt 600 ] || fail "$sig: no temporary appeared in $out"
  done
  kill -s "$sig" "$pid"
  wait "$pid"
  local rc=$?
  exec 3>&-
  rm -f "$work/feed"
  [ "$rc" -eq "$expected" ] || fail "$sig: exit $rc, expected $expected; stderr: $(cat "$work/err")"
}

mkdir "$work/new"
run_and_interrupt INT 130 "$work/new"
left=$(ls -A "$work/new")
[ -z "$left" ] || fail "INT: left behind: $left"

mkdir "$work/existing"
echo "old picture" >"$work/existing/life.svg"
run_and_interrupt TERM 143 "$work/existing"
left=$(ls -A "$work/existing")
[ "$left" = "life.svg" ] || fail "TERM: directory holds: $left"
[ "$(cat "$work/existing/life.svg")" = "old picture" ] || fail "TERM: existing file changed"
echo "ok"
