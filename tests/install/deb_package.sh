#!/usr/bin/env bash
# Builds the Debian package from this build tree (cpack, nothing recompiled), unpacks it into a
# scratch root (dpkg-deb -x: no container, no root needed), and checks what README's "Install"
# promises: the installed tool finds the quickstart's double free, the man page, the bash
# completion, the recorder's C files and the Erlang application are where the README says, and
# Depends names the Debian package of every shared library the tool links.
#
#   deb_package.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR VERSION
set -euo pipefail
build=$1 source=$2 scratch=$3 version=$4
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$scratch"
mkdir -p "$scratch"
millis() { echo $(($(date +%s%N) / 1000000)); }
started=$(millis)
cpack --config "$build/CPackConfig.cmake" -B "$scratch/out" >"$scratch/cpack.log" 2>&1 ||
  { cat "$scratch/cpack.log" >&2; fail "cpack failed"; }
deb="$scratch/out/refctrace_${version}_amd64.deb"
[ -f "$deb" ] || fail "no $deb; cpack made: $(ls "$scratch/out")"
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes, built in" \
  "$(($(millis) - started)) ms"

# Depends: the package of every library the tool links, found the way dpkg-shlibdeps would
# (NEEDED -> ldd -> dpkg -S), e.g. libgvc6, libcgraph6, libsimdjson14, libstdc++6, libc6.
depends=$(dpkg-deb --field "$deb" Depends)
echo "Depends: $depends"
# Package names alone, one a line ("libc6 (>= 2.34)" -> "libc6").
depend_names=$(tr ',|' '\n\n' <<<"$depends" | sed 's/(.*//; s/^ *//; s/ *$//' | sort -u)
# libgvc6 also brings the dot, svg and png plugins `refctrace graph` loads at run time.
grep -qxF "libgvc6" <<<"$depend_names" || fail "Depends lacks libgvc6 (Graphviz's plugins)"
tool="$build/refctrace"
# The libraries the tool links directly (its NEEDED entries), where ldd finds them.
needed=$(readelf -d "$tool" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "readelf shows no NEEDED library in $tool"
for soname in $needed; do
  library=$(ldd "$tool" | awk -v so="$soname" '$1 == so { print $3 }')
  [ -n "$library" ] || fail "ldd does not find $soname"
  # dpkg knows a library by the path its package installed (/lib/... or /usr/lib/...).
  package=$(dpkg -S "$library" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$package" ] ||
    package=$(dpkg -S "$(readlink -f "$library")" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$package" ] || fail "no Debian package owns $library"
  grep -qxF "$package" <<<"$depend_names" ||
    fail "Depends lacks $package, which owns $soname (linked by refctrace)"
  echo "  $soname: $package"
done
for library in libcgraph libgvc libsimdjson; do
  grep -q "^$library" <<<"$needed" || fail "refctrace does not link $library: the check is stale"
done

root="$scratch/root"
started=$(millis)
dpkg-deb -x "$deb" "$root"
echo "unpacked in $(($(millis) - started)) ms:"
(cd "$root" && find . -type f | sort | sed 's/^\./  /')

# The tool, on the README's example: exit 1 and the double free.
installed="$root/usr/bin/refctrace"
[ -x "$installed" ] || fail "no usr/bin/refctrace"
status=0
out=$("$installed" check --color never "$source/testdata/examples/quickstart.ndjson") || status=$?
[ "$status" -eq 1 ] || fail "quickstart: exit $status, expected 1"
grep -q "error\[double-free\]" <<<"$out" || fail "quickstart: no double free in:
$out"
"$installed" --version | grep -q "^refctrace $version$" || fail "--version does not name $version"

# The man page, the completion, the recorder and the Erlang application.
man_page="$root/usr/share/man/man1/refctrace.1"
[ -f "$man_page" ] || fail "no usr/share/man/man1/refctrace.1"
if command -v man >/dev/null; then
  rendered=$(MANWIDTH=120 man -l "$man_page" 2>/dev/null | col -b)
else
  rendered=$(cat "$man_page")
fi
for word in check graph show explain; do
  grep -q "refctrace $word" <<<"$rendered" || fail "the man page lacks 'refctrace $word'"
done
completion="$root/usr/share/bash-completion/completions/refctrace"
[ -f "$completion" ] || fail "no usr/share/bash-completion/completions/refctrace"
bash -c 'source "$1"; complete -p refctrace' _ "$completion" >/dev/null ||
  fail "the completion does not register itself for refctrace"

recorder="$root/usr/share/refctrace/recorder"
for file in "$source"/recorder/*.c "$source"/recorder/*.cc "$source"/recorder/*.h; do
  cmp -s "$file" "$recorder/$(basename "$file")" || fail "recorder file $(basename "$file") not in $recorder"
done
# A driver builds with the installed recorder alone, as README's "Install" shows.
if command -v erl >/dev/null && command -v cc >/dev/null; then
  erl_root=$(erl -noshell -eval 'io:format("~s", [code:root_dir()]), halt().')
  if [ -f "$erl_root/usr/include/erl_driver.h" ]; then
    cc -shared -fPIC -DREFCTRACE -I"$erl_root/usr/include" -I"$recorder" -o "$scratch/sample_drv.so" \
      "$source/tests/e2e/sample_drv.c" "$recorder"/*.c -lpthread ||
      fail "the sample driver does not build with the installed recorder"
  fi
fi
app="$root/usr/lib/erlang/lib/refctrace-$version"
[ -f "$app/ebin/refctrace.app" ] || fail "no ebin/refctrace.app in $app"
for file in "$source"/recorder/erlang/*.erl; do
  module=$(basename "$file" .erl)
  cmp -s "$file" "$app/src/$module.erl" || fail "$module.erl not in $app/src"
  grep -q "$module" "$app/ebin/refctrace.app" || fail "refctrace.app does not list $module"
  if command -v erlc >/dev/null; then
    [ -f "$app/ebin/$module.beam" ] || fail "no $module.beam in $app/ebin"
  fi
done
if command -v erl >/dev/null; then
  # ERL_LIBS finds the application as OTP finds any other.
  loaded=$(ERL_LIBS="$root/usr/lib/erlang/lib" erl -noshell -eval '
    ok = application:load(refctrace),
    {ok, Modules} = application:get_key(refctrace, modules),
    [{module, M} = code:ensure_loaded(M) || M <- Modules],
    io:format("~p~n", [code:which(refctrace_tracer)]), halt().')
  grep -q "refctrace-$version/ebin/refctrace_tracer.beam" <<<"$loaded" ||
    fail "erl with ERL_LIBS does not load refctrace_tracer from the package: $loaded"
fi

# The README names every one of these places.
for place in /usr/bin/refctrace /usr/share/man/man1/refctrace.1 \
  /usr/share/bash-completion/completions/refctrace /usr/share/refctrace/recorder \
  "/usr/lib/erlang/lib/refctrace-<version>"; do
  grep -qF "$place" "$source/README.md" || fail "README.md does not say where $place is"
done

# apt resolves Depends against this system's packages (simulated: nothing is installed).
if command -v apt-get >/dev/null; then
  apt-get install --simulate --no-download "$deb" >"$scratch/apt.log" 2>&1 ||
    { cat "$scratch/apt.log" >&2; fail "apt-get cannot resolve the package's dependencies"; }
  grep -q "^Inst refctrace " "$scratch/apt.log" || { cat "$scratch/apt.log" >&2; fail "apt would not install refctrace"; }
fi
echo "ok: $(basename "$deb")"
