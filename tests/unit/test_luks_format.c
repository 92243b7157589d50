/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Safe LUKS probe / format / passphrase check (encryptors/luks_format.c) on
 * plain files: libblkid, crypt_format, crypt_load and passphrase checks all
 * work without device-mapper.  Formats use PBKDF2 with 1000 iterations
 * (LUKS1's minimum) except the one test that proves the default path.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "encryptors/luks_format.h"
#include "nvirt/error.h"
#include "support.h"
#include "util/secure.h"

#define VOLUME_SIZE (32 * 1024 * 1024) /* room for a LUKS2 header (16 MiB) */
#define CHEAP_PBKDF 1000

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

TestSuite(luks_probe, .init = setup, .fini = teardown);
TestSuite(luks_format, .init = setup, .fini = teardown);
TestSuite(luks_check_passphrase, .init = setup, .fini = teardown);

/* A sparse, zero-filled volume in the test's directory. */
static char *
blank_volume(const char *name)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    cr_assert(fd >= 0, "create %s: %s", path, g_strerror(errno));
    cr_assert_eq(ftruncate(fd, VOLUME_SIZE), 0);
    close(fd);
    return path;
}

static void
write_at(const char *path, off_t offset, const void *data, gsize len)
{
    int fd = open(path, O_WRONLY);

    cr_assert(fd >= 0, "open %s: %s", path, g_strerror(errno));
    cr_assert_eq(pwrite(fd, data, len, offset), (ssize_t)len);
    close(fd);
}

static char *
file_digest(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;

    cr_assert(g_file_get_contents(path, &data, &len, &error), "%s", error ? error->message : "");
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

/* A random volume key, as Cinder's key manager would create one. */
static nv_secure_buf *
random_key(gsize len)
{
    nv_secure_buf *key = nv_secure_buf_new(len);

    for (gsize i = 0; i < len; i++)
        nv_secure_buf_data(key)[i] = (guint8)g_random_int_range(0, 256);
    return key;
}

/* Nova's passphrase for a fresh random key. */
static nv_secure_buf *
random_passphrase(void)
{
    g_autoptr(nv_secure_buf) key = random_key(32);

    return nv_secure_buf_to_hex(key);
}

/* Run @argv (looked up in PATH and the sbin directories) with @input on
 * stdin; returns the exit status, or -1 if the program is not installed. */
static int
run_with_stdin(const char *const *argv, const char *input)
{
    g_autofree char *prog = g_find_program_in_path(argv[0]);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    GPid pid;
    int in_fd = -1;
    int status = 0;

    if (!prog) {
        const char *dirs[] = { "/usr/sbin", "/sbin" };

        for (gsize i = 0; i < G_N_ELEMENTS(dirs) && !prog; i++) {
            char *candidate = g_build_filename(dirs[i], argv[0], NULL);

            if (g_file_test(candidate, G_FILE_TEST_IS_EXECUTABLE))
                prog = candidate;
            else
                g_free(candidate);
        }
    }
    if (!prog)
        return -1;
    g_ptr_array_add(args, prog);
    for (gsize i = 1; argv[i]; i++)
        g_ptr_array_add(args, (gpointer)argv[i]);
    g_ptr_array_add(args, NULL);

    cr_assert(g_spawn_async_with_pipes(NULL, (char **)args->pdata, NULL,
                                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                           G_SPAWN_STDERR_TO_DEV_NULL,
                                       NULL, NULL, &pid, &in_fd, NULL, NULL, &error),
              "spawn %s: %s", argv[0], error ? error->message : "");
    if (input)
        cr_assert_eq(write(in_fd, input, strlen(input)), (ssize_t)strlen(input));
    close(in_fd);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    g_spawn_close_pid(pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void
run_or_skip(const char *const *argv, const char *input)
{
    int status = run_with_stdin(argv, input);

    if (status < 0)
        cr_skip_test("%s is not installed", argv[0]);
    cr_assert_eq(status, 0, "%s exited with %d", argv[0], status);
}

/* `cryptsetup luksFormat --type luks1`, as os-brick runs it, passphrase on
 * stdin; cheap PBKDF. */
static void
cryptsetup_luks_format(const char *path, const nv_secure_buf *passphrase)
{
    const char *argv[] = { "cryptsetup", "luksFormat",   "--batch-mode",
                           "--type",     "luks1",        "--pbkdf-force-iterations",
                           "1000",       "--key-file=-", path,
                           NULL };

    run_or_skip(argv, nv_secure_buf_str(passphrase));
}

static void
format_or_fail(const char *path, nv_luks_type type, const char *cipher, guint bits,
               const nv_secure_buf *passphrase)
{
    g_autoptr(GError) error = NULL;

    cr_assert(nv_luks_format(path, type, cipher, bits, passphrase, CHEAP_PBKDF, &error), "%s",
              error ? error->message : "");
}

/* A handle with the LUKS header of @path loaded; caller crypt_free()s it. */
static struct crypt_device *
load_luks(const char *path)
{
    struct crypt_device *cd = NULL;

    cr_assert_eq(crypt_init(&cd, path), 0);
    cr_assert_eq(crypt_load(cd, CRYPT_LUKS, NULL), 0, "%s has no loadable LUKS header", path);
    return cd;
}

/* Volumes with a non-LUKS signature, made the way they appear in the wild. */
static void
make_ext4(const char *path)
{
    const char *argv[] = { "mkfs.ext4", "-F", "-q", path, NULL };

    run_or_skip(argv, NULL);
}

static void
make_swap(const char *path)
{
    const char *argv[] = { "mkswap", "-q", path, NULL };

    run_or_skip(argv, NULL);
}

/* Only the ext2/3/4 magic 0xEF53 (s_magic, at 1024 + 56): the least a file
 * system leaves behind. */
static void
make_ext_magic(const char *path)
{
    const guint8 magic[] = { 0x53, 0xef };

    write_at(path, 1080, magic, sizeof(magic));
}

/* An MBR with one Linux partition (sectors 2048..10239) and the 0x55AA boot
 * signature. */
static void
make_dos_partition_table(const char *path)
{
    guint8 mbr[512] = { 0 };
    guint8 *entry = mbr + 446;

    entry[4] = 0x83; /* partition type: Linux */
    entry[8] = 0x00; /* first LBA, little endian: 2048 */
    entry[9] = 0x08;
    entry[12] = 0x00; /* sector count: 8192 */
    entry[13] = 0x20;
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    write_at(path, 0, mbr, sizeof(mbr));
}

typedef struct {
    void (*make)(const char *path);
    const char *signature;
} signature_case;

static const signature_case signature_cases[] = {
    { make_ext4, "ext4" },
    { make_ext_magic, "ext2" },
    { make_swap, "swap" },
    { make_dos_partition_table, "dos" },
};

/* Criterion copies parameters into the test process: pass indices, not
 * pointers. */
ParameterizedTestParameters(luks_probe, reports_other_signature)
{
    static int idx[G_N_ELEMENTS(signature_cases)];

    for (gsize i = 0; i < G_N_ELEMENTS(idx); i++)
        idx[i] = (int)i;
    return cr_make_param_array(int, idx, G_N_ELEMENTS(idx));
}

ParameterizedTest(int *idx, luks_probe, reports_other_signature)
{
    const signature_case *c = &signature_cases[*idx];
    g_autofree char *path = blank_volume("vol");
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    c->make(path);
    cr_assert(nv_luks_probe(path, &result, &error), "%s", error ? error->message : "");
    cr_assert_eq(result.kind, NV_LUKS_PROBE_OTHER, "%s probed as %s", c->signature,
                 nv_luks_probe_kind_to_string(result.kind));
    cr_assert_str_eq(result.signature, c->signature);
}

Test(luks_probe, reports_blank_for_zero_filled_volume)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    cr_assert(nv_luks_probe(path, &result, &error), "%s", error ? error->message : "");
    cr_assert_eq(result.kind, NV_LUKS_PROBE_BLANK);
    cr_assert_str_eq(result.signature, "");
}

Test(luks_probe, reports_luks1_for_luks1_volume)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    format_or_fail(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase);
    cr_assert(nv_luks_probe(path, &result, &error), "%s", error ? error->message : "");
    cr_assert_eq(result.kind, NV_LUKS_PROBE_LUKS1);
    cr_assert_str_eq(result.signature, "crypto_LUKS");
}

Test(luks_probe, reports_luks2_for_luks2_volume)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    format_or_fail(path, NV_LUKS_TYPE_LUKS2, NULL, 0, passphrase);
    cr_assert(nv_luks_probe(path, &result, &error), "%s", error ? error->message : "");
    cr_assert_eq(result.kind, NV_LUKS_PROBE_LUKS2);
    cr_assert_str_eq(result.signature, "crypto_LUKS");
}

Test(luks_probe, reports_luks1_for_volume_cryptsetup_formatted)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    cryptsetup_luks_format(path, passphrase);
    cr_assert(nv_luks_probe(path, &result, &error), "%s", error ? error->message : "");
    cr_assert_eq(result.kind, NV_LUKS_PROBE_LUKS1);
}

static void
assert_probe_fails(const char *path, const char *message)
{
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    cr_assert_not(nv_luks_probe(path, &result, &error), "%s probed as %s", path,
                  nv_luks_probe_kind_to_string(result.kind));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CRYPT), "code %d", error->code);
    cr_assert_str_eq(error->message, message);
}

Test(luks_probe, fails_on_missing_path)
{
    g_autofree char *path = g_build_filename(tmpdir, "missing", NULL);
    g_autofree char *message =
        g_strdup_printf("volume %s: cannot probe it: No such file or directory", path);

    assert_probe_fails(path, message);
}

Test(luks_probe, fails_on_directory)
{
    g_autofree char *message =
        g_strdup_printf("volume %s: cannot probe it: not a block device or regular file", tmpdir);

    assert_probe_fails(tmpdir, message);
}

/* Root can open almost anything; a write-only sysfs attribute it cannot. */
Test(luks_probe, fails_when_open_is_denied)
{
    const char *path = "/sys/bus/pci/rescan";

    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        cr_skip_test("%s not present", path);
    assert_probe_fails(path,
                       "volume /sys/bus/pci/rescan: libblkid cannot open it: Permission denied");
}

/* /proc/self/mem is a regular file whose first page is never mapped: every
 * read at offset 0 fails with EIO, the closest a test gets to a bad disk. */
Test(luks_probe, fails_when_reads_fail)
{
    assert_probe_fails("/proc/self/mem",
                       "volume /proc/self/mem: libcryptsetup cannot read it: Input/output error");
}

Test(luks_probe, fails_on_ambiguous_signatures)
{
    g_autofree char *path = blank_volume("vol");
    g_autofree char *message = g_strdup_printf(
        "volume %s: libblkid finds more than one signature (ambiguous probe)", path);

    make_swap(path);
    make_ext_magic(path);
    assert_probe_fails(path, message);
}

/* Both LUKS2 header copies with a damaged JSON area: blkid still sees the
 * magic, crypt_load refuses the checksums.  Someone's data, never blank. */
Test(luks_probe, fails_on_luks_header_libcryptsetup_cannot_load)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    g_autofree char *message = g_strdup_printf(
        "volume %s: libblkid sees a LUKS2 header that libcryptsetup cannot load", path);
    const char garbage = 'X';
    struct crypt_device *cd = NULL;
    uint64_t hdr_size = 0;
    uint64_t keyslots_size = 0;

    format_or_fail(path, NV_LUKS_TYPE_LUKS2, NULL, 0, passphrase);
    cd = load_luks(path);
    cr_assert_eq(crypt_get_metadata_size(cd, &hdr_size, &keyslots_size), 0);
    crypt_free(cd);
    /* Each copy is a 4 KiB binary header followed by its JSON area; the
     * second copy starts at hdr_size.  One copy damaged would be repaired
     * by crypt_load from the other, so damage both. */
    write_at(path, 4096 + 5, &garbage, 1);
    write_at(path, (off_t)hdr_size + 4096 + 5, &garbage, 1);
    assert_probe_fails(path, message);
}

Test(luks_format, refuses_volume_with_other_signature)
{
    for (gsize i = 0; i < G_N_ELEMENTS(signature_cases); i++) {
        g_autofree char *name = g_strdup_printf("vol%zu", i);
        g_autofree char *path = blank_volume(name);
        g_autoptr(nv_secure_buf) passphrase = random_passphrase();
        g_autoptr(GError) error = NULL;
        g_autofree char *before = NULL;
        g_autofree char *after = NULL;
        g_autofree char *message = NULL;

        signature_cases[i].make(path);
        before = file_digest(path);
        cr_assert_not(
            nv_luks_format(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase, CHEAP_PBKDF, &error));
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED));
        message = g_strdup_printf(
            "volume %s carries a %s signature and no LUKS header: refusing to format", path,
            signature_cases[i].signature);
        cr_assert_str_eq(error->message, message);
        after = file_digest(path);
        cr_assert_str_eq(after, before, "%s volume was modified", signature_cases[i].signature);
    }
}

/* An existing LUKS volume is never reformatted: its data key stays, so the
 * original passphrase still opens it. */
static void
assert_refuses_existing_luks(nv_luks_type type, const char *type_name)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) original = random_passphrase();
    g_autoptr(nv_secure_buf) other = random_passphrase();
    g_autoptr(GError) error = NULL;
    g_autofree char *message = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    format_or_fail(path, type, NULL, 0, original);
    before = file_digest(path);
    cr_assert_not(nv_luks_format(path, NV_LUKS_TYPE_LUKS1, NULL, 0, other, CHEAP_PBKDF, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED));
    message = g_strdup_printf("volume %s already carries a %s header: refusing to format", path,
                              type_name);
    cr_assert_str_eq(error->message, message);
    after = file_digest(path);
    cr_assert_str_eq(after, before);
    cr_assert(nv_luks_check_passphrase(path, original, NULL));
}

Test(luks_format, refuses_existing_luks1_volume)
{
    assert_refuses_existing_luks(NV_LUKS_TYPE_LUKS1, "LUKS1");
}

Test(luks_format, refuses_existing_luks2_volume)
{
    assert_refuses_existing_luks(NV_LUKS_TYPE_LUKS2, "LUKS2");
}

Test(luks_format, passes_probe_errors_on)
{
    g_autofree char *path = g_build_filename(tmpdir, "missing", NULL);
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    g_autoptr(GError) error = NULL;
    g_autofree char *message =
        g_strdup_printf("volume %s: cannot probe it: No such file or directory", path);

    cr_assert_not(
        nv_luks_format(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase, CHEAP_PBKDF, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CRYPT));
    cr_assert_str_eq(error->message, message);
}

/* With no cipher and key size, the volume must look like what
 * `cryptsetup luksFormat --type luks1` makes (os-brick's _format_volume
 * with a volume type that sets neither). */
Test(luks_format, defaults_match_cryptsetup_luks_format)
{
    g_autofree char *ours = blank_volume("ours");
    g_autofree char *theirs = blank_volume("theirs");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    struct crypt_device *a;
    struct crypt_device *b;

    cryptsetup_luks_format(theirs, passphrase);
    format_or_fail(ours, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase);
    a = load_luks(ours);
    b = load_luks(theirs);
    cr_assert_str_eq(crypt_get_type(a), CRYPT_LUKS1);
    cr_assert_str_eq(crypt_get_type(a), crypt_get_type(b));
    cr_assert_str_eq(crypt_get_cipher(a), crypt_get_cipher(b));
    cr_assert_str_eq(crypt_get_cipher_mode(a), crypt_get_cipher_mode(b));
    cr_assert_eq(crypt_get_volume_key_size(a), crypt_get_volume_key_size(b));
    cr_assert_eq(crypt_get_data_offset(a), crypt_get_data_offset(b));
    crypt_free(a);
    crypt_free(b);
}

typedef struct {
    const char *cipher;
    guint key_bits;
    const char *want_cipher;
    const char *want_mode;
} cipher_case;

static const cipher_case cipher_cases[] = {
    { "aes-xts-plain64", 256, "aes", "xts-plain64" },
    { "aes-xts-plain64", 512, "aes", "xts-plain64" },
    { "aes-cbc-essiv:sha256", 256, "aes", "cbc-essiv:sha256" },
    /* cryptsetup's shorthand: a bare cipher name means CBC with plain IVs. */
    { "aes", 128, "aes", "cbc-plain" },
};

ParameterizedTestParameters(luks_format, uses_requested_cipher_and_key_size)
{
    static int idx[G_N_ELEMENTS(cipher_cases)];

    for (gsize i = 0; i < G_N_ELEMENTS(idx); i++)
        idx[i] = (int)i;
    return cr_make_param_array(int, idx, G_N_ELEMENTS(idx));
}

ParameterizedTest(int *idx, luks_format, uses_requested_cipher_and_key_size)
{
    const cipher_case *c = &cipher_cases[*idx];
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    struct crypt_device *cd;

    format_or_fail(path, NV_LUKS_TYPE_LUKS1, c->cipher, c->key_bits, passphrase);
    cd = load_luks(path);
    cr_assert_str_eq(crypt_get_type(cd), CRYPT_LUKS1);
    cr_assert_str_eq(crypt_get_cipher(cd), c->want_cipher);
    cr_assert_str_eq(crypt_get_cipher_mode(cd), c->want_mode);
    cr_assert_eq(crypt_get_volume_key_size(cd), (int)(c->key_bits / 8));
    crypt_free(cd);
    cr_assert(nv_luks_check_passphrase(path, passphrase, NULL));
}

Test(luks_format, formats_luks2_when_asked)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    struct crypt_device *cd;

    format_or_fail(path, NV_LUKS_TYPE_LUKS2, "aes-xts-plain64", 512, passphrase);
    cd = load_luks(path);
    cr_assert_str_eq(crypt_get_type(cd), CRYPT_LUKS2);
    crypt_free(cd);
    cr_assert(nv_luks_check_passphrase(path, passphrase, NULL));
}

/* The production path: libcryptsetup's benchmarked PBKDF (~2 s each for the
 * format and the check). */
Test(luks_format, default_pbkdf_volume_opens, .timeout = 120)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    g_autoptr(GError) error = NULL;
    struct crypt_pbkdf_type pbkdf = { 0 };
    struct crypt_device *cd;

    cr_assert(nv_luks_format(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase, 0, &error), "%s",
              error ? error->message : "");
    cd = load_luks(path);
    cr_assert_eq(crypt_keyslot_get_pbkdf(cd, 0, &pbkdf), 0);
    cr_assert_str_eq(pbkdf.type, CRYPT_KDF_PBKDF2);
    /* Benchmarked for ~2 s: far more than the cheap test setting. */
    cr_assert_gt(pbkdf.iterations, CHEAP_PBKDF);
    crypt_free(cd);
    cr_assert(nv_luks_check_passphrase(path, passphrase, &error), "%s",
              error ? error->message : "");
}

Test(luks_format, opens_with_cryptsetup_and_hex_passphrase)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    const char *argv[] = { "cryptsetup", "open", "--test-passphrase", "--key-file=-", path, NULL };

    format_or_fail(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase);
    run_or_skip(argv, nv_secure_buf_str(passphrase));
}

typedef struct {
    const char *cipher;
    guint key_bits;
    const char *message; /* after "volume PATH: " */
} bad_input_case;

static const bad_input_case bad_input_cases[] = {
    { "", 0, "cipher '' is not of the form CIPHER-MODE (e.g. aes-xts-plain64)" },
    { "-xts-plain64", 0,
      "cipher '-xts-plain64' is not of the form CIPHER-MODE (e.g. aes-xts-plain64)" },
    { "aes-", 0, "cipher 'aes-' is not of the form CIPHER-MODE (e.g. aes-xts-plain64)" },
    { "aes-xts-plain64", 100, "key size 100 is not a multiple of 8 bits" },
};

Test(luks_format, rejects_malformed_cipher_or_key_size)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bad_input_cases); i++) {
        const bad_input_case *c = &bad_input_cases[i];
        g_autofree char *path = blank_volume("vol");
        g_autoptr(nv_secure_buf) passphrase = random_passphrase();
        g_autoptr(GError) error = NULL;
        g_autofree char *message = NULL;
        g_autofree char *before = file_digest(path);
        g_autofree char *after = NULL;

        cr_assert_not(nv_luks_format(path, NV_LUKS_TYPE_LUKS1, c->cipher, c->key_bits, passphrase,
                                     CHEAP_PBKDF, &error),
                      "case %zu", i);
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT), "case %zu", i);
        message = g_strdup_printf("volume %s: %s", path, c->message);
        cr_assert_str_eq(error->message, message);
        after = file_digest(path);
        cr_assert_str_eq(after, before);
    }
}

Test(luks_format, reports_cipher_libcryptsetup_rejects)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    g_autoptr(GError) error = NULL;
    g_autofree char *prefix = NULL;

    cr_assert_not(nv_luks_format(path, NV_LUKS_TYPE_LUKS1, "nosuch-xts-plain64", 512, passphrase,
                                 CHEAP_PBKDF, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CRYPT));
    /* The tail is libcryptsetup's own wording, which varies by version. */
    prefix = g_strdup_printf(
        "volume %s: cannot format as LUKS1 with cipher nosuch-xts-plain64 and a 512-bit key: ",
        path);
    cr_assert(g_str_has_prefix(error->message, prefix), "%s", error->message);
    cr_assert_null(strchr(error->message, '\n'));
}

Test(luks_check_passphrase, accepts_right_passphrase)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    g_autoptr(GError) error = NULL;

    format_or_fail(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase);
    cr_assert(nv_luks_check_passphrase(path, passphrase, &error), "%s",
              error ? error->message : "");
}

Test(luks_check_passphrase, rejects_wrong_passphrase)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    g_autoptr(nv_secure_buf) wrong = random_passphrase();
    g_autoptr(GError) error = NULL;
    g_autofree char *message =
        g_strdup_printf("volume %s: passphrase does not open any keyslot", path);

    format_or_fail(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase);
    cr_assert_not(nv_luks_check_passphrase(path, wrong, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_WRONG_PASSPHRASE));
    cr_assert_str_eq(error->message, message);
}

Test(luks_check_passphrase, fails_on_volume_without_luks_header)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = random_passphrase();
    g_autoptr(GError) error = NULL;
    g_autofree char *prefix = NULL;

    cr_assert_not(nv_luks_check_passphrase(path, passphrase, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CRYPT));
    prefix = g_strdup_printf("volume %s carries no LUKS header", path);
    cr_assert(g_str_has_prefix(error->message, prefix), "%s", error->message);
}

/* os-brick formats with hexlify(key) on stdin; the same key must open the
 * volume here, and only in Nova's lowercase spelling. */
Test(luks_check_passphrase, cryptsetup_volume_opens_with_lowercase_hex_of_key)
{
    g_autofree char *path = blank_volume("vol");
    g_autoptr(nv_secure_buf) key = random_key(32);
    g_autoptr(nv_secure_buf) passphrase = NULL;
    g_autoptr(nv_secure_buf) upper = NULL;
    g_autoptr(GError) error = NULL;
    gboolean has_letter = FALSE;

    /* A hex letter in the key, so the uppercase spelling differs. */
    nv_secure_buf_data(key)[0] = 0xab;
    passphrase = nv_secure_buf_to_hex(key);
    upper = nv_secure_buf_new_from(nv_secure_buf_cdata(passphrase), nv_secure_buf_len(passphrase));
    for (gsize i = 0; i < nv_secure_buf_len(upper); i++) {
        guint8 *ch = &nv_secure_buf_data(upper)[i];

        has_letter |= g_ascii_isalpha(*ch);
        *ch = (guint8)g_ascii_toupper(*ch);
    }
    cr_assert(has_letter);

    cryptsetup_luks_format(path, passphrase);
    cr_assert(nv_luks_check_passphrase(path, passphrase, &error), "%s",
              error ? error->message : "");
    cr_assert_not(nv_luks_check_passphrase(path, upper, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_WRONG_PASSPHRASE));
}
