#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The live-migration benchmark (issue 13) on two private libvirtd, as root:
# builds build/ (or BUILDDIR), starts daemons A and B
# (tests/functional/libvirtd-env.sh, each its own host UUID), makes 8
# cheap-KDF LUKS1 volumes both see, and runs bench/migrate: a running TCG
# guest with 1 and with 8 encrypted volumes migrates A->B->A per round,
# nvirt's calls against the same libvirt calls made directly, interleaved.
# Everything is stopped and removed at the end, also on failure or Ctrl-C.
#
#   bench/migrate.sh [--rounds N] [--warmup N] [--volumes LIST]
#
# The report goes to stdout and bench/out/migrate-DATE.txt.  The key is
# generated here and reaches qemu-img through a pipe, never argv or the
# environment; the daemons and bench/migrate read it from the run's 0600
# configuration files.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
rounds=5
warmup=1
volumes=1,8

while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --volumes) volumes=$2; shift 2 ;;
    -h | --help) echo "usage: bench/migrate.sh [--rounds N] [--warmup N] [--volumes LIST]"; exit 0 ;;
    *) echo "migrate.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "migrate.sh: must run as root" >&2; exit 1; }

builddir=${BUILDDIR:-$here/build}
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" "$here" -Dwerror=true >/dev/null
ninja -C "$builddir" bench/migrate >/dev/null
mkdir -p "$here/bench/out"
out=$here/bench/out/migrate-$(date -u +%Y%m%dT%H%M%SZ).txt
env_sh=$here/tests/functional/libvirtd-env.sh
export NVIRT_QEMU_CAPS_CACHE=${NVIRT_QEMU_CAPS_CACHE:-$builddir/tests/qemu-caps-cache}

bench() {
    dir=$(mktemp -d /var/tmp/nvirt-bench-mig-XXXXXX)
    cleanup() {
        sh "$env_sh" teardown "$dir/b" >/dev/null 2>&1 || true
        sh "$env_sh" teardown "$dir/a" >/dev/null 2>&1 || true
        rm -rf "$dir"
    }
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    echo "nvirt migration benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
    sh "$env_sh" start "$dir/a"
    sh "$env_sh" start "$dir/b"
    key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
    for side in a b; do
        (
            umask 077
            cat >"$dir/$side.conf" <<EOF
[DEFAULT]
state_path = $dir

[libvirt]
connection_uri = $(sh "$env_sh" uri "$dir/$side")
virt_type = qemu

[key_manager]
backend = fixed
fixed_key = $key
EOF
        )
    done
    for i in $(seq -f %02g 1 8); do
        for try in $(seq 1 20); do
            qemu-img create -q -f luks --object secret,id=sec0,file=/dev/fd/3 \
                -o key-secret=sec0,iter-time=10 "$dir/vol-$i.luks" 16M 3< <(printf '%s' "$key") &&
                break
        done
    done
    sed "s|<name>nvirt-test</name>|<name>nvirt-bench-mig</name>|" \
        "$here/tests/functional/data/domain-tcg.xml" >"$dir/domain.xml"
    "$builddir/bench/migrate" --uri-a "$(sh "$env_sh" uri "$dir/a")" \
        --uri-b "$(sh "$env_sh" uri "$dir/b")" --config-a "$dir/a.conf" \
        --config-b "$dir/b.conf" --dir "$dir" --domain-xml "$dir/domain.xml" \
        --volumes "$volumes" --rounds "$rounds" --warmup "$warmup"
    echo "host load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
}

set +e
bench 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
grep '^RESULT' "$out" | sed 's/^RESULT /  /' | tee -a "$out"
echo "report: $out"
exit "$rc"
