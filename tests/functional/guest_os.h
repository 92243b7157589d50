/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A real guest OS for functional tests (issue 10, part 7): the Debian cloud
 * kernel the guest suite uses and a small busybox initramfs whose /init
 * (data/guest-os-init.sh) reports on its serial console what the guest
 * kernel sees of each virtio-blk disk.  Booted under the private libvirtd
 * by direct kernel boot; the console goes to a file the test reads.
 * "nvirt.root=vdX" on the kernel command line makes /init report the
 * first line of that disk once, right after it says it is ready (boot
 * from volume).
 *
 * The image is built once per test binary with tests/guest/build-image.sh
 * (kernel and busybox from the Debian archive, cached in
 * $NVIRT_GUEST_CACHE or BUILDDIR/tests/guest/image/cache, shared with the
 * guest suite).  Helpers assert instead of returning errors.
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

typedef struct guest_os guest_os;

/* Define and start domain @name running the guest OS, and wait until its
 * /init says it is ready.  The wall time from start to ready is logged. */
guest_os *guest_os_boot(virConnectPtr conn, const char *name);

/* The guest OS's kernel and initramfs, built on first use (new strings
 * the caller frees): for a domain someone else defines, such as
 * nv_driver_spawn()'s. */
char *guest_os_kernel(void);
char *guest_os_initrd(void);

/* Watch running domain @dom (a reference is taken) whose serial console
 * goes to file @console, and wait until its /init says it is ready; boot
 * time is counted from this call. */
guest_os *guest_os_watch(virDomainPtr dom, const char *console);

/* The running domain (borrowed). */
virDomainPtr guest_os_domain(const guest_os *os);

/* Wait for the next console line (after the last one a wait returned)
 * starting with "nvirt-os: " @prefix, and return it without the
 * "nvirt-os: " part (caller frees).  Waits up to @timeout_s, generous
 * because TCG on a loaded host is slow, and fails the test with the
 * console's contents when the line never comes. */
char *guest_os_wait(guest_os *os, const char *prefix, guint timeout_s);

/* Seconds from start to the guest's "ready". */
double guest_os_boot_seconds(const guest_os *os);

void guest_os_free(guest_os *os);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(guest_os, guest_os_free)

G_END_DECLS
