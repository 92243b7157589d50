#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Every public header compiles on its own, first and twice, as C11 and as
# C++17, with -Wall -Wextra -Werror -pedantic: a program may include any
# one of them first, from C or C++.
#
#   check-headers.sh CC CXX INCLUDE_DIR HEADER...
set -eu

fail() {
    echo "check-headers: $*" >&2
    exit 1
}

[ $# -ge 4 ] || fail "usage: $0 CC CXX INCLUDE_DIR HEADER..."
cc=$1 cxx=$2 incdir=$3
shift 3
glib=$(pkg-config --cflags glib-2.0) || fail "pkg-config --cflags glib-2.0 failed"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvirt-headers-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

warn="-Wall -Wextra -Werror -pedantic"
failed=0
for header in "$@"; do
    name=nvirt/$(basename "$header")
    printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' "$name" "$name" >"$tmp/t.c"
    cp "$tmp/t.c" "$tmp/t.cpp"
    # shellcheck disable=SC2086 # flag lists are words
    if $cc -std=c11 $warn -Wstrict-prototypes -I"$incdir" $glib -c -o "$tmp/t.o" "$tmp/t.c"; then
        echo "ok: $name as C11"
    else
        echo "FAIL: $name as C11 ($cc -std=c11 $warn)" >&2
        failed=1
    fi
    # shellcheck disable=SC2086
    if $cxx -std=c++17 $warn -I"$incdir" $glib -c -o "$tmp/t.o" "$tmp/t.cpp"; then
        echo "ok: $name as C++17"
    else
        echo "FAIL: $name as C++17 ($cxx -std=c++17 $warn)" >&2
        failed=1
    fi
done
[ "$failed" = 0 ] || fail "a public header does not compile on its own (see above)"
