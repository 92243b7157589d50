/* SPDX-License-Identifier: Apache-2.0 */
/* Volume files and passphrases for the LUKS unit tests (test_luks_format.c,
 * test_luks_ensure.c).  Each test binary defines luks_test_dir and gives its
 * suites luks_test_setup / luks_test_teardown: a fresh directory per test. */
#pragma once

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <libcryptsetup.h>
#include <unistd.h>

#include "support.h"
#include "util/secure.h"

#define LUKS_TEST_VOLUME_SIZE (32 * 1024 * 1024) /* room for a LUKS2 header (16 MiB) */
#define LUKS_TEST_CHEAP_PBKDF 1000               /* LUKS1's minimum */

extern char *luks_test_dir;

static inline void
luks_test_setup(void)
{
    luks_test_dir = nv_test_mkdtemp();
}

static inline void
luks_test_teardown(void)
{
    nv_test_rmtree(luks_test_dir);
    g_clear_pointer(&luks_test_dir, g_free);
}

/* A sparse, zero-filled volume of @size bytes in the test's directory. */
static inline char *
luks_test_volume_sized(const char *name, off_t size)
{
    char *path = g_build_filename(luks_test_dir, name, NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    cr_assert(fd >= 0, "create %s: %s", path, g_strerror(errno));
    cr_assert_eq(ftruncate(fd, size), 0);
    close(fd);
    return path;
}

static inline char *
luks_test_volume(const char *name)
{
    return luks_test_volume_sized(name, LUKS_TEST_VOLUME_SIZE);
}

static inline void
luks_test_write_at(const char *path, off_t offset, const void *data, gsize len)
{
    int fd = open(path, O_WRONLY);

    cr_assert(fd >= 0, "open %s: %s", path, g_strerror(errno));
    cr_assert_eq(pwrite(fd, data, len, offset), (ssize_t)len);
    close(fd);
}

static inline char *
luks_test_digest(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;

    cr_assert(g_file_get_contents(path, &data, &len, &error), "%s", error ? error->message : "");
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

/* A random volume key, as Cinder's key manager would create one. */
static inline nv_secure_buf *
luks_test_random_key(gsize len)
{
    nv_secure_buf *key = nv_secure_buf_new(len);

    for (gsize i = 0; i < len; i++)
        nv_secure_buf_data(key)[i] = (guint8)g_random_int_range(0, 256);
    return key;
}

/* Nova's passphrase for a fresh random key. */
static inline nv_secure_buf *
luks_test_random_passphrase(void)
{
    g_autoptr(nv_secure_buf) key = luks_test_random_key(32);

    return nv_secure_buf_to_hex(key);
}

/* A handle with the LUKS header of @path loaded; caller crypt_free()s it. */
static inline struct crypt_device *
luks_test_load(const char *path)
{
    struct crypt_device *cd = NULL;

    cr_assert_eq(crypt_init(&cd, path), 0);
    cr_assert_eq(crypt_load(cd, CRYPT_LUKS, NULL), 0, "%s has no loadable LUKS header", path);
    return cd;
}
