/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spec's use case proved from inside a real guest OS (issue 10, part
 * 7): a Linux guest (guest_os.h) booted under the private libvirtd boots
 * by nv_driver_spawn() from a natively decrypted LUKS root volume and reads
 * its plaintext, reads a natively decrypted LUKS volume hot-attached on
 * virtio-blk, Nova's default bus for volumes, releases it on hot-detach,
 * and sees the new capacity after extend-volume.  Slow (a kernel boot under TCG per test):
 * the fast tests keep the domain with no OS.
 */
#include "harness.h"
#include "driver_fixtures.h"
#include "guest_os.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "support.h"

#define GROWTH (1024 * 1024)

/* The guest kernel names virtio disks in probe order, whatever libvirt's
 * <target dev> says: the volume, its only virtio-blk disk, is its vda. */
#define GUEST_DEV "vda"

/* What the guest must print for a disk holding nv_harness_plaintext(). */
static char *
expected_appearance(const char *dev)
{
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autofree char *sum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, plain);

    return g_strdup_printf("disk %s appeared size=%d sha256=%s", dev, VOLUME_SIZE / 512, sum);
}

Test(guest_os, reads_native_luks_volume_hot_attached_on_virtio_blk_and_releases_it_on_detach)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("44444444-0000-0000-0000-000000000001", "os.luks", "vdb");
    virConnectPtr conn = connect_daemon();
    g_autoptr(guest_os) os = guest_os_boot(conn, "os-attach");
    g_autofree char *expect = expected_appearance(GUEST_DEV);
    g_autofree char *seen = NULL;
    g_autofree char *gone = NULL;
    g_autofree char *live = NULL;

    attach_ok(driver, "os-attach", vol);
    live = domain_xml("os-attach", 0);
    cr_assert_not_null(strstr(live, "<target dev='vdb' bus='virtio'/>"), "%s", live);
    cr_assert_not_null(strstr(live, "<encryption format='luks'"), "not native: %s", live);

    /* The guest kernel found the disk and read the plaintext. */
    seen = guest_os_wait(os, "disk " GUEST_DEV " appeared", 300);
    cr_assert_str_eq(seen, expect);

    /* Hot-detach completes only because the guest releases the device. */
    detach_ok(driver, "os-attach", vol);
    gone = guest_os_wait(os, "disk " GUEST_DEV " gone", 300);
    cr_assert_str_eq(gone, "disk " GUEST_DEV " gone");
    cr_assert_not(has_disk("os-attach", 0, "vdb"));
    cr_assert_not(has_volume_secret("44444444-0000-0000-0000-000000000001"));
    virConnectClose(conn);
}

Test(guest_os, sees_the_new_capacity_after_extend)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("44444444-0000-0000-0000-000000000002", "osx.luks", "vdb");
    virConnectPtr conn = connect_daemon();
    g_autoptr(guest_os) os = guest_os_boot(conn, "os-extend");
    g_autoptr(GError) error = NULL;
    g_autofree char *seen = NULL;
    g_autofree char *resized = NULL;
    g_autofree char *expect = NULL;
    guint64 guest_size = 0;
    GStatBuf st;

    attach_ok(driver, "os-extend", vol);
    seen = guest_os_wait(os, "disk " GUEST_DEV " appeared", 300);

    cr_assert(g_stat(vol->path, &st) == 0);
    cr_assert(truncate(vol->path, st.st_size + GROWTH) == 0);
    cr_assert(nv_driver_extend_volume(driver, "os-extend", &vol->request,
                                      (guint64)st.st_size + GROWTH, &guest_size, &error),
              "%s", error ? error->message : "");
    cr_assert_eq(guest_size, VOLUME_SIZE + GROWTH);

    /* virtio-blk's config change reaches the guest kernel. */
    resized = guest_os_wait(os, "disk " GUEST_DEV " size=", 300);
    expect = g_strdup_printf("disk " GUEST_DEV " size=%d", (VOLUME_SIZE + GROWTH) / 512);
    cr_assert_str_eq(resized, expect);
    virConnectClose(conn);
}

/* An instance booting the guest OS from its root volume: the serial
 * console in @console, and "nvirt.root=vda" so /init reports the root
 * disk's first line. */
static nv_instance *
root_instance(const char *name, const char *uuid, const char *console)
{
    g_autofree char *kernel = guest_os_kernel();
    g_autofree char *initrd = guest_os_initrd();
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *json = NULL;
    g_autoptr(GError) error = NULL;
    nv_instance *inst;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, name);
    json_builder_set_member_name(b, "uuid");
    json_builder_add_string_value(b, uuid);
    json_builder_set_member_name(b, "memory_mb");
    json_builder_add_int_value(b, 256);
    json_builder_set_member_name(b, "vcpus");
    json_builder_add_int_value(b, 1);
    json_builder_set_member_name(b, "machine_type");
    json_builder_add_string_value(b, "pc");
    json_builder_set_member_name(b, "kernel");
    json_builder_add_string_value(b, kernel);
    json_builder_set_member_name(b, "initrd");
    json_builder_add_string_value(b, initrd);
    json_builder_set_member_name(b, "cmdline");
    json_builder_add_string_value(b, "console=ttyS0 quiet loglevel=3 panic=-1 nvirt.root=vda");
    json_builder_set_member_name(b, "console_log");
    json_builder_add_string_value(b, console);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json = json_to_string(root, FALSE);
    inst = nv_instance_new_from_json(json, &error);
    cr_assert_not_null(inst, "%s", error ? error->message : "");
    return inst;
}

Test(guest_os, boots_from_native_luks_root_volume_and_reads_its_plaintext)
{
    const char *volume_id = "44444444-0000-0000-0000-000000000003";
    g_autoptr(nv_driver) driver = open_driver_with(FIXED_KEY, "[libvirt]\nvirt_type = qemu\n");
    g_autoptr(volume) vol = volume_new(volume_id, "os-root.luks", NULL, LUKS_ENCRYPTION);
    g_autofree char *console = nv_harness_path("os-root.console");
    g_autofree char *uuid = g_uuid_string_random();
    g_autofree char *marker = g_strdup_printf("nvirt-root-%s", uuid);
    g_autoptr(GBytes) base = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GByteArray) bytes = g_byte_array_new();
    g_autoptr(GBytes) plain = NULL;
    g_autoptr(nv_instance) inst = root_instance("os-root", uuid, console);
    g_autoptr(guest_os) os = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *bdi = NULL;
    g_autofree char *live = NULL;
    g_autofree char *sum = NULL;
    g_autofree char *seen = NULL;
    g_autofree char *expect = NULL;
    g_autofree char *disk = NULL;
    g_autofree char *expect_disk = NULL;
    int secrets = secret_count();
    virConnectPtr conn;
    virDomainPtr dom;

    /* The root volume's plaintext: the marker line, then the harness's
     * sector pattern.  Only the ciphertext is on the host. */
    g_byte_array_append(bytes, g_bytes_get_data(base, NULL), VOLUME_SIZE);
    memcpy(bytes->data, marker, strlen(marker));
    bytes->data[strlen(marker)] = '\n';
    plain = g_byte_array_free_to_bytes(g_steal_pointer(&bytes));
    nv_harness_create_luks_volume_with(vol->path, PASSPHRASE, plain);
    bdi = g_strdup_printf("{\"root_device_name\": \"/dev/vda\", \"block_device_mapping\": ["
                          "{\"connection_info\": %s, \"encryption\": %s, "
                          "\"mount_device\": \"/dev/vda\", \"boot_index\": 0, "
                          "\"disk_bus\": \"virtio\", \"device_type\": \"disk\", "
                          "\"delete_on_termination\": false}]}",
                          vol->connection_info, LUKS_ENCRYPTION);

    cr_assert(nv_driver_spawn(driver, inst, bdi, &error), "%s", error ? error->message : "");

    /* QEMU decrypts the root disk natively (no dm-crypt on the host). */
    live = domain_xml("os-root", 0);
    cr_assert_not_null(strstr(live, "<target dev='vda' bus='virtio'/>"), "%s", live);
    cr_assert_not_null(strstr(live, "<boot order='1'/>"), "%s", live);
    cr_assert_not_null(strstr(live, "<encryption format='luks'"), "not native: %s", live);
    cr_assert(has_volume_secret(volume_id));

    /* The guest reads its root disk, decrypted by QEMU. */
    conn = connect_daemon();
    dom = virDomainLookupByName(conn, "os-root");
    cr_assert_not_null(dom);
    os = guest_os_watch(dom, console);
    virDomainFree(dom);
    seen = guest_os_wait(os, "root vda marker=", 300);
    expect = g_strdup_printf("root vda marker=%s", marker);
    cr_assert_str_eq(seen, expect);
    sum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, plain);
    expect_disk = g_strdup_printf("disk vda appeared size=%d sha256=%s", VOLUME_SIZE / 512, sum);
    disk = guest_os_wait(os, "disk vda appeared", 300);
    cr_assert_str_eq(disk, expect_disk);

    /* destroy: no domain, no secret left. */
    cr_assert(nv_driver_destroy(driver, "os-root", bdi, &error), "%s", error ? error->message : "");
    cr_assert_not(domain_exists("os-root"), "domain left behind");
    cr_assert_not(has_volume_secret(volume_id), "secret left behind");
    cr_assert_eq(secret_count(), secrets);
    virConnectClose(conn);
}
