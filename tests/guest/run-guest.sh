#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Run a criterion test binary inside the dm-crypt test guest and report its
# results on stdout, where scripts/test-summary counts them.
#
#   run-guest.sh OUT_DIR GUEST_TEST HOST_TEST [BINARY...]
#
# OUT_DIR     build directory for the guest: image/ (kernel, initramfs and
#             the cache of downloaded .debs, kept between runs) and run/
#             (disks and serial log of the last run).
# GUEST_TEST  criterion binary run inside the guest (tests/guest/*.c).
# HOST_TEST   criterion binary run on the host afterwards, for the checks
#             that need the guest's disks back on the host (qemu-io).
# BINARY...   more programs copied into the guest (cryptsetup, dmsetup,
#             nvirt).
#
# The guest is the Debian cloud kernel with a busybox initramfs
# (build-image.sh, init.sh) booted with plain QEMU under TCG: no KVM, no
# libvirt.  Four raw virtio disks:
#   vda, vdb  blank scratch disks
#   vdc       LUKS1 made here with `qemu-img create -f luks`, holding a
#             pattern written through qemu-io (guest test: the encryptor
#             opens it)
#   vdd       blank; the guest formats it with the encryptor and writes a
#             pattern, HOST_TEST reads it with qemu-io.
# The guest's output between init.sh's BEGIN/END markers comes back over the
# serial console (a file) and is printed here, criterion's Synthesis line
# included.  Exit status: 0 only if both binaries passed.
#
# NVIRT_GUEST_ARGS: more arguments for GUEST_TEST (criterion options such as
# --filter 'plain/*'), passed on the kernel command line, so no spaces
# inside one argument.
set -euo pipefail
# set -e stops at the first failing command; say which one it was.
trap 'echo "run-guest.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

die() {
    echo "run-guest.sh: $*" >&2
    exit 1
}

[ $# -ge 3 ] || die "usage: run-guest.sh OUT_DIR GUEST_TEST HOST_TEST [BINARY...]"
OUT=$(realpath -m "$1")
GUEST_TEST=$(realpath "$2")
HOST_TEST=$(realpath "$3")
shift 3
HERE=$(dirname "$(realpath "$0")")
IMG=$OUT/image
RUN=$OUT/run
# TCG boots in ~3 s; the suite itself takes most of the time.
QEMU_TIMEOUT=${NVIRT_GUEST_TIMEOUT:-1200}

key=$(sed -n 's/^#define GUEST_KEY_A "\([0-9a-f]*\)"$/\1/p' "$HERE/guest_keys.h")
host_byte=$(sed -n 's/^#define INTEROP_HOST_BYTE *\(0x[0-9a-f]*\).*/\1/p' "$HERE/guest_keys.h")
[ -n "$key" ] && [ -n "$host_byte" ] || die "cannot read the test key from guest_keys.h"

# The image holds the test binaries: rebuild the initramfs when any of them
# (or the image recipe) is newer; the kernel and busybox come from the cache.
binaries=("$GUEST_TEST" "$@")
rebuild=0
if [ ! -f "$IMG/initrd.img" ] || [ ! -f "$IMG/vmlinuz" ]; then
    rebuild=1
else
    for f in "${binaries[@]}" "$HERE/build-image.sh" "$HERE/init.sh"; do
        [ "$f" -nt "$IMG/initrd.img" ] && rebuild=1
    done
fi
if [ "$rebuild" = 1 ]; then
    start=$SECONDS
    "$HERE/build-image.sh" "$IMG" "${binaries[@]}" >&2
    echo "run-guest.sh: image built in $((SECONDS - start)) s"
fi

rm -rf "$RUN"
mkdir -p "$RUN"
truncate -s 128M "$RUN/vda.raw" "$RUN/vdb.raw"
truncate -s 64M "$RUN/vdd.raw"
# iter-time: keep the PBKDF cheap, the guest runs it under TCG.  QEMU's
# PBKDF benchmark fails now and then on a busy host for such short times
# ("Unable to get accurate CPU usage"): try again.
for attempt in $(seq 1 20); do
    rm -f "$RUN/vdc.raw"
    qemu-img create -q -f luks --object "secret,id=sec0,data=$key" \
        -o key-secret=sec0,iter-time=20 "$RUN/vdc.raw" 64M && break
    [ "$attempt" = 20 ] && die "qemu-img create -f luks failed 20 times"
done
qemu-io --object "secret,id=sec0,data=$key" \
    --image-opts "driver=luks,key-secret=sec0,file.filename=$RUN/vdc.raw" \
    -c "write -P $host_byte 4M 1M" >/dev/null

drives=()
for d in vda vdb vdc vdd; do
    drives+=(-drive "file=$RUN/$d.raw,format=raw,if=virtio,cache=unsafe")
done

# The sanitizer settings of scripts/run-tests --sanitize, for a sanitized
# GUEST_TEST: the kernel hands NAME=VALUE words of its command line to
# /init as environment variables.
guest_env=
for var in ASAN_OPTIONS UBSAN_OPTIONS G_SLICE G_DEBUG; do
    [ -n "${!var:-}" ] && guest_env="$guest_env $var=${!var}"
done

start=$SECONDS
set +e
timeout "$QEMU_TIMEOUT" qemu-system-x86_64 -accel tcg -m 768 -smp 1 \
    -nodefaults -display none -monitor none -no-reboot \
    -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3$guest_env nvirt.test=$(basename "$GUEST_TEST") -- --verbose ${NVIRT_GUEST_ARGS:-}" \
    "${drives[@]}" -serial "file:$RUN/serial.log"
qemu_rc=$?
set -e
echo "run-guest.sh: QEMU exited $qemu_rc after $((SECONDS - start)) s"

name=$(basename "$GUEST_TEST")
if ! grep -q "===== NVIRT-GUEST-END $name rc=" "$RUN/serial.log"; then
    echo "run-guest.sh: the guest did not finish $name; serial log tail:"
    tail -n 40 "$RUN/serial.log"
    exit 1
fi
# Criterion's report, minus the console's carriage returns.
sed -n "/===== NVIRT-GUEST-BEGIN $name =====/,/===== NVIRT-GUEST-END $name rc=/p" \
    "$RUN/serial.log" | tr -d '\r'
guest_rc=$(sed -n "s/.*===== NVIRT-GUEST-END $name rc=\([0-9]*\) =====.*/\1/p" "$RUN/serial.log" |
    tr -d '\r')
grep -h "^nvirt-guest:" "$RUN/serial.log" | tr -d '\r'

# The host half needs the disk the guest test below prepared; with
# NVIRT_GUEST_ARGS filtering it out there is nothing to check.
host_rc=0
if grep -q "RUN.*interop::volume_formatted_here_for_qemu_to_read" "$RUN/serial.log"; then
    echo "run-guest.sh: host-side checks ($(basename "$HOST_TEST"))"
    set +e
    NVIRT_GUEST_DISK4=$RUN/vdd.raw "$HOST_TEST" 2>&1
    host_rc=$?
    set -e
else
    echo "run-guest.sh: host-side checks skipped:" \
        "interop::volume_formatted_here_for_qemu_to_read did not run in the guest"
    [ -n "${NVIRT_GUEST_ARGS:-}" ] || host_rc=1
fi

if [ "$guest_rc" != 0 ] || [ "$host_rc" != 0 ]; then
    echo "run-guest.sh: failed: guest test exit status ${guest_rc:-none}, host-side checks $host_rc" >&2
    exit 1
fi
