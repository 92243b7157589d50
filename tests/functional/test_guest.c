/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest module against a private libvirtd and TCG domains with no guest OS.
 * SCSI disks (virtio-scsi) leave at once without a guest driver; virtio-blk
 * disks never do, which is how the detach timeout is tested.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <string.h>

#include "nvirt/error.h"
#include "util/secure.h"
#include "virt/libvirt/config.h"
#include "virt/libvirt/guest.h"
#include "virt/libvirt/host.h"

#define PASSPHRASE  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define VOLUME_SIZE (1024 * 1024)

static nv_host *
open_host(void)
{
    g_autoptr(GError) error = NULL;
    nv_host *host = nv_host_open(nv_harness_uri(), &error);

    cr_assert(host != NULL, "%s", error ? error->message : "");
    return host;
}

static nv_guest *
lookup(nv_host *host, const char *name)
{
    g_autoptr(GError) error = NULL;
    nv_guest *guest = nv_guest_lookup(host, name, &error);

    cr_assert(guest != NULL, "%s", error ? error->message : "");
    return guest;
}

/* A running (or just defined) domain called @name, as an nv_guest. */
static nv_guest *
make_guest(nv_host *host, const char *name, gboolean running)
{
    virConnectPtr conn = nv_host_get_connection(host);
    virDomainPtr dom =
        running ? nv_harness_start_domain(conn, name) : nv_harness_define_domain(conn, name);

    virDomainFree(dom);
    return lookup(host, name);
}

/* A raw file disk config for @target_dev on @bus, built with the config
 * module as the driver would. */
static char *
raw_disk_xml(const char *name, const char *target_dev, const char *bus)
{
    g_autofree char *path = nv_harness_path(name);
    g_autoptr(nv_disk_config) disk = nv_disk_config_new();
    g_autoptr(GError) error = NULL;
    char *xml;

    cr_assert(g_file_set_contents(path, "", 0, NULL));
    cr_assert(truncate(path, VOLUME_SIZE) == 0);
    disk->driver_name = g_strdup("qemu");
    disk->driver_format = g_strdup("raw");
    disk->source_path = g_strdup(path);
    disk->target_dev = g_strdup(target_dev);
    disk->target_bus = g_strdup(bus);
    xml = nv_disk_config_to_xml(disk, &error);
    cr_assert(xml != NULL, "%s", error ? error->message : "");
    return xml;
}

static void
attach(nv_guest *guest, const char *xml)
{
    g_autoptr(GError) error = NULL;

    cr_assert(nv_guest_attach_device(guest, xml, &error), "%s", error ? error->message : "");
}

static gboolean
config_has_disk(nv_guest *guest, gboolean inactive, const char *target_dev)
{
    g_autofree char *xml = nv_guest_get_xml(guest, inactive, NULL);
    g_autoptr(nv_disk_config) disk = NULL;

    cr_assert_not_null(xml);
    disk = nv_domain_find_disk(xml, target_dev, NULL, NULL);
    return disk != NULL;
}

/* ---- lookup and state ------------------------------------------------------ */

Test(guest, lookup_of_a_missing_domain_is_not_found)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_guest_lookup(host, "guest-nonexistent", &error));
    cr_assert_eq(error->code, NV_ERROR_NOT_FOUND);
    cr_assert_str_eq(error->message, "domain 'guest-nonexistent' not found");
}

Test(guest, running_domain_is_live)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-running", TRUE);
    g_autoptr(GError) error = NULL;
    gboolean live = FALSE;

    cr_assert_str_eq(nv_guest_get_name(guest), "guest-running");
    cr_assert(nv_guest_is_live(guest, &live, &error), "%s", error ? error->message : "");
    cr_assert(live);
}

Test(guest, paused_domain_is_live)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-paused", TRUE);
    virDomainPtr dom = virDomainLookupByName(nv_host_get_connection(host), "guest-paused");
    gboolean live = FALSE;

    cr_assert(virDomainSuspend(dom) == 0);
    virDomainFree(dom);
    cr_assert(nv_guest_is_live(guest, &live, NULL));
    cr_assert(live);
}

Test(guest, shut_off_domain_is_not_live)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-shutoff", FALSE);
    gboolean live = TRUE;

    cr_assert(nv_guest_is_live(guest, &live, NULL));
    cr_assert_not(live);
}

/* ---- attach ------------------------------------------------------------------ */

Test(guest, attach_to_a_running_domain_changes_live_and_persistent_config)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-attach-live", TRUE);
    g_autofree char *xml = raw_disk_xml("guest-attach-live.raw", "sdb", "scsi");

    attach(guest, xml);
    cr_assert(config_has_disk(guest, FALSE, "sdb"));
    cr_assert(config_has_disk(guest, TRUE, "sdb"));
}

Test(guest, attach_to_a_shut_off_domain_changes_persistent_config)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-attach-off", FALSE);
    g_autofree char *xml = raw_disk_xml("guest-attach-off.raw", "sdb", "scsi");

    attach(guest, xml);
    cr_assert(config_has_disk(guest, TRUE, "sdb"));
}

Test(guest, attach_error_names_the_domain)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-attach-bad", TRUE);
    g_autoptr(GError) error = NULL;

    cr_assert_not(nv_guest_attach_device(guest, "<disk type='file' device='disk'/>", &error));
    cr_assert_eq(error->code, NV_ERROR_LIBVIRT);
    cr_assert(g_str_has_prefix(error->message, "domain 'guest-attach-bad': attach device: "), "%s",
              error->message);
}

/* ---- live disk lookup -------------------------------------------------------- */

Test(guest, get_disk_returns_the_live_encrypted_disk_config)
{
    g_autofree char *path = nv_harness_path("guest-enc.luks");
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-get-disk", TRUE);
    g_autoptr(nv_secure_buf) pass = nv_secure_buf_new_from(PASSPHRASE, strlen(PASSPHRASE));
    g_autoptr(GError) error = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(nv_disk_config) disk = NULL;

    nv_harness_create_luks_volume(path, PASSPHRASE, VOLUME_SIZE);
    uuid = nv_host_create_volume_secret(host, "guest-get-disk-vol", NULL, pass, &error);
    cr_assert_not_null(uuid, "%s", error ? error->message : "");
    xml = nv_harness_disk_xml(path, "sdc", uuid);
    attach(guest, xml);

    disk = nv_guest_get_disk(guest, "sdc", &error);
    cr_assert_not_null(disk, "%s", error ? error->message : "");
    cr_assert_str_eq(disk->source_path, path);
    cr_assert_str_eq(disk->target_bus, "scsi");
    cr_assert_not_null(disk->alias, "live XML carries an alias");
    cr_assert_not_null(disk->encryption);
    cr_assert_str_eq(disk->encryption->format, "luks");
    cr_assert_str_eq(disk->encryption->secret_uuid, uuid);
}

Test(guest, get_disk_of_a_missing_target_is_not_found)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-no-disk", TRUE);
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_guest_get_disk(guest, "sdz", &error));
    cr_assert_eq(error->code, NV_ERROR_NOT_FOUND);
    cr_assert_str_eq(error->message, "domain 'guest-no-disk': no disk with target dev 'sdz'");
}

/* ---- detach ------------------------------------------------------------------ */

Test(guest, detached_scsi_disk_is_gone_from_live_and_persistent_config)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-detach-scsi", TRUE);
    g_autofree char *xml = raw_disk_xml("guest-detach-scsi.raw", "sdb", "scsi");
    g_autoptr(GError) error = NULL;

    attach(guest, xml);
    cr_assert(nv_guest_detach_disk(guest, "sdb", 0, &error), "%s", error ? error->message : "");
    cr_assert_not(config_has_disk(guest, FALSE, "sdb"));
    cr_assert_not(config_has_disk(guest, TRUE, "sdb"));
}

Test(guest, detach_from_a_shut_off_domain_changes_persistent_config)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-detach-off", FALSE);
    g_autofree char *xml = raw_disk_xml("guest-detach-off.raw", "sdb", "scsi");
    g_autoptr(GError) error = NULL;

    attach(guest, xml);
    cr_assert(nv_guest_detach_disk(guest, "sdb", 0, &error), "%s", error ? error->message : "");
    cr_assert_not(config_has_disk(guest, TRUE, "sdb"));
}

Test(guest, detach_of_a_missing_disk_is_not_found)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-detach-missing", TRUE);
    g_autoptr(GError) error = NULL;

    cr_assert_not(nv_guest_detach_disk(guest, "sdy", 0, &error));
    cr_assert_eq(error->code, NV_ERROR_NOT_FOUND);
    cr_assert_str_eq(error->message,
                     "domain 'guest-detach-missing': no disk with target dev 'sdy'");
}

/* libvirt returns 0 for a virtio-blk detach no guest acknowledges (after its
 * own ~5 s wait); only re-reading the live XML shows the disk stayed. */
Test(guest, virtio_disk_that_never_leaves_times_out_naming_domain_and_disk)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-detach-virtio", TRUE);
    g_autofree char *xml = raw_disk_xml("guest-detach-virtio.raw", "vdb", "virtio");
    g_autoptr(GError) error = NULL;

    attach(guest, xml);
    cr_assert_not(nv_guest_detach_disk(guest, "vdb", 200, &error));
    cr_assert_eq(error->code, NV_ERROR_FAILED);
    cr_assert_str_eq(error->message,
                     "domain 'guest-detach-virtio': disk 'vdb' not removed within 200 ms");
    cr_assert(config_has_disk(guest, FALSE, "vdb"), "still in the live config");
    cr_assert_not(config_has_disk(guest, TRUE, "vdb"), "gone from the persistent config");
}

/* The whole native path through host + guest: QEMU decrypts what the
 * attached disk points at, and the disk leaves cleanly. */
Test(guest, attached_luks_disk_is_decrypted_by_qemu_and_detaches)
{
    g_autofree char *path = nv_harness_path("guest-e2e.luks");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_guest) guest = make_guest(host, "guest-e2e", TRUE);
    g_autoptr(nv_secure_buf) pass = nv_secure_buf_new_from(PASSPHRASE, strlen(PASSPHRASE));
    g_autoptr(nv_disk_config) disk = nv_disk_config_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *xml = NULL;
    virDomainPtr dom;

    nv_harness_create_luks_volume(path, PASSPHRASE, VOLUME_SIZE);
    uuid = nv_host_create_volume_secret(host, "guest-e2e-vol", NULL, pass, &error);
    cr_assert_not_null(uuid, "%s", error ? error->message : "");
    disk->driver_name = g_strdup("qemu");
    disk->driver_format = g_strdup("raw");
    disk->source_path = g_strdup(path);
    disk->target_dev = g_strdup("sdd");
    disk->target_bus = g_strdup("scsi");
    disk->serial = g_strdup("guest-e2e-vol");
    disk->encryption = nv_disk_encryption_new("luks", "passphrase", uuid);
    xml = nv_disk_config_to_xml(disk, &error);
    cr_assert_not_null(xml, "%s", error ? error->message : "");
    attach(guest, xml);

    dom = virDomainLookupByName(nv_host_get_connection(host), "guest-e2e");
    seen = nv_harness_read_back(dom, "sdd", VOLUME_SIZE);
    virDomainFree(dom);
    cr_assert(g_bytes_equal(seen, plain), "QEMU did not decrypt the attached volume");

    cr_assert(nv_guest_detach_disk(guest, "sdd", 0, &error), "%s", error ? error->message : "");
    cr_assert_not(config_has_disk(guest, FALSE, "sdd"));
}
