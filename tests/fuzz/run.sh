#!/usr/bin/env bash
# Builds the libFuzzer targets (clang++-14, build-fuzz/) and runs each for a
# bounded time, one process at a time (the machine's cores are shared).
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Seeds: every file under testdata/ (read, never written). New inputs go to
# build-fuzz/corpus/<target>/, crashers to build-fuzz/artifacts/<target>/.
# Keep a crasher as a regression input under testdata/fuzz-regressions/
# (named <what>.fuzz) once it is fixed. Exits 1 if any target found something.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(reader_ndjson_fuzz reader_document_fuzz check_fuzz plain_parser_diff_fuzz)
build="${FUZZ_BUILD_DIR:-build-fuzz}"

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DREFCTRACE_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j "${FUZZ_BUILD_JOBS:-2}" --target "${targets[@]}"

status=0
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  echo "== $target for ${seconds}s" >&2
  # detect_leaks: a leak is a finding too. -timeout: an input that takes
  # longer than 10 s is a hang. -rss_limit_mb: memory must stay bounded.
  # Its log goes to a file and is shown once it has ended, without the
  # progress lines: a filter on a process substitution would still be
  # writing after this script has exited.
  log="$build/fuzz-$target.log"
  rc=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/tests/fuzz/$target" "$corpus" testdata \
    -dict=tests/fuzz/trace.dict -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    2>"$log" || rc=$?
  grep -v '^#[0-9]' "$log" >&2 || true
  if [ "$rc" -ne 0 ]; then
    echo "== $target found something (exit $rc): see $artifacts/" >&2
    status=1
  fi
done
exit "$status"
