#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# A private libvirtd (+ QEMU, TCG) for functional tests, demos and benchmarks.
#
#   libvirtd-env.sh start DIR        create DIR if needed and start the daemon
#   libvirtd-env.sh stop DIR         stop the daemon (domains, secrets and
#                                    caches stay in DIR; start again to resume)
#   libvirtd-env.sh uri DIR          print the connection URI
#   libvirtd-env.sh teardown DIR     kill this daemon's QEMUs, stop it, rm DIR
#   libvirtd-env.sh qemu-version DIR VERSION
#                                    stop, rewrite <version> in DIR's QEMU
#                                    capabilities cache (libvirt encoding,
#                                    e.g. 2005000), start again: an "old QEMU"
#   libvirtd-env.sh qemu-version DIR reset
#                                    undo the above (restarts the daemon)
#
# An old libvirt cannot be simulated: libvirtd reports its own version.
#
# Why a mount namespace: a second libvirtd next to the system one fails on
# fixed state paths (/run/libvirt, /var/lib/libvirt, ...), so DIR's own
# directories are bound over them in a namespace only this daemon (and the
# QEMUs it forks) lives in.  Needs root; no systemd, no virtlogd (see
# stdio_handler in qemu.conf).
#
# Probing QEMU capabilities costs ~8 s per cold start.  If
# NVIRT_QEMU_CAPS_CACHE names a directory, a warm cache is copied from it into
# DIR before start, and a cold one is saved there after the first start.
#
# Environment: NVIRT_LIBVIRTD_TIMEOUT (seconds to wait for start/stop, 60).
set -eu

usage() {
    echo "usage: $0 start|stop|uri|teardown DIR | qemu-version DIR VERSION|reset" >&2
    exit 2
}

die() {
    echo "libvirtd-env: $*" >&2
    exit 1
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac
timeout=${NVIRT_LIBVIRTD_TIMEOUT:-60}
caps_rel=cache/qemu/capabilities

uri() {
    echo "qemu+unix:///system?socket=$dir/sock/libvirt-sock"
}

# A zombie counts as gone: libvirtd -d is reparented to PID 1, and the init
# of some containers reaps only every ~1.6 s.
alive() {
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ]
}

daemon_pid() {
    [ -s "$dir/libvirtd.pid" ] || return 1
    pid=$(cat "$dir/libvirtd.pid")
    alive "$pid" || return 1
    echo "$pid"
}

# Each daemon is its own host for libvirt: a migration between two daemons
# with one host UUID is refused ("Attempt to migrate guest to the same
# host"), and without DMI libvirt picks a new random one at every start.
# Kept in DIR, so a restart keeps it.
host_uuid() {
    [ -s "$dir/host-uuid" ] || cat /proc/sys/kernel/random/uuid >"$dir/host-uuid"
    cat "$dir/host-uuid"
}

write_config() {
    mkdir -p "$dir/run" "$dir/etc" "$dir/lib" "$dir/cache" "$dir/log" "$dir/sock"
    chmod 0700 "$dir"
    cat >"$dir/etc/libvirtd.conf" <<EOF
unix_sock_dir = "$dir/sock"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "2:file:$dir/log/libvirtd.log"
host_uuid = "$(host_uuid)"
EOF
    # No sVirt, cgroups or namespaces: the daemon runs in a bare container
    # as root.  stdio_handler = "file" writes QEMU's log without virtlogd.
    cat >"$dir/etc/qemu.conf" <<EOF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
EOF
}

seed_caps() {
    [ -n "${NVIRT_QEMU_CAPS_CACHE:-}" ] || return 0
    [ -d "$NVIRT_QEMU_CAPS_CACHE" ] || return 0
    [ ! -d "$dir/$caps_rel" ] || return 0
    mkdir -p "$dir/$caps_rel"
    # -p: libvirt compares the cache's timestamps with the emulator's.
    cp -p "$NVIRT_QEMU_CAPS_CACHE"/*.xml "$dir/$caps_rel/" 2>/dev/null || true
}

save_caps() {
    [ -n "${NVIRT_QEMU_CAPS_CACHE:-}" ] || return 0
    [ ! -d "$NVIRT_QEMU_CAPS_CACHE" ] || return 0
    ls "$dir/$caps_rel"/*.xml >/dev/null 2>&1 || return 0
    # Build next to the target and rename, so a parallel run never sees a
    # half-copied cache.
    parent=$(dirname "$NVIRT_QEMU_CAPS_CACHE")
    mkdir -p "$parent"
    tmp=$(mktemp -d "$parent/.qemu-caps-XXXXXX")
    cp -p "$dir/$caps_rel"/*.xml "$tmp/"
    mv -T "$tmp" "$NVIRT_QEMU_CAPS_CACHE" 2>/dev/null || rm -rf "$tmp"
}

start() {
    if daemon_pid >/dev/null; then
        die "libvirtd for $dir is already running"
    fi
    write_config
    seed_caps
    rm -f "$dir/libvirtd.pid" "$dir/sock/libvirt-sock"
    # libvirtd needs the mount points to exist; an empty /run/libvirt is
    # harmless on a host without a system libvirtd.
    mkdir -p /run/libvirt /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
    unshare --mount --propagation private sh -ec '
        d=$1
        mount --bind "$d/run" /run/libvirt
        mount --bind "$d/etc" /etc/libvirt
        mount --bind "$d/lib" /var/lib/libvirt
        mount --bind "$d/cache" /var/cache/libvirt
        mount --bind "$d/log" /var/log/libvirt
        exec libvirtd -d --config /etc/libvirt/libvirtd.conf --pid-file "$d/libvirtd.pid"
    ' sh "$dir" </dev/null >"$dir/libvirtd.stdout" 2>&1 ||
        die "libvirtd for $dir did not start: $(tail -n 3 "$dir/libvirtd.stdout" 2>/dev/null | tr '\n' ' ')(log: $dir/log/libvirtd.log)"
    # The socket answers before the QEMU driver has probed the emulator
    # (virsh uri succeeds at once); the hypervisor version needs the probe
    # done, so it is the readiness check.
    deadline=$(($(date +%s) + timeout))
    until virsh -q -c "$(uri)" version >/dev/null 2>&1; do
        if ! daemon_pid >/dev/null && [ -s "$dir/libvirtd.pid" ]; then
            die "libvirtd for $dir exited during start, see $dir/log/libvirtd.log"
        fi
        [ "$(date +%s)" -lt "$deadline" ] ||
            die "libvirtd for $dir not answering on $(uri) after ${timeout}s"
        sleep 0.05
    done
    save_caps
}

stop() {
    signal=${1:-TERM}
    pid=$(daemon_pid) || return 0
    kill -"$signal" "$pid"
    # A killed process runs no more code; not waiting skips the ~1.6 s the
    # kernel takes to tear down its mount namespace.
    if [ "$signal" = KILL ]; then
        rm -f "$dir/libvirtd.pid"
        return 0
    fi
    deadline=$(($(date +%s) + timeout))
    while alive "$pid"; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.05
    done
    rm -f "$dir/libvirtd.pid"
}

teardown() {
    [ -d "$dir" ] || return 0
    # QEMU outlives libvirtd by design: kill this daemon's guests through
    # their pid files so nothing keeps DIR's files open.
    for f in "$dir"/run/qemu/*.pid; do
        [ -s "$f" ] || continue
        kill -KILL "$(cat "$f")" 2>/dev/null || true
    done
    # DIR is removed next, so skip the orderly shutdown: libvirt writes
    # persistent state (secrets, domains) when it changes, not at exit.
    stop KILL
    rm -rf "$dir"
}

qemu_version() {
    version=$1
    case $version in
    reset)
        [ -d "$dir/caps-orig" ] || return 0
        stop
        cp -p "$dir/caps-orig"/*.xml "$dir/$caps_rel/"
        rm -rf "$dir/caps-orig"
        start
        return 0
        ;;
    '' | *[!0-9]*) die "bad QEMU version '$version': want libvirt's encoding, e.g. 2005000, or reset" ;;
    esac
    ls "$dir/$caps_rel"/*.xml >/dev/null 2>&1 || die "no QEMU capabilities cache in $dir"
    stop
    if [ ! -d "$dir/caps-orig" ]; then
        mkdir "$dir/caps-orig"
        cp -p "$dir/$caps_rel"/*.xml "$dir/caps-orig/"
    fi
    for f in "$dir/$caps_rel"/*.xml; do
        # Keep the timestamps libvirt validates the cache with.
        touch -r "$f" "$f.stamp"
        sed -i "s|<version>[0-9]*</version>|<version>$version</version>|" "$f"
        touch -r "$f.stamp" "$f"
        rm -f "$f.stamp"
    done
    start
}

case $cmd in
start) start ;;
stop) stop ;;
uri) uri ;;
teardown) teardown ;;
qemu-version)
    [ $# -eq 3 ] || usage
    qemu_version "$3"
    ;;
*) usage ;;
esac
