/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>

#include "nvirt/error.h"

/* The nova.conf equivalent, read when --config is not given and it exists. */
#define NV_DEFAULT_CONFIG_PATH "/etc/nvirt/nvirt.conf"

static char *opt_config;

static GOptionEntry common_entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
      "Configuration file (default: " NV_DEFAULT_CONFIG_PATH " if it exists)", "FILE" },
    { NULL },
};

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
    return TRUE;
}

/* The file --config names, else the default one if it exists, else NULL
 * (built-in defaults). */
static const char *
config_path(void)
{
    if (opt_config)
        return opt_config;
    if (g_file_test(NV_DEFAULT_CONFIG_PATH, G_FILE_TEST_EXISTS))
        return NV_DEFAULT_CONFIG_PATH;
    return NULL;
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
    const char *path = config_path();
    nv_conf *conf;

    if (!path)
        return nv_conf_new_default();
    conf = nv_conf_load(path, &warnings, error);
    print_warnings(warnings);
    return conf;
}

nv_driver *
nv_cli_open_driver(const char *connect_uri, GError **error)
{
    g_autoptr(GPtrArray) warnings = NULL;
    nv_driver *driver;

    driver = nv_driver_open(config_path(), connect_uri, &warnings, error);
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

gboolean
nv_cli_read_input(const char *file, char **contents, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (g_strcmp0(file, "-") == 0) {
        g_autoptr(GString) buf = g_string_new(NULL);
        char chunk[4096];
        size_t n;

        while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
            g_string_append_len(buf, chunk, (gssize)n);
        if (ferror(stdin)) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "cannot read standard input");
            return FALSE;
        }
        *contents = g_string_free(g_steal_pointer(&buf), FALSE);
        return TRUE;
    }

    if (!g_file_get_contents(file, contents, NULL, &local)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s", local->message);
        return FALSE;
    }
    return TRUE;
}
