/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secrets that more than one domain uses, and secrets no domain uses:
 * multi-attach detach order (issue 13) and reconcile, on the private
 * daemon.
 */
#include <criterion/criterion.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "driver_fixtures.h"
#include "harness.h"
#include "nvirt/nvirt.h"
#include "support.h"

#define SHARED_ID "5a4e3c2b-1d0f-4e9a-8b7c-6d5e4f3a2b10"

/* A multiattach volume: Cinder's connection_info says so, and the disk
 * gets <shareable/> (without it QEMU refuses the second writer). */
static volume *
shared_volume(const char *file)
{
    volume *vol = luks_volume(SHARED_ID, file, "sdb");
    g_autofree char *old = vol->connection_info;

    vol->connection_info = g_strdup_printf(
        "{\"driver_volume_type\": \"file\", \"serial\": \"%s\", \"multiattach\": true, "
        "\"data\": {\"volume_id\": \"%s\", \"device_path\": \"%s\", \"encrypted\": true}}",
        SHARED_ID, SHARED_ID, vol->path);
    vol->request.connection_info = vol->connection_info;
    return vol;
}

static void
remove_domain(const char *name)
{
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = virDomainLookupByName(conn, name);

    if (dom) {
        virDomainDestroy(dom);
        virDomainUndefine(dom);
        virDomainFree(dom);
    }
    virConnectClose(conn);
}

Test(multiattach, secret_stays_until_the_last_detach)
{
    g_autoptr(volume) vol = shared_volume("shared.img");
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autofree char *uuid = NULL;
    g_autofree char *uuid2 = NULL;
    g_autofree char *xml = NULL;
    virDomainPtr one = start_domain("shared-one");
    virDomainPtr two = start_domain("shared-two");

    attach_ok(driver, "shared-one", vol);
    attach_ok(driver, "shared-two", vol);
    uuid = volume_secret(SHARED_ID);
    cr_assert_not_null(uuid);
    xml = domain_xml("shared-two", 0);
    cr_assert_not_null(strstr(xml, "<shareable/>"));
    cr_assert_not_null(strstr(xml, uuid), "the second domain reuses the volume's secret");

    /* The first detach keeps the secret the second domain needs... */
    detach_ok(driver, "shared-one", vol);
    uuid2 = volume_secret(SHARED_ID);
    cr_assert_not_null(uuid2, "the first detach deleted the secret shared-two uses");
    cr_assert_str_eq(uuid2, uuid);
    {
        g_autoptr(GBytes) read = nv_harness_read_back(two, "sdb", VOLUME_SIZE);

        cr_assert(g_bytes_equal(read, plain));
    }
    /* ...and the second domain can start again with it. */
    cr_assert(virDomainDestroy(two) == 0);
    cr_assert(virDomainCreate(two) == 0, "shared-two does not start again: %s",
              virGetLastErrorMessage());

    /* The last detach deletes it. */
    detach_ok(driver, "shared-two", vol);
    cr_assert_not(has_volume_secret(SHARED_ID), "the last detach kept the secret");

    virDomainFree(one);
    virDomainFree(two);
    remove_domain("shared-one");
    remove_domain("shared-two");
}

/* A shut-off domain whose persistent config names the secret counts as a
 * user too: it needs the secret at its next start. */
Test(multiattach, shut_off_domain_keeps_the_secret)
{
    g_autoptr(volume) vol = shared_volume("shared-off.img");
    g_autoptr(nv_driver) driver = open_driver();
    virDomainPtr one = start_domain("shared-run");
    virDomainPtr off = start_domain("shared-off");

    attach_ok(driver, "shared-run", vol);
    attach_ok(driver, "shared-off", vol);
    cr_assert(virDomainDestroy(off) == 0);
    detach_ok(driver, "shared-run", vol);
    cr_assert(has_volume_secret(SHARED_ID), "the secret the shut-off domain needs was deleted");
    cr_assert(virDomainCreate(off) == 0, "%s", virGetLastErrorMessage());
    detach_ok(driver, "shared-off", vol);
    cr_assert_not(has_volume_secret(SHARED_ID));

    virDomainFree(one);
    virDomainFree(off);
    remove_domain("shared-run");
    remove_domain("shared-off");
}

/* ---- reconcile ------------------------------------------------------------ */

#define USED_ID   "0a1b2c3d-0000-4000-8000-00000000a001"
#define OFF_ID    "0a1b2c3d-0000-4000-8000-00000000a002"
#define ORPHAN_ID "0a1b2c3d-0000-4000-8000-00000000a003"

static const char *const foreign_secrets[] = {
    "<secret ephemeral='no' private='no'><usage type='ceph'><name>client.nvirt "
    "secret</name></usage></secret>",
    "<secret ephemeral='no' private='no'><usage type='iscsi'><target>nvirt-target</target>"
    "</usage></secret>",
    "<secret ephemeral='no' private='no'><usage type='vtpm'><name>nvirt-vtpm</name></usage>"
    "</secret>",
};

static void
define_secret(const char *xml)
{
    virConnectPtr conn = connect_daemon();
    virSecretPtr secret = virSecretDefineXML(conn, xml, 0);

    cr_assert_not_null(secret, "%s", virGetLastErrorMessage());
    virSecretFree(secret);
    virConnectClose(conn);
}

static void
undefine_all_secrets(void)
{
    virConnectPtr conn = connect_daemon();
    virSecretPtr *secrets = NULL;
    int n = virConnectListAllSecrets(conn, &secrets, 0);

    for (int i = 0; i < n; i++) {
        virSecretUndefine(secrets[i]);
        virSecretFree(secrets[i]);
    }
    free(secrets);
    virConnectClose(conn);
}

Test(reconcile, removes_only_orphan_volume_secrets)
{
    g_autoptr(volume) used = luks_volume(USED_ID, "rec-used.img", "sdb");
    g_autoptr(volume) off = luks_volume(OFF_ID, "rec-off.img", "sdb");
    g_autoptr(volume) orphan = luks_volume(ORPHAN_ID, "rec-orphan.img", "sdc");
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(nv_reconcile_report) dry = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *orphan_xml = g_strdup_printf(
        "<secret ephemeral='no' private='no'><usage type='volume'><volume>%s</volume></usage>"
        "</secret>",
        ORPHAN_ID);
    g_autofree char *orphan_uuid = NULL;
    g_autofree char *conf = write_conf("driver.conf", FIXED_KEY, NULL);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    const char *args[] = { "reconcile", "--json", "-c", conf, NULL };
    virDomainPtr run = start_domain("rec-run");
    virDomainPtr stopped = start_domain("rec-off");
    int before;

    attach_ok(driver, "rec-run", used);
    attach_ok(driver, "rec-off", off);
    cr_assert(virDomainDestroy(stopped) == 0);
    /* What an attach that died after defining its secret leaves. */
    define_secret(orphan_xml);
    orphan_uuid = volume_secret(ORPHAN_ID);
    for (guint i = 0; i < G_N_ELEMENTS(foreign_secrets); i++)
        define_secret(foreign_secrets[i]);
    before = secret_count();
    cr_assert_eq(before, 6);

    dry = nv_driver_reconcile(driver, TRUE, &error);
    cr_assert_not_null(dry, "%s", error ? error->message : "");
    cr_assert_eq(nv_reconcile_report_get_n_items(dry), 1, "found: %s",
                 nv_reconcile_report_get_n_items(dry) ? nv_reconcile_report_get_name(dry, 0) : "");
    cr_assert_eq(nv_reconcile_report_get_kind(dry, 0), NV_RECONCILE_SECRET);
    cr_assert_str_eq(nv_reconcile_report_get_name(dry, 0), orphan_uuid);
    cr_assert_str_eq(nv_reconcile_report_get_volume_id(dry, 0), ORPHAN_ID);
    cr_assert_not(nv_reconcile_report_get_removed(dry, 0));
    cr_assert_eq(secret_count(), before, "a dry run removed something");

    cr_assert_eq(nv_test_run_nvirt(args, NULL, &out, &err), 0, "%s", err);
    cr_assert_not_null(strstr(out, orphan_uuid), "%s", out);
    cr_assert_not_null(strstr(out, "\"removed\" : true"), "%s", out);
    cr_assert_not(has_volume_secret(ORPHAN_ID));
    cr_assert(has_volume_secret(USED_ID), "the running domain's secret was removed");
    cr_assert(has_volume_secret(OFF_ID), "the shut-off domain's secret was removed");
    cr_assert_eq(secret_count(), before - 1, "%s", secret_usages());

    /* The shut-off domain starts with its secret, and the orphan's volume
     * attaches again. */
    cr_assert(virDomainCreate(stopped) == 0, "%s", virGetLastErrorMessage());
    attach_ok(driver, "rec-run", orphan);
    cr_assert(has_volume_secret(ORPHAN_ID));

    virDomainFree(run);
    virDomainFree(stopped);
    remove_domain("rec-run");
    remove_domain("rec-off");
    undefine_all_secrets();
}
