#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Install everything nvirt needs to build and run all its tests on a fresh
# Debian 12 (bookworm) machine.  Run as root:
#
#   sudo scripts/install-deps.sh
#
# Idempotent and non-interactive: packages already installed are not
# fetched again (no network at all when nothing is missing), no service is
# started, and no system libvirtd is left running (the functional tests start
# their own private daemon in a mount namespace; see
# tests/functional/libvirtd-env.sh).
set -euo pipefail
# set -e stops at the first failing command; say which one it was.
trap 'echo "install-deps: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

export DEBIAN_FRONTEND=noninteractive

# Every package is named, even those a fresh image or another package's
# dependencies already bring: the list is the contract, not the image.
build_packages=(
    gcc libc6-dev         # compiler + C library headers (libc6-dev is only a
                          # Recommends of gcc, which --no-install-recommends drops)
    libasan8 libubsan1 liblsan0 # gcc 12's sanitizer runtimes (-Db_sanitize)
    meson ninja-build pkg-config
    clang-format          # scripts/format
    clang libclang-rt-14-dev # scripts/fuzz: libFuzzer + clang's sanitizer runtimes
    git                   # scripts/format (git ls-files), reno
    g++                   # dist suite: the public headers compile as C++
    binutils              # dist suite: nm -D, objdump -p on libnvirt.so
    python3-docutils      # rst2man: the nvirt(1) and nvirt.conf(5) pages
    groff-base man-db     # dist suite: the man pages render without warnings
    pkgconf               # nvirt.pc, the consumer test
)
package_packages=(        # .ci/debian-packages: build and check the .debs
    debhelper dpkg-dev fakeroot lintian
)
library_packages=(
    libvirt-dev libxml2-dev libglib2.0-dev libjson-glib-dev
    libcryptsetup-dev libblkid-dev libcriterion-dev libiniparser-dev
    libcurl4-openssl-dev  # the Barbican key manager's HTTP (src/keymgr/http.c)
)
runtime_packages=(
    libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients # libvirtd, virsh, virt-xml-validate
    qemu-system-x86 qemu-utils # QEMU (TCG), qemu-img, qemu-io, qemu-nbd (NBD back-end)
    qemu-block-extra      # QEMU's iSCSI initiator (block-iscsi.so) and rbd driver (block-rbd.so)
    ceph-mon ceph-osd ceph-common librbd1 # tests/functional/ceph-env.sh: the rbd tests'
                          # single-node cluster (no daemon is started by the packages)
    tgt                   # tgtd, the userspace iSCSI target the volume back-end tests start
    cryptsetup-bin        # cryptsetup, for fixtures and cross-checks
    strace                # tests/functional/test_key_hygiene.c traces the CLI
    gdb                   # tests/functional/test_driver_kill_faults.c: kill and core points
    dmsetup               # guest suite: copied into the test guest to check mappings
    gzip                  # guest suite: tests/guest/build-image.sh packs the initramfs
    # Not installed: the guest suite fetches linux-image-*-cloud-amd64 and
    # busybox-static with `apt-get download` into its cache in the build
    # directory (tests/guest/build-image.sh).
    e2fsprogs fdisk util-linux mount # mkfs, sfdisk, unshare, mount --bind
    python3 python3-reno  # scripts/test-summary, release notes
    # tests/nova: the differential suite runs Nova's and os-brick's own code
    # (Debian's, under /usr/bin/python3) with Nova's test fixtures, which
    # import fixtures, testtools and wsgi_intercept.
    python3-nova python3-os-brick python3-lxml
    python3-fixtures python3-testtools python3-wsgi-intercept
    sudo                  # the README's commands are written with sudo
    # tests/functional/test_barbican.c: real Keystone and Barbican, run by
    # tests/functional/barbican-fixture.py (sqlite, wsgiref; no service is
    # started or enabled by these packages).
    python3-keystone python3-barbican
)
packages=("${build_packages[@]}" "${library_packages[@]}" "${runtime_packages[@]}"
    "${package_packages[@]}")

if [ "$(id -u)" != 0 ]; then
    echo "install-deps: must run as root (sudo scripts/install-deps.sh)" >&2
    exit 1
fi
if ! grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release; then
    echo "install-deps: warning: written for Debian 12 (bookworm); trying anyway" >&2
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done

# Package scripts must not start daemons: no init system runs here, and a
# system libvirtd would hold libvirt's fixed state paths.  Docker images ship
# such a policy already; add one only for the time of the install.
policy=/usr/sbin/policy-rc.d
own_policy=0
cleanup() {
    if [ "$own_policy" = 1 ]; then
        rm -f "$policy"
    fi
}
trap cleanup EXIT

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
else
    echo "install-deps: installing ${#missing[@]} of ${#packages[@]} packages: ${missing[*]}"
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# added by nvirt scripts/install-deps.sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
    fi
    apt-get update -q
    apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}"
fi

# Should a package script have started libvirt's daemons anyway, stop them by
# their pid files (only processes running those binaries are signalled).
for daemon in libvirtd virtqemud virtsecretd virtlogd virtlockd; do
    for pidfile in "/run/$daemon.pid" "/run/libvirt/$daemon.pid"; do
        [ -f "$pidfile" ] || continue
        if start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/2 \
            --pidfile "$pidfile" --exec "/usr/sbin/$daemon"; then
            echo "install-deps: stopped system $daemon (pid file $pidfile)"
        fi
        rm -f "$pidfile"
    done
done

# Check what the build and the tests call, so a missing piece shows here
# rather than as a confusing test failure.
fail=0
for tool in cc c++ nm objdump rst2man groff man dpkg-buildpackage dh lintian fakeroot \
    meson ninja pkg-config clang-format clang git python3 reno \
    libvirtd virsh virt-xml-validate qemu-system-x86_64 qemu-img qemu-io \
    cryptsetup dmsetup mkfs.ext4 mkswap sfdisk unshare gdb timeout ceph-mon ceph-osd ceph \
    ceph-authtool monmaptool rbd keystone-manage; do
    if ! command -v "$tool" >/dev/null; then
        echo "install-deps: $tool not found after install" >&2
        fail=1
    fi
done
for lib in libvirt libxml-2.0 glib-2.0 gio-2.0 json-glib-1.0 libcryptsetup blkid criterion libcurl; do
    if ! pkg-config --exists "$lib"; then
        echo "install-deps: pkg-config cannot find $lib" >&2
        fail=1
    fi
done
# The differential suite imports Nova's libvirt fixture (tests/nova/).
if ! /usr/bin/python3 -c 'import nova.tests.fixtures.libvirt, os_brick.encryptors, lxml' 2>/dev/null; then
    echo "install-deps: /usr/bin/python3 cannot import Nova's test fixtures or os-brick" >&2
    fail=1
fi
# tests/functional/barbican-fixture.py serves Keystone and Barbican from these.
if ! /usr/bin/python3 -c 'import keystone.server.wsgi, barbican.api.app, keystonemiddleware.auth_token' 2>/dev/null; then
    echo "install-deps: /usr/bin/python3 cannot import keystone, barbican or keystonemiddleware" >&2
    fail=1
fi
# iniparser ships no .pc file on Debian 12.
if [ ! -f /usr/include/iniparser/iniparser.h ]; then
    echo "install-deps: /usr/include/iniparser/iniparser.h missing" >&2
    fail=1
fi
# gcc finds its sanitizer runtimes through these links in libgcc-12-dev.
for rt in libasan.so libubsan.so; do
    if [ ! -e "$(gcc -print-file-name="$rt")" ]; then
        echo "install-deps: gcc has no $rt (sanitized builds need it)" >&2
        fail=1
    fi
done
if [ "$fail" != 0 ]; then
    echo "install-deps: failed: the tools or libraries above are missing" >&2
    exit 1
fi
echo "install-deps: ready: gcc $(gcc -dumpfullversion), meson $(meson --version)," \
    "libvirt $(pkg-config --modversion libvirt), $(qemu-system-x86_64 --version | head -n1)"
