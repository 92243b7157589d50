/* SPDX-License-Identifier: Apache-2.0 */
/* nvirt generate-config: oslo-config-generator for nvirt's options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
nv_cmd_generate_config(int argc, char **argv)
{
    g_autofree char *output = NULL;
    GOptionEntry entries[] = {
        { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
          "Write the sample to FILE (replaced atomically) instead of standard output", "FILE" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("- print a commented sample configuration");
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    size_t text_len = 0;
    int exit_code = NV_EXIT_OK;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(
        ctx, "Every option nvirt reads, with Nova's help text, commented out at its default.\n"
             "etc/nvirt.conf.sample in the source tree is this command's output.");
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;
    if (argc > 1) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", g_get_prgname(), argv[1]);
        return NV_EXIT_USAGE;
    }

    /* The whole text first, so --output never leaves half a file. */
    text = nv_conf_generate_sample_text();
    text_len = strlen(text);

    if (output) {
        if (!g_file_set_contents(output, text, (gssize)text_len, &error)) {
            fprintf(stderr, "nvirt: %s\n", error->message);
            return NV_EXIT_FAILED;
        }
        return NV_EXIT_OK;
    }
    if (fwrite(text, 1, text_len, stdout) != text_len || fflush(stdout) != 0) {
        fprintf(stderr, "nvirt: cannot write standard output: %s\n", g_strerror(errno));
        return NV_EXIT_FAILED;
    }
    return NV_EXIT_OK;
}
