#!/usr/bin/env bash
# Writes a valid trace (NDJSON, docs/spec/trace-format.md) in which one driver binary is
# held by N processes at once: the driver allocates it, outputs it to N processes, each
# receives it, the processes exit one by one, and the driver frees it last. Every step of
# the binary's life then has up to N process holders: what made `show` and `graph`
# quadratic (bench/README.md, "Many holders of one binary").
#
# usage: bench/many_holders.sh [--double-frees] N [FILE]   (standard output without FILE)
#   --double-frees  the driver frees its reference right after the outputs, then N times
#                   more: N double-free findings, each naming the N holders (for `check`)
set -euo pipefail
double_frees=0
if [[ "${1:-}" == --double-frees ]]; then
  double_frees=1
  shift
fi
n="${1:?usage: bench/many_holders.sh [--double-frees] N [FILE]}"
[[ "$n" =~ ^[0-9]+$ ]] || { echo "many_holders.sh: N must be a count, got '$n'" >&2; exit 2; }
out="${2:-/dev/stdout}"
awk -v n="$n" -v df="$double_frees" 'BEGIN {
  expect = df ? "" : ",\"expect\":[],\"summary\":{\"binaries\":1,\"leaked_bytes\":0,\"held_by_processes\":0}"
  printf "{\"refctrace\":1,\"source\":\"many_holders\",\"note\":\"one binary output to %d processes, each holding it until it exits\"%s}\n", n, expect
  print "{\"op\":\"alloc\",\"bin\":\"0x7f0000001000\",\"size\":4096,\"refc\":1,\"src\":\"fan_drv.c:40\"}"
  for (i = 0; i < n; i++)
    printf "{\"op\":\"output\",\"bin\":\"0x7f0000001000\",\"to\":\"<0.%d.0>\",\"refc\":%d,\"src\":\"fan_drv.c:52\"}\n", 100 + i, i + 2
  if (df) {
    for (i = 0; i <= n; i++)
      print "{\"op\":\"free\",\"bin\":\"0x7f0000001000\",\"src\":\"fan_drv.c:61\"}"
  }
  for (i = 0; i < n; i++)
    printf "{\"op\":\"receive\",\"bin\":\"0x7f0000001000\",\"actor\":\"<0.%d.0>\"}\n", 100 + i
  for (i = 0; i < n; i++)
    printf "{\"op\":\"exit\",\"actor\":\"<0.%d.0>\"}\n", 100 + i
  if (!df) print "{\"op\":\"free\",\"bin\":\"0x7f0000001000\",\"refc\":0,\"src\":\"fan_drv.c:61\"}"
}' >"$out"
