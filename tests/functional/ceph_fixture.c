/* SPDX-License-Identifier: Apache-2.0 */
#include "ceph_fixture.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* The runner starts the cluster; criterion's workers are separate
 * processes and learn about it from these variables. */
#define ENV_CONF  "NVIRT_CEPH_CONF"
#define ENV_PORT  "NVIRT_CEPH_PORT"
#define ENV_ERROR "NVIRT_CEPH_ERROR"

#define SCRIPT NV_HARNESS_SOURCE_DIR "/ceph-env.sh"

/* The mon's port and the OSD's ports after it (ceph-env.sh). */
#define PORT_SPAN 41

static pid_t runner_pid;
static GPid script_pid;
static int script_in = -1;
static int script_err = -1;

/* ---- runner ------------------------------------------------------------- */

static gboolean
port_free(guint port)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    gboolean ok;

    if (fd < 0)
        return FALSE;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(fd);
    return ok;
}

/* PORT_SPAN free ports in a row on 127.0.0.1, in a window that depends on
 * the runner's pid so that two test runs rarely probe the same one.  The
 * daemons bind them a moment later: a race another process could win, which
 * then fails the start with the mon's or OSD's message. */
static guint
find_ports(void)
{
    for (guint attempt = 0; attempt < 200; attempt++) {
        guint base = 20000 + ((guint)getpid() + attempt) % 900 * PORT_SPAN;
        guint i;

        for (i = 0; i < PORT_SPAN && port_free(base + i); i++)
            ;
        if (i == PORT_SPAN)
            return base;
    }
    return 0;
}

static char *
read_all(int fd)
{
    g_autoptr(GString) text = g_string_new(NULL);
    char buf[1024];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            g_string_append_len(text, buf, n);
    return g_string_free(g_steal_pointer(&text), FALSE);
}

/* Reads the script's stdout up to its first line: "ready", or end of file
 * when it failed.  Byte by byte: the script keeps stdout open. */
static gboolean
wait_ready(int fd)
{
    g_autoptr(GString) line = g_string_new(NULL);
    char c;
    ssize_t n;

    while ((n = read(fd, &c, 1)) == 1 || (n < 0 && errno == EINTR))
        if (n == 1 && c == '\n')
            break;
        else if (n == 1)
            g_string_append_c(line, c);
    return n == 1 && strcmp(line->str, "ready") == 0;
}

static void
fail_start(const char *why)
{
    g_autofree char *message = g_strdup_printf(
        "the Ceph test cluster did not start (the rbd tests need ceph-mon, ceph-osd and "
        "ceph-common from scripts/install-deps.sh): %s",
        why);

    fprintf(stderr, "nvirt ceph fixture: %s\n", message);
    g_setenv(ENV_ERROR, message, TRUE);
}

static void
ceph_stop(void)
{
    if (script_in < 0 || getpid() != runner_pid)
        return;
    /* End of file on its stdin: the script kills the OSD, stops the mon,
     * reaps both and removes its directory. */
    close(script_in);
    script_in = -1;
    waitpid(script_pid, NULL, 0);
    close(script_err);
    script_err = -1;
}

static void
ceph_start(void)
{
    gint64 start = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *port = NULL;
    g_autofree char *conf = NULL;
    int out = -1;
    guint base;

    runner_pid = getpid();
    dir = g_dir_make_tmp("nvirt-ceph-XXXXXX", &error);
    if (!dir)
        return fail_start(error->message);
    base = find_ports();
    if (!base)
        return fail_start("no 41 free TCP ports in a row on 127.0.0.1");
    port = g_strdup_printf("%u", base);
    {
        const char *argv[] = { "/bin/sh", SCRIPT, "run", dir, port, NULL };

        /* GLib's parent-side pipe ends are close-on-exec: only this process
         * holds the script's stdin, so its end of file means we are gone. */
        if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                      NULL, &script_pid, &script_in, &out, &script_err, &error))
            return fail_start(error->message);
    }
    if (!wait_ready(out)) {
        g_autofree char *err = read_all(script_err);
        int status = 0;

        close(out);
        close(script_in);
        script_in = -1;
        waitpid(script_pid, &status, 0);
        g_strstrip(err);
        g_strdelimit(err, "\n", ' ');
        return fail_start(*err ? err : "ceph-env.sh exited without a message");
    }
    close(out);
    conf = g_build_filename(dir, "ceph.conf", NULL);
    g_setenv(ENV_CONF, conf, TRUE);
    g_setenv(ENV_PORT, port, TRUE);
    fprintf(stderr, "nvirt ceph fixture: mon and OSD on 127.0.0.1:%s up in %.1f s (%s)\n", port,
            (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC, dir);
}

/* Every process runs constructors; only the runner calls the fixture. */
__attribute__((constructor)) static void
register_fixture(void)
{
    nv_harness_add_fixture(ceph_start, ceph_stop);
}

/* ---- worker side -------------------------------------------------------- */

const char *
nv_ceph_conf(void)
{
    const char *failed = g_getenv(ENV_ERROR);
    const char *conf = g_getenv(ENV_CONF);

    if (failed)
        cr_assert_fail("%s", failed);
    cr_assert_not_null(conf, "no Ceph cluster: link the test with ceph_fixture.c");
    return conf;
}

guint
nv_ceph_mon_port(void)
{
    nv_ceph_conf();
    return (guint)g_ascii_strtoull(g_getenv(ENV_PORT), NULL, 10);
}

char *
nv_ceph_user_key(const char *user)
{
    g_autofree char *dir = g_path_get_dirname(nv_ceph_conf());
    g_autofree char *name = g_strdup_printf("%s.key", user);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *key = NULL;

    cr_assert(g_file_get_contents(path, &key, NULL, NULL), "no key for client.%s", user);
    return g_strstrip(key);
}

void
nv_ceph_rbd(const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    int status = -1;

    g_ptr_array_add(argv, "rbd");
    g_ptr_array_add(argv, "-c");
    g_ptr_array_add(argv, (char *)nv_ceph_conf());
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    cr_assert(g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                           G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                           &status, &error),
              "%s", error ? error->message : "");
    cr_assert(g_spawn_check_wait_status(status, NULL), "rbd %s: %s", args[0], err);
}

void
nv_ceph_import(const char *path, const char *image)
{
    g_autofree char *dest = g_strdup_printf(NV_CEPH_POOL "/%s", image);
    const char *args[] = { "import", "--no-progress", path, dest, NULL };

    nv_ceph_rbd(args);
}

char *
nv_ceph_image_sha256(const char *image)
{
    g_autofree char *src = g_strdup_printf(NV_CEPH_POOL "/%s", image);
    g_autofree char *name = g_strdup_printf("%s.export", image);
    g_autofree char *path = nv_harness_path(name);
    const char *args[] = { "export", "--no-progress", src, path, NULL };
    g_autofree char *contents = NULL;
    gsize len = 0;

    g_unlink(path);
    nv_ceph_rbd(args);
    cr_assert(g_file_get_contents(path, &contents, &len, NULL));
    g_unlink(path);
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)contents, len);
}
