/* SPDX-License-Identifier: Apache-2.0 */
/*
 * extend-volume and swap-volume end to end (nova/virt/libvirt/driver.py
 * extend_volume, _resize_attached_encrypted_volume, swap_volume,
 * _swap_volume) against the private libvirtd and TCG domains with no guest
 * OS: what QEMU gives the guest after an extend, what it reads and writes
 * after a swap, and that every refusal leaves the secrets, the domain, the
 * volume and QEMU's view as they were.
 */
#include "harness.h"
#include "driver_fixtures.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "support.h"

#define GROWTH (1024 * 1024)

static guint64
file_size(const char *path)
{
    GStatBuf st;

    cr_assert(g_stat(path, &st) == 0, "stat %s", path);
    return (guint64)st.st_size;
}

static void
grow_file(const char *path, guint64 by)
{
    cr_assert(truncate(path, (off_t)(file_size(path) + by)) == 0, "grow %s", path);
}

/* The payload offset as qemu-img sees it (what Nova reads): an oracle
 * independent of the libcryptsetup code under test. */
static guint64
qemu_img_payload_offset(const char *path)
{
    const char *argv[] = { "qemu-img", "info", "--output=json", "-f", "luks", path, NULL };
    g_autofree char *out = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    JsonObject *root, *specific;
    int status = -1;

    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                           &status, &error),
              "%s", error ? error->message : "");
    cr_assert(g_spawn_check_wait_status(status, NULL), "qemu-img info %s: %s", path, out);
    cr_assert(json_parser_load_from_data(parser, out, -1, &error), "%s", out);
    root = json_node_get_object(json_parser_get_root(parser));
    specific = json_object_get_object_member(json_object_get_object_member(root, "format-specific"),
                                             "data");
    return (guint64)json_object_get_int_member(specific, "payload-offset");
}

/* What QEMU gives the guest for @dev (virDomainGetBlockInfo). */
static guint64
qemu_capacity(virDomainPtr dom, const char *dev)
{
    virDomainBlockInfo info = { 0 };

    cr_assert(virDomainGetBlockInfo(dom, dev, &info, 0) == 0, "block info %s: %s", dev,
              virGetLastErrorMessage());
    return info.capacity;
}

static void
extend_fails(nv_driver *driver, const char *domain, const nv_volume_request *request,
             guint64 new_size, const char *volume_path, int code, const char *message)
{
    g_auto(host_state) before = { 0 };
    g_autoptr(GError) error = NULL;
    guint64 size_before = file_size(volume_path);
    guint64 guest_size = 1;

    snapshot(&before, domain_exists(domain) ? domain : NULL, volume_path);
    cr_assert_not(nv_driver_extend_volume(driver, domain, request, new_size, &guest_size, &error));
    cr_assert_not_null(error);
    cr_assert_eq(error->code, code, "code %d: %s", error->code, error->message);
    cr_assert_not_null(strstr(error->message, message), "'%s' lacks '%s'", error->message, message);
    cr_assert_null(strchr(error->message, '\n'), "one line: %s", error->message);
    cr_assert_eq(guest_size, 0);
    assert_unchanged(&before, domain_exists(domain) ? domain : NULL, volume_path);
    cr_assert_eq(file_size(volume_path), size_before, "the volume file changed size");
}

/* ---- extend ---------------------------------------------------------------- */

Test(extend, native_volume_grown_on_disk_gives_the_guest_new_size_minus_payload_offset)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("22222222-0000-0000-0000-000000000001", "ext.luks", "sdb");
    virDomainPtr dom = start_domain("ext-native");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autoptr(GError) error = NULL;
    guint64 offset = qemu_img_payload_offset(vol->path);
    guint64 new_size, guest_size = 0;

    attach_ok(driver, "ext-native", vol);
    cr_assert_eq(qemu_capacity(dom, "sdb"), VOLUME_SIZE);

    grow_file(vol->path, GROWTH);
    new_size = file_size(vol->path);
    cr_assert(
        nv_driver_extend_volume(driver, "ext-native", &vol->request, new_size, &guest_size, &error),
        "%s", error ? error->message : "");

    cr_assert_eq(guest_size, new_size - offset, "%" G_GUINT64_FORMAT, guest_size);
    cr_assert_eq(qemu_capacity(dom, "sdb"), new_size - offset, "QEMU: %" G_GUINT64_FORMAT,
                 qemu_capacity(dom, "sdb"));
    cr_assert_eq(qemu_capacity(dom, "sdb"), VOLUME_SIZE + GROWTH);
    /* The header was not counted as the guest's: QEMU did not grow the
     * file past what Cinder gave it, and the data is where it was. */
    cr_assert_eq(file_size(vol->path), new_size);
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "the plaintext changed");

    detach_ok(driver, "ext-native", vol);
    virDomainFree(dom);
}

Test(extend, shut_off_domain_succeeds_without_resizing_anything)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("22222222-0000-0000-0000-000000000002", "off.luks", "sdb");
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = nv_harness_define_domain(conn, "ext-off");
    g_auto(host_state) before = { 0 };
    g_autoptr(GError) error = NULL;
    guint64 new_size, guest_size = 1;

    attach_ok(driver, "ext-off", vol);
    grow_file(vol->path, GROWTH);
    new_size = file_size(vol->path);
    snapshot(&before, "ext-off", vol->path);

    cr_assert(
        nv_driver_extend_volume(driver, "ext-off", &vol->request, new_size, &guest_size, &error),
        "%s", error ? error->message : "");
    cr_assert_eq(guest_size, 0, "resized a disk of a domain that does not run");
    cr_assert_eq(virDomainIsActive(dom), 0, "the domain was started");
    assert_unchanged(&before, "ext-off", vol->path);
    cr_assert_eq(file_size(vol->path), new_size);

    /* QEMU reads the new size when it next opens the volume. */
    cr_assert(virDomainCreate(dom) == 0, "%s", virGetLastErrorMessage());
    cr_assert_eq(qemu_capacity(dom, "sdb"), new_size - qemu_img_payload_offset(vol->path));
    virDomainFree(dom);
    virConnectClose(conn);
}

Test(extend, refusals_change_nothing)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) vol = luks_volume("22222222-0000-0000-0000-000000000003", "ref.luks", "sdb");
    g_autoptr(volume) other =
        volume_new("22222222-0000-0000-0000-000000000004", "ref-other.raw", NULL, NULL);
    virDomainPtr dom = start_domain("ext-refuse");
    guint64 size, offset = qemu_img_payload_offset(vol->path);

    attach_ok(driver, "ext-refuse", vol);
    cr_assert(g_file_set_contents(other->path, "x", 1, NULL));
    grow_file(vol->path, GROWTH);
    size = file_size(vol->path);

    extend_fails(driver, "ext-missing", &vol->request, size, vol->path, NV_ERROR_NOT_FOUND,
                 "domain 'ext-missing' not found");
    extend_fails(driver, "ext-refuse", &other->request, 1, vol->path, NV_ERROR_NOT_FOUND,
                 "volume 22222222-0000-0000-0000-000000000004: not attached to domain "
                 "'ext-refuse'");
    /* Smaller than what the guest has now (the old payload). */
    extend_fails(driver, "ext-refuse", &vol->request, offset + VOLUME_SIZE / 2, vol->path,
                 NV_ERROR_BAD_INPUT, "would shrink disk 'sdb' of domain 'ext-refuse'");
    /* Larger than the volume is on the host: QEMU would grow the file. */
    extend_fails(driver, "ext-refuse", &vol->request, size + 4096, vol->path, NV_ERROR_BAD_INPUT,
                 "is larger than");
    extend_fails(driver, "ext-refuse", &vol->request, 0, vol->path, NV_ERROR_BAD_INPUT,
                 "the new size must not be 0");
    cr_assert_eq(qemu_capacity(dom, "sdb"), VOLUME_SIZE, "QEMU's view changed");
    virDomainFree(dom);
}

/* ---- swap ------------------------------------------------------------------ */

/* A raw volume file of VOLUME_SIZE holding @contents (NULL: zeros). */
static volume *
raw_volume(const char *volume_id, const char *file, GBytes *contents)
{
    volume *vol = volume_new(volume_id, file, "sdb", NULL);
    g_autofree char *zeros = g_malloc0(VOLUME_SIZE);

    cr_assert(g_file_set_contents(vol->path, contents ? g_bytes_get_data(contents, NULL) : zeros,
                                  VOLUME_SIZE, NULL));
    return vol;
}

static gboolean
file_starts_with_pattern(const char *path, int pattern)
{
    g_autofree char *contents = NULL;
    gsize len = 0;

    cr_assert(g_file_get_contents(path, &contents, &len, NULL));
    for (gsize i = 0; i < 64 * 1024; i++)
        if (i >= len || (guchar)contents[i] != pattern)
            return FALSE;
    return TRUE;
}

Test(swap, plain_volumes_are_copied_and_the_domain_pivots_to_the_new_one)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(volume) old = raw_volume("33333333-0000-0000-0000-000000000001", "old.raw", plain);
    g_autoptr(volume) new = raw_volume("33333333-0000-0000-0000-000000000002", "new.raw", NULL);
    virDomainPtr dom = start_domain("swap-plain");
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) seen = NULL;
    g_autofree char *old_sha = NULL;
    g_autofree char *live = NULL;
    g_autofree char *persistent = NULL;
    g_autofree char *new_source = NULL;
    g_autofree char *old_source = NULL;

    attach_ok(driver, "swap-plain", old);
    cr_assert(
        nv_driver_swap_volume(driver, "swap-plain", "sdb", &old->request, &new->request, &error),
        "%s", error ? error->message : "");

    /* Both configs name the new volume; the domain is persistent again. */
    new_source = g_strdup_printf("<source file='%s'", new->path);
    old_source = g_strdup_printf("<source file='%s'", old->path);
    live = domain_xml("swap-plain", 0);
    persistent = domain_xml("swap-plain", VIR_DOMAIN_XML_INACTIVE);
    cr_assert_not_null(strstr(live, new_source), "%s", live);
    cr_assert_null(strstr(live, old_source), "%s", live);
    cr_assert_not_null(strstr(persistent, new_source), "%s", persistent);
    cr_assert_null(strstr(persistent, old_source), "%s", persistent);
    cr_assert_eq(virDomainIsPersistent(dom), 1, "the domain was left transient");
    cr_assert_eq(virDomainIsActive(dom), 1);

    /* The guest reads what it had, now from the new volume ... */
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "the guest's data did not survive the swap");
    {
        g_autofree char *contents = NULL;
        gsize len = 0;

        cr_assert(g_file_get_contents(new->path, &contents, &len, NULL));
        cr_assert_eq(len, VOLUME_SIZE);
        cr_assert(memcmp(contents, g_bytes_get_data(plain, NULL), VOLUME_SIZE) == 0,
                  "the new volume does not hold the copy");
    }
    /* ... and what it writes goes there, not to the old one. */
    old_sha = file_sha256(old->path);
    qemu_write_pattern(dom, 0x5a);
    cr_assert(file_starts_with_pattern(new->path, 0x5a), "the write did not reach the new volume");
    {
        g_autofree char *after = file_sha256(old->path);

        cr_assert_str_eq(after, old_sha, "the old volume was written after the pivot");
    }
    virDomainFree(dom);
}

Test(swap, natively_decrypted_luks_volume_is_refused_and_nothing_changes)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(volume) luks =
        luks_volume("33333333-0000-0000-0000-000000000003", "swap.luks", "sdb");
    g_autoptr(volume) plain_new =
        raw_volume("33333333-0000-0000-0000-000000000004", "swap-new.raw", NULL);
    g_autoptr(volume) luks_new =
        luks_volume("33333333-0000-0000-0000-000000000005", "swap-new.luks", "sdb");
    g_autoptr(volume) old_unflagged = NULL;
    virDomainPtr dom = start_domain("swap-luks");
    g_autofree char *new_sha = NULL;
    struct {
        const volume *old;
        const volume *new;
        const char *message;
    } cases[3];

    attach_ok(driver, "swap-luks", luks);
    /* The old volume as a caller that lost data.encrypted would name it:
     * the disk's <encryption> refuses it all the same. */
    old_unflagged = volume_new("33333333-0000-0000-0000-000000000003", "swap.luks", "sdb", NULL);
    cases[0].old = luks;
    cases[0].new = plain_new;
    cases[0].message = "volume 33333333-0000-0000-0000-000000000003 (old): QEMU decrypts it "
                       "natively; swap-volume of natively decrypted LUKS volumes is not "
                       "supported (nova bug 1749418)";
    cases[1].old = old_unflagged;
    cases[1].new = plain_new;
    cases[1].message = "(<encryption> on disk 'sdb'); swap-volume of natively decrypted LUKS "
                       "volumes is not supported (nova bug 1749418)";
    cases[2].old = old_unflagged;
    cases[2].new = luks_new;
    cases[2].message = "volume 33333333-0000-0000-0000-000000000005 (new): QEMU decrypts it "
                       "natively";

    new_sha = file_sha256(plain_new->path);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(host_state) before = { 0 };
        g_autoptr(GError) error = NULL;

        snapshot(&before, "swap-luks", luks->path);
        cr_assert_not(nv_driver_swap_volume(driver, "swap-luks", "sdb", &cases[i].old->request,
                                            &cases[i].new->request, &error),
                      "case %zu swapped", i);
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED), "case %zu: %s", i,
                  error->message);
        cr_assert_not_null(strstr(error->message, cases[i].message), "case %zu: '%s'", i,
                           error->message);
        cr_assert_null(strchr(error->message, '\n'));
        assert_unchanged(&before, "swap-luks", luks->path);
        cr_assert_eq(virDomainIsPersistent(dom), 1);
    }
    {
        g_autofree char *after = file_sha256(plain_new->path);

        cr_assert_str_eq(after, new_sha, "the new volume was written");
    }
    detach_ok(driver, "swap-luks", luks);
    virDomainFree(dom);
}

Test(swap, failed_copy_leaves_the_domain_persistent_on_the_old_volume)
{
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(volume) old = raw_volume("33333333-0000-0000-0000-000000000011", "fold.raw", plain);
    g_autoptr(volume) new = raw_volume("33333333-0000-0000-0000-000000000012", "fnew.raw", NULL);
    virDomainPtr dom = start_domain("swap-fail");
    g_auto(host_state) before = { 0 };
    g_autoptr(GError) error = NULL;
    g_autofree char *new_sha = NULL;

    attach_ok(driver, "swap-fail", old);
    /* QEMU mirrors only onto a target of the guest disk's size. */
    cr_assert(truncate(new->path, VOLUME_SIZE / 2) == 0);
    new_sha = file_sha256(new->path);
    snapshot(&before, "swap-fail", old->path);

    cr_assert_not(
        nv_driver_swap_volume(driver, "swap-fail", "sdb", &old->request, &new->request, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_LIBVIRT), "%s", error->message);
    cr_assert_not_null(strstr(error->message, "domain 'swap-fail': block copy of disk 'sdb'"), "%s",
                       error->message);
    cr_assert_null(strchr(error->message, '\n'));
    cr_assert_eq(virDomainIsPersistent(dom), 1, "the domain was left transient");
    assert_unchanged(&before, "swap-fail", old->path);
    {
        g_autofree char *after = file_sha256(new->path);

        cr_assert_str_eq(after, new_sha, "the new volume was written");
    }
    virDomainFree(dom);
}

/* ---- the CLI verbs, thin clients of the same calls ------------------------- */

Test(cli, extend_volume_and_swap_volume_run_the_driver)
{
    g_autofree char *conf = write_conf("cli-ext.conf", FIXED_KEY, NULL);
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(volume) old =
        raw_volume("55555555-0000-0000-0000-000000000001", "cli-old.raw", plain);
    g_autoptr(volume) new = raw_volume("55555555-0000-0000-0000-000000000002", "cli-new.raw", NULL);
    g_autofree char *new_info = nv_harness_path("cli-new.json");
    g_autofree char *old_info = nv_harness_path("cli-old.json");
    g_autofree char *size = NULL;
    g_autofree char *expect = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *live = NULL;
    g_autofree char *source = NULL;
    virDomainPtr dom = start_domain("cli-ext");
    int status;

    attach_ok(driver, "cli-ext", old);
    grow_file(old->path, GROWTH);
    size = g_strdup_printf("%" G_GUINT64_FORMAT, file_size(old->path));
    {
        const char *args[] = {
            "extend-volume", "cli-ext", "--config", conf, "-i", "-", "-s", size, NULL
        };

        status = nv_test_run_nvirt(args, old->connection_info, &out, &err);
    }
    cr_assert_eq(status, 0, "%s", err);
    expect = g_strdup_printf("%s\n", size);
    cr_assert_str_eq(out, expect);
    cr_assert_eq(qemu_capacity(dom, "sdb"), VOLUME_SIZE + GROWTH);

    /* The new volume must be as big as the guest's disk now is. */
    cr_assert(truncate(new->path, VOLUME_SIZE + GROWTH) == 0);
    cr_assert(g_file_set_contents(old_info, old->connection_info, -1, NULL));
    cr_assert(g_file_set_contents(new_info, new->connection_info, -1, NULL));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    {
        const char *args[] = { "swap-volume", "cli-ext", "--config", conf,  "-o", old_info,
                               "-n",          new_info,  "-m",       "sdb", NULL };

        status = nv_test_run_nvirt(args, NULL, &out, &err);
    }
    cr_assert_eq(status, 0, "%s", err);
    cr_assert_str_eq(out, "");
    live = domain_xml("cli-ext", VIR_DOMAIN_XML_INACTIVE);
    source = g_strdup_printf("<source file='%s'", new->path);
    cr_assert_not_null(strstr(live, source), "%s", live);
    virDomainFree(dom);
}
