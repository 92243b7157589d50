/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driver core end to end (nova/virt/libvirt/driver.py attach_volume /
 * detach_volume) against a private libvirtd and TCG domains with no guest
 * OS: QEMU decrypts what nvirt attaches, detach cleans up, and every bad
 * input or fault leaves the secrets, the domain and the volume as they were.
 *
 * Volumes are files ("driver_volume_type": "file") on the SCSI bus, which
 * detaches at once without a guest driver.
 */
#include "harness.h"
#include "driver_fixtures.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encryptors/luks_format.h"
#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "virt/libvirt/config.h"
#include "support.h"

/* ---- the native path, end to end ------------------------------------------- */

Test(driver, native_attach_is_decrypted_by_qemu_and_detach_removes_disk_and_secret)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-000000000001", "e2e.luks", "sdb");
    virDomainPtr dom = start_domain("drv-e2e");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *live = NULL;
    g_autofree char *expect = NULL;
    g_autofree char *before_sha = file_sha256(vol->path);
    guint mappings = dm_mappings();

    attach_ok(driver, "drv-e2e", vol);

    uuid = volume_secret("11111111-0000-0000-0000-000000000001");
    cr_assert_not_null(uuid, "no volume secret after a native attach");
    live = domain_xml("drv-e2e", 0);
    expect = g_strdup_printf("<secret type='passphrase' uuid='%s'/>", uuid);
    cr_assert_not_null(strstr(live, "<encryption format='luks'"), "%s", live);
    cr_assert_not_null(strstr(live, expect), "%s", live);
    cr_assert(has_disk("drv-e2e", VIR_DOMAIN_XML_INACTIVE, "sdb"), "not persistent");

    /* QEMU reads the plaintext; the host has no decrypted device or file. */
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "QEMU did not read the plaintext");
    cr_assert_eq(dm_mappings(), mappings, "a device-mapper device appeared");

    detach_ok(driver, "drv-e2e", vol);
    cr_assert_not(has_disk("drv-e2e", 0, "sdb"), "disk still live");
    cr_assert_not(has_disk("drv-e2e", VIR_DOMAIN_XML_INACTIVE, "sdb"), "disk still persistent");
    cr_assert_not(has_volume_secret("11111111-0000-0000-0000-000000000001"), "secret left behind");
    {
        g_autofree char *after_sha = file_sha256(vol->path);

        cr_assert_str_eq(after_sha, before_sha, "reading changed the volume");
    }
    virDomainFree(dom);
}

Test(driver, data_written_through_qemu_is_encrypted_on_the_host)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-000000000002", "wr.luks", "sdb");
    virDomainPtr dom = start_domain("drv-write");
    g_autofree char *hmp = NULL;
    g_autofree char *reply = NULL;
    g_autofree char *out = NULL;
    g_autofree char *secret_arg = NULL;
    g_autofree char *image_opts = NULL;
    g_autofree char *contents = NULL;
    g_autofree char *pass_path = nv_harness_path("wr.pass");
    gsize len = 0;
    int status = -1;

    attach_ok(driver, "drv-write", vol);
    /* HMP qemu-io on the SCSI device: writes 0xab through the LUKS layer. */
    hmp = g_strdup("{\"execute\": \"human-monitor-command\", \"arguments\": "
                   "{\"command-line\": \"qemu-io -d scsi0-0-0-1 \\\"write -P 0xab 0 64k\\\"\"}}");
    reply = nv_harness_qmp(dom, hmp);
    g_free(hmp);
    hmp = g_strdup("{\"execute\": \"human-monitor-command\", \"arguments\": "
                   "{\"command-line\": \"qemu-io -d scsi0-0-0-1 flush\"}}");
    g_free(reply);
    reply = nv_harness_qmp(dom, hmp);
    detach_ok(driver, "drv-write", vol);

    /* The file holds no plaintext pattern where QEMU wrote it ... */
    cr_assert(g_file_get_contents(vol->path, &contents, &len, NULL));
    {
        guchar pattern[4096];

        memset(pattern, 0xab, sizeof(pattern));
        cr_assert_null(memmem(contents, len, pattern, sizeof(pattern)),
                       "plaintext found in the volume file");
    }
    /* ... and qemu-io on the host, with the key, reads it back. */
    secret_arg = g_strdup_printf("secret,id=sec0,file=%s", pass_path);
    cr_assert(g_file_set_contents(pass_path, PASSPHRASE, -1, NULL));
    image_opts = g_strdup_printf("driver=luks,key-secret=sec0,file.filename=%s", vol->path);
    {
        const char *argv[] = { "qemu-io",  "-r", "--object",           secret_arg, "--image-opts",
                               image_opts, "-c", "read -P 0xab 0 64k", NULL };
        g_autoptr(GError) error = NULL;

        cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &status, &error),
                  "%s", error ? error->message : "");
    }
    g_unlink(pass_path);
    cr_assert_eq(status, 0, "qemu-io: %s", out);
    cr_assert_null(strstr(out, "Pattern verification failed"), "%s", out);
    cr_assert_not_null(strstr(out, "read 65536/65536 bytes"), "%s", out);
    virDomainFree(dom);
}

Test(driver, attach_to_a_shut_off_domain_goes_to_the_persistent_config)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-000000000003", "off.luks", "sdb");
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = nv_harness_define_domain(conn, "drv-off");

    attach_ok(driver, "drv-off", vol);
    cr_assert(has_disk("drv-off", VIR_DOMAIN_XML_INACTIVE, "sdb"));
    cr_assert(has_volume_secret("11111111-0000-0000-0000-000000000003"));

    /* Powering on finds the persistent secret: QEMU opens the volume. */
    cr_assert(virDomainCreate(dom) == 0, "start with the encrypted volume failed");
    {
        g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
        g_autoptr(GBytes) seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);

        cr_assert(g_bytes_equal(plain, seen));
    }
    detach_ok(driver, "drv-off", vol);
    cr_assert_not(has_volume_secret("11111111-0000-0000-0000-000000000003"));
    virDomainFree(dom);
    virConnectClose(conn);
}

Test(driver, existing_secret_is_reused_without_the_key_manager)
{
    /* The configured key is wrong: only the existing secret can open the
     * volume, which is what power-on and host-boot resume rely on (nova
     * bug 1905701). */
    g_autoptr(nv_driver) driver = open_driver_with(OTHER_KEY, NULL);
    g_autoptr(volume) vol =
        luks_volume("11111111-0000-0000-0000-000000000004", "reuse.luks", "sdb");
    virDomainPtr dom = start_domain("drv-reuse");
    virConnectPtr conn = connect_daemon();
    g_autofree char *xml = g_strdup_printf(
        "<secret ephemeral='no' private='yes'><usage type='volume'><volume>%s</volume></usage>"
        "</secret>",
        "11111111-0000-0000-0000-000000000004");
    virSecretPtr secret = virSecretDefineXML(conn, xml, 0);
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;

    cr_assert_not_null(secret);
    cr_assert(virSecretSetValue(secret, (const unsigned char *)PASSPHRASE, strlen(PASSPHRASE), 0) ==
              0);
    attach_ok(driver, "drv-reuse", vol);
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen));
    {
        g_autofree char *uuid = volume_secret("11111111-0000-0000-0000-000000000004");
        char defined[VIR_UUID_STRING_BUFLEN];

        cr_assert(virSecretGetUUIDString(secret, defined) == 0);
        cr_assert_str_eq(uuid, defined, "the existing secret was not the one used");
    }
    detach_ok(driver, "drv-reuse", vol);
    cr_assert_not(has_volume_secret("11111111-0000-0000-0000-000000000004"));
    virSecretFree(secret);
    virDomainFree(dom);
    virConnectClose(conn);
}

Test(driver, blank_volume_is_formatted_as_luks1_then_attached)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        volume_new("11111111-0000-0000-0000-000000000005", "blank.img", "sdb", LUKS_ENCRYPTION);
    virDomainPtr dom = start_domain("drv-blank");
    nv_luks_probe_result probe;
    g_autoptr(GError) error = NULL;

    cr_assert(g_file_set_contents(vol->path, "", 0, NULL));
    cr_assert(truncate(vol->path, 4 * VOLUME_SIZE) == 0);
    attach_ok(driver, "drv-blank", vol);
    cr_assert(nv_luks_probe(vol->path, &probe, &error), "%s", error ? error->message : "");
    cr_assert_eq(probe.kind, NV_LUKS_PROBE_LUKS1, "probe: %s",
                 nv_luks_probe_kind_to_string(probe.kind));
    cr_assert(has_disk("drv-blank", 0, "sdb"));
    detach_ok(driver, "drv-blank", vol);
    virDomainFree(dom);
}

Test(driver, back_end_encryption_attaches_without_encryption_element_or_secret)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        volume_new("11111111-0000-0000-0000-000000000006", "backend.img", "sdb",
                   "{\"provider\": \"luks\", \"control_location\": \"back-end\", "
                   "\"encryption_key_id\": \"00000000-0000-0000-0000-000000000000\"}");
    virDomainPtr dom = start_domain("drv-backend");
    g_autofree char *live = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    cr_assert(g_file_set_contents(vol->path, "", 0, NULL));
    cr_assert(truncate(vol->path, VOLUME_SIZE) == 0);
    before = file_sha256(vol->path);
    attach_ok(driver, "drv-backend", vol);
    live = domain_xml("drv-backend", 0);
    cr_assert(has_disk("drv-backend", 0, "sdb"));
    cr_assert_null(strstr(live, "<encryption"), "%s", live);
    cr_assert_not(has_volume_secret("11111111-0000-0000-0000-000000000006"));
    after = file_sha256(vol->path);
    cr_assert_str_eq(after, before, "a back-end encrypted volume was formatted");
    detach_ok(driver, "drv-backend", vol);
    cr_assert_not(has_disk("drv-backend", 0, "sdb"));
    virDomainFree(dom);
}

Test(driver, unencrypted_volume_attaches_and_detaches)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        volume_new("11111111-0000-0000-0000-000000000007", "plain.img", "sdb", NULL);
    virDomainPtr dom = start_domain("drv-plain");

    cr_assert(g_file_set_contents(vol->path, "", 0, NULL));
    cr_assert(truncate(vol->path, VOLUME_SIZE) == 0);
    attach_ok(driver, "drv-plain", vol);
    cr_assert(has_disk("drv-plain", 0, "sdb"));
    cr_assert_not(has_volume_secret("11111111-0000-0000-0000-000000000007"));
    detach_ok(driver, "drv-plain", vol);
    cr_assert_not(has_disk("drv-plain", 0, "sdb"));
    virDomainFree(dom);
}

/* ---- detach ---------------------------------------------------------------- */

Test(driver, detach_of_a_disk_already_gone_still_deletes_the_secret)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-000000000008", "gone.luks", "sdb");
    virDomainPtr dom = start_domain("drv-gone");

    attach_ok(driver, "drv-gone", vol);
    /* Someone removed the disk behind the driver's back. */
    {
        g_autofree char *uuid = volume_secret("11111111-0000-0000-0000-000000000008");
        g_autofree char *xml = nv_harness_disk_xml(vol->path, "sdb", uuid);

        cr_assert(virDomainDetachDeviceFlags(
                      dom, xml, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) == 0);
    }
    cr_assert_not(has_disk("drv-gone", 0, "sdb"));
    detach_ok(driver, "drv-gone", vol);
    cr_assert_not(has_volume_secret("11111111-0000-0000-0000-000000000008"));
    virDomainFree(dom);
}

Test(driver, detach_of_a_disk_only_in_the_persistent_config_removes_it_there)
{
    /* A running domain whose disk was added to its next-boot config only:
     * detach finds it there, removes it and deletes the secret. */
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-000000000019", "pers.luks", "sdb");
    virDomainPtr dom = start_domain("drv-pers");
    g_autofree char *uuid = NULL;
    g_autofree char *xml = NULL;

    attach_ok(driver, "drv-pers", vol);
    uuid = volume_secret("11111111-0000-0000-0000-000000000019");
    xml = nv_harness_disk_xml(vol->path, "sdb", uuid);
    cr_assert(virDomainDetachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_LIVE) == 0);
    cr_assert_not(has_disk("drv-pers", 0, "sdb"));
    cr_assert(has_disk("drv-pers", VIR_DOMAIN_XML_INACTIVE, "sdb"));

    detach_ok(driver, "drv-pers", vol);
    cr_assert_not(has_disk("drv-pers", VIR_DOMAIN_XML_INACTIVE, "sdb"));
    cr_assert_not(has_volume_secret("11111111-0000-0000-0000-000000000019"));
    virDomainFree(dom);
}

Test(driver, detach_refuses_a_disk_that_belongs_to_another_volume)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-000000000009", "mine.luks", "sdb");
    g_autoptr(volume) other =
        volume_new("11111111-0000-0000-0000-00000000000a", "mine.luks", "sdb", LUKS_ENCRYPTION);
    virDomainPtr dom = start_domain("drv-other");
    g_autoptr(GError) error = NULL;

    attach_ok(driver, "drv-other", vol);
    cr_assert_not(nv_driver_detach_volume(driver, "drv-other", &other->request, &error));
    cr_assert_eq(error->code, NV_ERROR_BAD_INPUT);
    cr_assert_str_eq(error->message,
                     "volume 11111111-0000-0000-0000-00000000000a: disk 'sdb' of domain "
                     "'drv-other' is volume 11111111-0000-0000-0000-000000000009, not this one");
    cr_assert(has_disk("drv-other", 0, "sdb"));
    cr_assert(has_volume_secret("11111111-0000-0000-0000-000000000009"));
    detach_ok(driver, "drv-other", vol);
    virDomainFree(dom);
}

/* ---- the version gate on a real daemon -------------------------------------- */

static void
assert_host_info(nv_driver *driver, gboolean native, const char *reason)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_host_info) info = nv_driver_get_host_info(driver, &error);

    cr_assert_not_null(info, "%s", error ? error->message : "");
    cr_assert_eq(nv_host_info_get_native_luks(info), native, "%s", nv_host_info_get_reason(info));
    cr_assert_not_null(strstr(nv_host_info_get_reason(info), reason), "'%s' lacks '%s'",
                       nv_host_info_get_reason(info), reason);
}

Test(driver, qemu_2_5_falls_back_and_2_6_decrypts_natively)
{
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-00000000000b", "old.luks", "sdb");
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = nv_harness_define_domain(conn, "drv-old");

    virDomainFree(dom);
    virConnectClose(conn);
    nv_harness_set_qemu_version(2005000);
    {
        g_autoptr(nv_driver) driver = open_driver();

        assert_host_info(driver, FALSE, "QEMU 2.5.0 is older than 2.6.0");
        /* The fallback: os-brick's encryptors need a host block device. */
        attach_fails(driver, "drv-old", vol, NV_ERROR_UNSUPPORTED, "is not a block device");
    }
    nv_harness_set_qemu_version(2006000);
    {
        g_autoptr(nv_driver) driver = open_driver();
        g_autoptr(nv_attach_plan) plan = NULL;
        g_autoptr(GError) error = NULL;

        g_autofree char *libvirt = nv_version_to_string(nv_harness_program_version("libvirtd"));
        g_autofree char *reason =
            g_strdup_printf("QEMU 2.6.0 and libvirt %s decrypt LUKS v1 natively", libvirt);

        assert_host_info(driver, TRUE, reason);
        plan = nv_driver_plan_attach(driver, "drv-old", &vol->request, &error);
        cr_assert_not_null(plan, "%s", error ? error->message : "");
        cr_assert_str_eq(nv_attach_plan_get_encryption_path(plan), "native");
    }
    nv_harness_reset_qemu_version();
}

Test(driver, fallback_encryptor_that_cannot_open_leaves_everything_as_it_was)
{
    /* Old QEMU: the LUKS volume on a block device goes to the dm-crypt
     * encryptor.  This host has no device-mapper, so opening the mapping
     * fails: no secret, no disk, no symlink in place of the device node. */
    g_autoptr(volume) vol =
        luks_block_volume("11111111-0000-0000-0000-00000000001a", "fallback.luks", "sdb");
    virDomainPtr dom = start_domain("drv-fallback");

    nv_harness_set_qemu_version(2005000);
    {
        g_autoptr(nv_driver) driver = open_driver();

        attach_fails(driver, "drv-fallback", vol, NV_ERROR_CRYPT,
                     "cannot open " /* the loop device */);
    }
    nv_harness_reset_qemu_version();
    cr_assert(is_block_device(vol->path), "%s is no longer the device node", vol->path);
    loop_detach(vol->path);
    virDomainFree(dom);
}

Test(driver, disk_without_encryption_element_detaches_through_the_encryptor)
{
    /* Attached before an upgrade by the cryptsetup path: no <encryption>,
     * no secret.  Detach now, on a host that could decrypt natively, takes
     * the encryptor path; its mapping is not open (idempotent close), and
     * the device node stays what it is. */
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        luks_block_volume("11111111-0000-0000-0000-00000000001b", "upgrade.luks", "sdb");
    virDomainPtr dom = start_domain("drv-upgrade");
    g_autofree char *xml = g_strdup_printf(
        "<disk type='block' device='disk'><driver name='qemu' type='raw' cache='none'/>"
        "<source dev='%s'/><target dev='sdb' bus='scsi'/><serial>%s</serial></disk>",
        vol->path, "11111111-0000-0000-0000-00000000001b");

    cr_assert(virDomainAttachDeviceFlags(dom, xml,
                                         VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) == 0);
    detach_ok(driver, "drv-upgrade", vol);
    cr_assert_not(has_disk("drv-upgrade", 0, "sdb"));
    cr_assert_not(has_disk("drv-upgrade", VIR_DOMAIN_XML_INACTIVE, "sdb"));
    cr_assert_not(has_volume_secret("11111111-0000-0000-0000-00000000001b"));
    cr_assert(is_block_device(vol->path));
    loop_detach(vol->path);
    virDomainFree(dom);
}

Test(driver, native_attach_detaches_natively_after_a_downgrade)
{
    /* The spec: <encryption> in the disk config decides the detach path,
     * whatever the host's versions are now. */
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-00000000000c", "down.luks", "sdb");
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = nv_harness_define_domain(conn, "drv-down");

    {
        g_autoptr(nv_driver) driver = open_driver();

        attach_ok(driver, "drv-down", vol);
    }
    nv_harness_set_qemu_version(2005000);
    {
        g_autoptr(nv_driver) driver = open_driver();

        assert_host_info(driver, FALSE, "older than 2.6.0");
        detach_ok(driver, "drv-down", vol);
        cr_assert_not(has_disk("drv-down", VIR_DOMAIN_XML_INACTIVE, "sdb"));
        cr_assert_not(has_volume_secret("11111111-0000-0000-0000-00000000000c"));
    }
    nv_harness_reset_qemu_version();
    virDomainFree(dom);
    virConnectClose(conn);
}

Test(driver, disable_native_luksv1_forces_the_fallback)
{
    g_autoptr(nv_driver) driver =
        open_driver_with(FIXED_KEY, "[workarounds]\ndisable_native_luksv1 = True\n");
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-00000000000d", "wa.luks", "sdb");
    virDomainPtr dom = start_domain("drv-wa");

    assert_host_info(driver, FALSE, "[workarounds] disable_native_luksv1 is set");
    attach_fails(driver, "drv-wa", vol, NV_ERROR_UNSUPPORTED, "is not a block device");
    virDomainFree(dom);
}

/* ---- bad input and faults: one-line error, nothing changed ----------------- */

Test(driver, wrong_key_is_refused_by_qemu_and_the_secret_rolled_back)
{
    g_autoptr(nv_driver) driver = open_driver_with(OTHER_KEY, NULL);
    g_autoptr(volume) vol =
        luks_volume("11111111-0000-0000-0000-00000000000e", "wrong.luks", "sdb");
    virDomainPtr dom = start_domain("drv-wrong");

    attach_fails(driver, "drv-wrong", vol, NV_ERROR_WRONG_PASSPHRASE,
                 "Invalid password, cannot unlock any keyslot");
    virDomainFree(dom);
}

Test(driver, unknown_provider_is_bad_input)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        volume_new("11111111-0000-0000-0000-00000000000f", "unknown.img", "sdb",
                   "{\"provider\": \"CryptSetupEncryptor\", \"control_location\": \"front-end\", "
                   "\"encryption_key_id\": \"00000000-0000-0000-0000-000000000000\"}");
    virDomainPtr dom = start_domain("drv-unknown");

    cr_assert(g_file_set_contents(vol->path, "", 0, NULL));
    cr_assert(truncate(vol->path, VOLUME_SIZE) == 0);
    attach_fails(driver, "drv-unknown", vol, NV_ERROR_BAD_INPUT, "CryptSetupEncryptor");
    virDomainFree(dom);
}

Test(driver, missing_encryption_key_id_changes_nothing)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = volume_new("11111111-0000-0000-0000-000000000010", "nokey.img", "sdb",
                                       "{\"provider\": \"luks\", \"control_location\": "
                                       "\"front-end\"}");
    virDomainPtr dom = start_domain("drv-nokey");

    cr_assert(g_file_set_contents(vol->path, "", 0, NULL));
    cr_assert(truncate(vol->path, VOLUME_SIZE) == 0);
    attach_fails(driver, "drv-nokey", vol, NV_ERROR_BAD_INPUT,
                 "volume 11111111-0000-0000-0000-000000000010: ");
    virDomainFree(dom);
}

Test(driver, missing_volume_file_is_not_found)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        volume_new("11111111-0000-0000-0000-000000000011", "absent.luks", "sdb", LUKS_ENCRYPTION);
    virDomainPtr dom = start_domain("drv-absent");

    attach_fails(driver, "drv-absent", vol, NV_ERROR_NOT_FOUND, "No such file or directory");
    virDomainFree(dom);
}

Test(driver, volume_that_cannot_be_probed_is_refused)
{
    /* A device_path the probe cannot read as a volume (here a directory):
     * any probe error is an error, never "blank, format it". */
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        volume_new("11111111-0000-0000-0000-00000000001c", "unreadable.d", "sdb", LUKS_ENCRYPTION);
    virDomainPtr dom = start_domain("drv-unreadable");

    cr_assert(g_mkdir(vol->path, 0700) == 0);
    attach_fails(driver, "drv-unreadable", vol, NV_ERROR_CRYPT,
                 "volume 11111111-0000-0000-0000-00000000001c: ");
    cr_assert(g_file_test(vol->path, G_FILE_TEST_IS_DIR));
    virDomainFree(dom);
}

Test(driver, volume_with_a_filesystem_is_never_formatted)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        volume_new("11111111-0000-0000-0000-000000000012", "ext4.img", "sdb", LUKS_ENCRYPTION);
    virDomainPtr dom = start_domain("drv-ext4");
    const char *argv[] = { "mkfs.ext4", "-q", "-F", vol->path, NULL };
    int status = -1;

    cr_assert(g_file_set_contents(vol->path, "", 0, NULL));
    cr_assert(truncate(vol->path, 4 * VOLUME_SIZE) == 0);
    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                           &status, NULL));
    cr_assert_eq(status, 0, "mkfs.ext4 failed");
    attach_fails(driver, "drv-ext4", vol, NV_ERROR_UNSUPPORTED,
                 "carries a ext4 signature and no LUKS header: refusing to format");
    virDomainFree(dom);
}

Test(driver, missing_domain_is_not_found)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol =
        luks_volume("11111111-0000-0000-0000-000000000013", "nodom.luks", "sdb");

    attach_fails(driver, "drv-does-not-exist", vol, NV_ERROR_NOT_FOUND,
                 "domain 'drv-does-not-exist' not found");
}

Test(driver, busy_target_is_refused_before_anything_changes)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) first = luks_volume("11111111-0000-0000-0000-000000000014", "b1.luks", "sdb");
    g_autoptr(volume) second =
        luks_volume("11111111-0000-0000-0000-000000000015", "b2.luks", "sdb");
    virDomainPtr dom = start_domain("drv-busy");

    attach_ok(driver, "drv-busy", first);
    attach_fails(driver, "drv-busy", second, NV_ERROR_BAD_INPUT,
                 "domain 'drv-busy' already has a disk at 'sdb'");
    detach_ok(driver, "drv-busy", first);
    virDomainFree(dom);
}

/* What a crash between virSecretDefineXML and virSecretSetValue leaves (or
 * libvirt 12.1+ failing to unseal a secret): reusing it would only make QEMU
 * fail, so it is replaced by one made from the key manager. */
Test(driver, secret_without_value_is_recreated_from_the_key_manager)
{
    const char *volume_id = "11111111-0000-0000-0000-000000000016";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume(volume_id, "noval.luks", "sdb");
    virDomainPtr dom = start_domain("drv-noval");
    virConnectPtr conn = connect_daemon();
    g_autofree char *xml = g_strdup_printf(
        "<secret ephemeral='no' private='no'><usage type='volume'><volume>%s</volume></usage>"
        "</secret>",
        volume_id);
    virSecretPtr secret = virSecretDefineXML(conn, xml, 0);
    char stale[VIR_UUID_STRING_BUFLEN];
    g_autofree char *uuid = NULL;
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;

    cr_assert_not_null(secret);
    cr_assert(virSecretGetUUIDString(secret, stale) == 0);
    virSecretFree(secret);
    attach_ok(driver, "drv-noval", vol);
    uuid = volume_secret(volume_id);
    cr_assert_not_null(uuid);
    cr_assert_str_neq(uuid, stale, "the value-less secret was reused");
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(seen, plain), "QEMU did not decrypt the volume");
    detach_ok(driver, "drv-noval", vol);
    cr_assert_not(has_volume_secret(volume_id));
    virDomainFree(dom);
    virConnectClose(conn);
}

/* What a crash inside nv_host_create_volume_secret() leaves: an ephemeral
 * private secret (here even with a value, a wrong one).  It is not
 * reused: it is replaced by a persistent one made from the key manager. */
Test(driver, unfinished_ephemeral_secret_is_recreated_from_the_key_manager)
{
    const char *volume_id = "11111111-0000-0000-0000-000000000026";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume(volume_id, "unfinished.luks", "sdb");
    virDomainPtr dom = start_domain("drv-unfinished");
    virConnectPtr conn = connect_daemon();
    g_autofree char *xml = g_strdup_printf(
        "<secret ephemeral='yes' private='yes'><usage type='volume'><volume>%s</volume></usage>"
        "</secret>",
        volume_id);
    virSecretPtr secret = virSecretDefineXML(conn, xml, 0);
    char stale[VIR_UUID_STRING_BUFLEN];
    g_autofree char *uuid = NULL;
    g_autofree char *now = NULL;
    g_autoptr(nv_secret_config) conf = NULL;
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    virSecretPtr fresh;

    cr_assert_not_null(secret);
    cr_assert(virSecretGetUUIDString(secret, stale) == 0);
    cr_assert(virSecretSetValue(secret, (const unsigned char *)"wrong", 5, 0) == 0);
    virSecretFree(secret);
    attach_ok(driver, "drv-unfinished", vol);
    uuid = volume_secret(volume_id);
    cr_assert_not_null(uuid);
    cr_assert_str_neq(uuid, stale, "the unfinished secret was reused");
    fresh = virSecretLookupByUUIDString(conn, uuid);
    cr_assert_not_null(fresh);
    now = virSecretGetXMLDesc(fresh, 0);
    virSecretFree(fresh);
    conf = nv_secret_config_parse(now, NULL);
    cr_assert_not_null(conf, "%s", now);
    cr_assert_not(conf->ephemeral, "the new secret is ephemeral: %s", now);
    cr_assert(conf->private_, "the new secret is public: %s", now);
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(seen, plain), "QEMU did not decrypt the volume");
    detach_ok(driver, "drv-unfinished", vol);
    cr_assert_not(has_volume_secret(volume_id));
    virDomainFree(dom);
    virConnectClose(conn);
}

Test(driver, attach_failing_in_libvirt_after_the_secret_was_created_rolls_it_back)
{
    /* A bus the domain cannot take (no SATA controller on machine 'pc'
     * means ide; 'usb' with controller model none fails in libvirt). */
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-000000000017", "usb.luks", "sdb");
    virDomainPtr dom = start_domain("drv-usb");

    vol->request.disk_bus = "usb";
    attach_fails(driver, "drv-usb", vol, NV_ERROR_LIBVIRT, "domain 'drv-usb'");
    virDomainFree(dom);
}

Test(driver, libvirtd_not_running_is_a_libvirt_error)
{
    g_autofree char *conf = write_conf("down.conf", FIXED_KEY, NULL);
    g_autoptr(GError) error = NULL;

    nv_harness_stop_daemon();
    cr_assert_null(nv_driver_open(conf, NULL, NULL, &error));
    nv_harness_start_daemon();
    cr_assert_eq(error->code, NV_ERROR_LIBVIRT, "%s", error->message);
    cr_assert_not_null(strstr(error->message, "cannot connect to libvirt at"), "%s",
                       error->message);
}

/* ---- the CLI over the same driver ------------------------------------------ */

Test(driver, cli_attach_dry_run_then_attach_and_detach)
{
    g_autofree char *conf = write_conf("cli.conf", FIXED_KEY, NULL);
    g_autoptr(volume) vol = luks_volume("11111111-0000-0000-0000-000000000018", "cli.luks", "sdb");
    g_autofree char *ci_path = nv_harness_path("cli-ci.json");
    g_autofree char *enc_path = nv_harness_path("cli-enc.json");
    virDomainPtr dom = start_domain("drv-cli");
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;

    cr_assert(g_file_set_contents(ci_path, vol->connection_info, -1, NULL));
    cr_assert(g_file_set_contents(enc_path, LUKS_ENCRYPTION, -1, NULL));
    {
        const char *args[] = { "attach-volume", "drv-cli", "--config", conf, "-i",
                               ci_path,         "-e",      enc_path,   "-m", "/dev/sdb",
                               "--dry-run",     "--json",  NULL };

        status = nv_test_run_nvirt(args, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s", err);
        cr_assert_not_null(strstr(out, "\"encryption_path\" : \"native\""), "%s", out);
        cr_assert_not_null(strstr(out, "<encryption format=\\\"luks\\\">"), "%s", out);
        cr_assert_not(has_volume_secret("11111111-0000-0000-0000-000000000018"),
                      "--dry-run created a secret");
        cr_assert_not(has_disk("drv-cli", 0, "sdb"), "--dry-run attached");
    }
    {
        const char *args[] = { "attach-volume", "drv-cli", "--config", conf, "-i", ci_path, "-e",
                               enc_path,        "-m",      "/dev/sdb", NULL };

        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        status = nv_test_run_nvirt(args, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s", err);
        cr_assert(has_disk("drv-cli", 0, "sdb"));
    }
    {
        const char *args[] = { "detach-volume", "drv-cli", "--config", conf, "-i", ci_path, "-e",
                               enc_path,        "-m",      "sdb",      NULL };

        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        status = nv_test_run_nvirt(args, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s", err);
        cr_assert_not(has_disk("drv-cli", 0, "sdb"));
        cr_assert_not(has_volume_secret("11111111-0000-0000-0000-000000000018"));
    }
    virDomainFree(dom);
}

Test(driver, cli_host_info_json_and_exit_codes)
{
    g_autofree char *conf = write_conf("cli-hi.conf", FIXED_KEY, NULL);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;

    {
        const char *args[] = { "host-info", "--config", conf, "--json", NULL };

        status = nv_test_run_nvirt(args, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s", err);
        g_autofree char *libvirt = nv_version_to_string(nv_harness_program_version("libvirtd"));
        g_autofree char *member = g_strdup_printf("\"libvirt_version\" : \"%s\"", libvirt);

        cr_assert_not_null(strstr(out, member), "%s", out);
        cr_assert_not_null(strstr(out, "\"native_luks\" : true"), "%s", out);
    }
    {
        const char *args[] = {
            "attach-volume", "no-such-domain", "--config", conf, "-i", "-", "-m", "sdb", NULL
        };

        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        status = nv_test_run_nvirt(args, "{\"driver_volume_type\": \"file\"", &out, &err);
        cr_assert_eq(status, 2, "malformed JSON: %s", err);
    }
    {
        const char *args[] = { "attach-volume", "--config", conf, "-i", "-", "-m", "sdb", NULL };

        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        status = nv_test_run_nvirt(args, "{}", &out, &err);
        cr_assert_eq(status, 2);
        cr_assert_str_eq(err, "nvirt attach-volume: DOMAIN is required (see --help)\n");
    }
}

/* oslo.config's order reaches the driver: a later --config-file overrides
 * an earlier one, and the --config-dir files come last. */
Test(driver, cli_reads_every_config_file_in_oslo_order)
{
    g_autofree char *dead = g_strdup("[libvirt]\nconnection_uri = "
                                     "qemu+unix:///system?socket=/nonexistent/sock\n");
    g_autofree char *first = nv_harness_path("oslo-1.conf");
    g_autofree char *good = write_conf("oslo-2.conf", FIXED_KEY, NULL);
    g_autofree char *dir = nv_harness_path("oslo.d");
    g_autofree char *in_dir = g_build_filename(dir, "50-dead.conf", NULL);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;

    cr_assert(g_file_set_contents(first, dead, -1, NULL));
    {
        const char *args[] = { "--config-file", first, "--config-file", good, "host-info",
                               "--json",        NULL };

        status = nv_test_run_nvirt(args, NULL, &out, &err);
        cr_assert_eq(status, 0, "the later file did not win: %s", err);
    }
    cr_assert(g_mkdir_with_parents(dir, 0700) == 0);
    cr_assert(g_file_set_contents(in_dir, dead, -1, NULL));
    {
        const char *args[] = { "--config-file", good, "--config-dir", dir, "host-info", NULL };

        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        status = nv_test_run_nvirt(args, NULL, &out, &err);
        cr_assert_neq(status, 0, "the --config-dir file did not come last: %s", out);
        cr_assert_not_null(strstr(err, "/nonexistent/sock"), "%s", err);
    }
}
