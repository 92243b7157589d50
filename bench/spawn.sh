#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The spawn and power-on benchmark (issue 10, part 10) on a private
# libvirtd, as root: builds build/ (or BUILDDIR), starts the daemon
# (tests/functional/libvirtd-env.sh), formats the largest count of
# cheap-KDF LUKS1 volumes once (qemu-img, iter-time 10: the secrets are made
# anew each round, but QEMU's PBKDF at start stays small and equal in both
# variants), and runs bench/spawn: a TCG instance with no OS spawned from
# 1, 4 and 16 encrypted volumes, and powered on with the largest count,
# nvirt against the same libvirt calls made directly, interleaved.
# Everything is stopped and removed at the end, also on failure or Ctrl-C.
#
#   bench/spawn.sh [--rounds N] [--warmup N] [--volumes LIST]
#
# The report goes to stdout and bench/out/spawn-DATE.txt.  The key is
# generated here and reaches qemu-img through a pipe, never argv or the
# environment; bench/spawn reads it from the run's 0600 configuration.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
rounds=5
warmup=1
volumes=1,4,16

while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --volumes) volumes=$2; shift 2 ;;
    -h | --help) echo "usage: bench/spawn.sh [--rounds N] [--warmup N] [--volumes LIST]"; exit 0 ;;
    *) echo "spawn.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "spawn.sh: must run as root" >&2; exit 1; }
max=0
for n in ${volumes//,/ }; do
    case $n in '' | *[!0-9]*) echo "spawn.sh: '$n' is not a number" >&2; exit 2 ;; esac
    [ "$n" -gt "$max" ] && max=$n
done

builddir=${BUILDDIR:-$here/build}
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" "$here" -Dwerror=true >/dev/null
ninja -C "$builddir" bench/spawn >/dev/null
mkdir -p "$here/bench/out"
out=$here/bench/out/spawn-$(date -u +%Y%m%dT%H%M%SZ).txt
env_sh=$here/tests/functional/libvirtd-env.sh
export NVIRT_QEMU_CAPS_CACHE=${NVIRT_QEMU_CAPS_CACHE:-$builddir/tests/qemu-caps-cache}

bench() {
    dir=$(mktemp -d /var/tmp/nvirt-bench-spawn-XXXXXX)
    cleanup() {
        sh "$env_sh" teardown "$dir/d" >/dev/null 2>&1 || true
        rm -rf "$dir"
    }
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    echo "nvirt spawn benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
    sh "$env_sh" start "$dir/d"
    key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
    (
        umask 077
        cat >"$dir/nvirt.conf" <<EOF
[DEFAULT]
state_path = $dir

[libvirt]
connection_uri = $(sh "$env_sh" uri "$dir/d")
virt_type = qemu

[key_manager]
backend = fixed
fixed_key = $key
EOF
    )
    for i in $(seq -f %02g 1 "$max"); do
        for try in $(seq 1 20); do
            qemu-img create -q -f luks --object secret,id=sec0,file=/dev/fd/3 \
                -o key-secret=sec0,iter-time=10 "$dir/vol-$i.luks" 16M 3< <(printf '%s' "$key") &&
                break
        done
    done
    "$builddir/bench/spawn" --uri "$(sh "$env_sh" uri "$dir/d")" --config "$dir/nvirt.conf" \
        --dir "$dir" --volumes "$volumes" --rounds "$rounds" --warmup "$warmup"
    echo "host load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
}

set +e
bench 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
grep '^RESULT' "$out" | sed 's/^RESULT /  /' | tee -a "$out"
echo "report: $out"
exit "$rc"
