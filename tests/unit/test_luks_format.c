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
#include "luks_test_helpers.h"
#include "nvirt/error.h"
#include "support.h"
#include "util/secure.h"

#define CHEAP_PBKDF LUKS_TEST_CHEAP_PBKDF

char *luks_test_dir;

TestSuite(luks_probe, .init = luks_test_setup, .fini = luks_test_teardown);
TestSuite(luks_format, .init = luks_test_setup, .fini = luks_test_teardown);
TestSuite(luks_check_passphrase, .init = luks_test_setup, .fini = luks_test_teardown);

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

    luks_test_write_at(path, 1080, magic, sizeof(magic));
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
    luks_test_write_at(path, 0, mbr, sizeof(mbr));
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
    g_autofree char *path = luks_test_volume("vol");
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
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    cr_assert(nv_luks_probe(path, &result, &error), "%s", error ? error->message : "");
    cr_assert_eq(result.kind, NV_LUKS_PROBE_BLANK);
    cr_assert_str_eq(result.signature, "");
}

Test(luks_probe, reports_luks1_for_luks1_volume)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    format_or_fail(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase);
    cr_assert(nv_luks_probe(path, &result, &error), "%s", error ? error->message : "");
    cr_assert_eq(result.kind, NV_LUKS_PROBE_LUKS1);
    cr_assert_str_eq(result.signature, "crypto_LUKS");
}

Test(luks_probe, reports_luks2_for_luks2_volume)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    format_or_fail(path, NV_LUKS_TYPE_LUKS2, NULL, 0, passphrase);
    cr_assert(nv_luks_probe(path, &result, &error), "%s", error ? error->message : "");
    cr_assert_eq(result.kind, NV_LUKS_PROBE_LUKS2);
    cr_assert_str_eq(result.signature, "crypto_LUKS");
}

Test(luks_probe, reports_luks1_for_volume_cryptsetup_formatted)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
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
    g_autofree char *path = g_build_filename(luks_test_dir, "missing", NULL);
    g_autofree char *message =
        g_strdup_printf("volume %s: cannot probe it: No such file or directory", path);

    assert_probe_fails(path, message);
}

Test(luks_probe, fails_on_directory)
{
    g_autofree char *message = g_strdup_printf(
        "volume %s: cannot probe it: not a block device or regular file", luks_test_dir);

    assert_probe_fails(luks_test_dir, message);
}

/* Root can open almost anything; a write-only sysfs attribute it cannot. */
Test(luks_probe, fails_when_open_is_denied)
{
    const char *path = "/sys/bus/pci/rescan";

    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        cr_skip_test("%s not present", path);
    assert_probe_fails(path, "volume /sys/bus/pci/rescan: cannot open it: Permission denied");
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
    g_autofree char *path = luks_test_volume("vol");
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
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    g_autofree char *message = g_strdup_printf(
        "volume %s: libblkid sees a LUKS2 header that libcryptsetup cannot load", path);
    const char garbage = 'X';
    struct crypt_device *cd = NULL;
    uint64_t hdr_size = 0;
    uint64_t keyslots_size = 0;

    format_or_fail(path, NV_LUKS_TYPE_LUKS2, NULL, 0, passphrase);
    cd = luks_test_load(path);
    cr_assert_eq(crypt_get_metadata_size(cd, &hdr_size, &keyslots_size), 0);
    crypt_free(cd);
    /* Each copy is a 4 KiB binary header followed by its JSON area; the
     * second copy starts at hdr_size.  One copy damaged would be repaired
     * by crypt_load from the other, so damage both. */
    luks_test_write_at(path, 4096 + 5, &garbage, 1);
    luks_test_write_at(path, (off_t)hdr_size + 4096 + 5, &garbage, 1);
    assert_probe_fails(path, message);
}

Test(luks_format, refuses_volume_with_other_signature)
{
    for (gsize i = 0; i < G_N_ELEMENTS(signature_cases); i++) {
        g_autofree char *name = g_strdup_printf("vol%zu", i);
        g_autofree char *path = luks_test_volume(name);
        g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
        g_autoptr(GError) error = NULL;
        g_autofree char *before = NULL;
        g_autofree char *after = NULL;
        g_autofree char *message = NULL;

        signature_cases[i].make(path);
        before = luks_test_digest(path);
        cr_assert_not(
            nv_luks_format(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase, CHEAP_PBKDF, &error));
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED));
        message = g_strdup_printf(
            "volume %s carries a %s signature and no LUKS header: refusing to format", path,
            signature_cases[i].signature);
        cr_assert_str_eq(error->message, message);
        after = luks_test_digest(path);
        cr_assert_str_eq(after, before, "%s volume was modified", signature_cases[i].signature);
    }
}

/* An existing LUKS volume is never reformatted: its data key stays, so the
 * original passphrase still opens it. */
static void
assert_refuses_existing_luks(nv_luks_type type, const char *type_name)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) original = luks_test_random_passphrase();
    g_autoptr(nv_secure_buf) other = luks_test_random_passphrase();
    g_autoptr(GError) error = NULL;
    g_autofree char *message = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    format_or_fail(path, type, NULL, 0, original);
    before = luks_test_digest(path);
    cr_assert_not(nv_luks_format(path, NV_LUKS_TYPE_LUKS1, NULL, 0, other, CHEAP_PBKDF, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED));
    message = g_strdup_printf("volume %s already carries a %s header: refusing to format", path,
                              type_name);
    cr_assert_str_eq(error->message, message);
    after = luks_test_digest(path);
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
    g_autofree char *path = g_build_filename(luks_test_dir, "missing", NULL);
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    g_autoptr(GError) error = NULL;
    g_autofree char *message =
        g_strdup_printf("volume %s: cannot open it: No such file or directory", path);

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
    g_autofree char *ours = luks_test_volume("ours");
    g_autofree char *theirs = luks_test_volume("theirs");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    struct crypt_device *a;
    struct crypt_device *b;

    cryptsetup_luks_format(theirs, passphrase);
    format_or_fail(ours, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase);
    a = luks_test_load(ours);
    b = luks_test_load(theirs);
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
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    struct crypt_device *cd;

    format_or_fail(path, NV_LUKS_TYPE_LUKS1, c->cipher, c->key_bits, passphrase);
    cd = luks_test_load(path);
    cr_assert_str_eq(crypt_get_type(cd), CRYPT_LUKS1);
    cr_assert_str_eq(crypt_get_cipher(cd), c->want_cipher);
    cr_assert_str_eq(crypt_get_cipher_mode(cd), c->want_mode);
    cr_assert_eq(crypt_get_volume_key_size(cd), (int)(c->key_bits / 8));
    crypt_free(cd);
    cr_assert(nv_luks_check_passphrase(path, passphrase, NULL));
}

Test(luks_format, formats_luks2_when_asked)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    struct crypt_device *cd;

    format_or_fail(path, NV_LUKS_TYPE_LUKS2, "aes-xts-plain64", 512, passphrase);
    cd = luks_test_load(path);
    cr_assert_str_eq(crypt_get_type(cd), CRYPT_LUKS2);
    crypt_free(cd);
    cr_assert(nv_luks_check_passphrase(path, passphrase, NULL));
}

/* The production path: libcryptsetup's benchmarked PBKDF (~2 s each for the
 * format and the check). */
Test(luks_format, default_pbkdf_volume_opens, .timeout = 120)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    g_autoptr(GError) error = NULL;
    struct crypt_pbkdf_type pbkdf = { 0 };
    struct crypt_device *cd;

    cr_assert(nv_luks_format(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase, 0, &error), "%s",
              error ? error->message : "");
    cd = luks_test_load(path);
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
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
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
        g_autofree char *path = luks_test_volume("vol");
        g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
        g_autoptr(GError) error = NULL;
        g_autofree char *message = NULL;
        g_autofree char *before = luks_test_digest(path);
        g_autofree char *after = NULL;

        cr_assert_not(nv_luks_format(path, NV_LUKS_TYPE_LUKS1, c->cipher, c->key_bits, passphrase,
                                     CHEAP_PBKDF, &error),
                      "case %zu", i);
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT), "case %zu", i);
        message = g_strdup_printf("volume %s: %s", path, c->message);
        cr_assert_str_eq(error->message, message);
        after = luks_test_digest(path);
        cr_assert_str_eq(after, before);
    }
}

Test(luks_format, reports_cipher_libcryptsetup_rejects)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
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
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    g_autoptr(GError) error = NULL;

    format_or_fail(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase);
    cr_assert(nv_luks_check_passphrase(path, passphrase, &error), "%s",
              error ? error->message : "");
}

Test(luks_check_passphrase, rejects_wrong_passphrase)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    g_autoptr(nv_secure_buf) wrong = luks_test_random_passphrase();
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
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
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
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) key = luks_test_random_key(32);
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

TestSuite(luks_probe_qcow2, .init = luks_test_setup, .fini = luks_test_teardown);
TestSuite(luks_unlock_cost, .init = luks_test_setup, .fini = luks_test_teardown);

/* libblkid has no qcow2 prober: the probe checks the magic itself. */
Test(luks_probe_qcow2, qcow2_magic_is_other_not_blank)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(GError) error = NULL;
    nv_luks_probe_result result;

    luks_test_write_at(path, 0, "QFI\xfb\0\0\0\3", 8);
    cr_assert(nv_luks_probe(path, &result, &error), "%s", error ? error->message : "");
    cr_assert_eq(result.kind, NV_LUKS_PROBE_OTHER);
    cr_assert_str_eq(result.signature, "qcow2");
}

/* A LUKS1 volume whose keyslot 0 has exactly @iterations PBKDF2 rounds. */
static char *
luks1_with_iterations(guint32 iterations)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    g_autoptr(GError) error = NULL;

    cr_assert(nv_luks_format(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase, iterations, &error),
              "%s", error ? error->message : "");
    return g_steal_pointer(&path);
}

/* issue 12: a keyslot asking for 2^31 iterations hung QEMU for minutes.
 * Formatting one costs as much as unlocking it, so the test bounds low
 * instead of formatting high. */
Test(luks_unlock_cost, pbkdf2_above_the_bound_is_refused)
{
    g_autofree char *path = luks1_with_iterations(5000);
    const nv_luks_unlock_bound bound = { .max_pbkdf2_iterations = 4999 };
    g_autoptr(GError) error = NULL;
    g_autofree char *message =
        g_strdup_printf("volume vol-1: keyslot 0 of %s asks for 5000 PBKDF2 iterations, more "
                        "than the bound of 4999: refusing to unlock it",
                        path);

    cr_assert_not(nv_luks_check_unlock_cost("vol-1", path, &bound, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED));
    cr_assert_str_eq(error->message, message);
}

Test(luks_unlock_cost, pbkdf2_at_or_under_the_bound_is_accepted)
{
    g_autofree char *path = luks1_with_iterations(5000);
    const nv_luks_unlock_bound bound = { .max_pbkdf2_iterations = 5000 };
    g_autoptr(GError) error = NULL;

    cr_assert(nv_luks_check_unlock_cost("vol-1", path, &bound, &error), "%s",
              error ? error->message : "");
    cr_assert(nv_luks_check_unlock_cost("vol-1", path, NULL, &error), "%s",
              error ? error->message : "");
}

/* Every active keyslot counts, not only the first. */
Test(luks_unlock_cost, any_costly_keyslot_is_refused)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    g_autoptr(nv_secure_buf) second = luks_test_random_passphrase();
    const nv_luks_unlock_bound bound = { .max_pbkdf2_iterations = 4000 };
    struct crypt_pbkdf_type pbkdf = { .type = CRYPT_KDF_PBKDF2,
                                      .hash = "sha256",
                                      .iterations = 8000,
                                      .flags = CRYPT_PBKDF_NO_BENCHMARK };
    g_autoptr(GError) error = NULL;
    struct crypt_device *cd;
    g_autofree char *message = NULL;

    /* A cheap slot 0, then a costly slot 1. */
    cr_assert(nv_luks_format(path, NV_LUKS_TYPE_LUKS1, NULL, 0, passphrase, 1000, NULL));
    cd = luks_test_load(path);
    cr_assert_eq(crypt_set_pbkdf_type(cd, &pbkdf), 0);
    cr_assert_eq(crypt_keyslot_add_by_passphrase(
                     cd, 1, nv_secure_buf_str(passphrase), nv_secure_buf_len(passphrase),
                     nv_secure_buf_str(second), nv_secure_buf_len(second)),
                 1);
    crypt_free(cd);
    message = g_strdup_printf("volume vol-1: keyslot 1 of %s asks for 8000 PBKDF2 iterations, "
                              "more than the bound of 4000: refusing to unlock it",
                              path);
    cr_assert_not(nv_luks_check_unlock_cost("vol-1", path, &bound, &error));
    cr_assert_str_eq(error->message, message);
}

/* LUKS2 keyslots use argon2: memory and passes x memory are bounded. */
Test(luks_unlock_cost, argon2_memory_and_work_are_bounded)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
    struct crypt_pbkdf_type argon = { .type = CRYPT_KDF_ARGON2ID,
                                      .hash = "sha256",
                                      .iterations = 4,
                                      .max_memory_kb = 1024,
                                      .parallel_threads = 1,
                                      .flags = CRYPT_PBKDF_NO_BENCHMARK };
    const nv_luks_unlock_bound memory_bound = { .max_argon2_memory_kib = 1023 };
    const nv_luks_unlock_bound work_bound = { .max_argon2_cost = 4095 };
    const nv_luks_unlock_bound enough = { .max_argon2_memory_kib = 1024, .max_argon2_cost = 4096 };
    g_autoptr(GError) error = NULL;
    g_autofree char *memory_msg = NULL;
    g_autofree char *work_msg = NULL;
    struct crypt_device *cd = NULL;

    cr_assert_eq(crypt_init(&cd, path), 0);
    cr_assert_eq(crypt_set_pbkdf_type(cd, &argon), 0);
    cr_assert_eq(crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, NULL), 0);
    cr_assert_eq(crypt_keyslot_add_by_volume_key(cd, 0, NULL, 0, nv_secure_buf_str(passphrase),
                                                 nv_secure_buf_len(passphrase)),
                 0);
    crypt_free(cd);

    memory_msg = g_strdup_printf("volume vol-1: keyslot 0 of %s asks for 1024 KiB of argon2 "
                                 "memory, more than the bound of 1023: refusing to unlock it",
                                 path);
    cr_assert_not(nv_luks_check_unlock_cost("vol-1", path, &memory_bound, &error));
    cr_assert_str_eq(error->message, memory_msg);
    g_clear_error(&error);
    work_msg = g_strdup_printf("volume vol-1: keyslot 0 of %s asks for 4096 argon2 KiB-passes "
                               "(time cost x memory), more than the bound of 4095: refusing to "
                               "unlock it",
                               path);
    cr_assert_not(nv_luks_check_unlock_cost("vol-1", path, &work_bound, &error));
    cr_assert_str_eq(error->message, work_msg);
    g_clear_error(&error);
    cr_assert(nv_luks_check_unlock_cost("vol-1", path, &enough, &error), "%s",
              error ? error->message : "");
}

Test(luks_unlock_cost, volume_without_luks_header_fails)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(GError) error = NULL;
    g_autofree char *prefix = NULL;

    cr_assert_not(nv_luks_check_unlock_cost("vol-1", path, NULL, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CRYPT));
    prefix = g_strdup_printf("volume vol-1: %s carries no LUKS header", path);
    cr_assert(g_str_has_prefix(error->message, prefix), "%s", error->message);
}

/* The payload offset extend-volume subtracts (Nova reads it from qemu-img
 * info): the layouts libcryptsetup writes by default, 2 MiB for LUKS1 with
 * a 512-bit XTS key (cryptsetup's alignment of 1 MiB, header 1 MiB) and
 * 16 MiB for LUKS2 (its 16 MiB metadata and keyslot area). */
TestSuite(luks_payload_offset, .init = luks_test_setup, .fini = luks_test_teardown);

Test(luks_payload_offset, is_where_the_encrypted_data_starts)
{
    const struct {
        nv_luks_type type;
        guint64 offset;
    } cases[] = {
        { NV_LUKS_TYPE_LUKS1, 2 * 1024 * 1024 },
        { NV_LUKS_TYPE_LUKS2, 16 * 1024 * 1024 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name = g_strdup_printf("vol%zu", i);
        g_autofree char *path = luks_test_volume(name);
        g_autoptr(nv_secure_buf) passphrase = luks_test_random_passphrase();
        g_autoptr(GError) error = NULL;
        guint64 offset = 0;

        format_or_fail(path, cases[i].type, NULL, 0, passphrase);
        cr_assert(nv_luks_get_payload_offset("vol-1", path, &offset, &error), "%s",
                  error ? error->message : "");
        cr_assert_eq(offset, cases[i].offset, "case %zu: %" G_GUINT64_FORMAT, i, offset);
    }
}

Test(luks_payload_offset, volume_without_luks_header_fails)
{
    g_autofree char *path = luks_test_volume("vol");
    g_autoptr(GError) error = NULL;
    g_autofree char *prefix = NULL;
    guint64 offset = 1;

    cr_assert_not(nv_luks_get_payload_offset("vol-1", path, &offset, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CRYPT));
    prefix = g_strdup_printf("volume vol-1: %s carries no LUKS header", path);
    cr_assert(g_str_has_prefix(error->message, prefix), "%s", error->message);
    cr_assert_eq(offset, 0);
}
