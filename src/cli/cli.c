/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"

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

nv_conf *
nv_cli_load_conf(GError **error)
{
    g_autoptr(GPtrArray) warnings = NULL;
    const char *path = opt_config;
    nv_conf *conf;

    if (!path) {
        if (!g_file_test(NV_DEFAULT_CONFIG_PATH, G_FILE_TEST_EXISTS))
            return nv_conf_new_default();
        path = NV_DEFAULT_CONFIG_PATH;
    }

    conf = nv_conf_load(path, &warnings, error);
    for (guint i = 0; warnings && i < warnings->len; i++)
        fprintf(stderr, "nvirt: warning: %s\n", (const char *)g_ptr_array_index(warnings, i));
    return conf;
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
