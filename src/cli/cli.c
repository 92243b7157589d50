/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvirt/error.h"

/* The nova.conf and nova.conf.d equivalents, read when present and no
 * --config-file (for the directory: nor --config-dir) is given. */
#define NV_DEFAULT_CONFIG_PATH "/etc/nvirt/nvirt.conf"
#define NV_DEFAULT_CONFIG_DIR  "/etc/nvirt/nvirt.conf.d"

/* Global options, before or after the command: both positions fill these. */
static GPtrArray *opt_config_files; /* char *, in command-line order */
static char *opt_config_dir;
static gboolean opt_debug;
static gboolean opt_verbose;

static gboolean
add_config_file(const char *option_name, const char *value, gpointer data, GError **error)
{
    if (!opt_config_files)
        opt_config_files = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(opt_config_files, g_strdup(value));
    return TRUE;
}

static gboolean
set_config_dir(const char *option_name, const char *value, gpointer data, GError **error)
{
    g_free(opt_config_dir);
    opt_config_dir = g_strdup(value);
    return TRUE;
}

static GOptionEntry common_entries[] = {
    { "config-file", 0, G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, add_config_file,
      "Read FILE (repeatable; later files override)", "FILE" },
    { "config", 'c', G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, add_config_file,
      "Same as --config-file", "FILE" },
    { "config-dir", 0, G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, set_config_dir,
      "Then read DIR/*.conf in sorted order", "DIR" },
    { "debug", 0, 0, G_OPTION_ARG_NONE, &opt_debug, "Debug messages on standard error", NULL },
    { "verbose", 0, 0, G_OPTION_ARG_NONE, &opt_verbose, "Informational messages on standard error",
      NULL },
    { NULL },
};

/* Every message goes to stderr, so stdout stays the command's data (XML,
 * JSON).  Info is shown with --verbose or --debug, debug with --debug (or
 * G_MESSAGES_DEBUG, as GLib does anyway). */
static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
    if ((level & G_LOG_LEVEL_INFO) && (opt_verbose || opt_debug))
        return g_log_writer_standard_streams(level, fields, n_fields, user_data);
    return g_log_writer_default(level, fields, n_fields, user_data);
}

void
nv_cli_init_logging(void)
{
    g_log_writer_default_set_use_stderr(TRUE);
    g_log_set_writer_func(log_writer, NULL, NULL);
}

static void
apply_log_options(void)
{
    if (opt_debug)
        g_log_set_debug_enabled(TRUE);
}

static GOptionEntry global_only_entries[] = {
    { "help", 'h', 0, G_OPTION_ARG_NONE, NULL, "Show this help and exit", NULL },
    { NULL },
};

gboolean
nv_cli_parse_global(int *argc, char ***argv, gboolean *help, int *exit_code)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    GOptionEntry help_entry[G_N_ELEMENTS(global_only_entries)];

    memcpy(help_entry, global_only_entries, sizeof(help_entry));
    help_entry[0].arg_data = help;
    /* Global options end at the command: what follows is the command's. */
    g_option_context_set_strict_posix(ctx, TRUE);
    g_option_context_set_help_enabled(ctx, FALSE);
    g_option_context_add_main_entries(ctx, common_entries, NULL);
    g_option_context_add_main_entries(ctx, help_entry, NULL);
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        fprintf(stderr, "nvirt: %s (see 'nvirt --help')\n", error->message);
        *exit_code = NV_EXIT_USAGE;
        return FALSE;
    }
    apply_log_options();
    return TRUE;
}

void
nv_cli_print_global_options(FILE *out)
{
    for (const GOptionEntry *e = common_entries; e->long_name; e++) {
        g_autofree char *name = NULL;

        if (e->short_name)
            name = g_strdup_printf("-%c, --%s%s%s", e->short_name, e->long_name,
                                   e->arg_description ? " " : "",
                                   e->arg_description ? e->arg_description : "");
        else
            name = g_strdup_printf("--%s%s%s", e->long_name, e->arg_description ? " " : "",
                                   e->arg_description ? e->arg_description : "");
        fprintf(out, "  %-22s %s\n", name, e->description);
    }
}

void
nv_cli_add_common_options(GOptionContext *ctx)
{
    g_option_context_add_main_entries(ctx, common_entries, NULL);
}

gboolean
nv_cli_parse(GOptionContext *ctx, int *argc, char ***argv, int *exit_code)
{
    g_autoptr(GError) error = NULL;

    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        fprintf(stderr, "%s: %s (see --help)\n", g_get_prgname(), error->message);
        *exit_code = NV_EXIT_USAGE;
        return FALSE;
    }
    apply_log_options();
    return TRUE;
}

/* The files and directory to read: what the options name, else the
 * defaults that exist.  @files is NULL-terminated and borrowed. */
static void
config_sources(const char *const **files, const char **dir)
{
    static const char *const default_files[] = { NV_DEFAULT_CONFIG_PATH, NULL };
    gboolean explicit_files = opt_config_files && opt_config_files->len > 0;

    if (explicit_files) {
        /* Keep the array NULL-terminated for nv_conf_load_files(). */
        if (g_ptr_array_index(opt_config_files, opt_config_files->len - 1) != NULL)
            g_ptr_array_add(opt_config_files, NULL);
        *files = (const char *const *)opt_config_files->pdata;
    } else {
        *files = g_file_test(NV_DEFAULT_CONFIG_PATH, G_FILE_TEST_EXISTS) ? default_files : NULL;
    }
    if (opt_config_dir)
        *dir = opt_config_dir;
    else if (!explicit_files && g_file_test(NV_DEFAULT_CONFIG_DIR, G_FILE_TEST_IS_DIR))
        *dir = NV_DEFAULT_CONFIG_DIR;
    else
        *dir = NULL;
}

static void
print_warnings(GPtrArray *warnings)
{
    for (guint i = 0; warnings && i < warnings->len; i++)
        fprintf(stderr, "nvirt: warning: %s\n", (const char *)g_ptr_array_index(warnings, i));
}

nv_conf *
nv_cli_load_conf(GError **error)
{
    g_autoptr(GPtrArray) warnings = NULL;
    const char *const *files;
    const char *dir;
    nv_conf *conf;

    config_sources(&files, &dir);
    conf = nv_conf_load_files(files, dir, &warnings, error);
    print_warnings(warnings);
    return conf;
}

nv_driver *
nv_cli_open_driver(const char *connect_uri, GError **error)
{
    g_autoptr(GPtrArray) warnings = NULL;
    const char *const *files;
    const char *dir;
    nv_driver *driver;

    config_sources(&files, &dir);
    driver = nv_driver_open_files(files, dir, connect_uri, &warnings, error);
    print_warnings(warnings);
    return driver;
}

int
nv_cli_usage_error(const char *format, ...)
{
    g_autofree char *message = NULL;
    va_list args;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    fprintf(stderr, "%s: %s (see --help)\n", g_get_prgname(), message);
    return NV_EXIT_USAGE;
}

int
nv_cli_print(const char *text)
{
    fputs(text, stdout);
    if (*text && !g_str_has_suffix(text, "\n"))
        fputc('\n', stdout);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "nvirt: cannot write standard output\n");
        return NV_EXIT_FAILED;
    }
    return NV_EXIT_OK;
}

int
nv_cli_fail(const GError *error)
{
    fprintf(stderr, "nvirt: %s\n", error->message);
    if (error->domain == NV_ERROR &&
        (error->code == NV_ERROR_BAD_INPUT || error->code == NV_ERROR_CONFIG))
        return NV_EXIT_USAGE;
    return NV_EXIT_FAILED;
}

/* The largest --connection-info or --encryption input: Cinder's documents
 * are a few KiB, and the parsers refuse more than this anyway
 * (NV_JSON_MAX_BYTES, virt/block_device.h); reading stops here, so
 * /dev/zero on stdin or an endless pipe ends in an error, not in memory. */
#define NV_CLI_INPUT_MAX_BYTES (1024 * 1024)

/* How long a FIFO given by path may wait for its writer's first byte. */
#define NV_CLI_FIFO_WRITER_WAIT_MS 2000

/* What a file that is not an input is, for "PATH: is a FIFO ...". */
static const char *
input_file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* Read @fd to its end, at most NV_CLI_INPUT_MAX_BYTES.  The input is text
 * handed on as a C string, so a NUL byte (which would hide what follows
 * it from the parser) is an error.  Messages name @name. */
static char *
read_bounded(int fd, const char *name, gsize *len, GError **error)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    char chunk[16384];

    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            /* A non-blocking stdin inherited from the caller: wait for it. */
            struct pollfd pfd = { .fd = fd, .events = POLLIN };

            if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
                continue;
        }
        if (n < 0) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: %s", name, g_strerror(errno));
            return NULL;
        }
        if (n == 0)
            break;
        if (buf->len + (gsize)n > NV_CLI_INPUT_MAX_BYTES) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: larger than %d bytes", name,
                        NV_CLI_INPUT_MAX_BYTES);
            return NULL;
        }
        g_string_append_len(buf, chunk, n);
    }
    if (memchr(buf->str, '\0', buf->len)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "%s: NUL byte at offset %zu (the input must be text)", name,
                    (size_t)((const char *)memchr(buf->str, '\0', buf->len) - buf->str));
        return NULL;
    }
    *len = buf->len;
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

/* Open @path only if it is a regular file or a pipe: stat first, so a
 * device node is never opened (opening one can have effects of its own);
 * O_NONBLOCK, so neither a FIFO without a writer nor a path swapped for
 * one after the stat blocks the open; then fstat what was opened.  Returns
 * the descriptor, in blocking mode, or -1 with an error naming @name. */
static int
open_input(const char *path, const char *name, GError **error)
{
    struct stat st;
    int fd;
    int flags;

    if (stat(path, &st) != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: %s", name, g_strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: is %s, not a regular file or a pipe",
                    name, input_file_kind(st.st_mode));
        return -1;
    }
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: %s", name, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: is %s, not a regular file or a pipe",
                    name, input_file_kind(st.st_mode));
        close(fd);
        return -1;
    }
    /* A FIFO nobody has opened for writing reads as empty at once, and one
     * whose writer is still on its way (blocked in open() until a reader
     * comes) would too: give the writer NV_CLI_FIFO_WRITER_WAIT_MS to send
     * something or hang up.  Linux's poll() reports nothing for a FIFO
     * that has never had a writer. */
    if (S_ISFIFO(st.st_mode)) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int ready;

        do
            ready = poll(&pfd, 1, NV_CLI_FIFO_WRITER_WAIT_MS);
        while (ready < 0 && errno == EINTR);
        if (ready <= 0) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "%s: is a FIFO with no writer (none came within %d ms)", name,
                        NV_CLI_FIFO_WRITER_WAIT_MS);
            close(fd);
            return -1;
        }
    }
    /* Block from here on: a pipe with a writer is read to its end. */
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: %s", name, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

gboolean
nv_cli_read_input(const char *file, char **contents, GError **error)
{
    g_autofree char *name = NULL;
    gsize len = 0;
    int fd;

    if (g_strcmp0(file, "-") == 0) {
        /* Whatever stdin is (a pipe, a file, a terminal), the bound holds. */
        *contents = read_bounded(STDIN_FILENO, "standard input", &len, error);
        return *contents != NULL;
    }

    /* The path is the operator's, but it still must not split the line. */
    name = g_strescape(file, NULL);
    fd = open_input(file, name, error);
    if (fd < 0)
        return FALSE;
    *contents = read_bounded(fd, name, &len, error);
    close(fd);
    return *contents != NULL;
}
