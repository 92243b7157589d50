#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# A single-node Ceph cluster for the rbd functional tests: one mon, one
# memstore OSD, cephx, no mgr, no systemd, on 127.0.0.1 (recipe and
# pitfalls measured on Debian 12 with Ceph 16.2: the comments below).
#
#   ceph-env.sh run DIR PORT
#
# DIR must exist and be empty; the mon listens on PORT (msgr v1 only), the
# OSD on ports PORT+1..PORT+40.  The script creates pool 'volumes' and the
# cephx users client.cinder ('profile rbd pool=volumes', what Cinder's
# deployment guides give it) and client.noaccess ('profile rbd pool=other':
# a user with no access to 'volumes'), writes DIR/ceph.conf, prints "ready"
# on stdout and then waits for end of file on stdin.  Then, or on SIGTERM,
# SIGINT or SIGHUP, it stops the cluster (SIGKILL to the OSD: on SIGTERM
# memstore first writes every object to disk; SIGTERM to the mon), reaps
# both and removes DIR.  The daemons are this shell's children so that it
# can reap them: PID 1 here reaps nobody.
#
# On failure it prints one line on stderr, stops what it started and exits
# non-zero without printing "ready".
set -eu

[ $# -eq 3 ] && [ "$1" = run ] || {
    echo "usage: $0 run DIR PORT" >&2
    exit 2
}
dir=$2
port=$3
mon_pid=
osd_pid=
eof_pid=

stop() {
    trap - EXIT INT TERM HUP
    [ -z "$eof_pid" ] || kill -TERM "$eof_pid" 2>/dev/null || true
    [ -z "$osd_pid" ] || kill -KILL "$osd_pid" 2>/dev/null || true
    [ -z "$mon_pid" ] || kill -TERM "$mon_pid" 2>/dev/null || true
    [ -z "$osd_pid" ] || wait "$osd_pid" 2>/dev/null || true
    [ -z "$mon_pid" ] || wait "$mon_pid" 2>/dev/null || true
    rm -rf "$dir"
}

die() {
    echo "ceph-env: $*" >&2
    exit 1
}

trap stop EXIT
trap 'exit 1' INT TERM HUP

# Bounded waits: a cluster that does not come up fails the tests, never
# hangs them.
CEPH="ceph -c $dir/ceph.conf --connect-timeout 30"

mkdir -p "$dir/run" "$dir/log" "$dir/mon/ceph-a"
fsid=$(cat /proc/sys/kernel/random/uuid)
cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$port
public addr = 127.0.0.1
ms bind msgr2 = false
ms bind port min = $((port + 1))
ms bind port max = $((port + 40))
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/\$cluster.\$name.keyring
run dir = $dir/run
admin socket = $dir/run/\$cluster-\$name.asok
log file = $dir/log/\$cluster-\$name.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 1
mon data avail crit = 1
[mon]
mon data = $dir/mon/\$cluster-\$id
keyring = $dir/mon/\$cluster-\$id/keyring
[osd]
osd data = $dir/osd/\$cluster-\$id
keyring = $dir/osd/\$cluster-\$id/keyring
osd objectstore = memstore
memstore device bytes = 536870912
EOF

step() {
    what=$1
    shift
    "$@" >>"$dir/log/fixture.out" 2>&1 || die "$what failed (exit $?): see $dir/log/fixture.out"
}

step "ceph-authtool (mon key)" ceph-authtool -C "$dir/mon.keyring" -g -n mon. --cap mon 'allow *'
step "ceph-authtool (admin key)" ceph-authtool -C "$dir/ceph.client.admin.keyring" -g \
    -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *'
step "ceph-authtool (import)" ceph-authtool "$dir/mon.keyring" \
    --import-keyring "$dir/ceph.client.admin.keyring"
step monmaptool monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$port]" "$dir/monmap"
step "ceph-mon --mkfs" ceph-mon -c "$dir/ceph.conf" --mkfs -i a --monmap "$dir/monmap" \
    --keyring "$dir/mon.keyring"
ceph-mon -c "$dir/ceph.conf" -i a -f </dev/null >"$dir/log/mon.out" 2>&1 &
mon_pid=$!

osd_key=$(ceph-authtool --gen-print-key)
osd_uuid=$(cat /proc/sys/kernel/random/uuid)
# The OSD's key goes to the mon first ('osd new'), or --mkfs cannot fetch
# its config.
osd_id=$(printf '{"cephx_secret": "%s"}' "$osd_key" |
    $CEPH osd new "$osd_uuid" -i - 2>>"$dir/log/fixture.out") ||
    die "ceph osd new failed: see $dir/log/fixture.out"
mkdir -p "$dir/osd/ceph-$osd_id"
step "ceph-authtool (osd key)" ceph-authtool -C "$dir/osd/ceph-$osd_id/keyring" \
    -n "osd.$osd_id" --add-key "$osd_key"
step "ceph-osd --mkfs" ceph-osd -c "$dir/ceph.conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid"
ceph-osd -c "$dir/ceph.conf" -i "$osd_id" -f </dev/null >"$dir/log/osd.out" 2>&1 &
osd_pid=$!

# The test users: one keyring, one 'auth import' (each ceph CLI call costs
# ~0.4 s of Python).
step "ceph-authtool (cinder key)" ceph-authtool -C "$dir/users.keyring" -g -n client.cinder \
    --cap mon 'profile rbd' --cap osd 'profile rbd pool=volumes' \
    --cap mgr 'profile rbd pool=volumes'
step "ceph-authtool (noaccess key)" ceph-authtool "$dir/users.keyring" -g -n client.noaccess \
    --cap mon 'profile rbd' --cap osd 'profile rbd pool=other' --cap mgr 'profile rbd pool=other'
step "ceph auth import" $CEPH auth import -i "$dir/users.keyring"
for user in cinder noaccess; do
    step "ceph-authtool (print $user key)" ceph-authtool "$dir/users.keyring" -n "client.$user" \
        -p
    ceph-authtool "$dir/users.keyring" -n "client.$user" -p >"$dir/$user.key"
done

tries=0
until $CEPH osd stat -f json 2>>"$dir/log/fixture.out" | grep -q '"num_up_osds":1'; do
    tries=$((tries + 1))
    [ "$tries" -lt 120 ] || die "the OSD is not up after 60 s: see $dir/log/ceph-osd.$osd_id.log"
    kill -0 "$osd_pid" 2>/dev/null || die "ceph-osd exited: see $dir/log/osd.out"
    sleep 0.5
done
step "ceph osd pool create" $CEPH osd pool create volumes 8 8
step "ceph osd pool application enable" $CEPH osd pool application enable volumes rbd

echo ready
# Until the test runner closes our stdin (or dies).  'wait' is where a
# trapped signal interrupts the shell; an asynchronous list's stdin would
# be /dev/null, hence fd 3.
exec 3<&0
cat <&3 >/dev/null &
eof_pid=$!
wait "$eof_pid" || true
