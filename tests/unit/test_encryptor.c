/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The encryptor interface (encryptors/encryptor.c and the providers) where
 * no device-mapper is needed: selection as os-brick's get_volume_encryptor,
 * the device_path rule, mapping names, the device-mapper lookup over a fake
 * sysfs tree, and every refusal that happens before a mapping would be
 * opened (image files work with libblkid and libcryptsetup).  Opening and
 * closing real mappings is the guest suite's job (tests/guest/).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "encryptors/encryptor.h"
#include "encryptors/encryptor_priv.h"
#include "encryptors/luks_format.h"
#include "nvirt/error.h"
#include "support.h"
#include "util/secure.h"

#define VOLUME_SIZE (32 * 1024 * 1024)
#define TEST_KEY    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static char *tmpdir;

static void
setup(void)
{
    tmpdir = nv_test_mkdtemp();
}

static void
teardown(void)
{
    nv_test_rmtree(tmpdir);
    g_free(tmpdir);
}

TestSuite(encryptor_new);
TestSuite(encryptor_nop);
TestSuite(encryptor_attach, .init = setup, .fini = teardown);
TestSuite(encryptor_detach, .init = setup, .fini = teardown);
TestSuite(mapping_lookup, .init = setup, .fini = teardown);

static nv_secure_buf *
test_passphrase(void)
{
    g_autoptr(nv_secure_buf) key = nv_secure_buf_from_hex(TEST_KEY, "test key", NULL);

    cr_assert_not_null(key);
    return nv_secure_buf_to_hex(key);
}

static char *
blank_file(const char *name)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    cr_assert(fd >= 0, "create %s: %s", path, g_strerror(errno));
    cr_assert_eq(ftruncate(fd, VOLUME_SIZE), 0);
    close(fd);
    return path;
}

static char *
file_digest(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;

    cr_assert(g_file_get_contents(path, &data, &len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

typedef struct {
    char provider[64];
    char control_location[16]; /* "" for NULL */
    nv_encryption_format format;
    char mapping[32]; /* "" for none (no-op) */
} select_case;

ParameterizedTestParameters(encryptor_new, selects_as_os_brick)
{
    static select_case cases[] = {
        { "luks", "front-end", NV_ENCRYPTION_FORMAT_LUKS, "crypt-sdb" },
        { "luks", "FRONT-END", NV_ENCRYPTION_FORMAT_LUKS, "crypt-sdb" },
        { "luks2", "Front-End", NV_ENCRYPTION_FORMAT_LUKS2, "crypt-sdb" },
        { "plain", "front-end", NV_ENCRYPTION_FORMAT_PLAIN, "crypt-sdb" },
        { "os_brick.encryptors.luks.LuksEncryptor", "front-end", NV_ENCRYPTION_FORMAT_LUKS,
          "crypt-sdb" },
        { "nova.volume.encryptors.cryptsetup.CryptsetupEncryptor", "front-end",
          NV_ENCRYPTION_FORMAT_PLAIN, "crypt-sdb" },
        { "NoOpEncryptor", "front-end", NV_ENCRYPTION_FORMAT_NONE, "" },
        { "", "front-end", NV_ENCRYPTION_FORMAT_NONE, "" },
        /* Back-end (or no) control location: the storage decrypts, whatever
         * the provider says, even one os-brick does not know. */
        { "luks", "back-end", NV_ENCRYPTION_FORMAT_NONE, "" },
        { "luks", "", NV_ENCRYPTION_FORMAT_NONE, "" },
        { "plain", "frontend", NV_ENCRYPTION_FORMAT_NONE, "" },
        { "NoSuchEncryptor", "back-end", NV_ENCRYPTION_FORMAT_NONE, "" },
    };
    return cr_make_param_array(select_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(select_case *c, encryptor_new, selects_as_os_brick)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryptor) enc =
        nv_encryptor_new("vol-1", "/dev/sdb", *c->provider ? c->provider : NULL,
                         *c->control_location ? c->control_location : NULL, NULL, 0, &error);

    cr_assert(enc, "%s/%s: %s", c->provider, c->control_location, error ? error->message : "");
    cr_assert_eq(nv_encryptor_format(enc), c->format, "%s/%s -> %s", c->provider,
                 c->control_location, nv_encryption_format_name(nv_encryptor_format(enc)));
    if (*c->mapping)
        cr_assert_str_eq(nv_encryptor_mapping_name(enc), c->mapping);
    else
        cr_assert_null(nv_encryptor_mapping_name(enc));
}

Test(encryptor_new, unknown_front_end_provider_fails)
{
    g_autoptr(GError) error = NULL;
    /* A capital S: not one of os-brick's aliases. */
    g_autoptr(nv_encryptor) enc =
        nv_encryptor_new("vol-1", "/dev/sdb", "CryptSetupEncryptor", "front-end", NULL, 0, &error);

    cr_assert_null(enc);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message, "volume vol-1: unknown encryption provider "
                                     "'CryptSetupEncryptor'");
}

ParameterizedTestParameters(encryptor_new, dm_crypt_providers_need_device_path)
{
    static char providers[][8] = { "luks", "luks2", "plain" };

    return cr_make_param_array(char[8], providers, G_N_ELEMENTS(providers));
}

/* nova bugs 1821696 / 1917619: network volumes (rbd) have no host device. */
ParameterizedTest(char (*provider)[8], encryptor_new, dm_crypt_providers_need_device_path)
{
    const char *paths[] = { NULL, "" };

    for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(nv_encryptor) enc =
            nv_encryptor_new("vol-rbd", paths[i], *provider, "front-end", NULL, 0, &error);

        cr_assert_null(enc);
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED));
        cr_assert_str_eq(error->message,
                         "volume vol-rbd: encryption not supported for this volume type");
    }
}

Test(encryptor_new, no_op_needs_no_device_path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryptor) enc =
        nv_encryptor_new("vol-rbd", NULL, "luks", "back-end", NULL, 0, &error);

    cr_assert_not_null(enc, "%s", error ? error->message : "");
    cr_assert_null(nv_encryptor_mapping_name(enc));
    cr_assert_null(nv_encryptor_device_path(enc));
}

typedef struct {
    char device_path[128];
    char mapping[128];
} name_case;

ParameterizedTestParameters(encryptor_new, mapping_name_is_crypt_dash_basename)
{
    static name_case cases[] = {
        { "/dev/sdb", "crypt-sdb" },
        { "/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1",
          "crypt-ip-192.0.2.10:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1" },
        { "/dev/disk/by-id/wwn-0x600a0b80005adb0b", "crypt-wwn-0x600a0b80005adb0b" },
        { "/dev/mapper/36005076303ffc56200000000000010cc",
          "crypt-36005076303ffc56200000000000010cc" },
    };
    return cr_make_param_array(name_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(name_case *c, encryptor_new, mapping_name_is_crypt_dash_basename)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryptor) enc =
        nv_encryptor_new("vol-1", c->device_path, "luks", "front-end", NULL, 0, &error);
    g_autofree char *derived = nv_encryptor_default_mapping_name(c->device_path);

    cr_assert(enc, "%s", error ? error->message : "");
    /* This host has no such mapping under the old name: the new one. */
    cr_assert_str_eq(nv_encryptor_mapping_name(enc), c->mapping);
    cr_assert_str_eq(derived, c->mapping);
    cr_assert_str_eq(nv_encryptor_device_path(enc), c->device_path);
}

Test(encryptor_new, relative_device_path_is_bad_input)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryptor) enc =
        nv_encryptor_new("vol-1", "sdb", "luks", "front-end", NULL, 0, &error);

    cr_assert_null(enc);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message,
                     "volume vol-1: device_path 'sdb' is not an absolute path to a device");
}

Test(encryptor_new, key_size_must_be_whole_bytes)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryptor) enc =
        nv_encryptor_new("vol-1", "/dev/sdb", "plain", "front-end", NULL, 250, &error);

    cr_assert_null(enc);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message, "volume vol-1: key size 250 is not a multiple of 8 bits");
}

Test(encryptor_nop, attach_detach_extend_touch_nothing)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) pass = test_passphrase();
    g_autoptr(nv_encryptor) enc =
        nv_encryptor_new("vol-1", "/nonexistent/sdb", "luks", "back-end", NULL, 0, &error);
    guint64 size = 42;

    cr_assert_not_null(enc);
    cr_assert(nv_encryptor_attach(enc, pass, &error), "%s", error ? error->message : "");
    cr_assert(nv_encryptor_extend(enc, pass, &size, &error));
    cr_assert_eq(size, 0);
    cr_assert(nv_encryptor_detach(enc, &error));
}

Test(encryptor_nop, free_null_is_a_no_op)
{
    nv_encryptor_free(NULL);
}

static nv_encryptor *
file_encryptor(const char *provider, const char *path)
{
    g_autoptr(GError) error = NULL;
    nv_encryptor *enc = nv_encryptor_new("vol-1", path, provider, "front-end", NULL, 0, &error);

    cr_assert_not_null(enc, "%s", error ? error->message : "");
    nv_encryptor_set_pbkdf2_iterations(enc, 1000);
    return enc;
}

/* cinder bug 1739442's data-loss gap, closed: a volume with a file system
 * and no LUKS header is refused, byte for byte untouched. */
Test(encryptor_attach, volume_with_a_signature_is_never_formatted)
{
    g_autofree char *path = blank_file("vol-swap");
    const char *mkswap[] = { "mkswap", "-q", path, NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) pass = test_passphrase();
    g_autoptr(nv_encryptor) enc = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    g_autofree char *expected = NULL;
    int status = 0;

    cr_assert(g_spawn_sync(NULL, (char **)mkswap, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                           &status, NULL));
    cr_assert(g_spawn_check_wait_status(status, NULL), "mkswap failed");
    before = file_digest(path);

    for (gsize i = 0; i < 2; i++) {
        g_clear_error(&error);
        g_clear_pointer(&enc, nv_encryptor_free);
        enc = file_encryptor(i == 0 ? "luks" : "luks2", path);
        cr_assert_not(nv_encryptor_attach(enc, pass, &error));
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED), "%s", error->message);
        expected = g_strdup_printf("volume vol-1: %s carries a swap signature and no "
                                   "LUKS header: refusing to format",
                                   path);
        cr_assert_str_eq(error->message, expected);
        g_clear_pointer(&expected, g_free);
    }
    after = file_digest(path);
    cr_assert_str_eq(before, after, "the volume was written to");
}

/* A blank image file is not formatted either: no mapping could be opened
 * on it afterwards. */
Test(encryptor_attach, blank_image_file_is_refused_before_any_format)
{
    g_autofree char *path = blank_file("vol-blank");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) pass = test_passphrase();
    g_autoptr(nv_encryptor) enc = file_encryptor("luks", path);
    g_autofree char *expected =
        g_strdup_printf("volume vol-1: device %s is not a block device", path);
    nv_luks_probe_result probe;

    cr_assert_not(nv_encryptor_attach(enc, pass, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED), "%s", error->message);
    cr_assert_str_eq(error->message, expected);
    cr_assert(nv_luks_probe(path, &probe, NULL));
    cr_assert_eq(probe.kind, NV_LUKS_PROBE_BLANK);
}

Test(encryptor_attach, plain_refuses_an_image_file)
{
    g_autofree char *path = blank_file("vol-plain");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) pass = test_passphrase();
    g_autoptr(nv_encryptor) enc = file_encryptor("plain", path);

    cr_assert_not(nv_encryptor_attach(enc, pass, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED), "%s", error->message);
}

Test(encryptor_attach, missing_device_is_not_found)
{
    g_autofree char *path = g_build_filename(tmpdir, "no-such-device", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) pass = test_passphrase();
    g_autoptr(nv_encryptor) enc = file_encryptor("luks", path);
    g_autofree char *expected =
        g_strdup_printf("volume vol-1: device %s: No such file or directory", path);

    cr_assert_not(nv_encryptor_attach(enc, pass, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_NOT_FOUND), "%s", error->message);
    cr_assert_str_eq(error->message, expected);
}

/* A device the probe cannot read is refused, not formatted: here a
 * directory, which libblkid cannot probe. */
Test(encryptor_attach, probe_failure_is_passed_on)
{
    g_autofree char *path = g_build_filename(tmpdir, "a-directory", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) pass = test_passphrase();
    g_autoptr(nv_encryptor) enc = NULL;
    g_autofree char *expected = NULL;

    cr_assert_eq(mkdir(path, 0700), 0);
    enc = file_encryptor("luks", path);
    cr_assert_not(nv_encryptor_attach(enc, pass, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CRYPT), "%s", error->message);
    expected = g_strdup_printf(
        "volume vol-1: %s: cannot probe it: not a block device or regular file", path);
    cr_assert_str_eq(error->message, expected);
}

Test(encryptor_detach, mapping_that_is_not_open_is_success)
{
    g_autofree char *path = blank_file("vol-closed");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryptor) enc = file_encryptor("luks", path);

    cr_assert(nv_encryptor_detach(enc, &error), "%s", error ? error->message : "");
    cr_assert(nv_encryptor_detach(enc, &error), "%s", error ? error->message : "");
}

Test(encryptor_detach, extend_of_a_closed_luks_mapping_is_not_found)
{
    g_autofree char *path = blank_file("vol-ext");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) pass = test_passphrase();
    g_autoptr(nv_encryptor) enc = file_encryptor("luks", path);
    guint64 size = 1;
    g_autofree char *expected = NULL;

    cr_assert_not(nv_encryptor_extend(enc, pass, &size, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_NOT_FOUND));
    expected = g_strdup_printf("volume vol-1: cannot extend: %s is not an active crypt mapping",
                               nv_encryptor_mapping_name(enc));
    cr_assert_str_eq(error->message, expected);
    cr_assert_eq(size, 0);
}

Test(encryptor_detach, extend_plain_is_unsupported)
{
    g_autofree char *path = blank_file("vol-plain-ext");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) pass = test_passphrase();
    g_autoptr(nv_encryptor) enc = file_encryptor("plain", path);
    guint64 size = 1;

    cr_assert_not(nv_encryptor_extend(enc, pass, &size, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED));
    cr_assert_str_eq(error->message,
                     "volume vol-1: extending a plain dm-crypt volume is not supported");
}

/* A fake /sys: block/dm-N/{dev,dm/name,dm/uuid,slaves/BACKING/dev}. */
static void
fake_dm(const char *root, int n, const char *name, const char *uuid, const char *backing)
{
    g_autofree char *dir = g_strdup_printf("%s/block/dm-%d", root, n);
    g_autofree char *dm = g_build_filename(dir, "dm", NULL);
    g_autofree char *dev = g_build_filename(dir, "dev", NULL);
    g_autofree char *name_file = g_build_filename(dm, "name", NULL);
    g_autofree char *uuid_file = g_build_filename(dm, "uuid", NULL);
    g_autofree char *name_line = g_strdup_printf("%s\n", name);
    g_autofree char *uuid_line = g_strdup_printf("%s\n", uuid);
    g_autofree char *devno = g_strdup_printf("253:%d\n", n);

    cr_assert_eq(g_mkdir_with_parents(dm, 0755), 0);
    cr_assert(g_file_set_contents(dev, devno, -1, NULL));
    cr_assert(g_file_set_contents(name_file, name_line, -1, NULL));
    cr_assert(g_file_set_contents(uuid_file, uuid_line, -1, NULL));
    if (backing) {
        g_autofree char *slave = g_build_filename(dir, "slaves", backing, NULL);
        g_autofree char *slave_dev = g_build_filename(slave, "dev", NULL);

        cr_assert_eq(g_mkdir_with_parents(slave, 0755), 0);
        cr_assert(g_file_set_contents(slave_dev, "8:16\n", -1, NULL));
    }
}

Test(mapping_lookup, finds_crypt_other_and_absent_mappings)
{
    nv_mapping_info info;
    g_autoptr(GError) error = NULL;
    g_autofree char *loop = g_strdup_printf("%s/block/loop0", tmpdir);

    cr_assert_eq(g_mkdir_with_parents(loop, 0755), 0);
    fake_dm(tmpdir, 0, "crypt-sdb", "CRYPT-LUKS1-0123456789abcdef0123456789abcdef-crypt-sdb",
            "sdb");
    fake_dm(tmpdir, 1, "mpatha", "mpath-36005076303ffc562", NULL);
    fake_dm(tmpdir, 2, "crypt-verity", "CRYPT-VERITY-0123-crypt-verity", "sdc");
    fake_dm(tmpdir, 3, "crypt-plain", "CRYPT-PLAIN-crypt-plain", "sdd");

    cr_assert(nv_mapping_lookup(tmpdir, "crypt-sdb", &info, &error));
    cr_assert_eq(info.state, NV_MAPPING_CRYPT);
    cr_assert_eq(info.devno, makedev(253, 0));
    cr_assert_eq(info.backing_devno, makedev(8, 16));
    cr_assert_str_eq(info.backing_name, "sdb");

    cr_assert(nv_mapping_lookup(tmpdir, "crypt-plain", &info, &error));
    cr_assert_eq(info.state, NV_MAPPING_CRYPT);

    cr_assert(nv_mapping_lookup(tmpdir, "mpatha", &info, &error));
    cr_assert_eq(info.state, NV_MAPPING_OTHER);
    cr_assert_eq(info.backing_devno, 0);

    cr_assert(nv_mapping_lookup(tmpdir, "crypt-verity", &info, &error));
    cr_assert_eq(info.state, NV_MAPPING_OTHER, "a verity device is not dm-crypt");

    cr_assert(nv_mapping_lookup(tmpdir, "crypt-sde", &info, &error));
    cr_assert_eq(info.state, NV_MAPPING_INACTIVE);
}

Test(mapping_lookup, no_block_directory_means_no_mappings)
{
    nv_mapping_info info;
    g_autoptr(GError) error = NULL;

    cr_assert(nv_mapping_lookup(tmpdir, "crypt-sdb", &info, &error));
    cr_assert_eq(info.state, NV_MAPPING_INACTIVE);
}

/* Code review C15: a crypt mapping of the volume's name whose backing device
 * could not be read (no slaves/, so its number is 0) must not make an image
 * file (st_rdev 0) look like "already open": that path led to replacing the
 * image file with a link to the mapping.  The file is refused and kept. */
Test(encryptor_attach, image_file_never_matches_a_mapping_without_backing_device)
{
    g_autofree char *path = blank_file("vol-img");
    g_autofree char *sysfs = g_build_filename(tmpdir, "sys", NULL);
    g_autoptr(nv_encryptor) enc = file_encryptor("luks", path);
    g_autoptr(GError) error = NULL;
    g_autofree char *device = NULL;
    gboolean already_open = TRUE;
    struct stat st;

    fake_dm(sysfs, 0, "crypt-vol-img", "CRYPT-LUKS1-0123456789abcdef0123456789abcdef-crypt-vol-img",
            NULL);
    nv_encryptor_set_sysfs_root(enc, sysfs);
    cr_assert_not(nv_encryptor_prepare_attach(enc, &device, &already_open, &error));
    cr_assert_not(already_open);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED), "%s", error->message);
    cr_assert_str_eq(error->message, "volume vol-1: crypt mapping crypt-vol-img is already open "
                                     "over another device (unknown)");
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISREG(st.st_mode), "the image file was replaced");
}
