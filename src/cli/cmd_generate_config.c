/* SPDX-License-Identifier: Apache-2.0 */
/* nvirt generate-config: oslo-config-generator for nvirt's options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "nvirt/error.h"

/* g_file_set_contents() writes a temporary file and renames it over @path:
 * that would turn a device node, FIFO or socket into a regular file, and
 * replace a symbolic link (not what it points to).  Only a missing file or
 * a regular file is replaced; anything else is refused, before anything is
 * written.  (Whoever can swap @path between this check and the rename can
 * write that directory anyway.) */
static gboolean
check_output_target(const char *path, GError **error)
{
    /* The path is the operator's, but it still must not split the line. */
    g_autofree char *shown = g_strescape(path, NULL);
    const char *kind = NULL;
    struct stat st;

    if (lstat(path, &st) < 0) {
        int err = errno;

        if (err == ENOENT)
            return TRUE;
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "%s: %s", shown, g_strerror(err));
        return FALSE;
    }
    if (S_ISREG(st.st_mode))
        return TRUE;
    if (S_ISLNK(st.st_mode))
        kind = "a symbolic link";
    else if (S_ISDIR(st.st_mode))
        kind = "a directory";
    else if (S_ISCHR(st.st_mode))
        kind = "a character device";
    else if (S_ISBLK(st.st_mode))
        kind = "a block device";
    else if (S_ISFIFO(st.st_mode))
        kind = "a FIFO";
    else if (S_ISSOCK(st.st_mode))
        kind = "a socket";
    else
        kind = "not a regular file";
    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                "%s: is %s, not a regular file: refusing to replace it", shown, kind);
    return FALSE;
}

int
nv_cmd_generate_config(int argc, char **argv)
{
    g_autofree char *output = NULL;
    GOptionEntry entries[] = {
        { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
          "Write the sample to FILE (a regular file, replaced atomically) instead of standard "
          "output",
          "FILE" },
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
        if (!check_output_target(output, &error))
            return nv_cli_fail(error);
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
