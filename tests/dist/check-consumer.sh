#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The out-of-tree consumer test: install this build into a scratch DESTDIR,
# compile tests/consumer/consumer.c against it with nothing but
# `pkg-config --cflags --libs nvirt`, run it from there and check what it
# prints.  Nothing is written outside the scratch directory.
#
#   check-consumer.sh BUILD_ROOT PREFIX LIBDIR CONSUMER_C SANITIZE
#
# CC (default cc) compiles; SANITIZE is meson's b_sanitize ("none" or e.g.
# "address,undefined"): a sanitized libnvirt needs a sanitized program.
set -eu

fail() {
    echo "check-consumer: $*" >&2
    exit 1
}

[ $# -eq 5 ] || fail "usage: $0 BUILD_ROOT PREFIX LIBDIR CONSUMER_C SANITIZE"
build=$1 prefix=$2 libdir=$3 source=$4 sanitize=$5
case $libdir in
/*) ;;
*) libdir=$prefix/$libdir ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvirt-consumer-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

meson install -C "$build" --no-rebuild --quiet --destdir "$root" >"$tmp/install.log" 2>&1 ||
    fail "meson install --destdir failed: $(tail -n 5 "$tmp/install.log")"

for f in "$libdir/libnvirt.so.0" "$libdir/libnvirt.so" "$libdir/pkgconfig/nvirt.pc" \
    "$prefix/include/nvirt/nvirt.h" "$prefix/include/nvirt/error.h" \
    "$prefix/include/nvirt/export.h" "$prefix/bin/nvirt" \
    "$prefix/share/doc/nvirt/examples/nvirt.conf.sample"; do
    [ -e "$root$f" ] || fail "meson install did not install $f"
done

# A sysroot holds what the program links against.  Here it holds only
# nvirt: the include directories of nvirt's own requirements (glib's) are
# linked into it from the host, as a sysroot built from packages would
# contain them.
export PKG_CONFIG_PATH="$root$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
flags=$(pkg-config --cflags --libs nvirt) || fail "pkg-config --cflags --libs nvirt failed"
echo "pkg-config --cflags --libs nvirt: $flags"
case " $flags " in
*" -I$root$prefix/include "* | *" -I$root$prefix/include/nvirt "*) ;;
*) fail "pkg-config gives no -I for the DESTDIR's include directory: $flags" ;;
esac
case " $flags " in
*" -lnvirt "*) ;;
*) fail "pkg-config gives no -lnvirt: $flags" ;;
esac
for flag in $flags; do
    case $flag in
    -I"$root"/* | -L"$root"/*) dir=${flag#-?} ;;
    *) continue ;;
    esac
    [ -e "$dir" ] && continue
    host_dir=${dir#"$root"}
    [ -d "$host_dir" ] || fail "pkg-config names $host_dir, which does not exist"
    mkdir -p "$(dirname "$dir")"
    ln -s "$host_dir" "$dir"
done

san_flags=
[ "$sanitize" = none ] || san_flags="-fsanitize=$sanitize"
# shellcheck disable=SC2086 # flags are words
${CC:-cc} -std=c11 -Wall -Wextra -Werror $san_flags -o "$tmp/consumer" "$source" $flags ||
    fail "compiling $source against the DESTDIR install failed"

export LD_LIBRARY_PATH="$root$libdir"
ldd "$tmp/consumer" | grep -q "libnvirt.so.0 => $root$libdir/libnvirt.so.0" ||
    fail "the program does not load libnvirt.so.0 from the DESTDIR: $(ldd "$tmp/consumer" | grep nvirt)"
"$tmp/consumer" >"$tmp/out" 2>&1 || fail "consumer failed: $(cat "$tmp/out")"
cat "$tmp/out"

expect() {
    grep -qxF "$1" "$tmp/out" || fail "consumer did not print '$1'"
}
expect "error domain: nvirt-error-quark"
expect "version: 7.2.22"
expect "missing config: NV_ERROR_CONFIG"
# libvirt's test driver reports hypervisor version 2.0.0: older than 2.6.0.
expect "host info: native_luks=no"
expect "bad request: NV_ERROR_BAD_INPUT"
echo "check-consumer: ok"
