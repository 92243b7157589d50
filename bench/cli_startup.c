/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/cli_startup: wall time and peak RSS of one nvirt command, from
 * spawn to exit: "nvirt disk-xml" (offline) and "nvirt host-info" (one
 * libvirt connection).  /bin/true runs interleaved with them as the floor:
 * what spawning and waiting cost on this machine at that moment.
 *
 * bench/libvirt_floor runs too: loading libvirt and nothing else (under
 * disk-xml), and connecting and asking two versions (under host-info), so
 * the report says how much of nvirt's time is its own.
 *
 * Two peak RSS figures:
 *  - "tree": ru_maxrss of the child from wait4(), which is the largest of
 *    the command and every process it waited for (nvirt host-info runs
 *    "qemu-img create -f rbd -o help", which loads librbd, to see whether
 *    librbd decrypts LUKS2).  posix_spawn() uses a vfork-style clone, and
 *    Linux charges the high-water mark of the memory the child had before
 *    exec (this process's) to the child too, so the figure for /bin/true
 *    is that floor, and an upper bound for the others;
 *  - "own": VmHWM of the command's own process, read from /proc while
 *    ptrace holds it at exit (PTRACE_O_TRACEEXIT), in separate runs so
 *    that tracing costs none of the timed ones.  The targets apply to it.
 */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
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
    int floor;       /* index of the reference command, or -1 */
    gboolean target; /* the targets apply */
    gint64 *wall_us;
    gint64 *cpu_us;
    long *maxrss_kib; /* the process tree's (wait4) */
    long *own_kib;    /* the command's own process (VmHWM at exit) */
} command;

/* Run @argv with stdout and stderr on /dev/null; wall time, CPU time (user
 * + system) and peak RSS. */
static gboolean
spawn_once(char **argv, gint64 *wall_us, gint64 *cpu_us, long *maxrss_kib, GError **error)
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
    *cpu_us = (gint64)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_USEC_PER_SEC +
              ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    *maxrss_kib = ru.ru_maxrss;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "%s %s failed (status %d): run it by hand to see why", argv[0],
                    argv[1] ? argv[1] : "", status);
        return FALSE;
    }
    return TRUE;
}

/* VmHWM of process @pid in KiB, or -1. */
static long
read_vmhwm_kib(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *text = NULL;
    const char *line;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return -1;
    line = strstr(text, "\nVmHWM:");
    return line ? strtol(line + strlen("\nVmHWM:"), NULL, 10) : -1;
}

/* Run @argv as spawn_once() does, traced only to stop it at its exit, and
 * return the peak RSS of its own process (children not included). */
static gboolean
own_peak_once(char **argv, long *own_kib, GError **error)
{
    long hwm = -1;
    int status = 0;
    pid_t pid = fork();

    if (pid < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "fork: %s",
                    g_strerror(errno));
        return FALSE;
    }
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);

        if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0 ||
            dup2(null_fd, STDERR_FILENO) < 0 || ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
            _exit(127);
        execve(argv[0], argv, environ);
        _exit(127);
    }
    /* The first stop is the SIGTRAP after execve. */
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) ||
        ptrace(PTRACE_SETOPTIONS, pid, NULL,
               (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)) < 0 ||
        ptrace(PTRACE_CONT, pid, NULL, NULL) < 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot trace %s", argv[0]);
        if (!WIFEXITED(status)) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        return FALSE;
    }
    for (;;) {
        if (waitpid(pid, &status, 0) < 0) {
            if (errno == EINTR)
                continue;
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "waitpid %s: %s",
                        argv[0], g_strerror(errno));
            return FALSE;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status))
            break;
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
            hwm = read_vmhwm_kib(pid);
            ptrace(PTRACE_CONT, pid, NULL, NULL);
        } else {
            /* Any other stop is a signal for the command (SIGCHLD of its
             * qemu-img, say): deliver it. */
            ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(status));
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || hwm < 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "%s %s failed under ptrace (status %d, VmHWM %ld)", argv[0],
                    argv[1] ? argv[1] : "", status, hwm);
        return FALSE;
    }
    *own_kib = hwm;
    return TRUE;
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
static char *opt_floor;
static char *opt_uri;
static char *opt_config;
static char *opt_connection_info;
static char *opt_encryption;
static int opt_runs = 20;

static GOptionEntry entries[] = {
    { "nvirt", 'n', 0, G_OPTION_ARG_FILENAME, &opt_nvirt, "The nvirt binary", "PATH" },
    { "floor", 'f', 0, G_OPTION_ARG_FILENAME, &opt_floor, "The libvirt_floor binary", "PATH" },
    { "uri", 'u', 0, G_OPTION_ARG_STRING, &opt_uri,
      "libvirt URI for libvirt_floor (the configuration's connection_uri)", "URI" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
      "nvirt configuration ([libvirt] connection_uri of a running daemon)", "FILE" },
    { "connection-info", 'i', 0, G_OPTION_ARG_FILENAME, &opt_connection_info,
      "connection_info JSON for disk-xml", "FILE" },
    { "encryption", 'e', 0, G_OPTION_ARG_FILENAME, &opt_encryption,
      "Encryption metadata JSON for disk-xml", "FILE" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs, "Runs of each command (20)", "N" },
    { NULL },
};

enum {
    TRUE_CMD,
    FLOOR_LOAD,
    DISK_XML,
    FLOOR_CONNECT,
    HOST_INFO,
    N_COMMANDS
};

static void
report(command *commands, guint n)
{
    double med[N_COMMANDS];

    printf("\nCLI start-up plus one operation, %u runs each (interleaved)\n", n);
    printf("  %-22s %11s %11s %11s %13s %13s\n", "command", "wall med", "wall p90", "CPU med",
           "own RSS max", "tree RSS max");
    for (guint c = 0; c < N_COMMANDS; c++) {
        long own = max_long(commands[c].own_kib, n);
        long tree = max_long(commands[c].maxrss_kib, n);
        double p90 = bench_percentile_ms(commands[c].wall_us, n, 90);
        double cpu = bench_median_ms(commands[c].cpu_us, n);

        med[c] = bench_median_ms(commands[c].wall_us, n);
        printf("  %-22s %8.1f ms %8.1f ms %8.1f ms %9.1f MiB %9.1f MiB\n", commands[c].name, med[c],
               p90, cpu, own / 1024.0, tree / 1024.0);
    }
    for (guint c = 0; c < N_COMMANDS; c++) {
        long rss = max_long(commands[c].own_kib, n);
        long tree = max_long(commands[c].maxrss_kib, n);
        int f = commands[c].floor;

        if (!commands[c].target)
            continue;
        printf("RESULT cli command=%s wall_med_ms=%.1f floor_med_ms=%.1f target_ms=%.0f %s\n",
               commands[c].argv[1], med[c], med[f], WALL_TARGET_MS,
               med[c] <= WALL_TARGET_MS ? "PASS" : "MISS");
        printf("RESULT cli command=%s peak_rss_mib=%.1f tree_rss_mib=%.1f target_mib=%d %s\n",
               commands[c].argv[1], rss / 1024.0, tree / 1024.0, RSS_TARGET_KIB / 1024,
               rss <= RSS_TARGET_KIB ? "PASS" : "MISS");
    }
}

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- nvirt start-up time and peak RSS");
    g_autoptr(GError) error = NULL;
    command commands[N_COMMANDS] = { 0 };
    guint n;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "cli_startup: %s\n", error->message);
        return 2;
    }
    if (!opt_nvirt || !opt_floor || !opt_uri || !opt_config || !opt_connection_info ||
        !opt_encryption || opt_runs < 1) {
        fprintf(stderr, "cli_startup: --nvirt, --floor, --uri, --config, --connection-info and "
                        "--encryption are required\n");
        return 2;
    }
    n = (guint)opt_runs;

    {
        const char *true_argv[] = { "/bin/true", NULL };
        const char *floor_load_argv[] = { opt_floor, NULL };
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
        const char *floor_connect_argv[] = { opt_floor, opt_uri, NULL };
        const char *host_info_argv[] = { opt_nvirt, "host-info", "--config", opt_config, NULL };
        const struct {
            const char *name;
            const char *const *argv;
            int floor;
        } table[N_COMMANDS] = {
            [TRUE_CMD] = { "/bin/true", true_argv, -1 },
            [FLOOR_LOAD] = { "libvirt_floor (load)", floor_load_argv, -1 },
            [DISK_XML] = { "nvirt disk-xml", disk_xml_argv, FLOOR_LOAD },
            [FLOOR_CONNECT] = { "libvirt_floor URI", floor_connect_argv, -1 },
            [HOST_INFO] = { "nvirt host-info", host_info_argv, FLOOR_CONNECT },
        };

        for (guint c = 0; c < N_COMMANDS; c++) {
            commands[c].name = table[c].name;
            commands[c].argv = g_strdupv((char **)table[c].argv);
            commands[c].floor = table[c].floor;
            commands[c].target = table[c].floor >= 0;
            commands[c].wall_us = g_new0(gint64, n);
            commands[c].cpu_us = g_new0(gint64, n);
            commands[c].maxrss_kib = g_new0(long, n);
            commands[c].own_kib = g_new0(long, n);
        }
    }

    /* One run of each per round, in a rotating order, after one uncounted
     * round (page cache, the daemon's first answers). */
    for (guint c = 0; c < N_COMMANDS; c++) {
        gint64 w, u;
        long r;

        if (!spawn_once(commands[c].argv, &w, &u, &r, &error)) {
            fprintf(stderr, "cli_startup: %s\n", error->message);
            return 1;
        }
    }
    for (guint i = 0; i < n; i++) {
        for (guint k = 0; k < N_COMMANDS; k++) {
            command *c = &commands[(i + k) % N_COMMANDS];

            if (!spawn_once(c->argv, &c->wall_us[i], &c->cpu_us[i], &c->maxrss_kib[i], &error)) {
                fprintf(stderr, "cli_startup: %s\n", error->message);
                return 1;
            }
        }
    }

    /* The own peak RSS, in rounds of their own (ptrace slows exec and
     * exit down). */
    for (guint i = 0; i < n; i++) {
        for (guint k = 0; k < N_COMMANDS; k++) {
            command *c = &commands[(i + k) % N_COMMANDS];

            if (!own_peak_once(c->argv, &c->own_kib[i], &error)) {
                fprintf(stderr, "cli_startup: %s\n", error->message);
                return 1;
            }
        }
    }

    report(commands, n);
    for (guint c = 0; c < N_COMMANDS; c++) {
        g_free(commands[c].wall_us);
        g_free(commands[c].cpu_us);
        g_free(commands[c].maxrss_kib);
        g_free(commands[c].own_kib);
        g_strfreev(commands[c].argv);
    }
    return 0;
}
