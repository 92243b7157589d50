/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The harness itself: private daemon, TCG domain, LUKS volume and the QMP
 * read-back proof, using libvirt directly (no nvirt code), so a failure here
 * points at the environment, not at the code under test.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <sys/stat.h>

#define VOLUME_SIZE (4 * 1024 * 1024)
#define PASSPHRASE  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char secret_xml[] = "<secret ephemeral='no' private='yes'>"
                                 "<usage type='volume'><volume>harness-vol</volume></usage>"
                                 "</secret>";

Test(harness, daemon_listens_on_the_socket_in_its_directory)
{
    g_autofree char *sock = g_build_filename(nv_harness_dir(), "sock", "libvirt-sock", NULL);
    virConnectPtr conn = nv_harness_connect();
    struct stat st;

    cr_assert(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode), "%s is not a socket", sock);
    cr_assert(strstr(nv_harness_uri(), sock) != NULL);
    virConnectClose(conn);
}

Test(harness, domain_runs_under_tcg_with_a_virtio_scsi_controller)
{
    virConnectPtr conn = nv_harness_connect();
    virDomainPtr dom = nv_harness_start_domain(conn, "harness-tcg");
    g_autofree char *xml = virDomainGetXMLDesc(dom, 0);

    cr_assert_eq(virDomainIsActive(dom), 1);
    cr_assert(strstr(xml, "<domain type='qemu'") != NULL, "%s", xml);
    cr_assert(strstr(xml, "model='virtio-scsi'") != NULL, "%s", xml);
    /* No destroy: the teardown kills QEMU, and waiting for it here costs
     * more than the test. */
    virDomainFree(dom);
    virConnectClose(conn);
}

Test(harness, luks_volume_file_is_encrypted_on_disk)
{
    g_autofree char *path = nv_harness_path("enc.luks");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autofree char *disk = NULL;
    gsize len = 0;

    nv_harness_create_luks_volume(path, PASSPHRASE, VOLUME_SIZE);
    cr_assert(g_file_get_contents(path, &disk, &len, NULL));
    cr_assert(len > VOLUME_SIZE, "%s has no room for a LUKS header", path);
    cr_assert(memcmp(disk, "LUKS\xba\xbe\x00\x01", 8) == 0, "%s is not LUKS1", path);
    cr_assert(g_strstr_len(disk, len, PASSPHRASE) == NULL);
    /* The payload (after the header) is not the plaintext. */
    cr_assert(memcmp(disk + len - VOLUME_SIZE, g_bytes_get_data(plain, NULL), VOLUME_SIZE) != 0);
}

Test(harness, qemu_decrypts_a_luks_disk_read_back_over_qmp)
{
    g_autofree char *path = nv_harness_path("readback.luks");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autofree char *disk_xml = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN];
    virConnectPtr conn = nv_harness_connect();
    virDomainPtr dom = nv_harness_start_domain(conn, "harness-readback");
    virSecretPtr secret;

    nv_harness_create_luks_volume(path, PASSPHRASE, VOLUME_SIZE);
    secret = virSecretDefineXML(conn, secret_xml, 0);
    cr_assert(secret != NULL, "%s", virGetLastErrorMessage());
    cr_assert(virSecretSetValue(secret, (const unsigned char *)PASSPHRASE, strlen(PASSPHRASE), 0) ==
                  0,
              "%s", virGetLastErrorMessage());
    cr_assert(virSecretGetUUIDString(secret, uuid) == 0);
    disk_xml = nv_harness_disk_xml(path, "sda", uuid);
    cr_assert(virDomainAttachDeviceFlags(dom, disk_xml, VIR_DOMAIN_AFFECT_LIVE) == 0, "%s",
              virGetLastErrorMessage());

    seen = nv_harness_read_back(dom, "sda", VOLUME_SIZE);
    cr_assert(g_bytes_equal(seen, plain), "QEMU read back something else than the plaintext");

    virDomainFree(dom);
    virSecretUndefine(secret);
    virSecretFree(secret);
    virConnectClose(conn);
}

Test(harness, edited_capability_cache_makes_qemu_look_old)
{
    virConnectPtr conn = nv_harness_connect();
    unsigned long real = 0, faked = 0, back = 0;

    cr_assert(virConnectGetVersion(conn, &real) == 0);
    virConnectClose(conn);

    nv_harness_set_qemu_version(2005000);
    conn = nv_harness_connect();
    cr_assert(virConnectGetVersion(conn, &faked) == 0);
    virConnectClose(conn);
    nv_harness_reset_qemu_version();
    conn = nv_harness_connect();
    cr_assert(virConnectGetVersion(conn, &back) == 0);
    virConnectClose(conn);

    cr_assert_eq(faked, 2005000);
    cr_assert_eq(back, real);
}
