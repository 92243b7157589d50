/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live migration helpers (virt/libvirt/migration.c, secret_refs.c), after
 * Nova's nova/tests/unit/virt/libvirt/test_migration.py
 * (test_update_volume_xml*, the URI cases of test_driver.py).
 *
 * tests/data/migration/source-*.xml are a source's migratable XML (live and
 * persistent) with two encrypted disks (one naming its secret by UUID on the
 * disk, one by usage on its <source>) and a plain one; dest-*.xml are the
 * golden output, byte-exact (libxml2's serialisation: double quotes).  They
 * differ from the source only in the two secrets (checked below too).
 */
#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "conf/conf.h"
#include "encryptors/mappings.h"
#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "support.h"
#include "virt/libvirt/migration.h"
#include "virt/libvirt/migration_monitor.h"
#include "virt/libvirt/secret_refs.h"

#define VOL_A  "a1a1a1a1-0000-4000-8000-000000000001"
#define VOL_B  "b2b2b2b2-0000-4000-8000-000000000002"
#define VOL_C  "c3c3c3c3-0000-4000-8000-000000000003"
#define SRC_A  "11111111-aaaa-4aaa-8aaa-111111111111"
#define DEST_A "22222222-bbbb-4bbb-8bbb-222222222222"
#define DEST_B "33333333-cccc-4ccc-8ccc-333333333333"

static void
assert_error(const GError *error, int code, const char *message)
{
    cr_assert_not_null(error, "expected error \"%s\"", message);
    cr_assert_eq(error->domain, NV_ERROR);
    cr_assert_eq(error->code, code, "wrong code %d for \"%s\"", error->code, error->message);
    cr_assert_str_eq(error->message, message);
}

static GHashTable *
dest_secrets(void)
{
    GHashTable *map = g_hash_table_new(g_str_hash, g_str_equal);

    g_hash_table_insert(map, VOL_A, DEST_A);
    g_hash_table_insert(map, VOL_B, DEST_B);
    return map;
}

static void
check_golden(const char *source, const char *golden)
{
    g_autofree char *in = nv_test_data_read(source);
    g_autofree char *want = nv_test_data_read(golden);
    g_autoptr(GHashTable) map = dest_secrets();
    g_autoptr(GError) error = NULL;
    g_autofree char *out = nv_migration_update_guest_xml(in, map, &error);

    cr_assert_not_null(out, "%s", error ? error->message : "");
    cr_assert_str_eq(out, want, "%s: got\n%s", golden, out);
}

Test(migration_xml, live_xml_names_destination_secrets)
{
    check_golden("migration/source-live.xml", "migration/dest-live.xml");
}

Test(migration_xml, persistent_xml_names_destination_secrets)
{
    check_golden("migration/source-persistent.xml", "migration/dest-persistent.xml");
}

/* The golden files themselves: the source's secrets are gone, the
 * destination's are there, and the plain disk has no <encryption>. */
Test(migration_xml, goldens_differ_only_in_the_secrets)
{
    const char *names[] = { "migration/dest-live.xml", "migration/dest-persistent.xml" };

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *xml = nv_test_data_read(names[i]);
        g_autoptr(GHashTable) refs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        cr_assert(nv_secret_refs_add_from_xml(refs, xml, NULL));
        cr_assert_eq(g_hash_table_size(refs), 2, "%s", names[i]);
        cr_assert(g_hash_table_contains(refs, DEST_A));
        cr_assert(g_hash_table_contains(refs, DEST_B));
        cr_assert_null(strstr(xml, SRC_A));
        cr_assert_null(strstr(xml, "usage="));
    }
}

Test(migration_xml, encrypted_disk_without_destination_secret_is_refused)
{
    g_autofree char *in = nv_test_data_read("migration/source-live.xml");
    g_autoptr(GHashTable) map = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GError) error = NULL;

    g_hash_table_insert(map, VOL_A, DEST_A);
    cr_assert_null(nv_migration_update_guest_xml(in, map, &error));
    assert_error(error, NV_ERROR_BAD_INPUT,
                 "volume " VOL_B ": encrypted disk 'sdc' has no secret on the destination");
}

Test(migration_xml, encrypted_disk_without_serial_is_refused)
{
    const char *xml = "<domain><devices><disk type='file'><target dev='vdb'/>"
                      "<encryption format='luks'><secret type='passphrase' uuid='" SRC_A "'/>"
                      "</encryption></disk></devices></domain>";
    g_autoptr(GHashTable) map = dest_secrets();
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_migration_update_guest_xml(xml, map, &error));
    assert_error(error, NV_ERROR_BAD_INPUT,
                 "encrypted disk 'vdb' has no <serial>: cannot find its volume's secret on the "
                 "destination");
}

Test(migration_xml, native_on_destination_only_is_refused)
{
    g_autofree char *in = nv_test_data_read("migration/source-live.xml");
    g_autoptr(GHashTable) map = dest_secrets();
    g_autoptr(GError) error = NULL;

    g_hash_table_insert(map, VOL_C, DEST_A);
    cr_assert_null(nv_migration_update_guest_xml(in, map, &error));
    assert_error(error, NV_ERROR_UNSUPPORTED,
                 "volume " VOL_C ": disk 'sdd' is decrypted by an encryptor on the source but "
                 "by QEMU on the destination");
}

Test(migration_xml, bad_destination_uuid_is_refused)
{
    g_autofree char *in = nv_test_data_read("migration/source-live.xml");
    g_autoptr(GHashTable) map = dest_secrets();
    g_autoptr(GError) error = NULL;

    g_hash_table_insert(map, VOL_A, "not-a-uuid'/><x");
    cr_assert_null(nv_migration_update_guest_xml(in, map, &error));
    assert_error(error, NV_ERROR_BAD_INPUT,
                 "volume " VOL_A ": destination secret 'not-a-uuid'/><x' is not a UUID");
}

Test(migration_xml, not_a_domain_is_refused)
{
    const char *bad[] = { "", "<disk/>", "<domain>" };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GHashTable) map = dest_secrets();
        g_autoptr(GError) error = NULL;

        cr_assert_null(nv_migration_update_guest_xml(bad[i], map, &error), "%s", bad[i]);
        assert_error(error, NV_ERROR_BAD_INPUT,
                     "migration: the domain XML is not a <domain> document");
    }
}

/* A domain without encrypted disks goes through unchanged but for
 * serialisation. */
Test(migration_xml, no_encrypted_disks_no_secrets_needed)
{
    const char *xml = "<domain type=\"qemu\"><name>x</name><devices><disk type=\"file\">"
                      "<serial>" VOL_C "</serial></disk></devices></domain>";
    g_autoptr(GHashTable) map = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *out = nv_migration_update_guest_xml(xml, map, NULL);

    cr_assert_not_null(out);
    cr_assert_str_eq(out, "<domain type=\"qemu\"><name>x</name><devices><disk type=\"file\">"
                          "<serial>" VOL_C "</serial></disk></devices></domain>\n");
}

/* ------------------------------------------------------------------------ */
/* URIs: LibvirtDriver._live_migration_uri and _migrate_uri                  */

typedef struct {
    const char *virt_type, *uri, *scheme, *dest, *want;
} uri_case;

Test(migration_uri, live_migration_uri_as_nova_builds_it)
{
    const uri_case cases[] = {
        { "kvm", NULL, NULL, "dest1", "qemu+tcp://dest1/system" },
        { "qemu", NULL, "ssh", "dest1", "qemu+ssh://dest1/system" },
        { "kvm", NULL, NULL, "fd00::1", "qemu+tcp://[fd00::1]/system" },
        { "kvm", "qemu+tls://%s/system", "ssh", "dest1", "qemu+tls://dest1/system" },
        { "qemu", "qemu+unix:///system?socket=/b/sock", NULL, "ignored",
          "qemu+unix:///system?socket=/b/sock" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(nv_conf) conf = nv_conf_new_default();
        g_autoptr(GError) error = NULL;
        g_autofree char *uri = NULL;

        nv_test_set_str(&conf->libvirt.virt_type, cases[i].virt_type);
        nv_test_set_str(&conf->libvirt.live_migration_uri, cases[i].uri);
        nv_test_set_str(&conf->libvirt.live_migration_scheme, cases[i].scheme);
        uri = nv_migration_live_migration_uri(conf, cases[i].dest, &error);
        cr_assert_not_null(uri, "case %u: %s", i, error ? error->message : "");
        cr_assert_str_eq(uri, cases[i].want, "case %u", i);
    }
}

Test(migration_uri, live_migration_uri_refusals)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();
    g_autoptr(GError) error = NULL;

    nv_test_set_str(&conf->libvirt.virt_type, "lxc");
    cr_assert_null(nv_migration_live_migration_uri(conf, "d", &error));
    assert_error(error, NV_ERROR_UNSUPPORTED, "no live migration URI for virt_type 'lxc'");
    g_clear_error(&error);
    nv_test_set_str(&conf->libvirt.live_migration_uri, "qemu+tcp://%s/%d");
    cr_assert_null(nv_migration_live_migration_uri(conf, "d", &error));
    assert_error(error, NV_ERROR_CONFIG,
                 "[libvirt] live_migration_uri 'qemu+tcp://%s/%d': only one '%s' is allowed");
}

Test(migration_uri, migrate_uri_is_tcp_to_the_inbound_addr)
{
    g_autofree char *v4 = nv_migration_migrate_uri("127.0.0.1");
    g_autofree char *v6 = nv_migration_migrate_uri("fd00::2");

    cr_assert_str_eq(v4, "tcp://127.0.0.1");
    cr_assert_str_eq(v6, "tcp://[fd00::2]");
}

/* ------------------------------------------------------------------------ */
/* The completion timeout: LibvirtDriver._live_migration_monitor            */

/* Expected values printed by Nova 26's own code (python3-nova):
 * int(per_gib * LibvirtDriver._live_migration_data_gb(instance, [])) with
 * flavor.memory_mb = the guest's RAM. */
Test(migration_timeout, completion_timeout_as_nova_computes_it)
{
    const struct {
        guint per_gib;
        guint64 memory_mib;
        guint64 want;
    } cases[] = {
        { 1, 64, 2 },        { 800, 64, 1600 }, { 800, 2048, 1600 }, { 800, 2560, 2000 },
        { 800, 4096, 3200 }, { 7, 3000, 20 },   { 0, 1, 0 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
        cr_assert_eq(nv_migration_completion_timeout(cases[i].per_gib, cases[i].memory_mib * 1024),
                     cases[i].want, "case %u", i);
    /* No overflow at the extremes. */
    cr_assert_gt(nv_migration_completion_timeout(G_MAXINT, G_MAXUINT64), 0);
}

Test(migration_timeout, options_have_novas_defaults)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();

    cr_assert_eq(conf->libvirt.live_migration_completion_timeout, 800);
    cr_assert_str_eq(conf->libvirt.live_migration_timeout_action, "abort");
    cr_assert_eq(conf->libvirt.live_migration_bandwidth, 0);
}

/* ------------------------------------------------------------------------ */
/* Which secrets a domain references                                         */

Test(secret_refs, disk_and_source_encryption_uuids)
{
    const char *xml =
        "<domain><devices>"
        "<disk><encryption format='luks'><secret type='passphrase' "
        "uuid='AAAAAAAA-0000-4000-8000-000000000001'/></encryption></disk>"
        "<disk><source file='/x'><encryption format='luks'><secret type='passphrase' "
        "uuid='bbbbbbbb-0000-4000-8000-000000000002'/></encryption></source></disk>"
        "<disk><source protocol='rbd' name='p/v'><auth username='u'><secret type='ceph' "
        "uuid='cccccccc-0000-4000-8000-000000000003'/></auth></source></disk>"
        "</devices></domain>";
    g_autoptr(GHashTable) refs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    cr_assert(nv_secret_refs_add_from_xml(refs, xml, NULL));
    /* Only encryption secrets: a ceph auth secret is not a volume secret
     * and reconcile never touches those anyway. */
    cr_assert_eq(g_hash_table_size(refs), 2);
    cr_assert(g_hash_table_contains(refs, "aaaaaaaa-0000-4000-8000-000000000001"));
    cr_assert(g_hash_table_contains(refs, "bbbbbbbb-0000-4000-8000-000000000002"));
}

/* ------------------------------------------------------------------------ */
/* The crypt mappings reconcile looks at (encryptors/mappings.c)             */

static void
fake_dm(const char *root, const char *dev, const char *name, const char *uuid, const char *devno)
{
    g_autofree char *dm = g_build_filename(root, "block", dev, "dm", NULL);
    g_autofree char *name_path = g_build_filename(dm, "name", NULL);
    g_autofree char *uuid_path = g_build_filename(dm, "uuid", NULL);
    g_autofree char *dev_path = g_build_filename(root, "block", dev, "dev", NULL);
    g_autofree char *name_line = g_strdup_printf("%s\n", name);
    g_autofree char *uuid_line = g_strdup_printf("%s\n", uuid);
    g_autofree char *dev_line = g_strdup_printf("%s\n", devno);

    cr_assert(g_mkdir_with_parents(dm, 0700) == 0);
    cr_assert(g_file_set_contents(name_path, name_line, -1, NULL));
    cr_assert(g_file_set_contents(uuid_path, uuid_line, -1, NULL));
    cr_assert(g_file_set_contents(dev_path, dev_line, -1, NULL));
}

Test(crypt_mappings, only_libcryptsetup_crypt_mappings_named_crypt)
{
    g_autofree char *root = nv_test_mkdtemp();
    g_autofree char *vda = g_build_filename(root, "block", "vda", NULL);
    g_autoptr(GPtrArray) mappings = NULL;
    g_autoptr(GError) error = NULL;
    const nv_crypt_mapping *mapping;

    fake_dm(root, "dm-0", "crypt-volume-a1", "CRYPT-LUKS1-00112233-crypt-volume-a1", "253:0");
    fake_dm(root, "dm-1", "vg0-root", "LVM-abcdef", "253:1");
    fake_dm(root, "dm-2", "crypt-verity", "CRYPT-VERITY-0011-crypt-verity", "253:2");
    fake_dm(root, "dm-3", "tenant-luks", "CRYPT-LUKS2-0011-tenant-luks", "253:3");
    fake_dm(root, "dm-4", "crypt-plain-b2", "CRYPT-PLAIN-crypt-plain-b2", "253:4");
    cr_assert(g_mkdir_with_parents(vda, 0700) == 0);

    mappings = nv_crypt_list_mappings(root, &error);
    cr_assert_not_null(mappings, "%s", error ? error->message : "");
    cr_assert_eq(mappings->len, 2);
    for (guint i = 0; i < mappings->len; i++) {
        mapping = g_ptr_array_index(mappings, i);
        if (g_str_equal(mapping->name, "crypt-volume-a1"))
            cr_assert_eq(mapping->devno, makedev(253, 0));
        else
            cr_assert_str_eq(mapping->name, "crypt-plain-b2");
    }
    nv_test_rmtree(root);
}

Test(crypt_mappings, host_without_device_mapper_has_none)
{
    g_autofree char *root = nv_test_mkdtemp();
    g_autoptr(GPtrArray) mappings = nv_crypt_list_mappings(root, NULL);

    cr_assert_not_null(mappings);
    cr_assert_eq(mappings->len, 0);
    nv_test_rmtree(root);
}

/* ------------------------------------------------------------------------ */
/* nv_migrate_data as it travels from the destination to the source          */

Test(migrate_data, json_round_trip)
{
    const char *json = "{\"target_connect_addr\": \"192.0.2.7\", \"volumes\": ["
                       "{\"volume_id\": \"" VOL_A "\", \"secret_uuid\": \"" DEST_A "\", "
                       "\"created_secret\": true},"
                       "{\"volume_id\": \"" VOL_C "\", \"secret_uuid\": null}]}";
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_migrate_data) data = nv_migrate_data_from_json(json, &error);
    g_autoptr(nv_migrate_data) again = NULL;
    g_autofree char *text = NULL;

    cr_assert_not_null(data, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_migrate_data_get_target_connect_addr(data), "192.0.2.7");
    cr_assert_eq(nv_migrate_data_get_n_volumes(data), 2);
    cr_assert_str_eq(nv_migrate_data_get_volume_id(data, 0), VOL_A);
    cr_assert_str_eq(nv_migrate_data_get_secret_uuid(data, 0), DEST_A);
    cr_assert(nv_migrate_data_get_created_secret(data, 0));
    cr_assert_str_eq(nv_migrate_data_get_volume_id(data, 1), VOL_C);
    cr_assert_null(nv_migrate_data_get_secret_uuid(data, 1));
    cr_assert_not(nv_migrate_data_get_created_secret(data, 1));

    text = nv_migrate_data_to_json(data);
    again = nv_migrate_data_from_json(text, &error);
    cr_assert_not_null(again, "%s: %s", text, error ? error->message : "");
    cr_assert_eq(nv_migrate_data_get_n_volumes(again), 2);
    cr_assert_str_eq(nv_migrate_data_get_secret_uuid(again, 0), DEST_A);
    cr_assert(nv_migrate_data_get_created_secret(again, 0));
    cr_assert_null(nv_migrate_data_get_secret_uuid(again, 1));
    cr_assert_str_eq(nv_migrate_data_get_target_connect_addr(again), "192.0.2.7");
}

Test(migrate_data, json_refusals)
{
    const char *bad[] = {
        "[]",
        "{}",
        "{\"volumes\": [{\"secret_uuid\": null}]}",
        "{\"volumes\": [{\"volume_id\": \"v\", \"secret_uuid\": \"x'/>\"}]}",
        "{\"volumes\": [], \"target_connect_addr\": 7}",
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;

        cr_assert_null(nv_migrate_data_from_json(bad[i], &error), "%s", bad[i]);
        cr_assert_eq(error->code, NV_ERROR_BAD_INPUT, "%s", bad[i]);
        cr_assert(g_str_has_prefix(error->message, "migrate data: "), "%s", error->message);
    }
}

/* The other host's JSON gets the limits of every input parser: json-glib
 * alone recursed once per level of 100 000 and leaked on a bad surrogate. */
Test(migrate_data, json_limits)
{
    g_autofree char *opening = g_strnfill(100000, '[');
    g_autofree char *deep = g_strconcat("{\"volumes\": ", opening, NULL);
    const char *bad[] = {
        deep,
        "{\"volumes\": []}{}",
        "{\"volumes\": [], \"target_connect_addr\": \"\\udddd\\u\"}",
        "{\"volumes\": [{\"volume_id\": \"v\\u0000w\"}]}",
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;

        cr_assert_null(nv_migrate_data_from_json(bad[i], &error), "%.60s", bad[i]);
        cr_assert_eq(error->code, NV_ERROR_BAD_INPUT, "%.60s", bad[i]);
        cr_expect(g_str_has_prefix(error->message, "migrate data: invalid JSON at line 1: "), "%s",
                  error->message);
    }
}
