/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spec's use case proved from inside a real guest OS (issue 10, part 7
 * b and c): a Linux guest (guest_os.h) booted under the private libvirtd
 * reads a natively decrypted LUKS volume hot-attached on virtio-blk, Nova's
 * default bus for volumes, releases it on hot-detach, and sees the new
 * capacity after extend-volume.  Slow (a kernel boot under TCG per test):
 * the fast tests keep the domain with no OS.
 */
#include "harness.h"
#include "driver_fixtures.h"
#include "guest_os.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "support.h"

#define GROWTH (1024 * 1024)

/* The guest kernel names virtio disks in probe order, whatever libvirt's
 * <target dev> says: the volume, its only virtio-blk disk, is its vda. */
#define GUEST_DEV "vda"

/* What the guest must print for a disk holding nv_harness_plaintext(). */
static char *
expected_appearance(const char *dev)
{
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autofree char *sum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, plain);

    return g_strdup_printf("disk %s appeared size=%d sha256=%s", dev, VOLUME_SIZE / 512, sum);
}

Test(guest_os, reads_native_luks_volume_hot_attached_on_virtio_blk_and_releases_it_on_detach)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("44444444-0000-0000-0000-000000000001", "os.luks", "vdb");
    virConnectPtr conn = connect_daemon();
    g_autoptr(guest_os) os = guest_os_boot(conn, "os-attach");
    g_autofree char *expect = expected_appearance(GUEST_DEV);
    g_autofree char *seen = NULL;
    g_autofree char *gone = NULL;
    g_autofree char *live = NULL;

    attach_ok(driver, "os-attach", vol);
    live = domain_xml("os-attach", 0);
    cr_assert_not_null(strstr(live, "<target dev='vdb' bus='virtio'/>"), "%s", live);
    cr_assert_not_null(strstr(live, "<encryption format='luks'"), "not native: %s", live);

    /* The guest kernel found the disk and read the plaintext. */
    seen = guest_os_wait(os, "disk " GUEST_DEV " appeared", 300);
    cr_assert_str_eq(seen, expect);

    /* Hot-detach completes only because the guest releases the device. */
    detach_ok(driver, "os-attach", vol);
    gone = guest_os_wait(os, "disk " GUEST_DEV " gone", 300);
    cr_assert_str_eq(gone, "disk " GUEST_DEV " gone");
    cr_assert_not(has_disk("os-attach", 0, "vdb"));
    cr_assert_not(has_volume_secret("44444444-0000-0000-0000-000000000001"));
    virConnectClose(conn);
}

Test(guest_os, sees_the_new_capacity_after_extend)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("44444444-0000-0000-0000-000000000002", "osx.luks", "vdb");
    virConnectPtr conn = connect_daemon();
    g_autoptr(guest_os) os = guest_os_boot(conn, "os-extend");
    g_autoptr(GError) error = NULL;
    g_autofree char *seen = NULL;
    g_autofree char *resized = NULL;
    g_autofree char *expect = NULL;
    guint64 guest_size = 0;
    GStatBuf st;

    attach_ok(driver, "os-extend", vol);
    seen = guest_os_wait(os, "disk " GUEST_DEV " appeared", 300);

    cr_assert(g_stat(vol->path, &st) == 0);
    cr_assert(truncate(vol->path, st.st_size + GROWTH) == 0);
    cr_assert(nv_driver_extend_volume(driver, "os-extend", &vol->request,
                                      (guint64)st.st_size + GROWTH, &guest_size, &error),
              "%s", error ? error->message : "");
    cr_assert_eq(guest_size, VOLUME_SIZE + GROWTH);

    /* virtio-blk's config change reaches the guest kernel. */
    resized = guest_os_wait(os, "disk " GUEST_DEV " size=", 300);
    expect = g_strdup_printf("disk " GUEST_DEV " size=%d", (VOLUME_SIZE + GROWTH) / 512);
    cr_assert_str_eq(resized, expect);
    virConnectClose(conn);
}
