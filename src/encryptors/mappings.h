/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's dm-crypt mappings as os-brick's encryptors name them
 * (crypt-<basename of device_path>), listed from sysfs and closed by name,
 * for reconciling a host (nvirt reconcile): a detach that died half-way can
 * leave one open.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
    char *name;  /* "crypt-..." */
    dev_t devno; /* the mapping's own device (/dev/dm-N) */
} nv_crypt_mapping;

void nv_crypt_mapping_free(nv_crypt_mapping *mapping);

/* Every active device-mapper device under @sysfs_root ("/sys") whose name
 * starts with "crypt-" and whose dm uuid says libcryptsetup made it as a
 * plain or LUKS crypt mapping (CRYPT-..., not VERITY or INTEGRITY): other
 * device-mapper devices (LVM, multipath) are never listed.  A host without
 * device-mapper has none.  GPtrArray of nv_crypt_mapping *, caller frees;
 * NV_ERROR_CRYPT when sysfs cannot be read. */
GPtrArray *nv_crypt_list_mappings(const char *sysfs_root, GError **error);

/* Close the crypt mapping @name (crypt_deactivate).  One that is not
 * active is success.  NV_ERROR_FAILED when it is busy, NV_ERROR_CRYPT
 * otherwise, naming the mapping. */
gboolean nv_crypt_close_mapping_by_name(const char *name, GError **error);

G_END_DECLS
