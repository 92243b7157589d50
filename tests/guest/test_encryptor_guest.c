/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dm-crypt encryptors (src/encryptors/) for real: runs inside the test
 * guest (tests/guest/run-guest.sh), as root, with device-mapper, against the
 * guest's virtio disks:
 *   NVIRT_GUEST_DISK   scratch disk, wiped before each test
 *   NVIRT_GUEST_DISK2  scratch disk for device-mapper tricks (linear, error)
 *   NVIRT_GUEST_DISK3  LUKS1 volume made on the host by `qemu-img create -f
 *                      luks`, holding INTEROP_HOST_BYTE at INTEROP_OFFSET
 *   NVIRT_GUEST_DISK4  blank; a test formats it with the encryptor and
 *                      writes INTEROP_GUEST_BYTE for the host to read back
 * The tools that check the encryptor's work (cryptsetup, dmsetup, nvirt)
 * are the real binaries, copied into the guest.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "encryptors/encryptor.h"
#include "encryptors/luks_format.h"
#include "guest_keys.h"
#include "nvirt/error.h"
#include "util/secure.h"

#define LINK_DIR     "/tmp/by-path"
#define WIPE_HEAD    (17 * 1024 * 1024) /* LUKS2 keeps its headers in 16 MiB */
#define WIPE_TAIL    (1024 * 1024)
#define MIB          (1024 * 1024)
#define CHEAP_PBKDF2 1000

static const char *
disk_env(const char *name)
{
    const char *disk = getenv(name);

    cr_assert(disk && *disk, "$%s is not set: run this inside the guest (run-guest.sh)", name);
    return disk;
}

static nv_secure_buf *
passphrase(const char *key_hex)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) key = nv_secure_buf_from_hex(key_hex, "test key", &error);

    cr_assert(key, "%s", error ? error->message : "");
    return nv_secure_buf_to_hex(key);
}

/* Run @argv with @input on stdin; stdout into *@out (may be NULL), stderr
 * to the test's output unless @quiet.  Returns the exit status. */
static int
run_full(const char *const *argv, const char *input, char **out, gboolean quiet)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;
    GPid pid;
    int in_fd = -1, out_fd = -1, status = 0;
    g_autoptr(GString) buf = g_string_new(NULL);
    char chunk[4096];
    ssize_t n;

    cr_assert(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
                                           (quiet ? G_SPAWN_STDERR_TO_DEV_NULL : 0),
                                       NULL, NULL, &pid, &in_fd, &out_fd, NULL, &error),
              "spawn %s: %s", argv[0], error ? error->message : "");
    if (input)
        cr_assert_eq(write(in_fd, input, strlen(input)), (ssize_t)strlen(input));
    close(in_fd);
    while ((n = read(out_fd, chunk, sizeof(chunk))) > 0)
        g_string_append_len(buf, chunk, n);
    close(out_fd);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    g_spawn_close_pid(pid);
    if (out)
        *out = g_strdup(buf->str);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int
run(const char *const *argv, const char *input, char **out)
{
    return run_full(argv, input, out, FALSE);
}

static void
zero_range(int fd, off_t offset, gsize len)
{
    g_autofree guint8 *zeros = g_malloc0(MIB);

    while (len > 0) {
        gsize chunk = MIN(len, (gsize)MIB);

        cr_assert_eq(pwrite(fd, zeros, chunk, offset), (ssize_t)chunk);
        offset += chunk;
        len -= chunk;
    }
}

static guint64
device_size(const char *path)
{
    guint64 size = 0;
    int fd = open(path, O_RDONLY);

    cr_assert(fd >= 0, "open %s: %s", path, g_strerror(errno));
    cr_assert_eq(ioctl(fd, BLKGETSIZE64, &size), 0);
    close(fd);
    return size;
}

/* Zero every place a signature can live on a scratch disk. */
static void
wipe(const char *path)
{
    guint64 size = device_size(path);
    int fd = open(path, O_WRONLY);

    cr_assert(fd >= 0, "open %s: %s", path, g_strerror(errno));
    zero_range(fd, 0, MIN(size, (guint64)WIPE_HEAD));
    zero_range(fd, size - WIPE_TAIL, WIPE_TAIL);
    cr_assert_eq(fsync(fd), 0);
    ioctl(fd, BLKFLSBUF, 0);
    close(fd);
}

static void
fill(const char *path, off_t offset, guint8 byte, gsize len)
{
    g_autofree guint8 *data = g_malloc(len);
    int fd = open(path, O_WRONLY);

    cr_assert(fd >= 0, "open %s: %s", path, g_strerror(errno));
    memset(data, byte, len);
    cr_assert_eq(pwrite(fd, data, len, offset), (ssize_t)len);
    cr_assert_eq(fsync(fd), 0);
    close(fd);
}

/* TRUE if @len bytes at @offset of @path all equal @byte. */
static gboolean
holds(const char *path, off_t offset, guint8 byte, gsize len)
{
    g_autofree guint8 *data = g_malloc(len);
    int fd = open(path, O_RDONLY);
    gboolean all = TRUE;

    cr_assert(fd >= 0, "open %s: %s", path, g_strerror(errno));
    ioctl(fd, BLKFLSBUF, 0);
    cr_assert_eq(pread(fd, data, len, offset), (ssize_t)len);
    close(fd);
    for (gsize i = 0; i < len && all; i++)
        all = data[i] == byte;
    return all;
}

/* A Cinder-like device path: LINK_DIR/NAME -> @target. */
static char *
make_link(const char *name, const char *target)
{
    char *path = g_build_filename(LINK_DIR, name, NULL);

    g_mkdir_with_parents(LINK_DIR, 0755);
    unlink(path);
    cr_assert_eq(symlink(target, path), 0, "symlink %s: %s", path, g_strerror(errno));
    return path;
}

static char *
link_target(const char *path)
{
    return g_file_read_link(path, NULL);
}

/* Is a device-mapper device @name active?  Asked of dmsetup, not of the
 * code under test. */
static gboolean
dm_active(const char *name)
{
    const char *argv[] = { "dmsetup", "info", name, NULL };
    g_autofree char *out = NULL;

    return run_full(argv, NULL, &out, TRUE) == 0;
}

static char *
dm_table(const char *name)
{
    const char *argv[] = { "dmsetup", "table", "--showkeys", name, NULL };
    char *out = NULL;

    cr_assert_eq(run(argv, NULL, &out), 0, "dmsetup table %s", name);
    return out;
}

static void
dmsetup_create(const char *name, const char *table)
{
    const char *argv[] = { "dmsetup", "create", name, "--table", table, NULL };
    /* No udev in the guest: dmsetup leaves /dev/mapper/NAME to it unless
     * asked (libcryptsetup makes its nodes itself). */
    const char *mknodes[] = { "dmsetup", "mknodes", name, NULL };

    cr_assert_eq(run(argv, NULL, NULL), 0, "dmsetup create %s --table '%s'", name, table);
    cr_assert_eq(run(mknodes, NULL, NULL), 0);
}

static nv_encryptor *
new_encryptor(const char *provider, const char *device_path, const char *cipher, guint key_bits)
{
    g_autoptr(GError) error = NULL;
    nv_encryptor *enc =
        nv_encryptor_new("vol-guest", device_path, provider, "front-end", cipher, key_bits, &error);

    cr_assert(enc, "%s", error ? error->message : "");
    nv_encryptor_set_pbkdf2_iterations(enc, CHEAP_PBKDF2);
    return enc;
}

static void
attach_ok(nv_encryptor *enc, const nv_secure_buf *pass)
{
    g_autoptr(GError) error = NULL;

    cr_assert(nv_encryptor_attach(enc, pass, &error), "attach: %s", error ? error->message : "");
}

static void
detach_ok(nv_encryptor *enc)
{
    g_autoptr(GError) error = NULL;

    cr_assert(nv_encryptor_detach(enc, &error), "detach: %s", error ? error->message : "");
}

static nv_luks_probe_kind
probe(const char *path)
{
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    cr_assert(nv_luks_probe(path, &result, &error), "%s", error ? error->message : "");
    return result.kind;
}

/* Every test starts from a blank first disk and no mappings. */
static void
setup(void)
{
    wipe(disk_env("NVIRT_GUEST_DISK"));
}

static void
teardown(void)
{
    const char *remove_all[] = { "dmsetup", "remove_all", NULL };
    g_autofree char *dev = NULL;
    unsigned int maj, min;

    run_full(remove_all, NULL, NULL, TRUE);
    /* A test that replaced the node /dev/vda and failed before putting it
     * back: make it again for the next test. */
    if (g_file_get_contents("/sys/block/vda/dev", &dev, NULL, NULL) &&
        sscanf(dev, "%u:%u", &maj, &min) == 2) {
        struct stat st;

        if (lstat("/dev/vda", &st) < 0 || !S_ISBLK(st.st_mode)) {
            unlink("/dev/vda");
            mknod("/dev/vda", S_IFBLK | 0660, makedev(maj, min));
        }
    }
    {
        const char *rm[] = { "rm", "-rf", LINK_DIR, NULL };

        run(rm, NULL, NULL);
    }
}

TestSuite(luks, .init = setup, .fini = teardown);
TestSuite(plain, .init = setup, .fini = teardown);
TestSuite(mapping, .init = setup, .fini = teardown);
TestSuite(interop, .init = setup, .fini = teardown);
TestSuite(cli, .init = setup, .fini = teardown);

Test(luks, first_attach_formats_luks1_and_links_device_path_to_mapping)
{
    g_autofree char *path = make_link("vol-a", disk_env("NVIRT_GUEST_DISK"));
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);
    g_autofree char *target = NULL;

    cr_assert_str_eq(nv_encryptor_mapping_name(enc), "crypt-vol-a");
    attach_ok(enc, pass);

    cr_assert(dm_active("crypt-vol-a"));
    target = link_target(path);
    cr_assert_str_eq(target, "/dev/mapper/crypt-vol-a");
    cr_assert_eq(probe(disk_env("NVIRT_GUEST_DISK")), NV_LUKS_PROBE_LUKS1);
    detach_ok(enc);
}

Test(luks, luks2_provider_formats_luks2)
{
    g_autofree char *path = make_link("vol-b", disk_env("NVIRT_GUEST_DISK"));
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks2", path, NULL, 0);

    attach_ok(enc, pass);
    cr_assert(dm_active("crypt-vol-b"));
    cr_assert_eq(probe(disk_env("NVIRT_GUEST_DISK")), NV_LUKS_PROBE_LUKS2);
    detach_ok(enc);
}

Test(luks, volume_type_cipher_and_key_size_reach_the_mapping)
{
    g_autofree char *path = make_link("vol-c", disk_env("NVIRT_GUEST_DISK"));
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, "aes-cbc-essiv:sha256", 256);
    g_autofree char *table = NULL;
    g_auto(GStrv) fields = NULL;

    attach_ok(enc, pass);
    /* "0 SECTORS crypt CIPHER KEY IV_OFFSET DEV OFFSET" */
    table = dm_table("crypt-vol-c");
    fields = g_strsplit(g_strstrip(table), " ", -1);
    cr_assert_geq(g_strv_length(fields), 5);
    cr_assert_str_eq(fields[2], "crypt");
    cr_assert_str_eq(fields[3], "aes-cbc-essiv:sha256");
    cr_assert_eq(strlen(fields[4]), 64, "256-bit key: %s hex digits", fields[4]);
    detach_ok(enc);
}

Test(luks, data_goes_through_the_mapping_encrypted_and_survives_reattach)
{
    const char *disk = disk_env("NVIRT_GUEST_DISK");
    g_autofree char *path = make_link("vol-d", disk);
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);
    g_autoptr(nv_encryptor) again = NULL;

    attach_ok(enc, pass);
    /* Written through device_path, as QEMU would once libvirt opens it. */
    fill(path, 0, 0xc3, MIB);
    cr_assert(holds("/dev/mapper/crypt-vol-d", 0, 0xc3, MIB));
    detach_ok(enc);

    /* The plaintext is nowhere on the disk's payload area. */
    cr_assert_not(holds(disk, 2 * MIB, 0xc3, 4096));

    again = new_encryptor("luks", path, NULL, 0);
    attach_ok(again, pass);
    cr_assert_eq(probe(disk), NV_LUKS_PROBE_LUKS1);
    cr_assert(holds(path, 0, 0xc3, MIB), "reattach formatted over the data");
    detach_ok(again);
}

Test(luks, detach_closes_mapping_and_points_device_path_at_the_disk_again)
{
    const char *disk = disk_env("NVIRT_GUEST_DISK");
    g_autofree char *path = make_link("vol-e", disk);
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);
    g_autofree char *target = NULL;
    struct stat link_st, disk_st;

    attach_ok(enc, pass);
    detach_ok(enc);

    cr_assert_not(dm_active("crypt-vol-e"));
    target = link_target(path);
    cr_assert_str_eq(target, disk);
    cr_assert_eq(stat(path, &link_st), 0);
    cr_assert_eq(stat(disk, &disk_st), 0);
    cr_assert_eq(link_st.st_rdev, disk_st.st_rdev);
}

Test(luks, detach_twice_and_detach_of_never_opened_mapping_succeed)
{
    g_autofree char *path = make_link("vol-f", disk_env("NVIRT_GUEST_DISK"));
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);

    detach_ok(enc);
    attach_ok(enc, pass);
    detach_ok(enc);
    detach_ok(enc);
    cr_assert_not(dm_active("crypt-vol-f"));
}

Test(luks, attach_twice_keeps_one_mapping)
{
    g_autofree char *path = make_link("vol-g", disk_env("NVIRT_GUEST_DISK"));
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);
    g_autofree char *target = NULL;

    attach_ok(enc, pass);
    attach_ok(enc, pass);
    target = link_target(path);
    cr_assert_str_eq(target, "/dev/mapper/crypt-vol-g");
    detach_ok(enc);
    cr_assert_not(dm_active("crypt-vol-g"));
}

Test(luks, device_node_as_device_path_is_restored_as_the_node)
{
    const char *disk = disk_env("NVIRT_GUEST_DISK");
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = NULL;
    struct stat before, during, after;

    cr_assert_eq(lstat(disk, &before), 0);
    cr_assert(S_ISBLK(before.st_mode));
    enc = new_encryptor("luks", disk, NULL, 0);
    attach_ok(enc, pass);
    /* os-brick's `ln --symbolic --force` replaces the node itself. */
    cr_assert_eq(lstat(disk, &during), 0);
    cr_assert(S_ISLNK(during.st_mode));
    detach_ok(enc);
    cr_assert_eq(lstat(disk, &after), 0);
    cr_assert(S_ISBLK(after.st_mode), "%s is not a block device again", disk);
    cr_assert_eq(after.st_rdev, before.st_rdev);
}

Test(luks, wrong_passphrase_fails_without_format_or_mapping)
{
    const char *disk = disk_env("NVIRT_GUEST_DISK");
    g_autofree char *path = make_link("vol-h", disk);
    g_autoptr(nv_secure_buf) right = passphrase(GUEST_KEY_A);
    g_autoptr(nv_secure_buf) wrong = passphrase(GUEST_KEY_B);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);
    g_autoptr(GError) error = NULL;
    g_autofree char *target = NULL;
    g_autofree char *expected = NULL;

    attach_ok(enc, right);
    fill(path, 0, 0x77, 4096);
    detach_ok(enc);

    cr_assert_not(nv_encryptor_attach(enc, wrong, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_WRONG_PASSPHRASE), "%s", error->message);
    expected =
        g_strdup_printf("volume vol-guest: passphrase does not open any keyslot of %s", disk);
    cr_assert_str_eq(error->message, expected);
    cr_assert_not(dm_active("crypt-vol-h"));
    target = link_target(path);
    cr_assert_str_eq(target, disk, "device_path changed");

    /* Not reformatted: the right key still reads the data. */
    attach_ok(enc, right);
    cr_assert(holds(path, 0, 0x77, 4096));
    detach_ok(enc);
}

Test(luks, volume_with_a_filesystem_signature_is_never_formatted)
{
    const char *disk = disk_env("NVIRT_GUEST_DISK");
    g_autofree char *path = make_link("vol-i", disk);
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);
    g_autoptr(GError) error = NULL;
    g_autofree char *expected = NULL;
    const char *mkswap[] = { "mkswap", disk, NULL };

    cr_assert_eq(run(mkswap, NULL, NULL), 0);
    cr_assert_not(nv_encryptor_attach(enc, pass, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED), "%s", error->message);
    expected = g_strdup_printf("volume vol-guest: %s carries a swap signature and no LUKS "
                               "header: refusing to format",
                               disk);
    cr_assert_str_eq(error->message, expected);
    cr_assert_eq(probe(disk), NV_LUKS_PROBE_OTHER);
    cr_assert_not(dm_active("crypt-vol-i"));
}

Test(luks, probe_io_error_refuses_to_format)
{
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;

    /* Every read of this device fails with EIO. */
    dmsetup_create("broken", "0 65536 error");
    path = make_link("vol-j", "/dev/mapper/broken");
    enc = new_encryptor("luks", path, NULL, 0);
    cr_assert_not(nv_encryptor_attach(enc, pass, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CRYPT), "%s", error->message);
    cr_assert_not(dm_active("crypt-vol-j"));
}

Test(luks, extend_resizes_the_mapping_to_the_grown_device)
{
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    const char *providers[] = { "luks", "luks2" };

    for (gsize i = 0; i < G_N_ELEMENTS(providers); i++) {
        g_autoptr(nv_encryptor) enc = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *table =
            g_strdup_printf("0 %d linear %s 0", 40 * 2048, disk_env("NVIRT_GUEST_DISK2"));
        g_autofree char *grown =
            g_strdup_printf("0 %d linear %s 0", 72 * 2048, disk_env("NVIRT_GUEST_DISK2"));
        const char *reload[] = { "dmsetup", "reload", "grow", "--table", grown, NULL };
        const char *resume[] = { "dmsetup", "resume", "grow", NULL };
        const char *remove[] = { "dmsetup", "remove", "grow", NULL };
        guint64 before, after = 0;

        wipe(disk_env("NVIRT_GUEST_DISK2"));
        dmsetup_create("grow", table);
        path = make_link("vol-k", "/dev/mapper/grow");
        enc = new_encryptor(providers[i], path, NULL, 0);
        attach_ok(enc, pass);
        before = device_size("/dev/mapper/crypt-vol-k");

        cr_assert_eq(run(reload, NULL, NULL), 0);
        cr_assert_eq(run(resume, NULL, NULL), 0);
        cr_assert(nv_encryptor_extend(enc, pass, &after, &error), "%s: %s", providers[i],
                  error ? error->message : "");
        cr_assert_eq(after, before + 32 * MIB, "%s: %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT,
                     providers[i], before, after);
        cr_assert_eq(device_size("/dev/mapper/crypt-vol-k"), after);
        detach_ok(enc);
        cr_assert_eq(run(remove, NULL, NULL), 0);
    }
}

Test(luks, extend_of_a_closed_mapping_is_not_found)
{
    g_autofree char *path = make_link("vol-l", disk_env("NVIRT_GUEST_DISK"));
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);
    g_autoptr(GError) error = NULL;
    guint64 size = 1;

    cr_assert_not(nv_encryptor_extend(enc, pass, &size, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_NOT_FOUND), "%s", error->message);
    cr_assert_str_eq(error->message,
                     "volume vol-guest: cannot extend: crypt-vol-l is not an active crypt mapping");
}

Test(luks, failed_symlink_swap_closes_the_mapping)
{
    g_autofree char *path = make_link("vol-m", disk_env("NVIRT_GUEST_DISK"));
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);
    g_autoptr(GError) error = NULL;
    g_autofree char *target = NULL;

    /* The swap goes through LINK_DIR/.vol-m.nvirt-tmp: a non-empty
     * directory there makes it fail after the mapping was opened. */
    cr_assert_eq(g_mkdir_with_parents(LINK_DIR "/.vol-m.nvirt-tmp/x", 0755), 0);
    cr_assert_not(nv_encryptor_attach(enc, pass, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_FAILED), "%s", error->message);
    cr_assert_not(dm_active("crypt-vol-m"), "mapping left open after a failed attach");
    target = link_target(path);
    cr_assert_str_eq(target, disk_env("NVIRT_GUEST_DISK"));
}

Test(mapping, name_taken_by_a_non_crypt_device_is_refused)
{
    g_autofree char *path = make_link("vol-n", disk_env("NVIRT_GUEST_DISK"));
    g_autofree char *table = g_strdup_printf("0 2048 linear %s 0", disk_env("NVIRT_GUEST_DISK2"));
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) detach_error = NULL;

    dmsetup_create("crypt-vol-n", table);
    enc = new_encryptor("luks", path, NULL, 0);
    cr_assert_not(nv_encryptor_attach(enc, pass, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED), "%s", error->message);
    cr_assert_str_eq(error->message, "volume vol-guest: device-mapper name crypt-vol-n is taken "
                                     "by a device that is not a crypt mapping");
    cr_assert_eq(probe(disk_env("NVIRT_GUEST_DISK")), NV_LUKS_PROBE_BLANK, "formatted anyway");

    /* Nor does detach close somebody else's device. */
    cr_assert_not(nv_encryptor_detach(enc, &detach_error));
    cr_assert(g_error_matches(detach_error, NV_ERROR, NV_ERROR_UNSUPPORTED));
    cr_assert(dm_active("crypt-vol-n"));
}

Test(mapping, older_mapping_name_without_prefix_is_used_and_closed)
{
    const char *disk = disk_env("NVIRT_GUEST_DISK");
    g_autofree char *path = make_link("vol-o", disk);
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) fmt = new_encryptor("luks", path, NULL, 0);
    g_autoptr(nv_encryptor) enc = NULL;
    const char *open_old[] = { "cryptsetup", "luksOpen", "--key-file=-", disk, "vol-o", NULL };

    /* Format, then open it as Nova before os-brick bug 1439869 did. */
    attach_ok(fmt, pass);
    detach_ok(fmt);
    cr_assert_eq(run(open_old, nv_secure_buf_str(pass), NULL), 0);

    enc = new_encryptor("luks", path, NULL, 0);
    cr_assert_str_eq(nv_encryptor_mapping_name(enc), "vol-o");
    detach_ok(enc);
    cr_assert_not(dm_active("vol-o"));
}

/* Plain mode against the real `cryptsetup create --key-file=-` (what
 * os-brick runs): the same dm table, key included, and the same data. */
typedef struct {
    char cipher[32]; /* "" for cryptsetup's default */
    guint key_bits;  /* 0 for the default */
} plain_case;

ParameterizedTestParameters(plain, mapping_is_byte_identical_to_cryptsetup_create)
{
    static plain_case cases[] = {
        { "", 0 },
        { "aes-xts-plain64", 512 },
        { "aes-cbc-essiv:sha256", 128 },
    };
    return cr_make_param_array(plain_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(plain_case *c, plain, mapping_is_byte_identical_to_cryptsetup_create)
{
    const char *disk = disk_env("NVIRT_GUEST_DISK");
    g_autofree char *path = make_link("vol-p", disk);
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc =
        new_encryptor("plain", path, *c->cipher ? c->cipher : NULL, c->key_bits);
    g_autofree char *ours = NULL;
    g_autofree char *theirs = NULL;
    g_autofree char *key_bits = g_strdup_printf("%u", c->key_bits);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *remove[] = { "cryptsetup", "remove", "crypt-vol-p", NULL };

    attach_ok(enc, pass);
    ours = dm_table("crypt-vol-p");
    fill(path, 0, 0x3c, MIB);
    detach_ok(enc);

    g_ptr_array_add(argv, "cryptsetup");
    g_ptr_array_add(argv, "create");
    g_ptr_array_add(argv, "--key-file=-");
    if (*c->cipher) {
        g_ptr_array_add(argv, "--cipher");
        g_ptr_array_add(argv, c->cipher);
    }
    if (c->key_bits) {
        g_ptr_array_add(argv, "--key-size");
        g_ptr_array_add(argv, key_bits);
    }
    g_ptr_array_add(argv, "crypt-vol-p");
    g_ptr_array_add(argv, (char *)disk);
    g_ptr_array_add(argv, NULL);
    cr_assert_eq(run((const char *const *)argv->pdata, nv_secure_buf_str(pass), NULL), 0);
    theirs = dm_table("crypt-vol-p");
    cr_assert_str_eq(ours, theirs);
    /* The dm key is derived (ripemd160), not the passphrase itself. */
    cr_assert_null(strstr(theirs, nv_secure_buf_str(pass)));
    cr_assert(holds("/dev/mapper/crypt-vol-p", 0, 0x3c, MIB));
    cr_assert_eq(run(remove, NULL, NULL), 0);
}

Test(plain, extend_is_not_supported)
{
    g_autofree char *path = make_link("vol-q", disk_env("NVIRT_GUEST_DISK"));
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("plain", path, NULL, 0);
    g_autoptr(GError) error = NULL;
    guint64 size = 1;

    attach_ok(enc, pass);
    cr_assert_not(nv_encryptor_extend(enc, pass, &size, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED));
    cr_assert_str_eq(error->message,
                     "volume vol-guest: extending a plain dm-crypt volume is not supported");
    detach_ok(enc);
}

Test(interop, volume_from_cryptsetup_luksformat_opens)
{
    const char *disk = disk_env("NVIRT_GUEST_DISK");
    g_autofree char *path = make_link("vol-r", disk);
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);
    const char *format[] = { "cryptsetup", "--batch-mode", "luksFormat",
                             "--type",     "luks1",        "--pbkdf-force-iterations",
                             "1000",       "--key-file=-", disk,
                             NULL };
    const char *open[] = { "cryptsetup", "luksOpen", "--key-file=-", disk, "tmp-r", NULL };
    const char *close_[] = { "cryptsetup", "luksClose", "tmp-r", NULL };

    cr_assert_eq(run(format, nv_secure_buf_str(pass), NULL), 0);
    cr_assert_eq(run(open, nv_secure_buf_str(pass), NULL), 0);
    fill("/dev/mapper/tmp-r", 0, 0x42, MIB);
    cr_assert_eq(run(close_, NULL, NULL), 0);

    attach_ok(enc, pass);
    cr_assert(holds(path, 0, 0x42, MIB));
    detach_ok(enc);
}

Test(interop, volume_formatted_here_opens_with_cryptsetup)
{
    const char *disk = disk_env("NVIRT_GUEST_DISK");
    g_autofree char *path = make_link("vol-s", disk);
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);
    const char *open[] = { "cryptsetup", "luksOpen", "--key-file=-", disk, "tmp-s", NULL };
    const char *close_[] = { "cryptsetup", "luksClose", "tmp-s", NULL };

    attach_ok(enc, pass);
    fill(path, 0, 0x24, MIB);
    detach_ok(enc);

    cr_assert_eq(run(open, nv_secure_buf_str(pass), NULL), 0);
    cr_assert(holds("/dev/mapper/tmp-s", 0, 0x24, MIB));
    cr_assert_eq(run(close_, NULL, NULL), 0);
}

Test(interop, volume_from_qemu_img_create_luks_opens)
{
    g_autofree char *path = make_link("vol-t", disk_env("NVIRT_GUEST_DISK3"));
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = new_encryptor("luks", path, NULL, 0);

    cr_assert_eq(probe(disk_env("NVIRT_GUEST_DISK3")), NV_LUKS_PROBE_LUKS1);
    attach_ok(enc, pass);
    cr_assert(holds(path, INTEROP_OFFSET, INTEROP_HOST_BYTE, MIB),
              "no 0x%02x pattern at %d in the qemu-img volume", INTEROP_HOST_BYTE, INTEROP_OFFSET);
    detach_ok(enc);
}

/* The other half is on the host: tests/guest/test_guest_interop.c reads
 * this volume with qemu-io after the guest powered off. */
Test(interop, volume_formatted_here_for_qemu_to_read)
{
    const char *disk = disk_env("NVIRT_GUEST_DISK4");
    g_autofree char *path = make_link("vol-u", disk);
    g_autoptr(nv_secure_buf) pass = passphrase(GUEST_KEY_A);
    g_autoptr(nv_encryptor) enc = NULL;

    wipe(disk);
    enc = new_encryptor("luks", path, NULL, 0);
    attach_ok(enc, pass);
    fill(path, INTEROP_OFFSET, INTEROP_GUEST_BYTE, MIB);
    detach_ok(enc);
    cr_assert_eq(probe(disk), NV_LUKS_PROBE_LUKS1);
}

/* nvirt encryptor-attach / encryptor-detach, the real binary in the guest,
 * on a volume formatted beforehand with a cheap PBKDF (the command formats
 * with libcryptsetup's benchmarked default, seconds under TCG). */
static char *
cli_setup(const char *key_hex, char **info, char **meta)
{
    g_autofree char *dir = g_build_filename(g_get_tmp_dir(), "cli", NULL);
    g_autofree char *conf_text = g_strdup_printf("[key_manager]\nfixed_key = %s\n", key_hex);
    g_autofree char *link = make_link("vol-cli", disk_env("NVIRT_GUEST_DISK"));
    g_autofree char *info_text = g_strdup_printf(
        "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"vol-cli\", "
        "\"device_path\": \"%s\", \"encrypted\": true}}",
        link);
    const char *meta_text = "{\"provider\": \"luks\", \"control_location\": \"front-end\", "
                            "\"cipher\": \"aes-xts-plain64\", \"key_size\": 256, "
                            "\"encryption_key_id\": \"00000000-0000-0000-0000-000000000000\"}";
    char *conf = g_build_filename(dir, "nvirt.conf", NULL);

    g_mkdir_with_parents(dir, 0700);
    cr_assert(g_file_set_contents(conf, conf_text, -1, NULL));
    *info = g_build_filename(dir, "connection_info.json", NULL);
    cr_assert(g_file_set_contents(*info, info_text, -1, NULL));
    *meta = g_build_filename(dir, "encryption.json", NULL);
    cr_assert(g_file_set_contents(*meta, meta_text, -1, NULL));
    return conf;
}

static void
format_cheaply(const char *key_hex)
{
    g_autoptr(nv_secure_buf) pass = passphrase(key_hex);
    g_autoptr(GError) error = NULL;

    cr_assert(nv_luks_format(disk_env("NVIRT_GUEST_DISK"), NV_LUKS_TYPE_LUKS1, "aes-xts-plain64",
                             256, pass, CHEAP_PBKDF2, &error),
              "%s", error ? error->message : "");
}

Test(cli, encryptor_attach_and_detach_open_and_close_the_mapping)
{
    const char *nvirt = disk_env("NVIRT_BIN");
    g_autofree char *info = NULL;
    g_autofree char *meta = NULL;
    g_autofree char *conf = cli_setup(GUEST_KEY_A, &info, &meta);
    const char *attach[] = { nvirt, "encryptor-attach", "--config", conf, "--connection-info",
                             info,  "--encryption",     meta,       NULL };
    const char *detach[] = { nvirt, "encryptor-detach", "--config", conf,     "--connection-info",
                             info,  "--encryption",     meta,       "--json", NULL };
    g_autofree char *out = NULL;
    g_autofree char *json = NULL;
    g_autofree char *target = NULL;
    g_autofree char *restored = NULL;

    format_cheaply(GUEST_KEY_A);
    cr_assert_eq(run(attach, NULL, &out), 0);
    cr_assert_str_eq(out, LINK_DIR "/vol-cli\n");
    cr_assert(dm_active("crypt-vol-cli"));
    target = link_target(LINK_DIR "/vol-cli");
    cr_assert_str_eq(target, "/dev/mapper/crypt-vol-cli");

    cr_assert_eq(run(detach, NULL, &json), 0);
    cr_assert_not_null(strstr(json, "\"mapping\" : \"crypt-vol-cli\""), "%s", json);
    cr_assert_not(dm_active("crypt-vol-cli"));
    restored = link_target(LINK_DIR "/vol-cli");
    cr_assert_str_eq(restored, disk_env("NVIRT_GUEST_DISK"));
}

Test(cli, encryptor_attach_with_the_wrong_key_fails_and_leaves_nothing)
{
    const char *nvirt = disk_env("NVIRT_BIN");
    g_autofree char *info = NULL;
    g_autofree char *meta = NULL;
    g_autofree char *conf = cli_setup(GUEST_KEY_B, &info, &meta);
    const char *attach[] = { nvirt, "encryptor-attach", "--config", conf, "--connection-info",
                             info,  "--encryption",     meta,       NULL };
    g_autofree char *out = NULL;
    g_autofree char *target = NULL;

    format_cheaply(GUEST_KEY_A);
    cr_assert_eq(run(attach, NULL, &out), 1);
    cr_assert_str_empty(out);
    cr_assert_not(dm_active("crypt-vol-cli"));
    target = link_target(LINK_DIR "/vol-cli");
    cr_assert_str_eq(target, disk_env("NVIRT_GUEST_DISK"));
    cr_assert_eq(probe(disk_env("NVIRT_GUEST_DISK")), NV_LUKS_PROBE_LUKS1);
}
