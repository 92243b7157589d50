/* SPDX-License-Identifier: Apache-2.0 */
/* nv_secure_buf: hex passphrase derivation, the memory it lives in (one
 * locked, non-dumpable mapping per buffer, read from /proc/self/smaps),
 * reference counting, and reading files into it (util/secure.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "support.h"
#include "util/secure.h"

Test(secure, passphrase_is_lowercase_hex_of_key_bytes)
{
    /* Nova: binascii.hexlify(key).decode('utf-8'), so 0xAB -> "ab". */
    const guint8 key[] = { 0x00, 0x01, 0xab, 0xff, 0x10 };
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_new_from(key, sizeof(key));
    g_autoptr(nv_secure_buf) hex = nv_secure_buf_to_hex(buf);

    cr_assert_eq(nv_secure_buf_len(hex), 10);
    cr_assert_str_eq(nv_secure_buf_str(hex), "0001abff10");
}

Test(secure, from_hex_accepts_both_cases)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_from_hex("0aFf", "test key", &error);

    cr_assert_not_null(buf);
    cr_assert_eq(nv_secure_buf_len(buf), 2);
    cr_assert_eq(nv_secure_buf_cdata(buf)[0], 0x0a);
    cr_assert_eq(nv_secure_buf_cdata(buf)[1], 0xff);
}

Test(secure, from_hex_rejects_odd_length_without_echoing_input)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_from_hex("abc", "[key_manager] fixed_key", &error);

    cr_assert_null(buf);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message,
                     "[key_manager] fixed_key: expected an even number of hex digits");
}

Test(secure, from_hex_rejects_non_hex_without_echoing_input)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) buf =
        nv_secure_buf_from_hex("00zz11", "[key_manager] fixed_key", &error);

    cr_assert_null(buf);
    cr_assert_str_eq(error->message,
                     "[key_manager] fixed_key: not a hex string (bad digit at offset 2)");
    cr_assert_null(strstr(error->message, "zz"));
}

Test(secure, from_hex_rejects_empty)
{
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_secure_buf_from_hex("", "k", &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
}

Test(secure, equal_compares_contents_and_length)
{
    g_autoptr(nv_secure_buf) a = nv_secure_buf_new_from("abcd", 4);
    g_autoptr(nv_secure_buf) b = nv_secure_buf_new_from("abcd", 4);
    g_autoptr(nv_secure_buf) c = nv_secure_buf_new_from("abce", 4);
    g_autoptr(nv_secure_buf) d = nv_secure_buf_new_from("abc", 3);

    cr_assert(nv_secure_buf_equal(a, b));
    cr_assert_not(nv_secure_buf_equal(a, c));
    cr_assert_not(nv_secure_buf_equal(a, d));
}

Test(secure, data_is_nul_terminated_for_c_apis)
{
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_new_from("xyz", 3);

    cr_assert_eq(nv_secure_buf_cdata(buf)[3], '\0');
    cr_assert_eq(strlen(nv_secure_buf_str(buf)), 3);
}

/* ------------------------------------------------------------------------ */
/* The mapping: /proc/self/smaps                                             */
/* ------------------------------------------------------------------------ */

/* The VmFlags of the mapping that contains @addr ("rd wr mr mw me lo dd ...",
 * caller frees), or NULL when no mapping contains it. */
static char *
vm_flags_of(const void *addr)
{
    g_autofree char *smaps = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) error = NULL;
    gboolean inside = FALSE;
    guintptr a = (guintptr)addr;

    cr_assert(g_file_get_contents("/proc/self/smaps", &smaps, NULL, &error), "%s",
              error ? error->message : "");
    lines = g_strsplit(smaps, "\n", -1);
    for (char **l = lines; *l; l++) {
        unsigned long start, end;

        /* A mapping's header: "START-END PERMS OFFSET DEV INODE [PATH]". */
        if (sscanf(*l, "%lx-%lx ", &start, &end) == 2) {
            inside = a >= start && a < end;
            continue;
        }
        if (inside && g_str_has_prefix(*l, "VmFlags:"))
            return g_strdup(*l + strlen("VmFlags:"));
    }
    return NULL;
}

static gboolean
has_flag(const char *flags, const char *flag)
{
    g_auto(GStrv) words = g_strsplit_set(flags, " ", -1);

    return g_strv_contains((const char *const *)words, flag);
}

/* Whether this process really locks a page (root, or RLIMIT_MEMLOCK room;
 * and not under AddressSanitizer, whose mlock() interceptor does nothing
 * and returns 0): the "lo" flag is asserted only then. */
static gboolean
can_mlock(void)
{
    gsize page = (gsize)sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_autofree char *flags = NULL;
    gboolean ok;

    cr_assert_neq(p, MAP_FAILED);
    ok = mlock(p, page) == 0;
    if (ok) {
        flags = vm_flags_of(p);
        ok = flags && has_flag(flags, "lo");
    }
    munmap(p, page);
    return ok;
}

Test(secure_memory, buffer_is_page_aligned_non_dumpable_and_locked)
{
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_new_from("0123456789abcdef", 16);
    gsize page = (gsize)sysconf(_SC_PAGESIZE);
    g_autofree char *flags = vm_flags_of(nv_secure_buf_cdata(buf));

    cr_assert_eq((guintptr)nv_secure_buf_cdata(buf) % page, 0, "not page-aligned: the heap?");
    cr_assert_not_null(flags, "no mapping holds the buffer");
    cr_assert(has_flag(flags, "dd"), "not MADV_DONTDUMP: VmFlags%s", flags);
    if (can_mlock())
        cr_assert(has_flag(flags, "lo"), "not locked: VmFlags%s", flags);
#ifdef MADV_WIPEONFORK
    cr_assert(has_flag(flags, "wf"), "not MADV_WIPEONFORK: VmFlags%s", flags);
#endif
}

Test(secure_memory, freeing_one_buffer_leaves_the_other_locked)
{
    /* The fixed key lives for the driver's lifetime while passphrases come
     * and go: releasing a passphrase must not unlock the key's page. */
    g_autoptr(nv_secure_buf) key = nv_secure_buf_new_from("long-lived key", 14);
    nv_secure_buf *passphrase = nv_secure_buf_new_from("short-lived", 11);
    g_autofree char *before = vm_flags_of(nv_secure_buf_cdata(key));
    g_autofree char *after = NULL;
    const guint8 *gone = nv_secure_buf_cdata(passphrase);

    cr_assert_neq(nv_secure_buf_cdata(key), gone);
    nv_secure_buf_unref(passphrase);
    after = vm_flags_of(nv_secure_buf_cdata(key));
    cr_assert_not_null(after);
    cr_assert(has_flag(after, "dd"), "VmFlags%s", after);
    if (can_mlock()) {
        cr_assert(has_flag(before, "lo"), "VmFlags%s", before);
        cr_assert(has_flag(after, "lo"), "the key was unlocked: VmFlags%s", after);
    }
    cr_assert_str_eq(nv_secure_buf_str(key), "long-lived key");
    /* The released buffer's pages are gone, not just wiped. */
    cr_assert_null(vm_flags_of(gone));
}

Test(secure_memory, large_buffer_spans_whole_pages)
{
    gsize page = (gsize)sysconf(_SC_PAGESIZE);
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_new(page * 3);
    const guint8 *d = nv_secure_buf_cdata(buf);
    g_autofree char *last = vm_flags_of(d + page * 3); /* the NUL's page */

    for (gsize i = 0; i <= page * 3; i++)
        cr_assert_eq(d[i], 0, "byte %zu not zero", i);
    cr_assert_not_null(last);
    cr_assert(has_flag(last, "dd"));
}

Test(secure_memory, forked_child_sees_zeros_where_the_kernel_wipes_on_fork)
{
#ifndef MADV_WIPEONFORK
    cr_skip_test("no MADV_WIPEONFORK in these headers");
#else
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_new_from("secret", 6);
    int status = 0;
    pid_t pid = fork();

    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(nv_secure_buf_cdata(buf)[0] == 0 ? 0 : 1);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child saw the key");
    cr_assert_str_eq(nv_secure_buf_str(buf), "secret");
#endif
}

/* ------------------------------------------------------------------------ */
/* Reference counting                                                         */
/* ------------------------------------------------------------------------ */

Test(secure_refs, ref_shares_the_bytes_and_the_last_unref_unmaps)
{
    nv_secure_buf *buf = nv_secure_buf_new_from("key", 3);
    const guint8 *data = nv_secure_buf_cdata(buf);
    nv_secure_buf *shared = nv_secure_buf_ref(buf);
    g_autofree char *flags = NULL;

    cr_assert_eq(shared, buf);
    nv_secure_buf_unref(buf);
    /* One reference left: still mapped and intact. */
    flags = vm_flags_of(data);
    cr_assert_not_null(flags);
    cr_assert_str_eq(nv_secure_buf_str(shared), "key");
    nv_secure_buf_unref(shared);
    cr_assert_null(vm_flags_of(data), "still mapped after the last unref");
}

Test(secure_refs, autoptr_drops_one_reference)
{
    nv_secure_buf *outer = nv_secure_buf_new_from("key", 3);

    {
        g_autoptr(nv_secure_buf) inner = nv_secure_buf_ref(outer);

        cr_assert_str_eq(nv_secure_buf_str(inner), "key");
    }
    cr_assert_str_eq(nv_secure_buf_str(outer), "key");
    nv_secure_buf_free(outer);
    nv_secure_buf_unref(NULL);
}

/* ------------------------------------------------------------------------ */
/* nv_secure_buf_read_file                                                   */
/* ------------------------------------------------------------------------ */

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

static void
assert_read_fails(const char *path, gsize max, int code, const char *expected_suffix)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_read_file(path, max, &error);
    g_autofree char *expected = g_strdup_printf("%s: %s", path, expected_suffix);

    cr_assert_null(buf);
    cr_assert(g_error_matches(error, NV_ERROR, code), "code %d: %s", error ? error->code : -1,
              error ? error->message : "");
    cr_assert_str_eq(error->message, expected);
}

Test(secure_read_file, reads_a_regular_file_into_locked_memory, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *path = g_build_filename(tmpdir, "f", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) buf = NULL;
    g_autofree char *flags = NULL;

    cr_assert(g_file_set_contents(path, "[key_manager]\nfixed_key = 00\n", -1, NULL));
    buf = nv_secure_buf_read_file(path, 4096, &error);
    cr_assert_not_null(buf, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_secure_buf_str(buf), "[key_manager]\nfixed_key = 00\n");
    cr_assert_eq(nv_secure_buf_len(buf), 29);
    flags = vm_flags_of(nv_secure_buf_cdata(buf));
    cr_assert(has_flag(flags, "dd"));
}

Test(secure_read_file, empty_file_is_an_empty_buffer, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *path = g_build_filename(tmpdir, "empty", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) buf = NULL;

    cr_assert(g_file_set_contents(path, "", 0, NULL));
    buf = nv_secure_buf_read_file(path, 4096, &error);
    cr_assert_not_null(buf);
    cr_assert_eq(nv_secure_buf_len(buf), 0);
    cr_assert_str_eq(nv_secure_buf_str(buf), "");
}

Test(secure_read_file, fifo_without_writer_is_refused_without_blocking, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *path = g_build_filename(tmpdir, "fifo", NULL);

    /* No writer ever opens it: a blocking open or read would hang the test
     * (and meson's timeout would fail it). */
    cr_assert_eq(mkfifo(path, 0600), 0, "%s", g_strerror(errno));
    assert_read_fails(path, 4096, NV_ERROR_BAD_INPUT, "is a FIFO, not a regular file");
}

Test(secure_read_file, character_device_is_refused)
{
    assert_read_fails("/dev/zero", 4096, NV_ERROR_BAD_INPUT,
                      "is a character device, not a regular file");
}

Test(secure_read_file, directory_is_refused, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_read_fails(tmpdir, 4096, NV_ERROR_BAD_INPUT, g_strerror(EISDIR));
}

Test(secure_read_file, missing_file_is_not_found)
{
    assert_read_fails("/nonexistent/nvirt.conf", 4096, NV_ERROR_NOT_FOUND, g_strerror(ENOENT));
}

Test(secure_read_file, oversize_file_is_refused, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *path = g_build_filename(tmpdir, "big", NULL);
    g_autofree char *exact = g_build_filename(tmpdir, "exact", NULL);
    g_autofree char *content = g_strnfill(4097, 'a');
    g_autoptr(nv_secure_buf) buf = NULL;
    g_autoptr(GError) error = NULL;

    cr_assert(g_file_set_contents(path, content, 4097, NULL));
    assert_read_fails(path, 4096, NV_ERROR_BAD_INPUT, "larger than 4096 bytes");
    /* The bound itself is allowed. */
    cr_assert(g_file_set_contents(exact, content, 4096, NULL));
    buf = nv_secure_buf_read_file(exact, 4096, &error);
    cr_assert_not_null(buf, "%s", error ? error->message : "");
    cr_assert_eq(nv_secure_buf_len(buf), 4096);
}
