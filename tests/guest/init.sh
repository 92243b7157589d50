#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
#
# /init of the dm-crypt test guest (see build-image.sh).  Kernel command line:
#   nvirt.test=PROGRAM [-- ARG...]
# runs /usr/bin/PROGRAM ARG... with the virtio disks vda..vdd in
# NVIRT_GUEST_DISK, NVIRT_GUEST_DISK2, _DISK3 and _DISK4, prints its output between the BEGIN/END markers that
# run-guest.sh looks for, then powers off.  Never exit: a dying init panics.
/bin/busybox --install -s /bin
export PATH=/usr/bin:/usr/sbin:/bin:/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm
# cryptsetup takes its per-device locks under /run/cryptsetup.
mkdir -p /run/cryptsetup /run/lock

echo "nvirt-guest: init started at $(cut -d' ' -f1 /proc/uptime) s"

# Let the kernel load crypto helpers on demand too ("crypto-xts(aes)", ...).
echo /bin/modprobe >/proc/sys/kernel/modprobe
for mod in $(cat /etc/nvirt-guest/modules); do
    modprobe "$mod" || echo "nvirt-guest: cannot load module $mod"
done

test_name=
for word in $(cat /proc/cmdline); do
    case "$word" in
    nvirt.test=*) test_name=${word#nvirt.test=} ;;
    esac
done

# virtio_blk probes from the module load: wait (up to 5 s) until every
# virtio block device has its /dev node.
i=0
while [ $i -lt 50 ]; do
    missing=0
    for v in /sys/bus/virtio/devices/virtio*; do
        [ "$(cat "$v/device" 2>/dev/null)" = 0x0002 ] || continue
        name=$(ls "$v/block" 2>/dev/null | head -n 1)
        if [ -z "$name" ] || [ ! -b "/dev/$name" ]; then
            missing=1
        fi
    done
    [ $missing = 0 ] && [ -b /dev/vda ] && break
    usleep 100000
    i=$((i + 1))
done

export NVIRT_GUEST=1
[ -b /dev/vda ] && export NVIRT_GUEST_DISK=/dev/vda
[ -b /dev/vdb ] && export NVIRT_GUEST_DISK2=/dev/vdb
[ -b /dev/vdc ] && export NVIRT_GUEST_DISK3=/dev/vdc
[ -b /dev/vdd ] && export NVIRT_GUEST_DISK4=/dev/vdd
[ -x /usr/bin/nvirt ] && export NVIRT_BIN=/usr/bin/nvirt
# The scratch disks are shared by every test: criterion must run them one
# at a time.
export CRITERION_JOBS=1
export TMPDIR=/tmp HOME=/tmp

# Sanitizer settings handed over by run-guest.sh, shown so a run can be
# checked for them.
for var in ASAN_OPTIONS UBSAN_OPTIONS; do
    eval "val=\${$var:-}"
    [ -n "$val" ] && echo "nvirt-guest: $var=$val"
done
echo "nvirt-guest: ready at $(cut -d' ' -f1 /proc/uptime) s (disks: $(ls /sys/block | grep ^vd | tr '\n' ' '))"
if [ -z "$test_name" ] || [ ! -x "/usr/bin/$test_name" ]; then
    echo "nvirt-guest: no test program '${test_name}' in /usr/bin"
    rc=127
else
    echo "===== NVIRT-GUEST-BEGIN $test_name ====="
    cd /tmp
    "/usr/bin/$test_name" "$@" </dev/null 2>&1
    rc=$?
    echo "===== NVIRT-GUEST-END $test_name rc=$rc ====="
fi
echo "nvirt-guest: done at $(cut -d' ' -f1 /proc/uptime) s"
sync
poweroff -f
# poweroff -f does not return; if it ever does, keep init alive.
while :; do sleep 60; done
