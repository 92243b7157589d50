#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The manual pages render without a warning, through groff and through
# man -l, and nvirt(1) documents every command and every option the built
# CLI accepts (from its own --help), so the page cannot fall behind it.
#
#   check-man.sh NVIRT.1 NVIRT.CONF.5 NVIRT_BINARY
set -eu

fail() {
    echo "check-man: $*" >&2
    exit 1
}

[ $# -eq 3 ] || fail "usage: $0 NVIRT.1 NVIRT.CONF.5 NVIRT_BINARY"
page1=$1 page5=$2 nvirt=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvirt-man-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C.UTF-8

for page in "$page1" "$page5"; do
    name=$(basename "$page")
    # -ww: every groff warning; -z: format, print nothing but diagnostics.
    groff -man -Tutf8 -ww -z "$page" 2>"$tmp/groff.err" ||
        fail "$name: groff failed: $(cat "$tmp/groff.err")"
    [ ! -s "$tmp/groff.err" ] || fail "$name: groff warns: $(cat "$tmp/groff.err")"
    if command -v man >/dev/null; then
        MANWIDTH=80 man --warnings -l "$page" >"$tmp/man.out" 2>"$tmp/man.err" ||
            fail "$name: man -l failed: $(cat "$tmp/man.err")"
        [ ! -s "$tmp/man.err" ] || fail "$name: man -l warns: $(cat "$tmp/man.err")"
        [ -s "$tmp/man.out" ] || fail "$name: man -l rendered nothing"
    fi
    echo "ok: $name renders without warnings"
done

# Wide lines and no hyphenation, so option names are never split.
groff -man -Tascii -rLL=400n -rHY=0 -P-cbou "$page1" >"$tmp/nvirt.txt" 2>/dev/null
"$nvirt" --help >"$tmp/help" || fail "$nvirt --help failed"
commands=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$tmp/help")
[ -n "$commands" ] || fail "no commands found in '$nvirt --help'"
missing=
for command in $commands; do
    grep -q "^ *$command\\b" "$tmp/nvirt.txt" || missing="$missing $command"
    "$nvirt" "$command" --help >"$tmp/cmd-help" || fail "$nvirt $command --help failed"
    for opt in $(grep -o -- '--[a-z][a-z-]*' "$tmp/cmd-help" | sort -u); do
        grep -q -- "$opt\\b" "$tmp/nvirt.txt" || missing="$missing $command:$opt"
    done
done
[ -z "$missing" ] || fail "nvirt.1 does not document:$missing"
echo "ok: nvirt.1 documents every command and option of $nvirt"
