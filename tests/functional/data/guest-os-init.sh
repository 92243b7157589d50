#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
#
# /init of the functional suite's guest OS (tests/functional/guest_os.c): a
# Linux guest that reports, on its serial console, what its kernel sees of
# each virtio-blk disk, so a test proves from inside the guest what QEMU
# gives it:
#   nvirt-os: ready
#   nvirt-os: root vda marker=TEXT   (with nvirt.root=vda on the kernel
#                                     command line: the root disk's first
#                                     line, read once at boot)
#   nvirt-os: disk vdb appeared size=SECTORS sha256=HEX   (the whole disk)
#   nvirt-os: disk vdb size=SECTORS                       (capacity changed)
#   nvirt-os: disk vdb gone                               (hot-unplugged)
# The disk is read once, when it appears, and then closed, so a hot-unplug
# request finds it released.  Never exits: a dying init panics.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for mod in $(cat /etc/nvirt-guest/modules); do
    modprobe "$mod" || echo "nvirt-os: cannot load module $mod"
done
echo "nvirt-os: ready at $(cut -d' ' -f1 /proc/uptime) s"

# Boot from volume: report the first line of the root disk that
# nvirt.root= names on the kernel command line.
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    nvirt.root=*) root=${arg#nvirt.root=} ;;
    esac
done
if [ -n "${root:-}" ]; then
    tries=0
    while [ ! -b "/dev/$root" ] && [ $tries -lt 300 ]; do
        usleep 100000
        tries=$((tries + 1))
    done
    marker=$(head -c 64 "/dev/$root" | head -n 1 | tr -cd 'A-Za-z0-9._-')
    echo "nvirt-os: root $root marker=$marker"
fi

seen=
while :; do
    now=
    for d in /sys/block/vd*; do
        [ -e "$d" ] || continue
        n=${d##*/}
        [ -b "/dev/$n" ] || continue
        now="$now $n"
        size=$(cat "$d/size")
        eval "old=\${size_$n:-}"
        if [ -z "$old" ]; then
            sum=$(sha256sum "/dev/$n" | cut -d' ' -f1)
            echo "nvirt-os: disk $n appeared size=$size sha256=$sum"
        elif [ "$old" != "$size" ]; then
            echo "nvirt-os: disk $n size=$size"
        fi
        eval "size_$n=$size"
    done
    for n in $seen; do
        case " $now " in
        *" $n "*) ;;
        *)
            echo "nvirt-os: disk $n gone"
            eval "unset size_$n"
            ;;
        esac
    done
    seen=$now
    usleep 200000
done
