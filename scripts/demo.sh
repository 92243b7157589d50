#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The main job, end to end, on this machine (as root, after
# scripts/install-deps.sh):
#
#   1. build nvirt (build/, unless NVIRT_BIN names a binary);
#   2. start a private libvirtd in its own mount namespace and a TCG guest
#      with no OS (tests/functional/libvirtd-env.sh, domain-tcg.xml);
#   3. write a known plaintext into a LUKS1 volume file with qemu-img,
#      unlocked by the passphrase Nova derives from the fixed key;
#   4. nvirt host-info, attach-volume --dry-run, attach-volume;
#   5. show QEMU decrypting it: the live <disk> with <encryption>, QEMU's
#      own "info block", the plaintext read back by QEMU (qemu-io in the
#      monitor), and no device-mapper device on the host;
#   6. nvirt detach-volume; show the secret gone; stop and remove everything.
#
# Key handling: the demo's fixed key is generated here and kept only in the
# 0600 nova.conf-style file of the demo (that is how Nova's fixed-key
# manager works), and given to qemu-img through a pipe, never argv.
#
#   scripts/demo.sh [--keep]    --keep leaves the daemon and files in place
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
keep=0
[ "${1:-}" = --keep ] && keep=1

if [ "$(id -u)" != 0 ]; then
    echo "demo: must run as root (sudo scripts/demo.sh): it starts a private libvirtd" >&2
    exit 1
fi

# set -e stops at the first failing command; say which one it was.
trap 'echo "demo: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

nvirt=${NVIRT_BIN:-}
if [ -z "$nvirt" ]; then
    step "build nvirt"
    if [ ! -f "$here/build/build.ninja" ]; then
        meson setup "$here/build" "$here" -Dwerror=true >/dev/null
    fi
    ninja -C "$here/build" src/cli/nvirt >/dev/null
    nvirt=$here/build/src/cli/nvirt
    echo "built $nvirt"
fi

env_sh=$here/tests/functional/libvirtd-env.sh
dir=$(mktemp -d /var/tmp/nvirt-demo-XXXXXX)
# Reuse the test suite's warm QEMU capability cache when it exists.
export NVIRT_QEMU_CAPS_CACHE=${NVIRT_QEMU_CAPS_CACHE:-$here/build/tests/qemu-caps-cache}

cleanup() {
    if [ "$keep" = 1 ]; then
        echo "demo: left running in $dir (stop: $env_sh teardown $dir)"
    else
        sh "$env_sh" teardown "$dir" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

step "start a private libvirtd (mount namespace, state in $dir)"
sh "$env_sh" start "$dir"
uri=$(sh "$env_sh" uri "$dir")
echo "URI: $uri"

domain=nvirt-demo
sed "s|<name>nvirt-test</name>|<name>$domain</name>|" \
    "$here/tests/functional/data/domain-tcg.xml" >"$dir/domain.xml"
virsh -q -c "$uri" define "$dir/domain.xml" >/dev/null
virsh -q -c "$uri" start "$domain" >/dev/null
echo "guest '$domain' running (TCG, no guest OS)"

step "configuration (nova.conf style) and the volume"
volume_id=6f1c1b7e-7d0a-4d3e-9a53-2f1a3c4b5d60
key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
(
    umask 077
    cat >"$dir/nvirt.conf" <<EOF
[libvirt]
connection_uri = $uri
virt_type = qemu

[key_manager]
backend = fixed
fixed_key = $key
EOF
)
sed 's/^fixed_key = .*/fixed_key = (32 random bytes, hex)/' "$dir/nvirt.conf"

text="nvirt demo: written before encryption, read back by QEMU from volume $volume_id."
(yes "$text" || true) | head -c 16M >"$dir/plaintext.img"
# The passphrase is the lowercase hex of the key, as Nova and os-brick
# derive it; qemu-img reads it from a pipe.  Cheap KDF for a quick demo.
# qemu-img calibrates the KDF on the thread's CPU time, which moves in
# scheduler ticks: on a busy host it can see none pass and give up
# ("Unable to get accurate CPU usage").  That says nothing about the
# volume, so it is tried again (up to 20 times: on a 2-core VM 7 to 13 runs
# in 20 failed so), and any other failure stops the demo.
for try in $(seq 1 20); do
    if out=$(qemu-img convert -q -f raw "$dir/plaintext.img" \
        --object secret,id=sec0,file=/dev/fd/3 \
        -O luks -o key-secret=sec0,iter-time=10 "$dir/volume.luks" 2>&1 3< <(printf '%s' "$key")); then
        break
    fi
    case $out in
    *"Unable to get accurate CPU usage"*) ;;
    *) echo "$out" >&2; echo "demo: qemu-img convert to LUKS failed" >&2; exit 1 ;;
    esac
    [ "$try" -lt 20 ] || { echo "$out" >&2; echo "demo: qemu-img could not calibrate its KDF in 20 tries" >&2; exit 1; }
    echo "demo: qemu-img could not calibrate its KDF (busy host), trying again" >&2
    rm -f "$dir/volume.luks"
done
rm -f "$dir/plaintext.img"
show qemu-img info "$dir/volume.luks" | grep -E 'file format|encrypted|virtual size'
printf 'plaintext occurrences in the volume file on the host: %s\n' \
    "$(grep -c "nvirt demo" "$dir/volume.luks" || true)"

cat >"$dir/connection_info.json" <<EOF
{"driver_volume_type": "file", "serial": "$volume_id",
 "data": {"volume_id": "$volume_id", "device_path": "$dir/volume.luks", "encrypted": true}}
EOF
cat >"$dir/encryption.json" <<EOF
{"provider": "luks", "control_location": "front-end", "cipher": "aes-xts-plain64",
 "key_size": 256, "encryption_key_id": "00000000-0000-0000-0000-000000000000"}
EOF
echo "connection_info: $(tr -d '\n' <"$dir/connection_info.json")"
echo "encryption:      $(tr -d '\n' <"$dir/encryption.json")"

args=(--config "$dir/nvirt.conf" --connection-info "$dir/connection_info.json"
    --encryption "$dir/encryption.json" --mountpoint /dev/sdb)

step "nvirt host-info"
"$nvirt" host-info --config "$dir/nvirt.conf"

step "nvirt attach-volume --dry-run (changes nothing)"
"$nvirt" attach-volume "$domain" "${args[@]}" --dry-run

step "nvirt attach-volume"
"$nvirt" attach-volume "$domain" "${args[@]}"
echo "attached."
virsh -c "$uri" secret-list

step "the live <disk>: libvirt hands QEMU the secret, QEMU opens the LUKS header"
virsh -c "$uri" dumpxml "$domain" | sed -n "/<disk/,/<\/disk>/p"
virsh -c "$uri" qemu-monitor-command --hmp "$domain" 'info block' | grep -A3 luks

step "QEMU reads the plaintext (qemu-io in the monitor, output in QEMU's log)"
log=$dir/log/qemu/$domain.log
lines=$(wc -l <"$log")
virsh -c "$uri" qemu-monitor-command --hmp "$domain" \
    'qemu-io -d scsi0-0-0-1 "read -v 0 96"' >/dev/null
sleep 0.5
tail -n +"$((lines + 1))" "$log" | grep -E '^[0-9a-f]{8}:' | head -6
if tail -n +"$((lines + 1))" "$log" | grep -q 'nvirt.demo..writ'; then
    echo "=> QEMU decrypted the volume: the plaintext is back."
else
    echo "demo: QEMU did not return the plaintext" >&2
    exit 1
fi
# A fresh host has no /dev/mapper at all until libdevmapper first runs.
mappings=0
if [ -d /dev/mapper ]; then
    for node in /dev/mapper/*; do
        [ -e "$node" ] && [ "$node" != /dev/mapper/control ] && mappings=$((mappings + 1))
    done
fi
echo "device-mapper devices on the host: $mappings (no decrypted block device)"

step "nvirt detach-volume"
"$nvirt" detach-volume "$domain" "${args[@]}"
echo "detached."
printf 'disks left in the guest: %s\n' \
    "$(virsh -c "$uri" dumpxml "$domain" | grep -c '<disk' || true)"
virsh -c "$uri" secret-list

step "done"
echo "QEMU decrypted the LUKS volume itself; the secret and the disk are gone again."
