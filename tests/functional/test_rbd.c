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
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "support.h"
#include "virt/libvirt/driver_priv.h"

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
 * volumes/volume-@volume_id.  Returns the image's size. */
static guint64
make_luks_image(const char *volume_id, const char *passphrase)
{
    g_autofree char *file = g_strdup_printf("volume-%s.luks", volume_id);
    g_autofree char *path = nv_harness_path(file);
    g_autofree char *image = g_strdup_printf("volume-%s", volume_id);

    GStatBuf st;

    nv_harness_create_luks_volume(path, passphrase, VOLUME_SIZE);
    cr_assert(g_stat(path, &st) == 0);
    nv_ceph_import(path, image);
    g_unlink(path);
    return (guint64)st.st_size;
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

/* ---- LUKS2, decrypted by librbd ---------------------------------------- */

#define LUKS2_ENCRYPTION                                                                           \
    "{\"provider\": \"luks2\", \"control_location\": \"front-end\", "                              \
    "\"cipher\": \"aes-xts-plain64\", \"key_size\": 256, "                                         \
    "\"encryption_key_id\": \"00000000-0000-0000-0000-000000000000\"}"

/* librbd's LUKS2 header area in Ceph 16: the guest sees the image minus
 * 16 MiB. */
#define LIBRBD_LUKS2_HEADER (16 * 1024 * 1024)

static void
run_or_fail(const char *const *argv)
{
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    int status = -1;

    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL,
                           G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                           &status, &error),
              "%s", error ? error->message : "");
    cr_assert(g_spawn_check_wait_status(status, NULL), "%s: %s", argv[0], err);
}

/* A LUKS2 rbd volume librbd opens, holding nv_harness_plaintext(VOLUME_SIZE)
 * under PASSPHRASE: the header is made by cryptsetup with a cheap PBKDF2
 * (`rbd encryption format` always spends seconds on argon2) in the layout
 * librbd writes (4 KiB sectors, data at 16 MiB), imported, and the
 * plaintext written through librbd's encryption by qemu-img. */
static void
make_luks2_image(const char *volume_id)
{
    g_autofree char *file = g_strdup_printf("volume-%s.luks2", volume_id);
    g_autofree char *path = nv_harness_path(file);
    g_autofree char *plain_path = g_strconcat(path, ".plain", NULL);
    g_autofree char *pass = g_strconcat(path, ".pass", NULL);
    g_autofree char *image = g_strdup_printf("volume-%s", volume_id);
    g_autofree char *object = g_strdup_printf("secret,id=nvsec0,file=%s", pass);
    g_autofree char *target = g_strdup_printf(
        "driver=raw,file.driver=rbd,file.pool=" NV_CEPH_POOL ",file.image=%s,file.conf=%s,"
        "file.user=admin,file.encrypt.format=luks2,file.encrypt.key-secret=nvsec0",
        image, nv_ceph_conf());
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    const char *format[] = { "cryptsetup",
                             "luksFormat",
                             "-q",
                             "--type",
                             "luks2",
                             "--pbkdf",
                             "pbkdf2",
                             "--pbkdf-force-iterations",
                             "1000",
                             "--sector-size",
                             "4096",
                             "--cipher",
                             "aes-xts-plain64",
                             "--key-size",
                             "512",
                             "--key-file",
                             pass,
                             path,
                             NULL };
    const char *fill[] = { "qemu-img", "convert",  "-q",       "-n",   "-f",
                           "raw",      plain_path, "--object", object, "--target-image-opts",
                           target,     NULL };
    FILE *f;

    cr_assert(g_file_set_contents_full(pass, PASSPHRASE, -1, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    cr_assert(g_file_set_contents_full(plain_path, g_bytes_get_data(plain, NULL), VOLUME_SIZE,
                                       G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    f = fopen(path, "w");
    cr_assert(f != NULL && fclose(f) == 0);
    cr_assert(truncate(path, LIBRBD_LUKS2_HEADER + VOLUME_SIZE) == 0);
    run_or_fail(format);
    nv_ceph_import(path, image);
    run_or_fail(fill);
    g_unlink(pass);
    g_unlink(plain_path);
    g_unlink(path);
}

static volume *
luks2_rbd_volume(const char *volume_id, const char *dev)
{
    volume *vol = rbd_volume(volume_id, dev);

    vol->request.encryption = LUKS2_ENCRYPTION;
    return vol;
}

/* libvirt 9.0 cold-plugs it only: attach to the shut-off domain, start it,
 * and QEMU (librbd) reads the plaintext. */
Test(rbd, luks2_cold_attach_is_decrypted_by_librbd_after_start)
{
    const char *id = "22222222-0000-0000-0000-000000000009";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks2_rbd_volume(id, "sdb");
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = nv_harness_define_domain(conn, "rbd-luks2");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autofree char *config = NULL;
    g_autofree char *live = NULL;

    make_luks2_image(id);
    attach_ok(driver, "rbd-luks2", vol);
    config = domain_xml("rbd-luks2", VIR_DOMAIN_XML_INACTIVE);
    cr_assert_not_null(strstr(config, "<encryption format='luks2' engine='librbd'>"), "%s", config);
    cr_assert(has_volume_secret(id), "no volume secret");

    cr_assert(virDomainCreate(dom) == 0, "start: %s", virGetLastErrorMessage());
    live = domain_xml("rbd-luks2", 0);
    cr_assert_not_null(strstr(live, "engine='librbd'"), "%s", live);
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "QEMU (librbd) did not read the plaintext");

    detach_ok(driver, "rbd-luks2", vol);
    cr_assert_not(has_disk("rbd-luks2", 0, "sdb"), "disk still live");
    cr_assert_not(has_volume_secret(id), "volume secret left behind");
    cr_assert(ceph_secret_intact("cinder"), "detach touched the operator's ceph secret");
    virDomainFree(dom);
    virConnectClose(conn);
}

/* What the driver says about hot-plugging such a disk on this host's
 * libvirt ("libvirt 9.0.0 hot-plugs ..."), from the daemon's version. */
static char *
hotplug_refusal(void)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(nv_host_info) info = nv_driver_get_host_info(driver, NULL);
    g_autofree char *libvirt = NULL;

    cr_assert_not_null(info);
    libvirt = nv_version_to_string(nv_host_info_get_libvirt_version(info));
    return g_strdup_printf("libvirt %s hot-plugs a disk that librbd decrypts before its key, so "
                           "QEMU refuses it; attach it to the shut-off domain and start that",
                           libvirt);
}

Test(rbd, luks2_live_attach_is_refused_up_front_saying_what_works)
{
    g_autoptr(volume) vol = luks2_rbd_volume("22222222-0000-0000-0000-00000000000a", "sdb");
    g_autofree char *why = hotplug_refusal();
    g_autofree char *expect = g_strdup_printf("volume 22222222-0000-0000-0000-00000000000a: cannot "
                                              "attach LUKS2 rbd volume to running domain "
                                              "'rbd-faults': %s",
                                              why);

    rbd_attach_fails(vol, NV_ERROR_UNSUPPORTED, expect);
}

Test(rbd, host_info_says_librbd_decrypts_luks2_cold_plug_only)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_host_info) info = nv_driver_get_host_info(driver, &error);
    g_autofree char *why = hotplug_refusal();
    g_autofree char *expect =
        g_strdup_printf("librbd decrypts LUKS2 on rbd, cold-plug only: %s", why);

    cr_assert_not_null(info, "%s", error ? error->message : "");
    cr_assert(nv_host_info_get_rbd_luks2(info), "%s", nv_host_info_get_rbd_luks2_reason(info));
    cr_assert_str_eq(nv_host_info_get_rbd_luks2_reason(info), expect);
    {
        g_autofree char *conf = write_conf("rbd-hi.conf", FIXED_KEY, NULL);
        const char *args[] = { "host-info", "--config", conf, "--json", NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *json_reason = g_strdup_printf("\"rbd_luks2_reason\" : \"%s\"", expect);

        cr_assert_eq(nv_test_run_nvirt(args, NULL, &out, &err), 0, "%s", err);
        cr_assert_not_null(strstr(out, "\"rbd_luks2\" : true"), "%s", out);
        cr_assert_not_null(strstr(out, json_reason), "%s", out);
    }
}

/* Provider 'luks' goes to QEMU's luks driver, which reads LUKS1 only: a
 * LUKS2 header is refused in one line that names the way that works. */
Test(rbd, luks_provider_on_a_luks2_header_is_refused_naming_luks2)
{
    const char *id = "22222222-0000-0000-0000-00000000000b";
    g_autoptr(volume) vol = rbd_volume(id, "sdb");

    make_luks2_image(id);
    rbd_attach_fails(vol, NV_ERROR_UNSUPPORTED,
                     "volume 22222222-0000-0000-0000-00000000000b: rbd image "
                     "volumes/volume-22222222-0000-0000-0000-00000000000b has a LUKS2 header, "
                     "which QEMU's luks driver cannot open; librbd can when the volume type's "
                     "provider is 'luks2'");
}

/* ---- extend of an attached volume (nova bug 1913575) ------------------- */

#define MiB (1024 * 1024)

/* The compute host's Ceph client configuration, which Nova's and nvirt's
 * `qemu-img info` of an rbd volume read as client.@user: a ceph.conf
 * (CEPH_CONF, else /etc/ceph/ceph.conf) and the user's keyring it names. */
static void
use_host_ceph_client(const char *user)
{
    g_autofree char *dir = g_path_get_dirname(nv_ceph_conf());
    g_autofree char *name = g_strdup_printf("ceph.client.%s.keyring", user);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *key = nv_ceph_user_key(user);
    g_autofree char *text = g_strdup_printf("[client.%s]\n\tkey = %s\n", user, key);

    cr_assert(g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    g_setenv("CEPH_CONF", nv_ceph_conf(), TRUE);
}

/* The size of disk @dev as QEMU reports it to libvirt. */
static guint64
disk_capacity(virDomainPtr dom, const char *dev)
{
    virDomainBlockInfo info = { 0 };

    cr_assert(virDomainGetBlockInfo(dom, dev, &info, 0) == 0, "%s", virGetLastErrorMessage());
    return info.capacity;
}

static void
rbd_resize(const char *volume_id, guint64 size)
{
    g_autofree char *image = g_strdup_printf(NV_CEPH_POOL "/volume-%s", volume_id);
    g_autofree char *megs = g_strdup_printf("%" G_GUINT64_FORMAT "M", size / MiB);
    const char *args[] = { "resize", "--size", megs, image, NULL };

    nv_ceph_rbd(args);
}

/* LUKS1 decrypted by QEMU: Cinder grows the image, and the guest gets the
 * growth (the payload offset is read from the image through qemu-img). */
Test(rbd, luks1_extend_gives_the_guest_the_growth_of_the_image, .timeout = 600)
{
    const char *id = "22222222-0000-0000-0000-00000000000c";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = rbd_volume(id, "sdb");
    virDomainPtr dom = start_domain("rbd-extend1");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autoptr(GError) error = NULL;
    const guint64 new_image = 48 * MiB;
    guint64 old_image, before, guest = 0;

    use_host_ceph_client("cinder");
    old_image = make_luks_image(id, PASSPHRASE);
    attach_ok(driver, "rbd-extend1", vol);
    before = disk_capacity(dom, "sdb");

    /* Not grown yet on the cluster: refused, nothing changed. */
    cr_assert_not(
        nv_driver_extend_volume(driver, "rbd-extend1", &vol->request, new_image, &guest, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT), "%s", error->message);
    cr_assert_not_null(strstr(error->message, "extend the volume first"), "%s", error->message);
    cr_assert_eq(disk_capacity(dom, "sdb"), before);
    g_clear_error(&error);

    rbd_resize(id, new_image);
    cr_assert(
        nv_driver_extend_volume(driver, "rbd-extend1", &vol->request, new_image, &guest, &error),
        "%s", error ? error->message : "");
    cr_assert_eq(guest, before + (new_image - old_image),
                 "capacity %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT, before, guest);
    cr_assert_eq(disk_capacity(dom, "sdb"), guest);
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "the plaintext changed");
    detach_ok(driver, "rbd-extend1", vol);
    virDomainFree(dom);
}

/* LUKS2 decrypted by librbd.  QEMU 7.2 aborts resizing such a disk
 * (NV_MIN_QEMU_LIBRBD_LUKS2_RESIZE_VERSION), so a live extend is refused
 * up front and changes nothing; the size librbd decrypts to is read from
 * the cluster all the same (the image minus the header area its LUKS2
 * header records, 16 MiB here), and is what the guest gets once the
 * domain is started again. */
Test(rbd, luks2_live_extend_is_refused_and_librbd_gives_the_size_after_restart, .timeout = 600)
{
    const char *id = "22222222-0000-0000-0000-00000000000d";
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks2_rbd_volume(id, "sdb");
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = nv_harness_define_domain(conn, "rbd-extend2");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_host_info) info = NULL;
    g_autoptr(nv_disk_config) disk = NULL;
    g_autoptr(nv_secure_buf) key = nv_secure_buf_new_from(PASSPHRASE, strlen(PASSPHRASE));
    g_autofree char *qemu = NULL;
    g_autofree char *expect = NULL;
    g_autofree char *disk_xml = NULL;
    const guint64 new_image = 40 * MiB;
    guint64 guest = 0, image = 0, header = 0;

    use_host_ceph_client("cinder");
    make_luks2_image(id);
    attach_ok(driver, "rbd-extend2", vol);
    cr_assert(virDomainCreate(dom) == 0, "start: %s", virGetLastErrorMessage());
    cr_assert_eq(disk_capacity(dom, "sdb"), VOLUME_SIZE);
    rbd_resize(id, new_image);

    info = nv_driver_get_host_info(driver, &error);
    cr_assert_not_null(info, "%s", error ? error->message : "");
    qemu = nv_version_to_string(nv_host_info_get_qemu_version(info));
    expect = g_strdup_printf("volume %s: cannot resize LUKS2 rbd disk 'sdb' of running domain "
                             "'rbd-extend2': QEMU %s aborts resizing a disk that librbd decrypts; "
                             "the guest sees the new size when the domain is next started",
                             id, qemu);
    cr_assert_not(
        nv_driver_extend_volume(driver, "rbd-extend2", &vol->request, new_image, &guest, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED), "%s", error->message);
    cr_assert_str_eq(error->message, expect);
    cr_assert_eq(guest, 0);
    cr_assert_eq(virDomainIsActive(dom), 1, "the domain stopped");
    cr_assert_eq(disk_capacity(dom, "sdb"), VOLUME_SIZE);
    g_clear_error(&error);

    /* librbd's own decrypted size, read as client.cinder. */
    disk_xml = g_strdup_printf("<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
                               "<source protocol='rbd' name='" NV_CEPH_POOL "/volume-%s'>"
                               "<host name='127.0.0.1' port='%u'/></source>"
                               "<auth username='cinder'><secret type='ceph' uuid='%s'/></auth>"
                               "<target dev='sdb' bus='scsi'/></disk>",
                               id, nv_ceph_mon_port(), "00000000-0000-0000-0000-000000000001");
    disk = nv_disk_config_parse(disk_xml, &error);
    cr_assert_not_null(disk, "%s", error ? error->message : "");
    cr_assert(nv_extend_rbd_librbd_sizes(id, disk, key, &image, &header, &error), "%s",
              error ? error->message : "");
    cr_assert_eq(image, new_image);
    cr_assert_eq(header, LIBRBD_LUKS2_HEADER);

    cr_assert(virDomainDestroy(dom) == 0, "%s", virGetLastErrorMessage());
    cr_assert(virDomainCreate(dom) == 0, "start: %s", virGetLastErrorMessage());
    cr_assert_eq(disk_capacity(dom, "sdb"), image - header);
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "the plaintext changed");
    detach_ok(driver, "rbd-extend2", vol);
    virDomainFree(dom);
    virConnectClose(conn);
}
