/* SPDX-License-Identifier: Apache-2.0 */
#include "encryptors/mappings.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <sys/sysmacros.h>

#include "encryptors/crypt_util.h"
#include "nvirt/error.h"

void
nv_crypt_mapping_free(nv_crypt_mapping *mapping)
{
    if (!mapping)
        return;
    g_free(mapping->name);
    g_free(mapping);
}

static char *
read_attr(const char *dm_dir, const char *a, const char *b)
{
    g_autofree char *path = g_build_filename(dm_dir, a, b, NULL);
    char *contents = NULL;

    if (!g_file_get_contents(path, &contents, NULL, NULL))
        return NULL;
    return g_strchomp(contents);
}

GPtrArray *
nv_crypt_list_mappings(const char *sysfs_root, GError **error)
{
    g_autofree char *block = g_build_filename(sysfs_root, "block", NULL);
    g_autoptr(GPtrArray) mappings =
        g_ptr_array_new_with_free_func((GDestroyNotify)nv_crypt_mapping_free);
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) dir = g_dir_open(block, 0, &local);
    const char *entry;

    if (!dir) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&mappings);
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "cannot list device-mapper devices: %s",
                    local->message);
        return NULL;
    }
    while ((entry = g_dir_read_name(dir))) {
        g_autofree char *dm_dir = NULL;
        g_autofree char *name = NULL;
        g_autofree char *uuid = NULL;
        g_autofree char *dev = NULL;
        unsigned int maj, min;
        nv_crypt_mapping *mapping;

        if (!g_str_has_prefix(entry, "dm-"))
            continue;
        dm_dir = g_build_filename(block, entry, NULL);
        name = read_attr(dm_dir, "dm", "name");
        uuid = read_attr(dm_dir, "dm", "uuid");
        dev = read_attr(dm_dir, "dev", NULL);
        /* The same rule as the encryptors' own lookup: libcryptsetup's
         * uuid prefix, without its dm-verity and dm-integrity devices. */
        if (!name || !g_str_has_prefix(name, "crypt-") || !uuid ||
            !g_str_has_prefix(uuid, "CRYPT-") || g_str_has_prefix(uuid, "CRYPT-VERITY-") ||
            g_str_has_prefix(uuid, "CRYPT-INTEGRITY-") || !dev ||
            sscanf(dev, "%u:%u", &maj, &min) != 2)
            continue;
        mapping = g_new0(nv_crypt_mapping, 1);
        mapping->name = g_steal_pointer(&name);
        mapping->devno = makedev(maj, min);
        g_ptr_array_add(mappings, mapping);
    }
    return g_steal_pointer(&mappings);
}

gboolean
nv_crypt_close_mapping_by_name(const char *name, GError **error)
{
    nv_crypt_log log;
    struct crypt_device *cd;
    gboolean ok = FALSE;
    int r;

    nv_crypt_log_begin(&log);
    cd = nv_crypt_open_by_name(name, name, &log, error);
    if (!cd)
        goto out;
    r = crypt_deactivate(cd, name);
    if (r < 0 && r != -ENODEV) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, r == -EBUSY ? NV_ERROR_FAILED : NV_ERROR_CRYPT,
                    "mapping %s: cannot close it: %s%s", name, g_strerror(-r), detail);
        goto out;
    }
    ok = TRUE;

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return ok;
}
