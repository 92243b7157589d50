#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Build the kernel + initramfs of the dm-crypt test guest.
#
#   build-image.sh OUT_DIR [BINARY...]
#
# Writes OUT_DIR/vmlinuz and OUT_DIR/initrd.img.  Every BINARY (dynamically
# linked host executables: the guest test programs, cryptsetup, dmsetup,
# nvirt, ...) is copied to /usr/bin of the guest together with every library
# `ldd` lists for it and the dynamic loader; /init (init.sh next to this
# script) runs the program named by `nvirt.test=` on the kernel command line.
#
# Why a guest at all: the build host has no device-mapper, so anything that
# activates dm-crypt can only be tested for real inside a Linux guest.
#
# Needs the Debian archive: the Debian 12 cloud kernel and busybox-static are
# fetched with `apt-get download` (nothing is installed system-wide) into
# OUT_DIR/cache (or $NVIRT_GUEST_CACHE) and reused from there on later runs,
# also when the archive is unreachable.  The kernel package follows whatever
# linux-image-cloud-amd64 depends on; set NVIRT_GUEST_KERNEL_PKG to pin one.
set -euo pipefail
# set -e stops at the first failing command; say which one it was.
trap 'echo "build-image.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

die() {
    echo "build-image.sh: $*" >&2
    exit 1
}

[ $# -ge 1 ] || die "usage: build-image.sh OUT_DIR [BINARY...]"
OUT=$(realpath -m "$1")
shift
HERE=$(dirname "$(realpath "$0")")
CACHE=${NVIRT_GUEST_CACHE:-$OUT/cache}
mkdir -p "$OUT" "$CACHE"

# Loaded by /init in this order (modprobe pulls in the rest from modules.dep).
# virtio/scsi: the scratch disks; dm-mod/dm-crypt: the point of the guest;
# af_alg + algif_skcipher: libcryptsetup encrypts LUKS key slots through the
# kernel crypto API; ecb is needed by dm-crypt's xts(aes) set-up; essiv for
# cbc-essiv:sha256 (cryptsetup's plain-mode default cipher); rmd160,
# sha512_generic and algif_hash for the hashes cryptsetup may ask the kernel
# for.  aes, cbc, sha1, sha256 and hmac are built into the cloud kernel.
# NVIRT_GUEST_MODULES and NVIRT_GUEST_INIT build another guest from the same
# kernel and busybox: the functional suite's guest OS (tests/functional/
# guest_os.c) needs virtio only and its own /init.
MODULES=${NVIRT_GUEST_MODULES:-"virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
virtio_blk scsi_common scsi_mod sd_mod virtio_scsi dm-mod dm-crypt af_alg
algif_skcipher algif_hash ecb xts essiv rmd160 sha512_generic"}
INIT=${NVIRT_GUEST_INIT:-$HERE/init.sh}

# fetch PACKAGE: path of PACKAGE_*.deb in the cache, downloading it if absent.
fetch() {
    local pkg=$1 deb
    deb=$(ls "$CACHE/${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$deb" ]; then
        # Download as root into a root-owned dir: tell apt not to drop to _apt.
        (cd "$CACHE" && apt-get -q -o APT::Sandbox::User=root download "$pkg" >&2) ||
            die "cannot download $pkg (is the Debian archive reachable?)"
        deb=$(ls "$CACHE/${pkg}"_*.deb | sort -V | tail -n 1)
    fi
    echo "$deb"
}

# unpack DEB: directory holding the unpacked DEB, unpacked once per .deb.
unpack() {
    local deb=$1 dir
    dir="$CACHE/$(basename "$deb" .deb).d"
    if [ ! -e "$dir/.unpacked" ]; then
        rm -rf "$dir"
        dpkg-deb -x "$deb" "$dir"
        touch "$dir/.unpacked"
    fi
    echo "$dir"
}

kernel_pkg=${NVIRT_GUEST_KERNEL_PKG:-}
if [ -z "$kernel_pkg" ]; then
    kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1)
fi
if [ -z "$kernel_pkg" ]; then
    # No apt metadata: fall back to whichever cloud kernel is cached.
    cached=$(ls "$CACHE"/linux-image-*-cloud-amd64_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$cached" ] || die "cannot resolve linux-image-cloud-amd64 and no kernel in $CACHE"
    kernel_pkg=$(basename "$cached" | cut -d_ -f1)
fi
kver=${kernel_pkg#linux-image-}

kdir=$(unpack "$(fetch "$kernel_pkg")")
bbdir=$(unpack "$(fetch busybox-static)")
busybox=$bbdir/bin/busybox
[ -x "$busybox" ] || die "no busybox in $bbdir"
[ -f "$kdir/boot/vmlinuz-$kver" ] || die "no vmlinuz-$kver in $kdir"
kmods=$kdir/lib/modules/$kver
if [ ! -f "$kmods/modules.dep" ]; then
    # The .deb ships no index (its postinst runs depmod); build it in the cache.
    "$busybox" depmod -b "$kdir" "$kver"
fi

root=$(mktemp -d "$OUT/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/nvirt-guest,proc,sys,dev,tmp,run,mnt}
cp "$busybox" "$root/bin/busybox"
install -m 0755 "$INIT" "$root/init"

# Modules: each requested one plus its dependencies from modules.dep.
mkdir -p "$root/lib/modules/$kver"
cp "$kmods"/modules.builtin "$kmods"/modules.order "$root/lib/modules/$kver/"
for mod in $MODULES; do
    want=${mod//-/_}
    line=$(awk -F: -v want="$want" '{
            n = $1; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n)
            if (n == want) { print $1 $2; exit }
        }' "$kmods/modules.dep")
    if [ -z "$line" ]; then
        grep -q "/${mod}.ko" "$kmods/modules.builtin" ||
            grep -q "/${mod//_/-}.ko" "$kmods/modules.builtin" ||
            die "module $mod is neither in modules.dep nor built in ($kver)"
        continue
    fi
    for ko in $line; do
        mkdir -p "$root/lib/modules/$kver/$(dirname "$ko")"
        cp "$kmods/$ko" "$root/lib/modules/$kver/$ko"
    done
done
"$busybox" depmod -b "$root" "$kver"
echo "$MODULES" | tr ' ' '\n' | sed '/^$/d' >"$root/etc/nvirt-guest/modules"

# Programs and their shared libraries, at the paths ldd reports so the
# loader finds them without an ld.so.cache.
# A library from the build tree (libnvirt.so.0) is found through the
# binary's RUNPATH, relative to where the binary lies in the build tree,
# which /usr/bin in the guest is not: those go to the loader's default
# directory instead.
copy_lib() {
    local lib=$1 dest=$1
    case $lib in
    /lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) ;;
    *) dest=/usr/lib/x86_64-linux-gnu/$(basename "$lib") ;;
    esac
    [ -e "$root$dest" ] && return 0
    mkdir -p "$root$(dirname "$dest")"
    cp -L "$lib" "$root$dest"
}
for bin in "$@"; do
    [ -x "$bin" ] || die "not an executable: $bin"
    install -m 0755 "$bin" "$root/usr/bin/$(basename "$bin")"
    ldd_out=$(ldd "$bin") || die "ldd failed for $bin (statically linked?)"
    for lib in $(echo "$ldd_out" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
        copy_lib "$lib"
    done
done
# glibc dlopens libgcc_s for thread cancellation and unwinding; OpenSSL 3
# dlopens its legacy provider, where libcryptsetup finds ripemd160 (plain
# mode's passphrase hash).
for lib in /lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so; do
    [ -e "$lib" ] && copy_lib "$lib"
done

(cd "$root" && find . -mindepth 1 | sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) |
    gzip -1 >"$OUT/initrd.img.tmp"
mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
cp "$kdir/boot/vmlinuz-$kver" "$OUT/vmlinuz.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
echo "build-image.sh: $OUT/initrd.img ($(du -k "$OUT/initrd.img" | cut -f1) KiB, kernel $kver," \
    "$# programs)"
