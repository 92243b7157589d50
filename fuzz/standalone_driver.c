/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay a fuzz target's corpus without libFuzzer (as libgit2's
 * tests/fuzz/standalone_driver.c does), so the normal gcc test build runs
 * every corpus entry, crashes found earlier included, on every run:
 *
 *   replay_fuzz_NAME DIR|FILE...
 *
 * Calls LLVMFuzzerTestOneInput once per file (directories: every file in
 * them, sorted).  Exit 0 when all ran; a target that crashes or asserts
 * kills the process, which meson counts as a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *data = NULL;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, &error)) {
        fprintf(stderr, "replay: %s\n", error->message);
        return 1;
    }
    /* A copy of exactly @len bytes: ASan sees a read past the input. */
    g_autofree uint8_t *copy = g_memdup2(data, len ? len : 1);

    LLVMFuzzerTestOneInput(copy, len);
    return 0;
}

static gint
compare_paths(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
run_dir(const char *dir, guint *count)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    int failed = 0;

    if (!d) {
        fprintf(stderr, "replay: %s\n", error->message);
        return 1;
    }
    while ((name = g_dir_read_name(d)))
        g_ptr_array_add(names, g_build_filename(dir, name, NULL));
    g_ptr_array_sort(names, compare_paths);
    for (guint i = 0; i < names->len; i++) {
        const char *path = g_ptr_array_index(names, i);

        if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
            failed |= run_file(path);
            (*count)++;
        }
    }
    return failed;
}

int
main(int argc, char **argv)
{
    g_autofree char *name = g_path_get_basename(argv[0]);
    guint count = 0;
    int failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            failed |= run_dir(argv[i], &count);
        } else {
            failed |= run_file(argv[i]);
            count++;
        }
    }
    printf("replay: %u inputs through %s\n", count, name);
    return failed || count == 0 ? 1 : 0;
}
