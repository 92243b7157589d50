/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Instance lifecycle end to end (LibvirtDriver.spawn, destroy) against the
 * private libvirtd and TCG domains with no guest OS: spawn connects and
 * prepares every encrypted volume before it defines the domain, QEMU reads
 * the plaintext, a bad block device undoes everything, destroy leaves
 * neither domain nor secret.
 */
#include "harness.h"
#include "driver_fixtures.h"

#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "encryptors/luks_format.h"
#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "support.h"

#define INSTANCE_UUID "6c1a0c3e-4d1b-4a55-8e2f-000000000001"
/* Volume ids: one set per test, so a failed test's leftovers cannot make
 * another pass or fail. */
#define VOL(test, n) "2222222" #test "-0000-0000-0000-00000000000" #n

static nv_driver *
open_qemu_driver(void)
{
    /* TCG: the test hosts have no nested KVM. */
    return open_driver_with(FIXED_KEY, "[libvirt]\nvirt_type = qemu\n");
}

static nv_instance *
instance(const char *name, const char *uuid)
{
    g_autofree char *json =
        g_strdup_printf("{\"name\": \"%s\", \"uuid\": \"%s\", \"memory_mb\": 64, "
                        "\"vcpus\": 1, \"machine_type\": \"pc\"}",
                        name, uuid);
    g_autoptr(GError) error = NULL;
    nv_instance *inst = nv_instance_new_from_json(json, &error);

    cr_assert_not_null(inst, "%s", error ? error->message : "");
    return inst;
}

/* One block_device_mapping entry for @vol (encrypted, LUKS_ENCRYPTION). */
static void
add_bdm(GString *json, const volume *vol, const char *mount_device, int boot_index,
        gboolean delete_on_termination)
{
    g_string_append_printf(json,
                           "%s{\"connection_info\": %s, \"encryption\": %s, "
                           "\"mount_device\": \"%s\", \"boot_index\": %d, "
                           "\"disk_bus\": \"virtio\", \"device_type\": \"disk\", "
                           "\"delete_on_termination\": %s}",
                           json->len > strlen("{\"block_device_mapping\": [") ? ", " : "",
                           vol->connection_info, LUKS_ENCRYPTION, mount_device, boot_index,
                           delete_on_termination ? "true" : "false");
}

static GString *
bdi_begin(void)
{
    return g_string_new("{\"block_device_mapping\": [");
}

static char *
bdi_end(GString *json)
{
    g_string_append(json, "], \"root_device_name\": \"/dev/vda\"}");
    return g_string_free(json, FALSE);
}

static volume *
blank_volume(const char *volume_id, const char *file)
{
    volume *vol = volume_new(volume_id, file, NULL, LUKS_ENCRYPTION);

    cr_assert(g_file_set_contents(vol->path, "", 0, NULL));
    cr_assert(truncate(vol->path, 4 * VOLUME_SIZE) == 0);
    return vol;
}

/* The <disk> element of @xml whose target is @dev (a new string). */
static char *
disk_element(const char *xml, const char *dev)
{
    g_autofree char *target = g_strdup_printf("<target dev='%s'", dev);
    const char *at = strstr(xml, target);
    const char *start, *end;

    cr_assert_not_null(at, "no disk %s in %s", dev, xml);
    start = g_strrstr_len(xml, at - xml, "<disk ");
    end = strstr(at, "</disk>");
    cr_assert(start && end);
    return g_strndup(start, end - start);
}

static void
assert_encrypted_disk(const char *xml, const char *dev, const char *volume_id,
                      const char *boot_order)
{
    g_autofree char *disk = disk_element(xml, dev);
    g_autofree char *uuid = volume_secret(volume_id);
    g_autofree char *secret = NULL;
    g_autofree char *boot = g_strdup_printf("<boot order='%s'/>", boot_order);

    cr_assert_not_null(uuid, "volume %s has no secret", volume_id);
    secret = g_strdup_printf("<secret type='passphrase' uuid='%s'/>", uuid);
    cr_assert_not_null(strstr(disk, "<encryption format='luks'"), "%s", disk);
    cr_assert_not_null(strstr(disk, secret), "%s", disk);
    cr_assert_not_null(strstr(disk, boot), "%s", disk);
}

static gboolean
domain_is(const char *name, int (*query)(virDomainPtr))
{
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = virDomainLookupByName(conn, name);
    int result;

    cr_assert_not_null(dom, "domain %s", name);
    result = query(dom);
    virDomainFree(dom);
    virConnectClose(conn);
    return result == 1;
}

Test(lifecycle, spawn_connects_both_volumes_before_define_and_qemu_decrypts_them)
{
    g_autoptr(nv_driver) driver = open_qemu_driver();
    g_autoptr(volume) blank = blank_volume(VOL(1, 1), "spawn-blank.img");
    g_autoptr(volume) existing = luks_volume(VOL(1, 2), "spawn-existing.luks", NULL);
    g_autoptr(nv_instance) inst = instance("lc-spawn", INSTANCE_UUID);
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *bdi = NULL;
    g_autofree char *persistent = NULL;
    g_autofree char *live = NULL;
    g_autofree char *existing_sha = file_sha256(existing->path);
    g_autofree char *existing_after = NULL;
    nv_luks_probe_result probe;
    int secrets = secret_count();
    GString *json = bdi_begin();
    virConnectPtr conn;
    virDomainPtr dom;

    /* Document order is not boot order: vdb boots first. */
    add_bdm(json, blank, "/dev/vda", 1, FALSE);
    add_bdm(json, existing, "/dev/vdb", 0, TRUE);
    bdi = bdi_end(json);

    cr_assert(nv_driver_spawn(driver, inst, bdi, &error), "%s", error ? error->message : "");

    cr_assert(domain_is("lc-spawn", virDomainIsActive), "domain not running");
    cr_assert(domain_is("lc-spawn", virDomainIsPersistent), "domain not persistent");
    cr_assert_eq(secret_count(), secrets + 2);
    persistent = domain_xml("lc-spawn", VIR_DOMAIN_XML_INACTIVE);
    assert_encrypted_disk(persistent, "vda", VOL(1, 1), "2");
    assert_encrypted_disk(persistent, "vdb", VOL(1, 2), "1");
    cr_assert_not_null(strstr(persistent, "<uuid>" INSTANCE_UUID "</uuid>"), "%s", persistent);

    /* The blank volume was formatted LUKS1 before the domain existed. */
    cr_assert(nv_luks_probe(blank->path, &probe, &error), "%s", error ? error->message : "");
    cr_assert_eq(probe.kind, NV_LUKS_PROBE_LUKS1);

    /* QEMU decrypts the existing volume: it reads the plaintext back. */
    live = domain_xml("lc-spawn", 0);
    cr_assert_not_null(strstr(live, "<encryption format='luks'"), "%s", live);
    conn = connect_daemon();
    dom = virDomainLookupByName(conn, "lc-spawn");
    seen = nv_harness_read_back(dom, "vdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "QEMU did not read the plaintext");
    virDomainFree(dom);
    virConnectClose(conn);

    /* destroy: no domain, no secret; the volumes themselves stay (the
     * delete_on_termination one is the caller's to delete). */
    cr_assert(nv_driver_destroy(driver, "lc-spawn", bdi, &error), "%s",
              error ? error->message : "");
    cr_assert_not(domain_exists("lc-spawn"), "domain left behind");
    cr_assert_not(has_volume_secret(VOL(1, 1)), "secret left behind");
    cr_assert_not(has_volume_secret(VOL(1, 2)), "secret left behind");
    cr_assert_eq(secret_count(), secrets);
    existing_after = file_sha256(existing->path);
    cr_assert_str_eq(existing_after, existing_sha, "the existing volume changed");

    /* A second destroy finds nothing to do and succeeds. */
    cr_assert(nv_driver_destroy(driver, "lc-spawn", bdi, &error), "%s",
              error ? error->message : "");
}

Test(lifecycle, spawn_with_one_bad_block_device_undoes_everything_it_did)
{
    g_autoptr(nv_driver) driver = open_qemu_driver();
    g_autoptr(volume) blank = blank_volume(VOL(2, 1), "bad-blank.img");
    g_autoptr(volume) existing = luks_volume(VOL(2, 2), "bad-existing.luks", NULL);
    g_autoptr(volume) missing = volume_new(VOL(2, 3), "bad-missing.luks", NULL, LUKS_ENCRYPTION);
    g_autoptr(nv_instance) inst = instance("lc-bad", "6c1a0c3e-4d1b-4a55-8e2f-000000000002");
    g_autoptr(GError) error = NULL;
    g_autofree char *bdi = NULL;
    g_autofree char *expect = NULL;
    g_autofree char *blank_sha = file_sha256(blank->path);
    g_autofree char *existing_sha = file_sha256(existing->path);
    g_autofree char *blank_after = NULL;
    g_autofree char *existing_after = NULL;
    int secrets = secret_count();
    GString *json = bdi_begin();

    /* The bad one comes last: the blank volume has been formatted and the
     * existing one has its secret by the time it fails. */
    add_bdm(json, blank, "/dev/vda", 0, FALSE);
    add_bdm(json, existing, "/dev/vdb", -1, FALSE);
    add_bdm(json, missing, "/dev/vdc", -1, FALSE);
    bdi = bdi_end(json);

    cr_assert_not(nv_driver_spawn(driver, inst, bdi, &error), "spawn succeeded");
    expect =
        g_strdup_printf("volume %s: '%s': No such file or directory", VOL(2, 3), missing->path);
    cr_assert_eq(error->code, NV_ERROR_NOT_FOUND, "%s", error->message);
    cr_assert_str_eq(error->message, expect);
    cr_assert_null(strchr(error->message, '\n'));

    cr_assert_not(domain_exists("lc-bad"), "domain left behind");
    cr_assert_eq(secret_count(), secrets, "secret left behind");
    cr_assert_not(has_volume_secret(VOL(2, 1)));
    cr_assert_not(has_volume_secret(VOL(2, 2)));
    blank_after = file_sha256(blank->path);
    existing_after = file_sha256(existing->path);
    cr_assert_str_eq(blank_after, blank_sha, "the blank volume kept the header spawn wrote");
    cr_assert_str_eq(existing_after, existing_sha, "the existing volume changed");
}

Test(lifecycle, spawn_failing_in_libvirt_after_define_removes_domain_and_secrets)
{
    g_autoptr(nv_driver) driver = open_qemu_driver();
    g_autoptr(volume) blank = blank_volume(VOL(3, 1), "start-blank.img");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_instance) inst = NULL;
    g_autofree char *bdi = NULL;
    g_autofree char *blank_sha = file_sha256(blank->path);
    g_autofree char *blank_after = NULL;
    g_autofree char *kernel = nv_harness_path("no-such-kernel");
    g_autofree char *json_inst = g_strdup_printf(
        "{\"name\": \"lc-start\", \"uuid\": \"6c1a0c3e-4d1b-4a55-8e2f-000000000003\", "
        "\"memory_mb\": 64, \"vcpus\": 1, \"machine_type\": \"pc\", \"kernel\": \"%s\"}",
        kernel);
    int secrets = secret_count();
    GString *json = bdi_begin();

    /* Defined fine, but QEMU cannot start without its kernel. */
    inst = nv_instance_new_from_json(json_inst, &error);
    cr_assert_not_null(inst, "%s", error ? error->message : "");
    add_bdm(json, blank, "/dev/vda", 0, FALSE);
    bdi = bdi_end(json);

    cr_assert_not(nv_driver_spawn(driver, inst, bdi, &error), "spawn succeeded");
    cr_assert_eq(error->code, NV_ERROR_LIBVIRT, "%s", error->message);
    cr_assert(g_str_has_prefix(error->message, "domain 'lc-start': start: "), "%s", error->message);
    cr_assert_null(strchr(error->message, '\n'), "%s", error->message);
    cr_assert_not(domain_exists("lc-start"), "domain left behind");
    cr_assert_eq(secret_count(), secrets, "secret left behind");
    blank_after = file_sha256(blank->path);
    cr_assert_str_eq(blank_after, blank_sha, "the blank volume kept the header spawn wrote");
}

Test(lifecycle, spawn_refuses_an_existing_domain_before_touching_a_volume)
{
    g_autoptr(nv_driver) driver = open_qemu_driver();
    g_autoptr(volume) blank = blank_volume(VOL(4, 1), "dup-blank.img");
    g_autoptr(nv_instance) inst = instance("lc-dup", "6c1a0c3e-4d1b-4a55-8e2f-000000000004");
    g_autoptr(GError) error = NULL;
    g_autofree char *bdi = NULL;
    g_autofree char *blank_sha = file_sha256(blank->path);
    g_autofree char *blank_after = NULL;
    int secrets = secret_count();
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = nv_harness_define_domain(conn, "lc-dup");
    GString *json = bdi_begin();

    add_bdm(json, blank, "/dev/vda", 0, FALSE);
    bdi = bdi_end(json);
    cr_assert_not(nv_driver_spawn(driver, inst, bdi, &error), "spawn succeeded");
    cr_assert_eq(error->code, NV_ERROR_BAD_INPUT, "%s", error->message);
    cr_assert_str_eq(error->message, "instance lc-dup: a domain with this name or uuid "
                                     "6c1a0c3e-4d1b-4a55-8e2f-000000000004 exists already");
    cr_assert_eq(secret_count(), secrets);
    blank_after = file_sha256(blank->path);
    cr_assert_str_eq(blank_after, blank_sha);
    cr_assert(virDomainUndefine(dom) == 0);
    virDomainFree(dom);
    virConnectClose(conn);
}

Test(lifecycle, cli_spawn_then_destroy)
{
    g_autofree char *conf = write_conf("lc-cli.conf", FIXED_KEY, "[libvirt]\nvirt_type = qemu\n");
    g_autoptr(volume) existing = luks_volume(VOL(5, 1), "cli-existing.luks", NULL);
    g_autofree char *inst_path = nv_harness_path("lc-cli-instance.json");
    g_autofree char *bdi_path = nv_harness_path("lc-cli-bdi.json");
    g_autofree char *bdi = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    GString *json = bdi_begin();
    int secrets = secret_count();
    int status;

    add_bdm(json, existing, "/dev/vda", 0, FALSE);
    bdi = bdi_end(json);
    cr_assert(g_file_set_contents(bdi_path, bdi, -1, NULL));
    cr_assert(g_file_set_contents(inst_path,
                                  "{\"name\": \"lc-cli\", \"uuid\": "
                                  "\"6c1a0c3e-4d1b-4a55-8e2f-000000000005\", "
                                  "\"memory_mb\": 64, \"vcpus\": 1, \"machine_type\": \"pc\"}",
                                  -1, NULL));
    {
        const char *args[] = { "spawn", "--config", conf, "-I", inst_path, "-B", bdi_path, NULL };

        status = nv_test_run_nvirt(args, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s", err);
        cr_assert(domain_is("lc-cli", virDomainIsActive), "domain not running");
        cr_assert(has_volume_secret(VOL(5, 1)));
    }
    {
        const char *args[] = { "destroy", "--config", conf, "lc-cli", NULL };

        g_clear_pointer(&err, g_free);
        g_clear_pointer(&out, g_free);
        status = nv_test_run_nvirt(args, NULL, &out, &err);
        cr_assert_eq(status, 2, "%s", err);
        cr_assert_str_eq(err, "nvirt destroy: --block-device-info is required (see --help)\n");
        cr_assert(domain_exists("lc-cli"), "a usage error destroyed the domain");
    }
    {
        const char *args[] = { "destroy", "--config", conf, "lc-cli", "-B", bdi_path, NULL };

        g_clear_pointer(&err, g_free);
        g_clear_pointer(&out, g_free);
        status = nv_test_run_nvirt(args, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s", err);
        cr_assert_not(domain_exists("lc-cli"), "domain left behind");
        cr_assert_eq(secret_count(), secrets, "secret left behind");
    }
}

/* ---- power-off, power-on, hard reboot ------------------------------------- */

/* The key manager is gone (no [key_manager] fixed_key): only existing
 * secrets can decrypt. */
static nv_driver *
open_keyless_driver(void)
{
    return open_driver_with(NULL, "[libvirt]\nvirt_type = qemu\n");
}

static void
assert_qemu_reads_plaintext(const char *name, const char *dev)
{
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = virDomainLookupByName(conn, name);

    cr_assert_not_null(dom);
    seen = nv_harness_read_back(dom, dev, VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "QEMU did not read the plaintext of %s", dev);
    virDomainFree(dom);
    virConnectClose(conn);
}

Test(lifecycle, power_on_and_hard_reboot_reuse_the_secret_without_the_key_manager)
{
    g_autoptr(nv_driver) driver = open_qemu_driver();
    g_autoptr(nv_driver) keyless = NULL;
    g_autoptr(volume) existing = luks_volume(VOL(6, 1), "power-existing.luks", NULL);
    g_autoptr(nv_instance) inst = instance("lc-power", "6c1a0c3e-4d1b-4a55-8e2f-000000000006");
    g_autoptr(GError) error = NULL;
    g_autofree char *bdi = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *after = NULL;
    g_autofree char *persistent = NULL;
    int secrets = secret_count();
    GString *json = bdi_begin();

    add_bdm(json, existing, "/dev/vda", 0, FALSE);
    bdi = bdi_end(json);
    cr_assert(nv_driver_spawn(driver, inst, bdi, &error), "%s", error ? error->message : "");
    uuid = volume_secret(VOL(6, 1));
    cr_assert_not_null(uuid);

    /* power-off: stopped, still defined, the secret stays. */
    cr_assert(nv_driver_power_off(driver, "lc-power", &error), "%s", error ? error->message : "");
    cr_assert_not(domain_is("lc-power", virDomainIsActive), "still running");
    cr_assert(domain_is("lc-power", virDomainIsPersistent));
    after = volume_secret(VOL(6, 1));
    cr_assert_str_eq(after, uuid, "power-off changed the secret");
    g_clear_pointer(&after, g_free);
    /* Stopped already: success. */
    cr_assert(nv_driver_power_off(driver, "lc-power", &error), "%s", error ? error->message : "");

    /* power-on with no key manager: the existing secret is reused. */
    keyless = open_keyless_driver();
    cr_assert(nv_driver_power_on(keyless, "lc-power", bdi, &error), "%s",
              error ? error->message : "");
    cr_assert(domain_is("lc-power", virDomainIsActive), "not running after power-on");
    after = volume_secret(VOL(6, 1));
    cr_assert_str_eq(after, uuid, "power-on made a new secret");
    g_clear_pointer(&after, g_free);
    cr_assert_eq(secret_count(), secrets + 1);
    assert_qemu_reads_plaintext("lc-power", "vda");

    /* hard reboot of the running domain, still without a key manager. */
    cr_assert(nv_driver_hard_reboot(keyless, "lc-power", bdi, &error), "%s",
              error ? error->message : "");
    cr_assert(domain_is("lc-power", virDomainIsActive), "not running after reboot");
    persistent = domain_xml("lc-power", VIR_DOMAIN_XML_INACTIVE);
    assert_encrypted_disk(persistent, "vda", VOL(6, 1), "1");
    cr_assert_not_null(strstr(persistent, uuid), "%s", persistent);
    assert_qemu_reads_plaintext("lc-power", "vda");

    cr_assert(nv_driver_destroy(driver, "lc-power", bdi, &error), "%s",
              error ? error->message : "");
    cr_assert_eq(secret_count(), secrets);
}

Test(lifecycle, power_on_without_secret_or_key_manager_fails_and_leaves_no_secret)
{
    g_autoptr(nv_driver) driver = open_qemu_driver();
    g_autoptr(nv_driver) keyless = NULL;
    g_autoptr(volume) existing = luks_volume(VOL(7, 1), "nokey-existing.luks", NULL);
    g_autoptr(nv_instance) inst = instance("lc-nokey", "6c1a0c3e-4d1b-4a55-8e2f-000000000007");
    g_autoptr(GError) error = NULL;
    g_autofree char *bdi = NULL;
    g_autofree char *sha = NULL;
    g_autofree char *sha_after = NULL;
    GString *json = bdi_begin();
    virConnectPtr conn;
    virSecretPtr secret;
    int secrets;

    add_bdm(json, existing, "/dev/vda", 0, FALSE);
    bdi = bdi_end(json);
    cr_assert(nv_driver_spawn(driver, inst, bdi, &error), "%s", error ? error->message : "");
    cr_assert(nv_driver_power_off(driver, "lc-nokey", &error), "%s", error ? error->message : "");
    /* The secret is lost while the instance is off. */
    conn = connect_daemon();
    secret = virSecretLookupByUsage(conn, VIR_SECRET_USAGE_TYPE_VOLUME, VOL(7, 1));
    cr_assert_not_null(secret);
    cr_assert(virSecretUndefine(secret) == 0);
    virSecretFree(secret);
    virConnectClose(conn);
    secrets = secret_count();
    sha = file_sha256(existing->path);

    keyless = open_keyless_driver();
    cr_assert_not(nv_driver_power_on(keyless, "lc-nokey", bdi, &error), "power-on succeeded");
    cr_assert_eq(error->code, NV_ERROR_CONFIG, "%s", error->message);
    cr_assert_str_eq(error->message, "volume " VOL(7, 1) ": [key_manager] fixed_key is not set");
    cr_assert_eq(secret_count(), secrets, "orphan secret");
    cr_assert(domain_is("lc-nokey", virDomainIsPersistent), "the domain lost its definition");
    cr_assert_not(domain_is("lc-nokey", virDomainIsActive));
    sha_after = file_sha256(existing->path);
    cr_assert_str_eq(sha_after, sha, "the volume changed");

    /* With the key manager back it starts, with a new secret. */
    cr_assert(nv_driver_power_on(driver, "lc-nokey", bdi, &error), "%s",
              error ? error->message : "");
    cr_assert(has_volume_secret(VOL(7, 1)));
    assert_qemu_reads_plaintext("lc-nokey", "vda");
    cr_assert(nv_driver_destroy(driver, "lc-nokey", bdi, &error), "%s",
              error ? error->message : "");
}

Test(lifecycle, cli_power_off_power_on_and_hard_reboot)
{
    g_autofree char *conf =
        write_conf("lc-cli-power.conf", FIXED_KEY, "[libvirt]\nvirt_type = qemu\n");
    g_autoptr(nv_driver) driver = open_qemu_driver();
    g_autoptr(volume) existing = luks_volume(VOL(8, 1), "cli-power.luks", NULL);
    g_autoptr(nv_instance) inst = instance("lc-clip", "6c1a0c3e-4d1b-4a55-8e2f-000000000008");
    g_autofree char *bdi_path = nv_harness_path("lc-clip-bdi.json");
    g_autofree char *bdi = NULL;
    g_autoptr(GError) error = NULL;
    GString *json = bdi_begin();
    const char *off[] = { "power-off", "--config", conf, "lc-clip", NULL };
    const char *on[] = { "power-on", "--config", conf, "lc-clip", "-B", bdi_path, NULL };
    const char *soft[] = { "reboot", "--config", conf, "lc-clip", "-B", bdi_path, NULL };
    const char *hard[] = { "reboot", "--hard", "--config", conf, "lc-clip", "-B", bdi_path, NULL };

    add_bdm(json, existing, "/dev/vda", 0, FALSE);
    bdi = bdi_end(json);
    cr_assert(g_file_set_contents(bdi_path, bdi, -1, NULL));
    cr_assert(nv_driver_spawn(driver, inst, bdi, &error), "%s", error ? error->message : "");
    {
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        cr_assert_eq(nv_test_run_nvirt(off, NULL, &out, &err), 0, "%s", err);
        cr_assert_not(domain_is("lc-clip", virDomainIsActive));
    }
    {
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        cr_assert_eq(nv_test_run_nvirt(on, NULL, &out, &err), 0, "%s", err);
        cr_assert(domain_is("lc-clip", virDomainIsActive));
    }
    {
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        cr_assert_eq(nv_test_run_nvirt(soft, NULL, &out, &err), 2, "%s", err);
        cr_assert_str_eq(err, "nvirt reboot: only --hard is supported (see --help)\n");
    }
    {
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        cr_assert_eq(nv_test_run_nvirt(hard, NULL, &out, &err), 0, "%s", err);
        cr_assert(domain_is("lc-clip", virDomainIsActive));
    }
    cr_assert(nv_driver_destroy(driver, "lc-clip", bdi, &error), "%s", error ? error->message : "");
}
