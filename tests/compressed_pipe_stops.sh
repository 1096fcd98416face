#!/usr/bin/env bash
# A compressed trace on a pipe whose writer stays open: `check` stops at the trace's first
# error at once, without waiting for the writer to write more or close (decision 232: only a
# regular file's compressed bytes are decoded on a thread of their own, whose stop would wait
# for a read in progress). Passes in well under a second; a timeout of 30 s says it waited.
#
#   compressed_pipe_stops.sh REFCTRACE WORKDIR
set -u
refctrace=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v gzip >/dev/null || fail "gzip not found"

# Line 3 is an error (an alloc without its bin); the writer then keeps the pipe open.
printf '{"refctrace":1}\n{"op":"alloc","bin":"0x1","size":8}\n{"op":"alloc"}\n' |
  gzip >"$work/bad.gz"
mkfifo "$work/pipe"
(cat "$work/bad.gz" && exec sleep 120) >"$work/pipe" &
writer=$!
trap 'kill "$writer" 2>/dev/null' EXIT

status=0
timeout 30 "$refctrace" check --color never - <"$work/pipe" >"$work/out" 2>&1 || status=$?
[ "$status" -ne 124 ] || fail "check was still waiting for the pipe's writer after 30 s"
[ "$status" -eq 2 ] || { cat "$work/out"; fail "exit $status, expected 2 (an input error)"; }
grep -q ':3:' "$work/out" || { cat "$work/out"; fail "the error does not point at line 3"; }
echo "ok: stopped at line 3 with the writer still open"
