/* SPDX-License-Identifier: Apache-2.0 */
/* The INI loader (conf/ini.c: scrubber + iniparser) and the option table on
 * top of it (nv_conf_load), reading the input from a memfd: a regular file,
 * as the loader insists. */
#include <unistd.h>

#include "conf/conf.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    nv_conf *conf;
    int fd;

    fd = nv_fuzz_memfd(data, size, 0, &path);
    if (fd < 0)
        return 0;
    conf = nv_conf_load(path, &warnings, &error);
    g_assert((conf == NULL) != (error == NULL));
    if (error)
        g_assert(!strchr(error->message, '\n'));
    for (guint i = 0; warnings && i < warnings->len; i++)
        g_assert(!strchr(g_ptr_array_index(warnings, i), '\n'));
    if (conf)
        nv_conf_free(conf);
    close(fd);
    return 0;
}
