/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rbd volumes on a real Ceph cluster (ceph_fixture.h) attached by the
 * driver to TCG domains of the private libvirtd: QEMU's librbd opens the
 * image with the operator's cephx secret, QEMU's luks driver decrypts it
 * (LUKS1, native), and every bad input or fault is one line that leaves the
 * secrets, the domain and the image as they were.
 *
 * Volumes are made as Cinder's rbd driver makes an encrypted volume: a LUKS1
 * file holding the plaintext, imported with `rbd import`.  connection_info
 * is what Cinder's RBDDriver.initialize_connection returns.
 */
#include "ceph_fixture.h"
#include "driver_fixtures.h"
#include "harness.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "nvirt/error.h"
#include "nvirt/nvirt.h"

/* ---- fixtures ---------------------------------------------------------- */

/* The operator's libvirt secret for client.@user, as Nova's and Cinder's
 * deployment guides define it (`virsh secret-define` with usage type ceph,
 * `virsh secret-set-value` with the key): looked up by its usage, defined
 * if missing.  nvirt never creates or deletes it.  Caller frees the UUID. */
static char *
ceph_secret(const char *user)
{
    virConnectPtr conn = connect_daemon();
    g_autofree char *usage = g_strdup_printf("client.%s secret", user);
    virSecretPtr secret = virSecretLookupByUsage(conn, VIR_SECRET_USAGE_TYPE_CEPH, usage);
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (!secret) {
        g_autofree char *xml =
            g_strdup_printf("<secret ephemeral='no' private='yes'><usage type='ceph'>"
                            "<name>%s</name></usage></secret>",
                            usage);
        g_autofree char *key = nv_ceph_user_key(user);
        gsize len = 0;
        g_autofree guchar *value = g_base64_decode(key, &len);

        secret = virSecretDefineXML(conn, xml, 0);
        cr_assert_not_null(secret, "%s", virGetLastErrorMessage());
        cr_assert(virSecretSetValue(secret, value, len, 0) == 0, "%s", virGetLastErrorMessage());
    }
    cr_assert(virSecretGetUUIDString(secret, uuid) == 0);
    virSecretFree(secret);
    virConnectClose(conn);
    return g_strdup(uuid);
}

/* TRUE when the operator's secret for client.@user still has its value. */
static gboolean
ceph_secret_intact(const char *user)
{
    virConnectPtr conn = connect_daemon();
    g_autofree char *usage = g_strdup_printf("client.%s secret", user);
    virSecretPtr secret = virSecretLookupByUsage(conn, VIR_SECRET_USAGE_TYPE_CEPH, usage);
    g_autofree char *key = nv_ceph_user_key(user);
    gboolean intact = FALSE;

    if (secret) {
        /* Private: libvirt will not give the value back; a secret whose
         * value went would fail the same way, so ask libvirtd's view of
         * the secret's XML as well. */
        g_autofree char *xml = virSecretGetXMLDesc(secret, 0);

        intact = xml && strstr(xml, usage) != NULL;
        virSecretFree(secret);
    }
    virConnectClose(conn);
    return intact;
}

/* Cinder's connection_info for rbd volume @volume_id at image @name
 * ("pool/image"): @hosts and @ports are JSON arrays, the ports as strings
 * (Cinder's RBDDriver._get_mon_addrs), cephx user @user with the operator's
 * secret @secret_uuid.  Caller frees. */
static char *
rbd_connection_info(const char *volume_id, const char *name, const char *hosts, const char *ports,
                    const char *user, const char *secret_uuid)
{
    return g_strdup_printf(
        "{\"driver_volume_type\": \"rbd\", \"serial\": \"%s\", \"data\": {"
        "\"name\": \"%s\", \"hosts\": %s, \"ports\": %s, \"cluster_name\": \"ceph\", "
        "\"auth_enabled\": true, \"auth_username\": \"%s\", \"secret_type\": \"ceph\", "
        "\"secret_uuid\": \"%s\", \"volume_id\": \"%s\", \"discard\": true, "
        "\"qos_specs\": null, \"access_mode\": \"rw\", \"encrypted\": true}}",
        volume_id, name, hosts, ports, user, secret_uuid, volume_id);
}

static char *
mon_ports(void)
{
    return g_strdup_printf("[\"%u\"]", nv_ceph_mon_port());
}

/* A request for rbd volume @volume_id (image volume-ID in pool 'volumes')
 * at @dev, LUKS1 metadata, as client.cinder.  No image is made here. */
static volume *
rbd_volume(const char *volume_id, const char *dev)
{
    volume *vol = g_new0(volume, 1);
    g_autofree char *uuid = ceph_secret("cinder");
    g_autofree char *name = g_strdup_printf(NV_CEPH_POOL "/volume-%s", volume_id);
    g_autofree char *ports = mon_ports();

    vol->connection_info =
        rbd_connection_info(volume_id, name, "[\"127.0.0.1\"]", ports, "cinder", uuid);
    vol->request.version = NV_VOLUME_REQUEST_VERSION;
    vol->request.connection_info = vol->connection_info;
    vol->request.encryption = LUKS_ENCRYPTION;
    vol->request.mountpoint = dev;
    return vol;
}

/* Cinder's encrypted rbd volume: a LUKS1 file holding
 * nv_harness_plaintext(VOLUME_SIZE) under @passphrase, imported as
 * volumes/volume-@volume_id. */
static void
make_luks_image(const char *volume_id, const char *passphrase)
{
    g_autofree char *file = g_strdup_printf("volume-%s.luks", volume_id);
    g_autofree char *path = nv_harness_path(file);
    g_autofree char *image = g_strdup_printf("volume-%s", volume_id);

    nv_harness_create_luks_volume(path, passphrase, VOLUME_SIZE);
    nv_ceph_import(path, image);
    g_unlink(path);
}

/* One running domain for the refusal tests (each test runs in its own
 * process; the domain outlives it). */
static const char *
faults_domain(void)
{
    if (!domain_exists("rbd-faults")) {
        virDomainPtr dom = start_domain("rbd-faults");

        virDomainFree(dom);
    }
    return "rbd-faults";
}

/* Attach @vol to the faults domain expecting @code and @message: one line,
 * no key material (the passphrase, the cephx key), nothing changed on the
 * host, and the operator's secret kept. */
static void
rbd_attach_fails(const volume *vol, int code, const char *message)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_auto(host_state) before = { 0 };
    g_autoptr(GError) error = NULL;
    g_autofree char *key = nv_ceph_user_key("cinder");
    const char *domain = faults_domain();

    snapshot(&before, domain, NULL);
    cr_assert_not(nv_driver_attach_volume(driver, domain, &vol->request, &error));
    cr_assert_not_null(error);
    cr_log_info("%s", error->message);
    cr_assert_eq(error->code, code, "code %d: %s", error->code, error->message);
    cr_assert_not_null(strstr(error->message, message), "message '%s' lacks '%s'", error->message,
                       message);
    cr_assert_null(strchr(error->message, '\n'), "one line: %s", error->message);
    cr_assert_null(strstr(error->message, PASSPHRASE), "key material in: %s", error->message);
    cr_assert_null(strstr(error->message, key), "cephx key in: %s", error->message);
    assert_unchanged(&before, domain, NULL);
    cr_assert(ceph_secret_intact("cinder"), "the operator's ceph secret changed");
}

/* ---- LUKS1, decrypted by QEMU ------------------------------------------ */

Test(rbd, luks1_live_attach_is_decrypted_by_qemu_and_detach_keeps_the_ceph_secret)
{
    const char *id = "22222222-0000-0000-0000-000000000001";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = rbd_volume(id, "sdb");
    virDomainPtr dom = start_domain("rbd-luks1");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autofree char *ceph_uuid = ceph_secret("cinder");
    g_autofree char *live = NULL;
    g_autofree char *auth = NULL;
    g_autofree char *host = NULL;
    g_autofree char *before_sha = NULL;
    g_autofree char *after_sha = NULL;
    g_autofree char *uuid = NULL;

    make_luks_image(id, PASSPHRASE);
    before_sha = nv_ceph_image_sha256("volume-22222222-0000-0000-0000-000000000001");
    attach_ok(driver, "rbd-luks1", vol);

    live = domain_xml("rbd-luks1", 0);
    uuid = volume_secret(id);
    cr_assert_not_null(uuid, "no volume secret after a native attach");
    auth = g_strdup_printf("<secret type='ceph' uuid='%s'/>", ceph_uuid);
    host = g_strdup_printf("<host name='127.0.0.1' port='%u'/>", nv_ceph_mon_port());
    cr_assert_not_null(strstr(live, "<source protocol='rbd' name='volumes/volume-" /**/
                                    "22222222-0000-0000-0000-000000000001'"),
                       "%s", live);
    cr_assert_not_null(strstr(live, host), "%s", live);
    cr_assert_not_null(strstr(live, "<auth username='cinder'>"), "%s", live);
    cr_assert_not_null(strstr(live, auth), "%s", live);
    cr_assert_not_null(strstr(live, "<encryption format='luks'"), "%s", live);

    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "QEMU did not read the plaintext from rbd");

    detach_ok(driver, "rbd-luks1", vol);
    cr_assert_not(has_disk("rbd-luks1", 0, "sdb"), "disk still live");
    cr_assert_not(has_disk("rbd-luks1", VIR_DOMAIN_XML_INACTIVE, "sdb"), "disk still persistent");
    cr_assert_not(has_volume_secret(id), "volume secret left behind");
    cr_assert(ceph_secret_intact("cinder"), "detach touched the operator's ceph secret");
    {
        g_autofree char *again = ceph_secret("cinder");

        cr_assert_str_eq(again, ceph_uuid, "the ceph secret was replaced");
    }
    after_sha = nv_ceph_image_sha256("volume-22222222-0000-0000-0000-000000000001");
    cr_assert_str_eq(after_sha, before_sha, "reading changed the image");
    virDomainFree(dom);
}

/* Nova's LibvirtConfigGuestDisk zips hosts with ports: the extra host has no
 * port and is dropped, so the disk names the one mon that answers. */
Test(rbd, unequal_hosts_and_ports_are_paired_as_nova_pairs_them)
{
    const char *id = "22222222-0000-0000-0000-000000000002";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = g_new0(volume, 1);
    g_autofree char *uuid = ceph_secret("cinder");
    g_autofree char *ports = mon_ports();
    g_autofree char *live = NULL;
    g_autofree char *host = NULL;
    virDomainPtr dom = start_domain("rbd-pairs");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;

    make_luks_image(id, PASSPHRASE);
    vol->connection_info =
        rbd_connection_info(id, "volumes/volume-22222222-0000-0000-0000-000000000002",
                            "[\"127.0.0.1\", \"192.0.2.1\"]", ports, "cinder", uuid);
    vol->request.version = NV_VOLUME_REQUEST_VERSION;
    vol->request.connection_info = vol->connection_info;
    vol->request.encryption = LUKS_ENCRYPTION;
    vol->request.mountpoint = "sdb";

    attach_ok(driver, "rbd-pairs", vol);
    live = domain_xml("rbd-pairs", 0);
    host = g_strdup_printf("<host name='127.0.0.1' port='%u'/>", nv_ceph_mon_port());
    cr_assert_not_null(strstr(live, host), "%s", live);
    cr_assert_null(strstr(live, "192.0.2.1"), "the unpaired host is in the disk: %s", live);
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "QEMU did not read the plaintext");
    detach_ok(driver, "rbd-pairs", vol);
    virDomainFree(dom);
}

/* ---- refusals: one line, nothing changed -------------------------------- */

Test(rbd, wrong_passphrase_is_refused)
{
    const char *id = "22222222-0000-0000-0000-000000000003";
    g_autoptr(volume) vol = rbd_volume(id, "sdb");
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    make_luks_image(id, OTHER_KEY);
    before = nv_ceph_image_sha256("volume-22222222-0000-0000-0000-000000000003");
    rbd_attach_fails(vol, NV_ERROR_WRONG_PASSPHRASE,
                     "volume 22222222-0000-0000-0000-000000000003: its key does not open it: "
                     "domain 'rbd-faults': attach device: internal error: unable to execute QEMU "
                     "command 'blockdev-add': Invalid password, cannot unlock any keyslot");
    after = nv_ceph_image_sha256("volume-22222222-0000-0000-0000-000000000003");
    cr_assert_str_eq(after, before, "the image changed");
}

/* Nova never formats an rbd volume (it has no host device; Cinder formats
 * encrypted rbd volumes when it creates them): a blank one is refused. */
Test(rbd, blank_volume_is_refused_not_formatted)
{
    const char *id = "22222222-0000-0000-0000-000000000004";
    g_autoptr(volume) vol = rbd_volume(id, "sdb");
    const char *create[] = { "create", "--size", "16M",
                             NV_CEPH_POOL "/volume-22222222-0000-0000-0000-000000000004", NULL };
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    nv_ceph_rbd(create);
    before = nv_ceph_image_sha256("volume-22222222-0000-0000-0000-000000000004");
    rbd_attach_fails(vol, NV_ERROR_BAD_INPUT,
                     "volume 22222222-0000-0000-0000-000000000004: rbd image "
                     "volumes/volume-22222222-0000-0000-0000-000000000004 is not LUKS");
    after = nv_ceph_image_sha256("volume-22222222-0000-0000-0000-000000000004");
    cr_assert_str_eq(after, before, "the blank image changed");
}

Test(rbd, unknown_image_is_refused)
{
    g_autoptr(volume) vol = rbd_volume("22222222-0000-0000-0000-000000000005", "sdb");

    rbd_attach_fails(vol, NV_ERROR_NOT_FOUND,
                     "volume 22222222-0000-0000-0000-000000000005: rbd image "
                     "volumes/volume-22222222-0000-0000-0000-000000000005 not found");
}

Test(rbd, unknown_pool_is_refused)
{
    const char *id = "22222222-0000-0000-0000-000000000006";
    g_autoptr(volume) vol = g_new0(volume, 1);
    g_autofree char *uuid = ceph_secret("cinder");
    g_autofree char *ports = mon_ports();

    vol->connection_info =
        rbd_connection_info(id, "nopool/volume-22222222-0000-0000-0000-000000000006",
                            "[\"127.0.0.1\"]", ports, "cinder", uuid);
    vol->request.version = NV_VOLUME_REQUEST_VERSION;
    vol->request.connection_info = vol->connection_info;
    vol->request.encryption = LUKS_ENCRYPTION;
    vol->request.mountpoint = "sdb";
    rbd_attach_fails(vol, NV_ERROR_NOT_FOUND,
                     "volume 22222222-0000-0000-0000-000000000006: rbd image "
                     "nopool/volume-22222222-0000-0000-0000-000000000006 not found");
}

Test(rbd, cephx_user_without_access_is_refused)
{
    const char *id = "22222222-0000-0000-0000-000000000007";
    g_autoptr(volume) vol = g_new0(volume, 1);
    g_autofree char *uuid = ceph_secret("noaccess");
    g_autofree char *ports = mon_ports();

    make_luks_image(id, PASSPHRASE);
    vol->connection_info =
        rbd_connection_info(id, "volumes/volume-22222222-0000-0000-0000-000000000007",
                            "[\"127.0.0.1\"]", ports, "noaccess", uuid);
    vol->request.version = NV_VOLUME_REQUEST_VERSION;
    vol->request.connection_info = vol->connection_info;
    vol->request.encryption = LUKS_ENCRYPTION;
    vol->request.mountpoint = "sdb";
    rbd_attach_fails(vol, NV_ERROR_FAILED,
                     "volume 22222222-0000-0000-0000-000000000007: cephx user 'noaccess' may "
                     "not open rbd image volumes/volume-22222222-0000-0000-0000-000000000007");
}

/* librbd would wait client_mount_timeout (300 s) inside QEMU's blockdev-add,
 * with the domain's monitor held; nvirt asks the mons first. */
Test(rbd, unreachable_mon_is_refused_before_qemu_waits_for_it)
{
    const char *id = "22222222-0000-0000-0000-000000000008";
    g_autoptr(volume) vol = g_new0(volume, 1);
    g_autofree char *uuid = ceph_secret("cinder");
    /* The OSD's range ends at mon + 40, and nothing listens on mon + 40
     * unless the OSD took all of its ports. */
    g_autofree char *ports = g_strdup_printf("[\"%u\"]", nv_ceph_mon_port() + 40);

    vol->connection_info =
        rbd_connection_info(id, "volumes/volume-22222222-0000-0000-0000-000000000008",
                            "[\"127.0.0.1\"]", ports, "cinder", uuid);
    vol->request.version = NV_VOLUME_REQUEST_VERSION;
    vol->request.connection_info = vol->connection_info;
    vol->request.encryption = LUKS_ENCRYPTION;
    vol->request.mountpoint = "sdb";
    rbd_attach_fails(vol, NV_ERROR_FAILED,
                     "volume 22222222-0000-0000-0000-000000000008: no Ceph monitor answers at "
                     "127.0.0.1:");
}
