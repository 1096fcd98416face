#!/usr/bin/env bash
# scripts/build-otp takes a cached OTP build as complete only when its marker
# (written last) and bin/erl are both there: a half-finished install is
# rebuilt, never used. `--check` answers without building anything, for each
# release it knows, each in the directory its own variable names
# (REFCTRACE_OTP<release>_DIR); an unknown release or argument exits 2.
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

# The releases CMake and .ci/run iterate over: 27 and 29, in that order.
releases=$("$script" --releases) || fail "--releases failed"
[ "$releases" = $'27\n29' ] || fail "--releases printed '$releases', not 27 and 29"

for release in $releases; do
  var="REFCTRACE_OTP${release}_DIR"
  dir="$tmp/$release"
  make_cache "$dir/complete" yes yes
  out=$(env "$var=$dir/complete" "$script" "$release" --check) ||
    fail "OTP $release complete cache: --check failed"
  [ "$out" = "$dir/complete" ] || fail "OTP $release complete cache: printed '$out', not the directory"
  # Without --check a complete cache is also a no-op that prints the directory.
  out=$(env "$var=$dir/complete" "$script" "$release") || fail "OTP $release complete cache: build-otp failed"
  [ "$out" = "$dir/complete" ] || fail "OTP $release complete cache: build-otp printed '$out'"

  make_cache "$dir/half-installed" yes no
  if env "$var=$dir/half-installed" "$script" "$release" --check 2>/dev/null; then
    fail "OTP $release: an install without the marker was taken as complete"
  fi
  make_cache "$dir/marker-only" no yes
  if env "$var=$dir/marker-only" "$script" "$release" --check 2>/dev/null; then
    fail "OTP $release: a marker without bin/erl was taken as complete"
  fi
  if env "$var=$dir/missing" "$script" "$release" --check 2>/dev/null; then
    fail "OTP $release: a missing cache was taken as complete"
  fi
done

# Each release reads its own variable only: 29's complete cache does not make
# 27 complete, and the other way round.
if REFCTRACE_OTP29_DIR="$tmp/29/complete" REFCTRACE_OTP27_DIR="$tmp/27/missing" \
  "$script" 27 --check 2>/dev/null; then
  fail "OTP 27 took REFCTRACE_OTP29_DIR's cache"
fi
if REFCTRACE_OTP27_DIR="$tmp/27/complete" REFCTRACE_OTP29_DIR="$tmp/29/missing" \
  "$script" 29 --check 2>/dev/null; then
  fail "OTP 29 took REFCTRACE_OTP27_DIR's cache"
fi
# No RELEASE means 27.
out=$(REFCTRACE_OTP27_DIR="$tmp/27/complete" "$script" --check) || fail "default release: --check failed"
[ "$out" = "$tmp/27/complete" ] || fail "default release: printed '$out', not OTP 27's cache"

# An unknown release (OTP 26 and 28 have no source here) or argument is a
# usage error, exit 2, with the known releases named; nothing is built.
for args in "26" "28 --check" "27 --chek" "29 --check extra" "--bogus"; do
  status=0
  err=$(REFCTRACE_OTP27_DIR="$tmp/27/missing" REFCTRACE_OTP29_DIR="$tmp/29/missing" \
    "$script" $args 2>&1 >/dev/null) || status=$?
  [ "$status" -eq 2 ] || fail "build-otp $args: exit $status, not 2"
  [ -n "$err" ] || fail "build-otp $args: no message"
done
[ ! -e "$tmp/27/missing" ] && [ ! -e "$tmp/29/missing" ] || fail "a usage error created a cache directory"
echo "build-otp: --releases 27 29; complete, half-installed, marker-only and missing caches told apart per release; unknown releases and arguments exit 2"
