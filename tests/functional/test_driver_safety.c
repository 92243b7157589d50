/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data safety and consistency of attach and detach (issue 8), end to end on
 * the private libvirtd: a volume that is not provably blank is never
 * formatted, a refusal changes nothing (secrets, both domain XMLs, the
 * volume's bytes), racing attaches of one volume format it once, detach
 * follows the disk config and cleans up the host even when the domain is
 * gone, and transient domains are attached live only.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver_fixtures.h"
#include "encryptors/luks_format.h"
#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "support.h"

/* A file of @size bytes at @path, all zeros (a new Cinder file volume). */
static void
blank_file(const char *path, gsize size)
{
    g_autofree char *zeros = g_malloc0(size);

    cr_assert(g_file_set_contents(path, zeros, size, NULL));
}

/* ---- what is never formatted -------------------------------------------- */

Test(safety, qcow2_volume_with_data_is_never_formatted)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        volume_new("22222222-0000-0000-0000-000000000001", "data.qcow2", "sdb", LUKS_ENCRYPTION);
    g_autofree char *info = NULL;
    virDomainPtr dom = start_domain("safe-qcow2");
    const char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2", vol->path, "4M", NULL };
    const char *write[] = { "qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 1M", vol->path, NULL };

    cr_assert(g_spawn_sync(NULL, (char **)create, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                           NULL, NULL));
    cr_assert(g_spawn_sync(NULL, (char **)write, NULL,
                           G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                           NULL, NULL));
    /* Cinder's NFS and file drivers say data.format qcow2. */
    g_free(vol->connection_info);
    vol->connection_info = g_strdup_printf(
        "{\"driver_volume_type\": \"file\", \"serial\": \"%s\", \"data\": {\"volume_id\": \"%s\", "
        "\"device_path\": \"%s\", \"format\": \"qcow2\", \"encrypted\": true}}",
        "22222222-0000-0000-0000-000000000001", "22222222-0000-0000-0000-000000000001", vol->path);
    vol->request.connection_info = vol->connection_info;
    attach_fails(driver, "safe-qcow2", vol, NV_ERROR_UNSUPPORTED, "qcow2");
    virDomainFree(dom);
}

Test(safety, raw_volume_full_of_data_without_signature_is_never_formatted)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        volume_new("22222222-0000-0000-0000-000000000002", "random.raw", "sdb", LUKS_ENCRYPTION);
    g_autoptr(GBytes) data = nv_harness_plaintext(4 * 1024 * 1024);
    virDomainPtr dom = start_domain("safe-random");
    gsize len;
    const guint8 *bytes = g_bytes_get_data(data, &len);

    cr_assert(g_file_set_contents(vol->path, (const char *)bytes, len, NULL));
    attach_fails(driver, "safe-random", vol, NV_ERROR_UNSUPPORTED, "non-zero");
    virDomainFree(dom);
}

/* ---- checks before the first change --------------------------------------- */

/* The target is taken in the persistent config only (a disk added there
 * while the domain runs): libvirt would refuse the attach after the secret
 * and the format.  Nothing may be touched, the blank volume stays blank. */
Test(safety, target_used_only_in_the_persistent_config_is_refused_before_any_format)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) other = luks_volume("22222222-0000-0000-0000-000000000003", "p1.luks", "sdb");
    g_autoptr(volume) vol =
        volume_new("22222222-0000-0000-0000-000000000004", "p2.raw", "sdb", LUKS_ENCRYPTION);
    virDomainPtr dom = start_domain("safe-persist");
    g_autofree char *disk = nv_harness_disk_xml(other->path, "sdb", NULL);

    cr_assert(virDomainAttachDeviceFlags(dom, disk, VIR_DOMAIN_AFFECT_CONFIG) == 0);
    cr_assert_not(has_disk("safe-persist", 0, "sdb"));
    blank_file(vol->path, VOLUME_SIZE * 4);
    attach_fails(driver, "safe-persist", vol, NV_ERROR_BAD_INPUT, "persistent config");
    virDomainFree(dom);
}

Test(safety, volume_already_attached_at_another_target_is_refused)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        luks_volume("22222222-0000-0000-0000-000000000005", "twice.luks", "sdb");
    g_autoptr(volume) again =
        volume_new("22222222-0000-0000-0000-000000000005", "twice.luks", "sdc", LUKS_ENCRYPTION);
    virDomainPtr dom = start_domain("safe-twice");

    attach_ok(driver, "safe-twice", vol);
    attach_fails(driver, "safe-twice", again, NV_ERROR_BAD_INPUT, "already attached");
    detach_ok(driver, "safe-twice", vol);
    virDomainFree(dom);
}

/* The attach fails in libvirt after the blank volume was formatted and the
 * secret defined: both are undone, the volume is blank again. */
Test(safety, failed_attach_wipes_the_header_it_wrote)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        volume_new("22222222-0000-0000-0000-000000000006", "wipe.raw", "sdb", LUKS_ENCRYPTION);
    virDomainPtr dom = start_domain("safe-wipe");

    blank_file(vol->path, VOLUME_SIZE * 4);
    vol->request.disk_bus = "usb";
    attach_fails(driver, "safe-wipe", vol, NV_ERROR_LIBVIRT, "domain 'safe-wipe'");
    virDomainFree(dom);
}

/* ---- racing attaches ------------------------------------------------------- */

/* Several processes attach one blank volume at once, each with its own
 * driver handle, for several rounds: exactly one attach formats and
 * attaches, every other one is refused (the volume is attached already);
 * what QEMU writes reads back through the header on disk afterwards. */
Test(safety, concurrent_attaches_of_a_blank_volume_format_it_once, .timeout = 300)
{
    for (int round = 0; round < 3; round++) {
        g_autofree char *name = g_strdup_printf("safe-race-%d", round);
        g_autofree char *volume_id =
            g_strdup_printf("22222222-0000-0000-0000-0000000001%02d", round);
        g_autofree char *file = g_strdup_printf("race-%d.raw", round);
        g_autoptr(volume) vol = volume_new(volume_id, file, "sdb", LUKS_ENCRYPTION);
        virDomainPtr dom = start_domain(name);
        const int n = 4;
        pid_t pids[4];
        int ok = 0;
        nv_luks_probe_result probe;
        g_autoptr(GError) error = NULL;

        blank_file(vol->path, VOLUME_SIZE * 4);
        for (int i = 0; i < n; i++) {
            pids[i] = fork();
            cr_assert_geq(pids[i], 0);
            if (pids[i] == 0) {
                g_autoptr(GError) child_error = NULL;
                nv_driver *child = open_driver();
                gboolean attached =
                    nv_driver_attach_volume(child, name, &vol->request, &child_error);

                nv_driver_free(child);
                _exit(attached ? 0 : 1);
            }
        }
        for (int i = 0; i < n; i++) {
            int status = 0;

            cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                ok++;
        }
        cr_assert_eq(ok, 1, "round %d: %d attaches succeeded", round, ok);
        cr_assert_eq(secret_count() >= 1, TRUE);
        cr_assert(nv_luks_probe(vol->path, &probe, &error), "%s", error ? error->message : "");
        cr_assert_eq(probe.kind, NV_LUKS_PROBE_LUKS1);

        /* QEMU writes through the key it opened; the header on disk must
         * be the one that key came from. */
        qemu_write_pattern(dom, 0x6b);
        {
            g_autoptr(nv_driver) driver = open_driver();

            detach_ok(driver, name, vol);
        }
        cr_assert(host_reads_pattern(vol->path, 0x6b), "round %d: data lost", round);
        virDomainFree(dom);
    }
}

/* ---- detach ----------------------------------------------------------------- */

Test(safety, detach_after_the_domain_was_undefined_still_deletes_the_secret)
{
    const char *volume_id = "22222222-0000-0000-0000-000000000007";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume(volume_id, "gone.luks", "sdb");
    virDomainPtr dom = start_domain("safe-gone");

    attach_ok(driver, "safe-gone", vol);
    cr_assert(has_volume_secret(volume_id));
    cr_assert(virDomainDestroy(dom) == 0);
    cr_assert(virDomainUndefine(dom) == 0);
    virDomainFree(dom);
    detach_ok(driver, "safe-gone", vol);
    cr_assert_not(has_volume_secret(volume_id));
}

/* Nova's fixtures give connection_info a serial unlike data.volume_id;
 * Nova finds the disk by target, and so does nvirt. */
Test(safety, disk_with_connection_info_serial_detaches)
{
    const char *volume_id = "22222222-0000-0000-0000-000000000008";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume(volume_id, "serial.luks", "sdb");
    virDomainPtr dom = start_domain("safe-serial");

    g_free(vol->connection_info);
    vol->connection_info =
        g_strdup_printf("{\"driver_volume_type\": \"file\", \"serial\": \"fake_serial\", \"data\": "
                        "{\"volume_id\": \"%s\", \"device_path\": \"%s\", \"encrypted\": true}}",
                        volume_id, vol->path);
    vol->request.connection_info = vol->connection_info;
    attach_ok(driver, "safe-serial", vol);
    detach_ok(driver, "safe-serial", vol);
    cr_assert_not(has_disk("safe-serial", 0, "sdb"));
    cr_assert_not(has_volume_secret(volume_id));
    virDomainFree(dom);
}

/* A disk without <serial> at the mountpoint whose source is another file:
 * a wrong mountpoint must not detach it nor delete this volume's secret. */
Test(safety, disk_without_serial_of_another_volume_is_refused)
{
    const char *volume_id = "22222222-0000-0000-0000-000000000009";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) mine = luks_volume(volume_id, "mine.luks", "sdc");
    g_autoptr(volume) wrong = volume_new(volume_id, "mine.luks", "sdb", LUKS_ENCRYPTION);
    g_autofree char *other = nv_harness_path("other.raw");
    g_autofree char *disk = NULL;
    g_auto(host_state) before = { 0 };
    g_autoptr(GError) error = NULL;
    virDomainPtr dom = start_domain("safe-noserial");

    blank_file(other, VOLUME_SIZE);
    disk = nv_harness_disk_xml(other, "sdb", NULL);
    cr_assert(virDomainAttachDeviceFlags(dom, disk,
                                         VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) == 0);
    attach_ok(driver, "safe-noserial", mine);
    snapshot(&before, "safe-noserial", mine->path);
    cr_assert_not(nv_driver_detach_volume(driver, "safe-noserial", &wrong->request, &error));
    cr_assert_eq(error->code, NV_ERROR_BAD_INPUT, "%s", error->message);
    cr_assert_not_null(strstr(error->message, "not this volume"), "%s", error->message);
    assert_unchanged(&before, "safe-noserial", mine->path);
    detach_ok(driver, "safe-noserial", mine);
    virDomainFree(dom);
}

/* Deleting the secret needs no encryption metadata (Nova deletes it before
 * it would look at the metadata). */
Test(safety, native_detach_needs_no_encryption_metadata)
{
    const char *volume_id = "22222222-0000-0000-0000-000000000010";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume(volume_id, "nometa.luks", "sdb");
    virDomainPtr dom = start_domain("safe-nometa");

    attach_ok(driver, "safe-nometa", vol);
    vol->request.encryption = NULL;
    detach_ok(driver, "safe-nometa", vol);
    cr_assert_not(has_volume_secret(volume_id));
    virDomainFree(dom);
}

/* A volume secret left over from an earlier native attach must not make
 * detach treat an encryptor-decrypted disk (no <encryption>) as native:
 * the disk config decides, and the encryptor close runs. */
Test(safety, leftover_secret_does_not_override_the_disk_config)
{
    const char *volume_id = "22222222-0000-0000-0000-000000000011";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume(volume_id, "left.luks", "sdb");
    g_autofree char *disk = NULL;
    g_autoptr(GError) error = NULL;
    virDomainPtr dom = start_domain("safe-left");
    virConnectPtr conn = connect_daemon();
    g_autofree char *xml = g_strdup_printf(
        "<secret ephemeral='no' private='yes'><usage type='volume'><volume>%s</volume></usage>"
        "</secret>",
        volume_id);
    virSecretPtr secret = virSecretDefineXML(conn, xml, 0);

    cr_assert_not_null(secret);
    virSecretFree(secret);
    /* The disk an encryptor would have attached: a plain disk, no
     * <encryption>, whose source is data.device_path. */
    disk = g_strdup_printf("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                           "<source file='%s'/><target dev='sdb' bus='scsi'/><serial>%s</serial>"
                           "</disk>",
                           vol->path, volume_id);
    cr_assert(virDomainAttachDeviceFlags(dom, disk,
                                         VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) == 0);
    /* The disk config says "encryptor": without the metadata that names it,
     * detach refuses and changes nothing (before, the leftover secret made
     * it take the native path, skip the encryptor and succeed) ... */
    {
        g_auto(host_state) before = { 0 };

        snapshot(&before, "safe-left", vol->path);
        vol->request.encryption = NULL;
        cr_assert_not(nv_driver_detach_volume(driver, "safe-left", &vol->request, &error));
        cr_assert_not_null(strstr(error->message, "encryption metadata"), "%s", error->message);
        assert_unchanged(&before, "safe-left", vol->path);
    }
    /* ... with it, the encryptor is closed (no mapping is open: success),
     * the disk leaves, and the stale secret goes too. */
    vol->request.encryption = LUKS_ENCRYPTION;
    detach_ok(driver, "safe-left", vol);
    cr_assert_not(has_disk("safe-left", 0, "sdb"));
    cr_assert_not(has_volume_secret(volume_id));
    virConnectClose(conn);
    virDomainFree(dom);
}

/* ---- transient domains ------------------------------------------------------ */

Test(safety, transient_domain_is_attached_and_detached_live_only)
{
    const char *volume_id = "22222222-0000-0000-0000-000000000012";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume(volume_id, "transient.luks", "sdb");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = nv_harness_start_domain(conn, "safe-transient");
    g_autofree char *xml = virDomainGetXMLDesc(dom, 0);

    /* Make it transient: undefine keeps the running domain. */
    cr_assert(virDomainUndefine(dom) == 0);
    cr_assert_eq(virDomainIsPersistent(dom), 0);
    attach_ok(driver, "safe-transient", vol);
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(seen, plain), "QEMU did not decrypt the volume");
    detach_ok(driver, "safe-transient", vol);
    cr_assert_not(has_disk("safe-transient", 0, "sdb"));
    cr_assert_not(has_volume_secret(volume_id));
    virDomainDestroy(dom);
    virDomainFree(dom);
    virConnectClose(conn);
}

/* ---- Nova's defaults for inputs --------------------------------------------- */

/* Cinder's default control_location is front-end: metadata without it is
 * decrypted natively, never attached as ciphertext a guest could format. */
Test(safety, metadata_without_control_location_is_decrypted_by_qemu)
{
    const char *volume_id = "22222222-0000-0000-0000-000000000013";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume(volume_id, "noctl.luks", "sdb");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autofree char *live = NULL;
    virDomainPtr dom = start_domain("safe-noctl");

    vol->request.encryption = "{\"provider\": \"luks\", \"cipher\": \"aes-xts-plain64\", "
                              "\"key_size\": 256, \"encryption_key_id\": "
                              "\"00000000-0000-0000-0000-000000000000\"}";
    attach_ok(driver, "safe-noctl", vol);
    live = domain_xml("safe-noctl", 0);
    cr_assert_not_null(strstr(live, "<encryption format='luks'"), "%s", live);
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(seen, plain), "the guest got ciphertext");
    detach_ok(driver, "safe-noctl", vol);
    virDomainFree(dom);
}

/* ---- bounded operations (issue 12) ------------------------------------------ */

/* QEMU derives the key in its main loop: a header asking for more PBKDF2
 * iterations than [libvirt] volume_luks_max_unlock_iterations is refused
 * before the secret exists or the disk is attached, naming what it asks and
 * the bound.  The harness's volumes use 1000 iterations (LUKS1's minimum),
 * so a bound of 999 stands in for 2^31 against the default; 0 turns the
 * check off. */
Test(safety, luks_header_asking_more_than_the_unlock_bound_is_refused)
{
    const char *volume_id = "22222222-0000-0000-0000-000000000014";
    g_autoptr(volume) vol = luks_volume(volume_id, "costly.luks", "sdb");
    g_autoptr(nv_driver) bounded =
        open_driver_with(FIXED_KEY, "[libvirt]\nvolume_luks_max_unlock_iterations = 999\n");
    g_autoptr(nv_driver) unbounded =
        open_driver_with(FIXED_KEY, "[libvirt]\nvolume_luks_max_unlock_iterations = 0\n");
    virDomainPtr dom = start_domain("safe-costly");

    attach_fails(bounded, "safe-costly", vol, NV_ERROR_UNSUPPORTED,
                 "asks for 1000 PBKDF2 iterations, more than the bound of 999");
    cr_assert_not(has_volume_secret(volume_id));
    attach_ok(unbounded, "safe-costly", vol);
    cr_assert(has_disk("safe-costly", 0, "sdb"));
    detach_ok(unbounded, "safe-costly", vol);
    virDomainFree(dom);
}
