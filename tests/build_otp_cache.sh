#!/usr/bin/env bash
# scripts/build-otp takes a cached OTP build as complete only when its marker
# (written last) and bin/erl are both there: a half-finished install is
# rebuilt, never used. `--check` answers without building anything.
#   tests/build_otp_cache.sh SOURCE_DIR
set -euo pipefail
script="$1/scripts/build-otp"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

make_cache() { # DIR WITH_ERL WITH_MARKER
  mkdir -p "$1/bin"
  if [ "$2" = yes ]; then printf '#!/bin/sh\n' >"$1/bin/erl" && chmod +x "$1/bin/erl"; fi
  if [ "$3" = yes ]; then echo "OTP built" >"$1/.refctrace-build-complete"; fi
}

make_cache "$tmp/complete" yes yes
out=$(REFCTRACE_OTP27_DIR="$tmp/complete" "$script" --check) || fail "complete cache: --check failed"
[ "$out" = "$tmp/complete" ] || fail "complete cache: printed '$out', not the directory"
# Without --check a complete cache is also a no-op that prints the directory.
out=$(REFCTRACE_OTP27_DIR="$tmp/complete" "$script") || fail "complete cache: build-otp failed"
[ "$out" = "$tmp/complete" ] || fail "complete cache: build-otp printed '$out'"

make_cache "$tmp/half-installed" yes no
if REFCTRACE_OTP27_DIR="$tmp/half-installed" "$script" --check 2>/dev/null; then
  fail "an install without the marker was taken as complete"
fi
make_cache "$tmp/marker-only" no yes
if REFCTRACE_OTP27_DIR="$tmp/marker-only" "$script" --check 2>/dev/null; then
  fail "a marker without bin/erl was taken as complete"
fi
if REFCTRACE_OTP27_DIR="$tmp/missing" "$script" --check 2>/dev/null; then
  fail "a missing cache was taken as complete"
fi
echo "build-otp: complete, half-installed, marker-only and missing caches told apart"
