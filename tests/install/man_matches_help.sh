#!/usr/bin/env bash
# The generated man page and bash completion name exactly the commands and options that
# `refctrace --help` and `refctrace COMMAND --help` print, command by command; the man page
# renders without a groff warning (when groff is installed).
#
#   man_matches_help.sh REFCTRACE MAN_PAGE BASH_COMPLETION
set -euo pipefail
tool=$1 man=$2 completion=$3
fail() { echo "FAIL: $*" >&2; exit 1; }

# Options as `--help` lists them ("  -j,--jobs UINT ..."), one per line, sorted.
help_options() {
  "$tool" "$@" --help | grep -oE '^  -[-a-zA-Z0-9,]*' | tr ',' '\n' | sed 's/^ *//' | sort -u
}
help_commands() {
  "$tool" --help | sed -n '/^Subcommands:/,$p' | grep -oE '^  [a-z][a-z-]*' | sed 's/^ *//'
}
# Bold option names ("\fB\-\-jobs\fR") in the man page's lines from $1 up to the next .SH/.SS.
man_options() {
  awk -v start="$1" 'index($0, start) == 1 { on = 1; next } on && /^\.S[HS] / { on = 0 } on' \
    "$man" | grep -oE '\\fB(\\-)+[a-zA-Z0-9\\-]*\\fR' | sed 's/\\fB//; s/\\fR//; s/\\-/-/g' |
    sort -u
}
# What the completion offers after the words given ("refctrace check -").
complete_words() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _refctrace
           printf "%s\n" "${COMPREPLY[@]}" | sort -u' _ "$completion" "$@"
}

commands=$(help_commands)
[ "$(echo "$commands" | wc -l)" -ge 4 ] || fail "refctrace --help lists too few commands: $commands"
diff <(help_options) <(man_options ".SH OPTIONS") || fail "man page OPTIONS differ from --help"
diff <(help_options) <(complete_words refctrace -) || fail "completion of 'refctrace -' differs"
diff <(echo "$commands" | sort -u) <(complete_words refctrace "") ||
  fail "completion of 'refctrace ' does not offer the commands"
for command in $commands; do
  diff <(help_options "$command") <(man_options ".SS \"refctrace $command\"") ||
    fail "man page options of '$command' differ from 'refctrace $command --help'"
  diff <(help_options "$command") <(complete_words refctrace "$command" -) ||
    fail "completion of 'refctrace $command -' differs from its --help"
  echo "ok: $command: $(help_options "$command" | tr '\n' ' ')"
done
# The value of a word option completes to its words (check --format's set, from --help).
formats=$("$tool" check --help | grep -oE -- '--format TEXT:\{[^}]*\}' | sed 's/.*{//; s/}//' |
  tr ',' '\n' | sort -u)
[ -n "$formats" ] || fail "check --help shows no --format words"
diff <(echo "$formats") <(complete_words refctrace check --format "") ||
  fail "completion of 'check --format' differs from its words"

# Values complete to what they are: diagnostic codes after `explain`, directories for
# --graph-dir, files for a trace or --baseline, nothing for a binary id (--bin).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/graphs" && touch "$scratch/trace.ndjson"
codes=$("$tool" explain | grep -oE '^ *[a-z][a-z-]+' | sed 's/^ *//' | sort -u)
[ -n "$codes" ] || fail "refctrace explain lists no codes"
diff <(echo "$codes") <(complete_words refctrace explain "") ||
  fail "completion of 'refctrace explain ' differs from the codes explain lists"
[ "$(complete_words refctrace explain dou)" = "double-free" ] || fail "'explain dou' does not complete"
[ "$(cd "$scratch" && complete_words refctrace check --graph-dir "")" = "graphs" ] ||
  fail "'check --graph-dir' does not complete to directories only"
[ "$(cd "$scratch" && complete_words refctrace check --baseline "t")" = "trace.ndjson" ] ||
  fail "'check --baseline' does not complete file names"
[ "$(cd "$scratch" && complete_words refctrace graph "t")" = "trace.ndjson" ] ||
  fail "'graph TRACE' does not complete file names"
[ -z "$(cd "$scratch" && complete_words refctrace graph --bin "")" ] ||
  fail "'graph --bin' offers file names for a binary id"
echo "ok: values complete to codes, directories, files, or nothing for an id"

if command -v groff >/dev/null; then
  warnings=$(groff -man -Tutf8 -ww -z "$man" 2>&1)
  [ -z "$warnings" ] || fail "groff warns about the man page: $warnings"
  rendered=$(groff -man -Tutf8 -P-cbou "$man" 2>/dev/null)
  for command in $commands; do
    grep -q "refctrace $command" <<<"$rendered" || fail "rendered man page lacks '$command'"
  done
  grep -q -- "--max-live" <<<"$rendered" || fail "rendered man page lacks --max-live"
else
  echo "groff is not installed: the man page is checked as text only"
fi
echo "ok: man page and completion match --help"
