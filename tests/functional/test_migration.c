/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live migration of a guest with a natively decrypted LUKS1 volume between
 * two real private daemons, A (the harness's) and B (its peer), on one
 * machine: the volume file lives in A's directory, which both see
 * (shared storage; libvirt cannot prove it, hence NV_MIGRATE_UNSAFE).
 *
 * Each test leaves both daemons as it found them, no domain and no volume
 * secret, also when it fails (clean_everything(), the suites' .fini).
 */
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "driver_fixtures.h"
#include "harness.h"
#include "nvirt/nvirt.h"
#include "support.h"

#define VOL_ID "7d1e0c55-6a4b-4c3e-9f2a-0b1c2d3e4f50"

/* ---- the destination ---------------------------------------------------- */

/* A driver on B with fixed_key @key (NULL: none) and @extra lines. */
static nv_driver *
open_peer_driver(const char *key, const char *extra)
{
    g_autofree char *path = nv_harness_path("peer-driver.conf");
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    nv_driver *driver;

    g_string_append_printf(text, "[DEFAULT]\nstate_path = %s\n", nv_harness_peer_dir());
    g_string_append_printf(text, "[libvirt]\nconnection_uri = %s\n", nv_harness_peer_uri());
    if (extra)
        g_string_append(text, extra);
    if (key)
        g_string_append_printf(text, "[key_manager]\nfixed_key = %s\n", key);
    cr_assert(g_file_set_contents(path, text->str, -1, NULL));
    driver = nv_driver_open(path, NULL, NULL, &error);
    cr_assert_not_null(driver, "%s", error ? error->message : "");
    return driver;
}

/* The UUID of @volume_id's volume secret on @conn, or NULL. */
static char *
secret_on(virConnectPtr conn, const char *volume_id)
{
    virSecretPtr secret = virSecretLookupByUsage(conn, VIR_SECRET_USAGE_TYPE_VOLUME, volume_id);
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (!secret)
        return NULL;
    cr_assert(virSecretGetUUIDString(secret, uuid) == 0);
    virSecretFree(secret);
    return g_strdup(uuid);
}

/* B has no domain and no secret at all. */
static void
assert_peer_clean(void)
{
    virConnectPtr conn = nv_harness_peer_connect();
    int domains = virConnectNumOfDomains(conn) + virConnectNumOfDefinedDomains(conn);
    int secrets = virConnectNumOfSecrets(conn);

    virConnectClose(conn);
    cr_assert_eq(domains, 0, "B has %d domain(s) left", domains);
    cr_assert_eq(secrets, 0, "B has %d secret(s) left", secrets);
}

/* After every test, passed or failed: no domain and no volume secret on
 * either daemon, so that one failure is reported once and not again by
 * each later test's "B has N domain(s) left". */
static void
clean_everything(void)
{
    virConnectPtr conns[2] = { connect_daemon(), nv_harness_peer_connect() };

    for (guint i = 0; i < 2; i++) {
        virDomainPtr *domains = NULL;
        virSecretPtr *secrets = NULL;
        int n = virConnectListAllDomains(conns[i], &domains, 0);

        for (int d = 0; d < n; d++) {
            virDomainDestroy(domains[d]);
            virDomainUndefine(domains[d]);
            virDomainFree(domains[d]);
        }
        free(domains);
        n = virConnectListAllSecrets(conns[i], &secrets, 0);
        for (int k = 0; k < n; k++) {
            if (virSecretGetUsageType(secrets[k]) == VIR_SECRET_USAGE_TYPE_VOLUME)
                virSecretUndefine(secrets[k]);
            virSecretFree(secrets[k]);
        }
        free(secrets);
        virConnectClose(conns[i]);
    }
}

TestSuite(migration, .fini = clean_everything);
TestSuite(migration_cli, .fini = clean_everything);

static char *
xml_on(virConnectPtr conn, const char *name, unsigned int flags)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    char *xml;

    cr_assert_not_null(dom, "no domain '%s'", name);
    xml = virDomainGetXMLDesc(dom, flags);
    virDomainFree(dom);
    cr_assert_not_null(xml);
    return xml;
}

/* Both configs of @name on @conn name secret @uuid and not @other. */
static void
assert_xml_names(virConnectPtr conn, const char *name, const char *uuid, const char *other)
{
    const unsigned int flags[] = { 0, VIR_DOMAIN_XML_INACTIVE };

    for (guint i = 0; i < G_N_ELEMENTS(flags); i++) {
        g_autofree char *xml = xml_on(conn, name, flags[i]);

        cr_assert_not_null(strstr(xml, uuid), "%s XML does not name %s", i ? "persistent" : "live",
                           uuid);
        cr_assert_null(strstr(xml, other), "%s XML still names %s", i ? "persistent" : "live",
                       other);
    }
}

/* One whole migration, as a compute service runs it: pre on the
 * destination, migrate on the source, post on the source. */
static void
migrate_ok(nv_driver *src, nv_driver *dest, const char *dest_uri, const char *name,
           const volume *vol, char **dest_secret)
{
    const nv_volume_request *requests[] = { &vol->request };
    g_autoptr(nv_migrate_data) data = NULL;
    g_autoptr(GError) error = NULL;

    data = nv_driver_pre_live_migration(dest, name, requests, 1, &error);
    cr_assert_not_null(data, "pre_live_migration: %s", error ? error->message : "");
    cr_assert_eq(nv_migrate_data_get_n_volumes(data), 1);
    cr_assert_str_eq(nv_migrate_data_get_volume_id(data, 0), VOL_ID);
    cr_assert(nv_migrate_data_get_created_secret(data, 0));
    cr_assert(nv_driver_live_migration(src, name, dest_uri, data, NV_MIGRATE_UNSAFE, &error),
              "live_migration: %s", error ? error->message : "");
    cr_assert(nv_driver_post_live_migration(src, name, requests, 1, &error),
              "post_live_migration: %s", error ? error->message : "");
    *dest_secret = g_strdup(nv_migrate_data_get_secret_uuid(data, 0));
}

Test(migration, native_volume_moves_to_b_and_back)
{
    g_autoptr(volume) vol = luks_volume(VOL_ID, "mig-there.img", "sdb");
    g_autoptr(nv_driver) a = open_driver();
    g_autoptr(nv_driver) b = open_peer_driver(FIXED_KEY, NULL);
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) read = NULL;
    g_autofree char *secret_a = NULL;
    g_autofree char *secret_b = NULL;
    g_autofree char *secret_a2 = NULL;
    g_autofree char *on_b = NULL;
    virConnectPtr conn_a = connect_daemon();
    virConnectPtr conn_b = nv_harness_peer_connect();
    virDomainPtr dom = start_domain("mig-there");
    virDomainPtr dom_b;

    virDomainFree(dom);
    attach_ok(a, "mig-there", vol);
    secret_a = secret_on(conn_a, VOL_ID);
    cr_assert_not_null(secret_a);

    migrate_ok(a, b, nv_harness_peer_uri(), "mig-there", vol, &secret_b);
    cr_assert_str_neq(secret_b, secret_a);
    on_b = secret_on(conn_b, VOL_ID);
    cr_assert_str_eq(on_b, secret_b);
    /* A: neither the domain nor its secret. */
    cr_assert_not(domain_exists("mig-there"));
    cr_assert_null(secret_on(conn_a, VOL_ID));
    assert_xml_names(conn_b, "mig-there", secret_b, secret_a);

    /* QEMU on B decrypts: it reads the plaintext, and what it writes reads
     * back through the on-disk header. */
    dom_b = virDomainLookupByName(conn_b, "mig-there");
    cr_assert_not_null(dom_b);
    read = nv_harness_read_back(dom_b, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(read, plain), "B's QEMU does not read the plaintext");
    qemu_write_pattern(dom_b, 0x5a);
    cr_assert(host_reads_pattern(vol->path, 0x5a), "data written on B does not read back");
    virDomainFree(dom_b);

    /* And back to A, which gets a secret of its own again. */
    migrate_ok(b, a, nv_harness_uri(), "mig-there", vol, &secret_a2);
    cr_assert(domain_exists("mig-there"));
    cr_assert_null(secret_on(conn_b, VOL_ID));
    assert_peer_clean();
    assert_xml_names(conn_a, "mig-there", secret_a2, secret_b);
    dom = virDomainLookupByName(conn_a, "mig-there");
    qemu_write_pattern(dom, 0xa5);
    cr_assert(host_reads_pattern(vol->path, 0xa5), "data written back on A does not read back");
    virDomainFree(dom);

    virConnectClose(conn_a);
    virConnectClose(conn_b);
}

/* A guest with its volume attached on A, and the state a refusal must
 * leave alone. */
static nv_driver *
attached_guest(const char *name, volume *vol, host_state *before)
{
    nv_driver *a = open_driver();
    virDomainPtr dom = start_domain(name);

    virDomainFree(dom);
    attach_ok(a, name, vol);
    snapshot(before, name, vol->path);
    return a;
}

/* After a refusal: A as it was (domain running, its XML, its secret, the
 * volume's bytes), B with nothing, and QEMU on A still reading. */
static void
assert_refused_cleanly(const host_state *before, const char *name, const volume *vol)
{
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = virDomainLookupByName(conn, name);
    g_autoptr(GBytes) read = NULL;

    assert_unchanged(before, name, vol->path);
    assert_peer_clean();
    cr_assert_not_null(dom);
    read = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(read, plain));
    virDomainFree(dom);
    virConnectClose(conn);
}

static void
assert_error(const GError *error, int code, const char *substring)
{
    cr_assert_not_null(error);
    cr_assert_eq(error->code, code, "code %d: %s", error->code, error->message);
    cr_assert_not_null(strstr(error->message, substring), "%s", error->message);
}

Test(migration, destination_unreachable_changes_nothing)
{
    g_autoptr(volume) vol = luks_volume(VOL_ID, "mig-unreach.img", "sdb");
    g_auto(host_state) before = { 0 };
    g_autoptr(nv_driver) a = attached_guest("mig-unreach", vol, &before);
    g_autoptr(nv_driver) b = open_peer_driver(FIXED_KEY, NULL);
    const nv_volume_request *requests[] = { &vol->request };
    g_autoptr(nv_migrate_data) data = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *nowhere = nv_harness_path("no-such-sock");
    g_autofree char *uri = g_strdup_printf("qemu+unix:///system?socket=%s", nowhere);

    data = nv_driver_pre_live_migration(b, "mig-unreach", requests, 1, &error);
    cr_assert_not_null(data, "%s", error ? error->message : "");
    cr_assert_not(nv_driver_live_migration(a, "mig-unreach", uri, data, NV_MIGRATE_UNSAFE, &error));
    assert_error(error, NV_ERROR_LIBVIRT, "domain 'mig-unreach': migration to 'qemu+unix");
    cr_assert(nv_driver_rollback_live_migration_at_destination(b, data, NULL));
    assert_refused_cleanly(&before, "mig-unreach", vol);
}

Test(migration, destination_without_the_key_changes_nothing)
{
    g_autoptr(volume) vol = luks_volume(VOL_ID, "mig-nokey.img", "sdb");
    g_auto(host_state) before = { 0 };
    g_autoptr(nv_driver) a = attached_guest("mig-nokey", vol, &before);
    g_autoptr(nv_driver) b = open_peer_driver(NULL, NULL);
    const nv_volume_request *requests[] = { &vol->request };
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_driver_pre_live_migration(b, "mig-nokey", requests, 1, &error));
    assert_error(error, NV_ERROR_CONFIG, "fixed_key is not set");
    assert_refused_cleanly(&before, "mig-nokey", vol);
}

/* B's key manager has another key: its secret does not open the volume
 * and B's QEMU refuses at prepare; rollback removes B's secret. */
Test(migration, destination_refusing_at_prepare_changes_nothing)
{
    g_autoptr(volume) vol = luks_volume(VOL_ID, "mig-wrong.img", "sdb");
    g_auto(host_state) before = { 0 };
    g_autoptr(nv_driver) a = attached_guest("mig-wrong", vol, &before);
    g_autoptr(nv_driver) b = open_peer_driver(OTHER_KEY, NULL);
    const nv_volume_request *requests[] = { &vol->request };
    g_autoptr(nv_migrate_data) data = NULL;
    g_autoptr(GError) error = NULL;

    data = nv_driver_pre_live_migration(b, "mig-wrong", requests, 1, &error);
    cr_assert_not_null(data, "%s", error ? error->message : "");
    cr_assert_not(nv_driver_live_migration(a, "mig-wrong", nv_harness_peer_uri(), data,
                                           NV_MIGRATE_UNSAFE, &error));
    assert_error(error, NV_ERROR_WRONG_PASSPHRASE, "Invalid password, cannot unlock any keyslot");
    cr_assert(nv_driver_rollback_live_migration_at_destination(b, data, &error), "%s",
              error ? error->message : "");
    assert_refused_cleanly(&before, "mig-wrong", vol);
}

/* Local files: libvirt cannot prove the storage is shared, and the refusal
 * names the flag that overrides it. */
Test(migration, unsafe_storage_refused_naming_the_flag)
{
    g_autoptr(volume) vol = luks_volume(VOL_ID, "mig-unsafe.img", "sdb");
    g_auto(host_state) before = { 0 };
    g_autoptr(nv_driver) a = attached_guest("mig-unsafe", vol, &before);
    g_autoptr(nv_driver) b = open_peer_driver(FIXED_KEY, NULL);
    const nv_volume_request *requests[] = { &vol->request };
    g_autoptr(nv_migrate_data) data = NULL;
    g_autoptr(GError) error = NULL;

    data = nv_driver_pre_live_migration(b, "mig-unsafe", requests, 1, &error);
    cr_assert_not_null(data, "%s", error ? error->message : "");
    cr_assert_not(
        nv_driver_live_migration(a, "mig-unsafe", nv_harness_peer_uri(), data, 0, &error));
    assert_error(error, NV_ERROR_UNSUPPORTED, "--unsafe");
    cr_assert(nv_driver_rollback_live_migration_at_destination(b, data, NULL));
    assert_refused_cleanly(&before, "mig-unsafe", vol);
}

/* ---- the completion timeout (issue 12) ------------------------------------ */

/* A guest that never lets a migration converge: it boots from a disk whose
 * boot sector (real mode, interrupts off) rewrites 512 KiB of its RAM
 * (0x10000-0x8ffff) with a new non-zero pattern on every pass, forever:
 *
 *   0  fa                       ; cli
 *      fc                       ; cld
 *      31 db                    ; xor  bx, bx
 *   4  0f 20 c0                 ; pass: mov eax, cr0
 *      66 35 00 00 01 00        ;       xor eax, 0x10000  (CR0.WP)
 *      0f 22 c0                 ;       mov cr0, eax
 *      43                       ;       inc bx
 *      ba 00 10                 ;       mov dx, 0x1000
 *  20  8e c2                    ; seg:  mov es, dx
 *      31 ff                    ;       xor di, di
 *      89 d8                    ;       mov ax, bx
 *      0c 01                    ;       or  al, 1
 *      b9 00 80                 ;       mov cx, 0x8000
 *      f3 ab                    ;       rep stosw      (64 KiB)
 *      81 c2 00 10              ;       add dx, 0x1000
 *      81 fa 00 90              ;       cmp dx, 0x9000
 *      72 e9                    ;       jb  seg
 *      eb d7                    ; jmp  pass
 *
 * Toggling CR0.WP makes TCG flush its TLB on every pass.  QEMU 7.2 under
 * TCG clears a page's migration dirty bit without resetting the TLB entry
 * that lets the vCPU write it unseen (fixed in QEMU 8.2, "physmem: Fix
 * migration dirty bitmap coherency with TCG memory access"), so without
 * the flush the pages were sent once and the copy converged in 2 s.
 *
 * With the link held to 1 MiB/s (live_migration_bandwidth) and the guest's
 * allowed downtime set to 1 ms, QEMU can only finish with nothing left to
 * send, which a guest that runs at all never allows, however slowly TCG
 * runs it on a loaded host; paused, the guest is copied in about a
 * second.  An IDE disk: SeaBIOS here does not boot the virtio one. */
static const guint8 dirtying_boot_sector[] = {
    0xfa, 0xfc, 0x31, 0xdb, 0x0f, 0x20, 0xc0, 0x66, 0x35, 0x00, 0x00, 0x01, 0x00, 0x0f, 0x22,
    0xc0, 0x43, 0xba, 0x00, 0x10, 0x8e, 0xc2, 0x31, 0xff, 0x89, 0xd8, 0x0c, 0x01, 0xb9, 0x00,
    0x80, 0xf3, 0xab, 0x81, 0xc2, 0x00, 0x10, 0x81, 0xfa, 0x00, 0x90, 0x72, 0xe9, 0xeb, 0xd7,
};

static xmlNodePtr
child_named(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr node = parent->children; node; node = node->next)
        if (node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, BAD_CAST name))
            return node;
    cr_assert_fail("no <%s> in <%s>", name, (const char *)parent->name);
    return NULL;
}

/* The harness's domain @name, booting from the dirtying boot sector,
 * started and running its loop. */
static void
start_dirtying_domain(const char *name)
{
    g_autofree char *image = nv_harness_path("dirtying-boot.img");
    g_autofree guint8 *sectors = g_malloc0(1024 * 1024);
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = nv_harness_define_domain(conn, name);
    g_autofree char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    xmlNodePtr disk, node;
    xmlChar *text = NULL;
    int len = 0;

    memcpy(sectors, dirtying_boot_sector, sizeof(dirtying_boot_sector));
    sectors[510] = 0x55;
    sectors[511] = 0xaa;
    cr_assert(g_file_set_contents(image, (const char *)sectors, 1024 * 1024, NULL));

    cr_assert_not_null(doc);
    node = xmlNewChild(child_named(xmlDocGetRootElement(doc), "os"), NULL, BAD_CAST "boot", NULL);
    xmlNewProp(node, BAD_CAST "dev", BAD_CAST "hd");
    disk =
        xmlNewChild(child_named(xmlDocGetRootElement(doc), "devices"), NULL, BAD_CAST "disk", NULL);
    xmlNewProp(disk, BAD_CAST "type", BAD_CAST "file");
    xmlNewProp(disk, BAD_CAST "device", BAD_CAST "disk");
    node = xmlNewChild(disk, NULL, BAD_CAST "driver", NULL);
    xmlNewProp(node, BAD_CAST "name", BAD_CAST "qemu");
    xmlNewProp(node, BAD_CAST "type", BAD_CAST "raw");
    node = xmlNewChild(disk, NULL, BAD_CAST "source", NULL);
    xmlNewProp(node, BAD_CAST "file", BAD_CAST image);
    node = xmlNewChild(disk, NULL, BAD_CAST "target", NULL);
    xmlNewProp(node, BAD_CAST "dev", BAD_CAST "hda");
    xmlNewProp(node, BAD_CAST "bus", BAD_CAST "ide");
    xmlDocDumpMemory(doc, &text, &len);
    xmlFreeDoc(doc);
    virDomainFree(dom);

    dom = virDomainDefineXML(conn, (const char *)text);
    xmlFree(text);
    cr_assert_not_null(dom, "cannot define '%s': %s", name, virGetLastErrorMessage());
    cr_assert(virDomainCreate(dom) == 0, "cannot start '%s': %s", name, virGetLastErrorMessage());
    /* Ready once the loop runs: its first pass is non-zero at 0x10000.
     * Generous: TCG on a loaded host is slow. */
    for (guint i = 0; i < 600; i++) {
        guint8 word[4] = { 0 };

        cr_assert(virDomainMemoryPeek(dom, 0x10000, sizeof(word), word, VIR_MEMORY_PHYSICAL) == 0,
                  "%s", virGetLastErrorMessage());
        if (word[0] || word[1] || word[2] || word[3])
            break;
        cr_assert(i < 599, "the dirtying guest '%s' did not start its loop within 60 s", name);
        g_usleep(G_USEC_PER_SEC / 10);
    }
    cr_assert(virDomainMigrateSetMaxDowntime(dom, 1, 0) == 0, "%s", virGetLastErrorMessage());
    virDomainFree(dom);
    virConnectClose(conn);
}

/* attached_guest(), with the dirtying guest. */
static nv_driver *
attached_dirtying_guest(const char *name, volume *vol, host_state *before)
{
    nv_driver *a = open_driver();

    start_dirtying_domain(name);
    attach_ok(a, name, vol);
    snapshot(before, name, vol->path);
    return a;
}

/* A's driver with the migration link held to 1 MiB/s and the bound at its
 * lowest: 1 s per GiB of the guest's 64 MiB, counted as 2 GiB, is 2 s. */
static nv_driver *
open_slow_driver(const char *action)
{
    g_autofree char *extra = g_strdup_printf("[libvirt]\nlive_migration_bandwidth = 1\n"
                                             "live_migration_completion_timeout = 1\n"
                                             "live_migration_timeout_action = %s\n",
                                             action);

    return open_driver_with(FIXED_KEY, extra);
}

static int
domain_state(virConnectPtr conn, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    int state = -1;

    cr_assert_not_null(dom, "no domain '%s'", name);
    cr_assert(virDomainGetState(dom, &state, NULL, 0) == 0);
    virDomainFree(dom);
    return state;
}

/* The default action: the job is aborted, the call says so, and A is as it
 * was with the guest running; rollback leaves B clean. */
Test(migration, completion_timeout_aborts_and_changes_nothing)
{
    g_autoptr(volume) vol = luks_volume(VOL_ID, "mig-slow.img", "sdb");
    g_auto(host_state) before = { 0 };
    g_autoptr(nv_driver) a = attached_dirtying_guest("mig-slow", vol, &before);
    g_autoptr(nv_driver) slow = open_slow_driver("abort");
    g_autoptr(nv_driver) b = open_peer_driver(FIXED_KEY, NULL);
    const nv_volume_request *requests[] = { &vol->request };
    g_autoptr(nv_migrate_data) data = NULL;
    g_autoptr(GError) error = NULL;
    virConnectPtr conn = connect_daemon();

    data = nv_driver_pre_live_migration(b, "mig-slow", requests, 1, &error);
    cr_assert_not_null(data, "%s", error ? error->message : "");
    cr_assert_not(nv_driver_live_migration(slow, "mig-slow", nv_harness_peer_uri(), data,
                                           NV_MIGRATE_UNSAFE, &error),
                  "the migration finished within its 2 s bound: the test needs a slower link");
    assert_error(error, NV_ERROR_TIMEOUT,
                 "not completed after 2 s ([libvirt] live_migration_completion_timeout): "
                 "aborted, the guest keeps running here");
    cr_assert_null(strchr(error->message, '\n'), "%s", error->message);
    cr_assert(nv_driver_rollback_live_migration_at_destination(b, data, NULL));
    cr_assert_eq(domain_state(conn, "mig-slow"), VIR_DOMAIN_RUNNING);
    assert_refused_cleanly(&before, "mig-slow", vol);
    virConnectClose(conn);
}

/* force_complete: the guest is paused so the copy converges (the test above
 * shows it never does otherwise), the migration succeeds, and libvirt runs
 * the guest again on B, reading its volume. */
Test(migration, completion_timeout_force_complete_pauses_and_moves)
{
    g_autoptr(volume) vol = luks_volume(VOL_ID, "mig-force.img", "sdb");
    g_auto(host_state) before = { 0 };
    g_autoptr(nv_driver) a = attached_dirtying_guest("mig-force", vol, &before);
    g_autoptr(nv_driver) slow = open_slow_driver("force_complete");
    g_autoptr(nv_driver) b = open_peer_driver(FIXED_KEY, NULL);
    const nv_volume_request *requests[] = { &vol->request };
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) read = NULL;
    g_autoptr(nv_migrate_data) data = NULL;
    g_autoptr(GError) error = NULL;
    virConnectPtr conn_b = nv_harness_peer_connect();
    virDomainPtr dom_b;

    data = nv_driver_pre_live_migration(b, "mig-force", requests, 1, &error);
    cr_assert_not_null(data, "%s", error ? error->message : "");
    cr_assert(nv_driver_live_migration(slow, "mig-force", nv_harness_peer_uri(), data,
                                       NV_MIGRATE_UNSAFE, &error),
              "%s", error ? error->message : "");
    cr_assert(nv_driver_post_live_migration(slow, "mig-force", requests, 1, &error), "%s",
              error ? error->message : "");
    cr_assert_not(domain_exists("mig-force"));
    cr_assert_eq(domain_state(conn_b, "mig-force"), VIR_DOMAIN_RUNNING);
    dom_b = virDomainLookupByName(conn_b, "mig-force");
    read = nv_harness_read_back(dom_b, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(read, plain), "B's QEMU does not read the plaintext");
    virDomainFree(dom_b);
    virConnectClose(conn_b);
}

/* ---- nvirt migrate ------------------------------------------------------- */

/* block_device_info for @vol, in a file under the daemon directory. */
static char *
write_block_device_info(const volume *vol)
{
    g_autofree char *path = nv_harness_path("bdi.json");
    g_autofree char *text =
        g_strdup_printf("{\"block_device_mapping\": [{\"connection_info\": %s, \"encryption\": %s, "
                        "\"mount_device\": \"/dev/sdb\"}]}",
                        vol->connection_info, vol->request.encryption);

    cr_assert(g_file_set_contents(path, text, -1, NULL));
    return g_steal_pointer(&path);
}

/* The peer's configuration file as open_peer_driver() writes it. */
static char *
peer_conf(const char *key)
{
    nv_driver *driver = open_peer_driver(key, NULL);

    nv_driver_free(driver);
    return nv_harness_path("peer-driver.conf");
}

Test(migration_cli, refusals_name_the_step_and_change_nothing)
{
    g_autoptr(volume) vol = luks_volume(VOL_ID, "mig-cli-no.img", "sdb");
    g_auto(host_state) before = { 0 };
    g_autoptr(nv_driver) a = attached_guest("mig-cli-no", vol, &before);
    g_autofree char *src_conf = write_conf("driver.conf", FIXED_KEY, NULL);
    g_autofree char *dest_conf = peer_conf(FIXED_KEY);
    g_autofree char *bdi = write_block_device_info(vol);
    g_autofree char *nowhere = nv_harness_path("no-such-sock");
    g_autofree char *bad_uri = g_strdup_printf("qemu+unix:///system?socket=%s", nowhere);
    g_autofree char *err = NULL;
    g_autofree char *err2 = NULL;
    const char *unreachable[] = { "migrate",  "mig-cli-no", "--live",
                                  "--unsafe", "--dest-uri", bad_uri,
                                  "-c",       src_conf,     "--block-device-info",
                                  bdi,        NULL };
    const char *no_unsafe[] = {
        "migrate", "mig-cli-no", "--live",        "--dest-uri", nv_harness_peer_uri(),
        "-c",      src_conf,     "--dest-config", dest_conf,    "--block-device-info",
        bdi,       NULL
    };

    cr_assert_eq(nv_test_run_nvirt(unreachable, NULL, NULL, &err), 1, "%s", err);
    cr_assert(g_str_has_prefix(err, "nvirt migrate: connect to the destination failed: "), "%s",
              err);
    cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
    assert_refused_cleanly(&before, "mig-cli-no", vol);

    cr_assert_eq(nv_test_run_nvirt(no_unsafe, NULL, NULL, &err2), 1, "%s", err2);
    cr_assert(g_str_has_prefix(err2, "nvirt migrate: live migration failed: "), "%s", err2);
    cr_assert_not_null(strstr(err2, "--unsafe"), "%s", err2);
    assert_refused_cleanly(&before, "mig-cli-no", vol);
}

Test(migration_cli, migrates_with_its_volume)
{
    g_autoptr(volume) vol = luks_volume(VOL_ID, "mig-cli.img", "sdb");
    g_auto(host_state) before = { 0 };
    g_autoptr(nv_driver) a = attached_guest("mig-cli", vol, &before);
    g_autofree char *src_conf = write_conf("driver.conf", FIXED_KEY, NULL);
    g_autofree char *dest_conf = peer_conf(FIXED_KEY);
    g_autofree char *bdi = write_block_device_info(vol);
    g_autofree char *err = NULL;
    g_autofree char *secret_a = volume_secret(VOL_ID);
    g_autofree char *secret_b = NULL;
    virConnectPtr conn_b = NULL;
    const char *args[] = { "migrate",
                           "mig-cli",
                           "--live",
                           "--unsafe",
                           "--dest-uri",
                           nv_harness_peer_uri(),
                           "-c",
                           src_conf,
                           "--dest-config",
                           dest_conf,
                           "--block-device-info",
                           bdi,
                           NULL };

    cr_assert_eq(nv_test_run_nvirt(args, NULL, NULL, &err), 0, "%s", err);
    conn_b = nv_harness_peer_connect();
    secret_b = secret_on(conn_b, VOL_ID);
    cr_assert_not_null(secret_b);
    cr_assert_not(domain_exists("mig-cli"));
    cr_assert_not(has_volume_secret(VOL_ID));
    assert_xml_names(conn_b, "mig-cli", secret_b, secret_a);
    virConnectClose(conn_b);
}
