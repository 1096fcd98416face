#!/bin/sh
# The recorder's cost per recorded call under the real emulator (README "Recorder"):
# driver_alloc_binary/driver_free_binary from a driver and enif_alloc_binary/
# enif_release_binary from a NIF, each call timed alone, and malloc(64)+free pairs
# from the NIF (the held scan's block tracking), each pair timed as one, from PROCS Erlang processes
# at once on SCHEDULERS scheduler threads; the median and p99 in ns, for the library
# built without the recorder (REFCTRACE_TRACE does not matter), with the recorder of
# BEFORE (a git revision: by default 8667b2c, the mapped writer before decisions
# 200-202; cf190cf is the write(2)-per-line one) and with this tree's. Then the line
# building alone, outside the emulator (recorder_bench_format.c), with both writers.
#   bench/recorder_bench.sh [PROCS] [SCHEDULERS]       (from the repository root)
# Environment: BEFORE (git revision, default 8667b2c), ROUNDS and K (calls per process:
# 2 * ROUNDS * K), ERL, ERLC, CC.
set -eu
procs=${1:-4}
schedulers=${2:-4}
before=${BEFORE:-8667b2c}
rounds=${ROUNDS:-20}
k=${K:-2000}
erl=${ERL:-erl}
erlc=${ERLC:-erlc}
cc=${CC:-cc}
root=$(git rev-parse --show-toplevel)
include=$("$erl" -noshell -eval 'io:format("~s", [filename:join([code:root_dir(), "usr", "include"])]), halt().')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/before-src"
git -C "$root" archive "$before" recorder | tar -x -C "$work/before-src"
"$erlc" -o "$work" "$root/bench/recorder_bench.erl" "$root/bench/recorder_bench_nif.erl"

# build VARIANT RECORDER_DIR (empty: without the recorder)
build() {
  dir="$work/$1"
  mkdir -p "$dir"
  if [ -z "$2" ]; then
    "$cc" -O2 -shared -fPIC -I"$include" -o "$dir/recorder_bench_drv.so" "$root/bench/recorder_bench_drv.c"
    "$cc" -O2 -shared -fPIC -I"$include" -o "$dir/recorder_bench_nif.so" "$root/bench/recorder_bench_nif.c"
  else
    "$cc" -O2 -shared -fPIC -DREFCTRACE -I"$include" -I"$2" -o "$dir/recorder_bench_drv.so" \
      "$root/bench/recorder_bench_drv.c" "$2/refctrace_recorder.c" -lpthread -ldl
    "$cc" -O2 -shared -fPIC -DREFCTRACE -I"$include" -I"$2" -o "$dir/recorder_bench_nif.so" \
      "$root/bench/recorder_bench_nif.c" "$2/refctrace_nif.c" -lpthread -ldl
  fi
}
build plain ""
build before "$work/before-src/recorder"
build after "$root/recorder"

for kind in drv nif malloc; do
  for variant in plain before after; do
    trace="$work/$variant-$kind.ndjson"
    printf '%-6s %-6s ' "$variant" "$kind"
    REFCTRACE_TRACE=$trace "$erl" +S "$schedulers:$schedulers" -noshell -pa "$work" \
      -run recorder_bench main "$kind" "$work/$variant" "$procs" "$rounds" "$k"
    rm -f "$trace"
  done
done

# The line building alone (CPU time; a writer too old for the benchmark says so).
for variant in before after; do
  dir="$work/before-src/recorder"
  [ "$variant" = after ] && dir="$root/recorder"
  printf '%-6s format ' "$variant"
  if "$cc" -O2 -I"$include" -I"$dir" -o "$work/format-$variant" "$root/bench/recorder_bench_format.c" \
    -lpthread -ldl 2>/dev/null; then
    "$work/format-$variant" 500000 7 | head -2 | tr '\n' ' '
    echo
  else
    echo "(this writer has no line functions the benchmark knows)"
  fi
done
