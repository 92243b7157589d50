/* SPDX-License-Identifier: Apache-2.0 */
/* Several configuration files in oslo.config's order, inputs that are not
 * regular files, and the fixed key's way in without stray copies
 * (src/conf/conf.c nv_conf_load_files, src/conf/ini.c). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <iniparser/iniparser.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/conf.h"
#include "memscan.h"
#include "nvirt/error.h"
#include "support.h"

static char *tmpdir;

static void
setup_tmpdir(void)
{
    tmpdir = nv_test_mkdtemp();
}

static void
teardown_tmpdir(void)
{
    nv_test_rmtree(tmpdir);
    g_clear_pointer(&tmpdir, g_free);
}

/* Write @content (a literal: it may hold a key, which must not be copied to
 * the heap here) to @name under the scratch directory; returns the path. */
static char *
write_file(const char *name, const char *content)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    g_autofree char *dir = g_path_get_dirname(path);

    cr_assert_eq(g_mkdir_with_parents(dir, 0700), 0);
    cr_assert(g_file_set_contents(path, content, -1, NULL), "cannot write %s", path);
    return path;
}

static nv_conf *
load_files_ok(const char *const *files, const char *dir)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) warnings = NULL;
    nv_conf *conf = nv_conf_load_files(files, dir, &warnings, &error);

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_eq(warnings->len, 0, "unexpected warning: %s",
                 warnings->len ? (const char *)g_ptr_array_index(warnings, 0) : "");
    return conf;
}

static void
assert_files_fail(const char *const *files, const char *dir, const char *expected)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load_files(files, dir, NULL, &error);

    cr_assert_null(conf);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG), "code %d: %s",
              error ? error->code : -1, error ? error->message : "");
    cr_assert_str_eq(error->message, expected);
}

/* ---- oslo.config order ------------------------------------------------ */

Test(conf_files, files_in_order_then_the_directory_sorted, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *a = write_file("a.conf", "[DEFAULT]\nstate_path = /a\n"
                                              "[libvirt]\nvirt_type = kvm\n"
                                              "device_detach_timeout = 11\n");
    g_autofree char *b = write_file("b.conf", "[libvirt]\nvirt_type = qemu\n"
                                              "connection_uri = qemu:///b\n");
    g_autofree char *c = write_file("c.conf", "[libvirt]\ndevice_detach_timeout = 33\n");
    g_autofree char *d10 =
        write_file("d/10-late.conf", "[libvirt]\nconnection_uri = qemu:///d10\n");
    g_autofree char *d02 = write_file("d/02-early.conf", "[DEFAULT]\nstate_path = /d02\n"
                                                         "[libvirt]\nconnection_uri = qemu:///d02\n"
                                                         "device_detach_timeout = 2\n");
    /* oslo.config globs DIR/\*.conf: no hidden files, nothing else. */
    g_autofree char *hidden = write_file("d/.99-hidden.conf", "[libvirt]\nvirt_type = lxc\n");
    g_autofree char *other = write_file("d/99-other.txt", "[libvirt]\nvirt_type = lxc\n");
    g_autofree char *dir = g_build_filename(tmpdir, "d", NULL);
    const char *files[] = { a, b, c, NULL };
    g_autoptr(nv_conf) conf = load_files_ok(files, dir);

    cr_assert_str_eq(conf->libvirt.virt_type, "qemu");             /* b over a */
    cr_assert_str_eq(conf->libvirt.connection_uri, "qemu:///d10"); /* dir, 10 after 02 */
    cr_assert_eq(conf->libvirt.device_detach_timeout, 2);          /* dir over c */
    cr_assert_str_eq(conf->state_path, "/d02");                    /* dir over a */
    /* $state_path is expanded with the final value, whichever file set it. */
    cr_assert_str_eq(conf->libvirt.nfs_mount_point_base, "/d02/mnt");
}

Test(conf_files, later_file_overrides_the_fixed_key, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *a = write_file("a.conf", "[key_manager]\nfixed_key = 1111\n");
    g_autofree char *b = write_file("b.conf", "[keymgr]\nfixed_key = 2222\n");
    const char *files[] = { a, b, NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load_files(files, NULL, NULL, &error);

    /* A deprecated spelling in a later file still wins over the current one
     * in an earlier file: oslo.config looks at the newest file first. */
    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_eq(nv_secure_buf_cdata(conf->key_manager.fixed_key)[0], 0x22);
}

Test(conf_files, no_files_and_no_directory_are_the_defaults)
{
    g_autoptr(nv_conf) conf = load_files_ok(NULL, NULL);
    g_autoptr(nv_conf) defaults = nv_conf_new_default();

    cr_assert_str_eq(conf->libvirt.virt_type, defaults->libvirt.virt_type);
    cr_assert_str_eq(conf->state_path, defaults->state_path);
}

Test(conf_files, missing_file_is_named, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *a = write_file("a.conf", "[libvirt]\nvirt_type = qemu\n");
    g_autofree char *missing = g_build_filename(tmpdir, "missing.conf", NULL);
    g_autofree char *expected = g_strdup_printf("%s: %s", missing, g_strerror(ENOENT));
    const char *files[] = { a, missing, NULL };

    assert_files_fail(files, NULL, expected);
}

Test(conf_files, missing_directory_is_named, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *dir = g_build_filename(tmpdir, "no-such.d", NULL);
    g_autofree char *expected = g_strdup_printf("%s: %s", dir, g_strerror(ENOENT));

    assert_files_fail(NULL, dir, expected);
}

Test(conf_files, error_in_a_later_file_names_that_file, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *a = write_file("a.conf", "[libvirt]\nvirt_type = qemu\n");
    g_autofree char *b = write_file("d/b.conf", "[libvirt]\nvirt_type = xen\n");
    g_autofree char *dir = g_build_filename(tmpdir, "d", NULL);
    g_autofree char *expected = g_strdup_printf(
        "%s: [libvirt] virt_type: 'xen' is not one of kvm, lxc, qemu, parallels", b);
    const char *files[] = { a, NULL };

    assert_files_fail(files, dir, expected);
}

Test(conf_files, substitution_error_names_the_file_that_set_the_option, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *a = write_file("a.conf", "[libvirt]\nnfs_mount_point_base = $nowhere\n");
    g_autofree char *b = write_file("b.conf", "[libvirt]\nvirt_type = qemu\n");
    g_autofree char *expected = g_strdup_printf(
        "%s: [libvirt] nfs_mount_point_base: no string option $nowhere to substitute", a);
    const char *files[] = { a, b, NULL };

    assert_files_fail(files, NULL, expected);
}

/* ---- only regular files, bounded -------------------------------------- */

Test(conf_files, fifo_is_refused_without_blocking, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *fifo = g_build_filename(tmpdir, "nvirt.conf", NULL);
    g_autofree char *expected = g_strdup_printf("%s: is a FIFO, not a regular file", fifo);
    const char *files[] = { fifo, NULL };

    /* Nobody ever writes to it: opening it for reading the usual way would
     * block for ever (and the test would time out). */
    cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", g_strerror(errno));
    assert_files_fail(files, NULL, expected);
}

Test(conf_files, fifo_in_the_directory_is_refused, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *dir = g_build_filename(tmpdir, "d", NULL);
    g_autofree char *fifo = g_build_filename(dir, "50-pipe.conf", NULL);
    g_autofree char *expected = g_strdup_printf("%s: is a FIFO, not a regular file", fifo);

    cr_assert_eq(g_mkdir(dir, 0700), 0);
    cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", g_strerror(errno));
    assert_files_fail(NULL, dir, expected);
}

Test(conf_files, dev_zero_is_refused)
{
    const char *files[] = { "/dev/zero", NULL };

    assert_files_fail(files, NULL, "/dev/zero: is a character device, not a regular file");
}

Test(conf_files, oversize_file_is_refused, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *path = g_build_filename(tmpdir, "big.conf", NULL);
    g_autofree char *expected =
        g_strdup_printf("%s: larger than %d bytes", path, NV_CONF_MAX_FILE_SIZE);
    const char *files[] = { path, NULL };
    g_autofree char *text = g_strnfill(NV_CONF_MAX_FILE_SIZE + 1, '#');

    /* A comment, one byte over the bound. */
    text[NV_CONF_MAX_FILE_SIZE] = '\n';
    cr_assert(g_file_set_contents(path, text, NV_CONF_MAX_FILE_SIZE + 1, NULL));
    assert_files_fail(files, NULL, expected);
}

Test(conf_files, nul_byte_is_refused, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *path = g_build_filename(tmpdir, "nul.conf", NULL);
    g_autofree char *expected = g_strdup_printf("%s: contains a NUL byte", path);
    const char *files[] = { path, NULL };

    cr_assert(g_file_set_contents(path, "[libvirt]\nvirt_type = qemu\0kvm\n", 30, NULL));
    assert_files_fail(files, NULL, expected);
}

/* ---- the fixed key's value, by iniparser's rules ----------------------- */

Test(conf_key, value_is_read_as_iniparser_reads_values, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    static const struct {
        const char *text;
        const char *hex; /* NULL: no key */
    } cases[] = {
        { "[key_manager]\nfixed_key = 00ff\n", "00ff" },
        { "[key_manager]\n  FIXED_KEY\t=\t00ff  \r\n", "00ff" },
        { "[key_manager]\nfixed_key = 00ff ; a comment\n", "00ff" },
        { "[key_manager]\nfixed_key = 00ff# a comment\n", "00ff" },
        { "[key_manager]\nfixed_key = \"00ff\" ; quoted\n", "00ff" },
        { "[key_manager]\nfixed_key = '00ff'\n", "00ff" },
        { "[key_manager]\nfixed_key = \"\"\n", NULL },
        { "[key_manager]\nfixed_key = ''\n", NULL },
        { "[key_manager]\nfixed_key = ; nothing\n", NULL },
        { "[key_manager]\nfixed_key=\n", NULL },
        { "[KEY_MANAGER]\nfixed_key = 00ff", "00ff" }, /* no final newline */
        { "[key_manager]\nfixed_key = 1111\nfixed_key = 00ff\n", "00ff" },
        { "[key_manager]\nfixed_key = 00ff\n[other]\nfixed_key = 1111\n", "00ff" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name = g_strdup_printf("case%zu.conf", i);
        g_autofree char *path = write_file(name, cases[i].text);
        const char *files[] = { path, NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) warnings = NULL;
        g_autoptr(nv_conf) conf = nv_conf_load_files(files, NULL, &warnings, &error);
        g_autoptr(nv_secure_buf) hex = NULL;

        cr_assert_not_null(conf, "case %zu: %s", i, error ? error->message : "");
        if (!cases[i].hex) {
            cr_assert_null(conf->key_manager.fixed_key, "case %zu", i);
            continue;
        }
        cr_assert_not_null(conf->key_manager.fixed_key, "case %zu", i);
        hex = nv_secure_buf_to_hex(conf->key_manager.fixed_key);
        cr_assert_str_eq(nv_secure_buf_str(hex), cases[i].hex, "case %zu", i);
    }
}

Test(conf_key, fixed_key_in_another_section_is_not_the_key, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *path = write_file("n.conf", "[libvirt]\nfixed_key = 00ff\n");
    const char *files[] = { path, NULL };
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load_files(files, NULL, &warnings, &error);
    g_autofree char *expected = g_strdup_printf("%s: unknown option [libvirt] fixed_key", path);

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_null(conf->key_manager.fixed_key);
    cr_assert_eq(warnings->len, 1);
    cr_assert_str_eq(g_ptr_array_index(warnings, 0), expected);
}

Test(conf_key, continued_key_line_is_refused, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *path = write_file("c.conf", "[key_manager]\nfixed_key = 00\\\nff\n");
    g_autofree char *expected =
        g_strdup_printf("%s:2: fixed_key: a key cannot continue on the next line", path);
    const char *files[] = { path, NULL };

    assert_files_fail(files, NULL, expected);
}

Test(conf_key, key_line_without_equals_is_a_syntax_error_at_its_line, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *path = write_file("s.conf", "[key_manager]\n\nfixed_key 00ff00ff\n");
    g_autofree char *expected = g_strdup_printf("%s:3: syntax error", path);
    const char *files[] = { path, NULL };

    assert_files_fail(files, NULL, expected);
}

/* Distinctive test keys: the hex text as the file has it, and the bytes. */
#define KEY_A_HEX "5ca1ab1e0ddba11c0ffee5a1ad0b57ac1e5ca1ab1e0ddba11c0ffee5a1ad0b57"
#define KEY_B_HEX "7e57ab1edeadbeefcafef00d8badf00d7e57ab1edeadbeefcafef00d8badf00d"
static const guint8 key_a_raw[] = { 0x5c, 0xa1, 0xab, 0x1e, 0x0d, 0xdb, 0xa1, 0x1c,
                                    0x0f, 0xfe, 0xe5, 0xa1, 0xad, 0x0b, 0x57, 0xac };
static const guint8 key_b_raw[] = { 0x7e, 0x57, 0xab, 0x1e, 0xde, 0xad, 0xbe, 0xef,
                                    0xca, 0xfe, 0xf0, 0x0d, 0x8b, 0xad, 0xf0, 0x0d };

Test(conf_key, loading_leaves_no_copy_of_any_key_outside_secure_memory, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    /* Key A is set twice and then replaced by key B in a later file; the
     * replaced values must be wiped, and no buffer along the way (stdio,
     * iniparser's dictionary and line buffers) may keep either key. */
    g_autofree char *a = write_file("a.conf", "[key_manager]\nfixed_key = " KEY_A_HEX "\n"
                                              "fixed_key = " KEY_A_HEX "\n"
                                              "[libvirt]\nvirt_type = qemu\n");
    g_autofree char *b = write_file("d/b.conf", "[keymgr]\nfixed_key = " KEY_B_HEX "\n");
    g_autofree char *dir = g_build_filename(tmpdir, "d", NULL);
    const char *files[] = { a, NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load_files(files, dir, NULL, &error);
    gboolean a_hex, a_raw, b_hex, b_raw;

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_eq(nv_secure_buf_len(conf->key_manager.fixed_key), 32);
    cr_assert_eq(
        memcmp(nv_secure_buf_cdata(conf->key_manager.fixed_key), key_b_raw, sizeof(key_b_raw)), 0);
    /* Scan first, assert after: an assertion's text (which names the key
     * macro) is copied to the heap by the test runner. */
    a_hex = nv_test_memory_contains(KEY_A_HEX, strlen(KEY_A_HEX));
    a_raw = nv_test_memory_contains(key_a_raw, sizeof(key_a_raw));
    b_hex = nv_test_memory_contains(KEY_B_HEX, strlen(KEY_B_HEX));
    /* Key B's bytes live on, in the one secure buffer the scan skips. */
    b_raw = nv_test_memory_contains(key_b_raw, sizeof(key_b_raw));
    cr_assert_not(a_hex, "key A's hex is left outside secure memory");
    cr_assert_not(a_raw, "key A's bytes are left outside secure memory");
    cr_assert_not(b_hex, "key B's hex is left outside secure memory");
    cr_assert_not(b_raw, "key B's bytes are outside secure memory");
}

/* The Barbican credentials are read the same way as the fixed key. */
#define SERVICE_PASSWORD "Pw-7c1e0b9a4d2f4e8b9a6c3d5e1f0a2b4c"
#define APP_CRED_SECRET  "Ac-3f9d2c7a1e5b40869b2d4f6a8c0e1d3b"

Test(conf_key, barbican_secrets_leave_no_copy_outside_secure_memory, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *a = write_file("a.conf", "[barbican_service_user]\nauth_type = password\n"
                                              "password = " SERVICE_PASSWORD "\n"
                                              "application_credential_secret = " APP_CRED_SECRET
                                              "\n[libvirt]\nvirt_type = qemu\n");
    const char *files[] = { a, NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load_files(files, NULL, NULL, &error);
    gboolean pw, ac, pw_kept, ac_kept;

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    pw_kept =
        strcmp(nv_secure_buf_str(conf->barbican_service_user.password), SERVICE_PASSWORD) == 0;
    ac_kept = strcmp(nv_secure_buf_str(conf->barbican_service_user.application_credential_secret),
                     APP_CRED_SECRET) == 0;
    pw = nv_test_memory_contains(SERVICE_PASSWORD, strlen(SERVICE_PASSWORD));
    ac = nv_test_memory_contains(APP_CRED_SECRET, strlen(APP_CRED_SECRET));
    cr_assert(pw_kept, "the password was not read");
    cr_assert(ac_kept, "the application credential secret was not read");
    cr_assert_not(pw, "the password is left outside secure memory");
    cr_assert_not(ac, "the application credential secret is left outside secure memory");
}

Test(conf_key, memory_scan_finds_a_copy_on_the_heap)
{
    /* The scan above must be able to fail: a plain heap copy is found. */
    g_autofree char *copy = g_malloc(sizeof(KEY_A_HEX));
    gboolean before;
    gboolean after;

    memcpy(copy, KEY_A_HEX, sizeof(KEY_A_HEX));
    before = nv_test_memory_contains(KEY_A_HEX, strlen(KEY_A_HEX));
    explicit_bzero(copy, strlen(copy));
    after = nv_test_memory_contains(KEY_A_HEX, strlen(KEY_A_HEX));
    cr_assert(before, "a heap copy was not found");
    cr_assert_not(after, "found after wiping the only copy");
}

/* ---- iniparser's process-wide error callback --------------------------- */

Test(conf_iniparser, error_callback_is_not_left_installed, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *bad = write_file("bad.conf", "[libvirt]\nthis is not ini\n");
    const char *files[] = { bad, NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = NULL;

    cr_redirect_stderr();
    conf = nv_conf_load_files(files, NULL, NULL, &error);
    cr_assert_null(conf);
    /* nvirt's callback kept its error for the GError and printed nothing; a
     * later iniparser user in the process gets iniparser's own reporting
     * back, not nvirt's capture. */
    fflush(stderr);
    cr_assert_null(iniparser_load("/nonexistent/other.ini"));
    fflush(stderr);
    cr_assert_stderr_eq_str("iniparser: cannot open /nonexistent/other.ini\n");
}
