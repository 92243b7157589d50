/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/cli_startup: wall time and peak RSS of one nvirt command, from
 * spawn to exit: "nvirt disk-xml" (offline) and "nvirt host-info" (one
 * libvirt connection).  /bin/true runs interleaved with them as the floor:
 * what spawning and waiting cost on this machine at that moment.
 *
 * Peak RSS is ru_maxrss of the child from wait4().  posix_spawn() uses a
 * vfork-style clone, and Linux charges the high-water mark of the memory
 * the child had before exec (this process's) to the child too, so the
 * figure for /bin/true is that floor, and an upper bound for the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#define WALL_TARGET_MS 50.0
#define RSS_TARGET_KIB (20 * 1024)

extern char **environ;

typedef struct {
    const char *name;
    char **argv;
    gint64 *wall_us;
    long *maxrss_kib;
} command;

/* Run @argv with stdout and stderr on /dev/null; wall time and peak RSS. */
static gboolean
spawn_once(char **argv, gint64 *wall_us, long *maxrss_kib, GError **error)
{
    posix_spawn_file_actions_t actions;
    struct rusage ru;
    gint64 t0;
    pid_t pid;
    int status = 0, rc;

    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    t0 = g_get_monotonic_time();
    rc = posix_spawn(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(rc), "cannot run %s: %s", argv[0],
                    g_strerror(rc));
        return FALSE;
    }
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "wait4 %s: %s",
                        argv[0], g_strerror(errno));
            return FALSE;
        }
    }
    *wall_us = g_get_monotonic_time() - t0;
    *maxrss_kib = ru.ru_maxrss;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "%s %s failed (status %d): run it by hand to see why", argv[0],
                    argv[1] ? argv[1] : "", status);
        return FALSE;
    }
    return TRUE;
}

static int
cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return (x > y) - (x < y);
}

static double
median_ms(gint64 *v, guint n)
{
    qsort(v, n, sizeof(*v), cmp_i64);
    return n % 2 ? v[n / 2] / 1000.0 : (v[n / 2 - 1] + v[n / 2]) / 2000.0;
}

static double
p90_ms(gint64 *v, guint n)
{
    guint rank = (guint)(0.9 * n + 0.999999);

    qsort(v, n, sizeof(*v), cmp_i64);
    return v[CLAMP(rank, 1, n) - 1] / 1000.0;
}

static long
max_long(const long *v, guint n)
{
    long m = 0;

    for (guint i = 0; i < n; i++)
        m = MAX(m, v[i]);
    return m;
}

static char *opt_nvirt;
static char *opt_config;
static char *opt_connection_info;
static char *opt_encryption;
static int opt_runs = 20;

static GOptionEntry entries[] = {
    { "nvirt", 'n', 0, G_OPTION_ARG_FILENAME, &opt_nvirt, "The nvirt binary", "PATH" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
      "nvirt configuration ([libvirt] connection_uri of a running daemon)", "FILE" },
    { "connection-info", 'i', 0, G_OPTION_ARG_FILENAME, &opt_connection_info,
      "connection_info JSON for disk-xml", "FILE" },
    { "encryption", 'e', 0, G_OPTION_ARG_FILENAME, &opt_encryption,
      "Encryption metadata JSON for disk-xml", "FILE" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs, "Runs of each command (20)", "N" },
    { NULL },
};

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- nvirt start-up time and peak RSS");
    g_autoptr(GError) error = NULL;
    command commands[3];
    guint n;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "cli_startup: %s\n", error->message);
        return 2;
    }
    if (!opt_nvirt || !opt_config || !opt_connection_info || !opt_encryption || opt_runs < 1) {
        fprintf(stderr, "cli_startup: --nvirt, --config, --connection-info and --encryption "
                        "are required\n");
        return 2;
    }
    n = (guint)opt_runs;

    {
        const char *true_argv[] = { "/bin/true", NULL };
        const char *disk_xml_argv[] = { opt_nvirt,
                                        "disk-xml",
                                        "--config",
                                        opt_config,
                                        "--connection-info",
                                        opt_connection_info,
                                        "--encryption",
                                        opt_encryption,
                                        "--mountpoint",
                                        "sdb",
                                        "--secret-uuid",
                                        "3f1e6c2a-9b8d-4e7f-a1c2-d3e4f5a6b7c8",
                                        NULL };
        const char *host_info_argv[] = { opt_nvirt, "host-info", "--config", opt_config, NULL };
        const char *const *argvs[3] = { true_argv, disk_xml_argv, host_info_argv };
        const char *names[3] = { "/bin/true", "nvirt disk-xml", "nvirt host-info" };

        for (guint c = 0; c < 3; c++) {
            commands[c].name = names[c];
            commands[c].argv = g_strdupv((char **)argvs[c]);
            commands[c].wall_us = g_new0(gint64, n);
            commands[c].maxrss_kib = g_new0(long, n);
        }
    }

    /* One run of each per round, in a rotating order, after one uncounted
     * round (page cache, the daemon's first answers). */
    for (guint c = 0; c < 3; c++) {
        gint64 w;
        long r;

        if (!spawn_once(commands[c].argv, &w, &r, &error)) {
            fprintf(stderr, "cli_startup: %s\n", error->message);
            return 1;
        }
    }
    for (guint i = 0; i < n; i++) {
        for (guint k = 0; k < 3; k++) {
            command *c = &commands[(i + k) % 3];

            if (!spawn_once(c->argv, &c->wall_us[i], &c->maxrss_kib[i], &error)) {
                fprintf(stderr, "cli_startup: %s\n", error->message);
                return 1;
            }
        }
    }

    printf("\nCLI start-up plus one operation, %u runs each (interleaved)\n", n);
    printf("  %-16s %12s %12s %14s\n", "command", "wall med", "wall p90", "peak RSS max");
    for (guint c = 0; c < 3; c++) {
        long rss = max_long(commands[c].maxrss_kib, n);
        double med = median_ms(commands[c].wall_us, n);
        double p90 = p90_ms(commands[c].wall_us, n);
        gboolean is_nvirt = c > 0;

        printf("  %-16s %9.1f ms %9.1f ms %10.1f MiB\n", commands[c].name, med, p90, rss / 1024.0);
        if (is_nvirt) {
            printf("RESULT cli command=%s wall_med_ms=%.1f target_ms=%.0f %s\n",
                   commands[c].argv[1], med, WALL_TARGET_MS,
                   med <= WALL_TARGET_MS ? "PASS" : "MISS");
            printf("RESULT cli command=%s peak_rss_mib=%.1f target_mib=%d %s\n",
                   commands[c].argv[1], rss / 1024.0, RSS_TARGET_KIB / 1024,
                   rss <= RSS_TARGET_KIB ? "PASS" : "MISS");
        }
    }
    for (guint c = 0; c < 3; c++) {
        g_free(commands[c].wall_us);
        g_free(commands[c].maxrss_kib);
        g_strfreev(commands[c].argv);
    }
    return 0;
}
