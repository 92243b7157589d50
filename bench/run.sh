#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# nvirt's benchmarks on a private libvirtd (as root, after
# scripts/install-deps.sh):
#
#   1. build nvirt and bench/ (build/, or BUILDDIR);
#   2. start a private libvirtd and a running TCG guest with no OS and a
#      virtio-scsi controller (tests/functional/libvirtd-env.sh,
#      domain-tcg.xml);
#   3. make the volumes: one LUKS1 file with a cheap KDF (qemu-img,
#      iter-time=10), one at cryptsetup's default cost (luksFormat), and
#      FILLERS small cheap-KDF ones to fill the guest up;
#   4. bench/attach_detach: nvirt vs hand-made libvirt calls, interleaved,
#      at 1 and at FILLERS+1 attached volumes; bench/cli_startup: nvirt
#      disk-xml and host-info start-up time and peak RSS;
#   5. print PASS/MISS against the targets of the issue, and stop and
#      remove everything, also on failure or Ctrl-C.
#
# The report goes to stdout and to bench/out/bench-DATE.txt.  Only ratios
# measured in one run mean anything on a shared machine; absolute times
# are for orientation.
#
# Key handling: the fixed key is generated here, kept in a shell variable
# and in the run's 0600 nova.conf-style file (how Nova's fixed-key manager
# works), and handed to qemu-img and cryptsetup through pipes, never argv
# or the environment.
#
#   bench/run.sh [--cycles N] [--default-cycles N] [--fillers N]
#                [--cli-runs N] [--warmup N] [--keep]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cycles=30          # per variant, cheap-KDF volume
default_cycles=8   # per variant, cryptsetup-default volume (~2 s an unlock)
fillers=99         # volumes attached before the second round
cli_runs=20
warmup=1
keep=0

usage() {
    echo "usage: bench/run.sh [--cycles N] [--default-cycles N] [--fillers N] [--cli-runs N] [--warmup N] [--keep]"
    exit "${1:-2}"
}

while [ $# -gt 0 ]; do
    case $1 in
    --cycles) cycles=$2; shift 2 ;;
    --default-cycles) default_cycles=$2; shift 2 ;;
    --fillers) fillers=$2; shift 2 ;;
    --cli-runs) cli_runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2 ;;
    esac
done
for n in "$cycles" "$default_cycles" "$fillers" "$cli_runs" "$warmup"; do
    case $n in '' | *[!0-9]*) echo "run.sh: '$n' is not a number" >&2; exit 2 ;; esac
done

if [ "$(id -u)" != 0 ]; then
    echo "run.sh: must run as root (sudo bench/run.sh): it starts a private libvirtd" >&2
    exit 1
fi

builddir=${BUILDDIR:-$here/build}
if [ ! -f "$builddir/build.ninja" ]; then
    meson setup "$builddir" "$here" -Dwerror=true >/dev/null
fi
ninja -C "$builddir" src/cli/nvirt bench/attach_detach bench/cli_startup bench/libvirt_floor >/dev/null

mkdir -p "$here/bench/out"
out=$here/bench/out/bench-$(date -u +%Y%m%dT%H%M%SZ).txt
env_sh=$here/tests/functional/libvirtd-env.sh
export NVIRT_QEMU_CAPS_CACHE=${NVIRT_QEMU_CAPS_CACHE:-$builddir/tests/qemu-caps-cache}

# qemu-img calibrates the KDF on CPU time; with a 10 ms budget on a loaded
# machine it sometimes gives up ("Unable to get accurate CPU usage").
cheap_luks() {
    for try in $(seq 1 20); do
        qemu-img create -q -f luks --object secret,id=sec0,file=/dev/fd/3 \
            -o key-secret=sec0,iter-time=10 "$1" "$2" 3< <(printf '%s' "$key") && return 0
        echo "run.sh: qemu-img create $1 failed (try $try), again" >&2
    done
    return 1
}

bench() {
    set -e
    dir=$(mktemp -d /var/tmp/nvirt-bench-XXXXXX)
    cleanup() {
        if [ "$keep" = 1 ]; then
            echo "run.sh: left running in $dir (stop: $env_sh teardown $dir)"
        else
            sh "$env_sh" teardown "$dir" >/dev/null 2>&1 || true
        fi
    }
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    echo "nvirt benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"

    sh "$env_sh" start "$dir"
    uri=$(sh "$env_sh" uri "$dir")
    domain=nvirt-bench
    sed "s|<name>nvirt-test</name>|<name>$domain</name>|" \
        "$here/tests/functional/data/domain-tcg.xml" >"$dir/domain.xml"
    virsh -q -c "$uri" define "$dir/domain.xml" >/dev/null
    virsh -q -c "$uri" start "$domain" >/dev/null

    key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
    (
        umask 077
        cat >"$dir/nvirt.conf" <<EOF
[DEFAULT]
state_path = $dir

[libvirt]
connection_uri = $uri
virt_type = qemu

[key_manager]
backend = fixed
fixed_key = $key
EOF
    )

    # The passphrase is the lowercase hex of the key, as Nova derives it.
    cheap_luks "$dir/cheap.luks" 16M
    truncate -s 16M "$dir/default.luks"
    cryptsetup luksFormat --type luks1 --batch-mode --key-file=- "$dir/default.luks" \
        < <(printf '%s' "$key")
    mkdir "$dir/fillers"
    if [ "$fillers" -gt 0 ]; then
        cheap_luks "$dir/filler.luks" 1M
        for i in $(seq -f %03g 1 "$fillers"); do
            cp "$dir/filler.luks" "$dir/fillers/filler-$i.luks"
        done
    fi
    echo "volumes: cheap-kdf (qemu-img iter-time=10), default-kdf (cryptsetup luksFormat" \
        "defaults: $(cryptsetup luksDump "$dir/default.luks" | sed -n 's/^.*Iterations:[[:space:]]*//p' | head -1) PBKDF2 iterations), $fillers fillers"

    "$builddir/bench/attach_detach" --config "$dir/nvirt.conf" --domain "$domain" \
        --volume "cheap-kdf:$dir/cheap.luks:$cycles" \
        --volume "default-kdf:$dir/default.luks:$default_cycles" \
        --fillers "$dir/fillers" --warmup "$warmup"

    "$builddir/bench/cli_startup" --nvirt "$builddir/src/cli/nvirt" \
        --floor "$builddir/bench/libvirt_floor" --uri "$uri" --config "$dir/nvirt.conf" \
        --connection-info "$here/tests/data/cinder/block-luks.json" \
        --encryption "$here/tests/data/cinder/encryption-luks.json" --runs "$cli_runs"

    echo
    echo "host load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
    echo "summary (targets: nvirt/direct <= 1.05, start-up + one op <= 50 ms, peak RSS <= 20 MiB):"
    echo "(machine shared with other builds and guests: compare ratios, not absolute times)"
}

set +e
bench 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
grep '^RESULT' "$out" | sed 's/^RESULT /  /' | tee -a "$out"
echo "report: $out"
if [ "$rc" != 0 ]; then
    echo "run.sh: the benchmark failed (exit $rc)" >&2
fi
exit "$rc"
