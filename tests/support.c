/* SPDX-License-Identifier: Apache-2.0 */
#include "support.h"

#include <criterion/criterion.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

char *
nv_test_data_path(const char *relative)
{
    const char *root = g_getenv("NVIRT_TEST_DATA");

    cr_assert(root != NULL, "NVIRT_TEST_DATA is not set: run the tests through meson test");
    return g_build_filename(root, relative, NULL);
}

char *
nv_test_data_read(const char *relative)
{
    g_autofree char *path = nv_test_data_path(relative);
    g_autoptr(GError) error = NULL;
    char *contents = NULL;

    cr_assert(g_file_get_contents(path, &contents, NULL, &error), "%s",
              error ? error->message : "");
    return contents;
}

int
nv_test_run_nvirt(const char *const *args, const char *stdin_text, char **out, char **err)
{
    const char *bin = g_getenv("NVIRT_BIN");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GBytes) stdin_bytes = NULL;
    g_autoptr(GBytes) out_bytes = NULL;
    g_autoptr(GBytes) err_bytes = NULL;

    cr_assert(bin != NULL, "NVIRT_BIN is not set: run the tests through meson test");
    /* nvirt may exit before reading all of its input (e.g. on a usage
     * error): a write to the closed pipe must fail, not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    g_ptr_array_add(argv, (gpointer)bin);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);

    proc = g_subprocess_newv((const char *const *)argv->pdata,
                             G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE,
                             &error);
    cr_assert(proc != NULL, "cannot run %s: %s", bin, error ? error->message : "");
    /* g_subprocess_communicate() wants a buffer whenever stdin is a pipe:
     * no input means an empty one, which closes the child's stdin at once. */
    stdin_bytes = g_bytes_new(stdin_text ? stdin_text : "", stdin_text ? strlen(stdin_text) : 0);
    cr_assert(g_subprocess_communicate(proc, stdin_bytes, NULL, &out_bytes, &err_bytes, &error),
              "%s", error ? error->message : "");
    /* An empty stream comes back as NULL from g_strndup(NULL, 0): return "". */
    if (out)
        *out = g_strndup(out_bytes ? g_bytes_get_data(out_bytes, NULL) : "",
                         out_bytes ? g_bytes_get_size(out_bytes) : 0);
    if (err)
        *err = g_strndup(err_bytes ? g_bytes_get_data(err_bytes, NULL) : "",
                         err_bytes ? g_bytes_get_size(err_bytes) : 0);
    if (out && !*out)
        *out = g_strdup("");
    if (err && !*err)
        *err = g_strdup("");
    cr_assert(g_subprocess_get_if_exited(proc), "nvirt did not exit normally");
    return g_subprocess_get_exit_status(proc);
}

char *
nv_test_mkdtemp(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("nvirt-test-XXXXXX", &error);

    cr_assert(dir != NULL, "%s", error ? error->message : "");
    return dir;
}

void
nv_test_rmtree(const char *path)
{
    g_autoptr(GFile) file = NULL;
    g_autoptr(GFileEnumerator) en = NULL;
    GFileInfo *info;

    if (!path)
        return;
    file = g_file_new_for_path(path);
    en = g_file_enumerate_children(
        file, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
    while (en && (info = g_file_enumerator_next_file(en, NULL, NULL))) {
        g_autofree char *child = g_build_filename(path, g_file_info_get_name(info), NULL);

        if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY)
            nv_test_rmtree(child);
        else
            g_unlink(child);
        g_object_unref(info);
    }
    g_rmdir(path);
}

int
nv_test_validate_xml(const char *xml, const char *type, char **output)
{
    g_autofree char *dir = nv_test_mkdtemp();
    g_autofree char *path = g_build_filename(dir, "check.xml", NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    const char *argv[] = { "virt-xml-validate", path, type, NULL };
    int status = -1;

    cr_assert(g_file_set_contents(path, xml, -1, &error), "%s", error ? error->message : "");
    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                           &status, &error),
              "cannot run virt-xml-validate: %s", error ? error->message : "");
    nv_test_rmtree(dir);
    if (output)
        *output = g_strconcat(out ? out : "", err ? err : "", NULL);
    cr_assert(WIFEXITED(status), "virt-xml-validate did not exit normally");
    return WEXITSTATUS(status);
}

int
nv_test_validate_disk_xml(const char *disk_xml, char **output)
{
    g_autofree char *wrapper = nv_test_data_read("config/domain-wrapper.xml");
    g_auto(GStrv) parts = g_strsplit(wrapper, "@DISK@", 2);
    g_autofree char *domain = NULL;

    cr_assert_eq(g_strv_length(parts), 2, "domain-wrapper.xml lacks the @DISK@ marker");
    domain = g_strconcat(parts[0], disk_xml, parts[1], NULL);
    return nv_test_validate_xml(domain, "domain", output);
}

void
nv_test_set_str(char **field, const char *value)
{
    g_free(*field);
    *field = g_strdup(value);
}
