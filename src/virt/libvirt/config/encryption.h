/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <encryption> of a disk (LibvirtConfigGuestDiskEncryption).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* <encryption format='luks'><secret type='passphrase' uuid='...'/></encryption>
 * (LibvirtConfigGuestDiskEncryption + ...EncryptionSecret) */
typedef struct {
    char *format;      /* "luks", "luks2" */
    char *engine;      /* NULL (libvirt picks QEMU), "qemu", "librbd" (libvirt >= 7.9) */
    char *secret_type; /* "passphrase" */
    char *secret_uuid;
} nv_disk_encryption;

nv_disk_encryption *nv_disk_encryption_new(const char *format, const char *secret_type,
                                           const char *secret_uuid);
nv_disk_encryption *nv_disk_encryption_copy(const nv_disk_encryption *enc);
void nv_disk_encryption_free(nv_disk_encryption *enc);
/* Standalone <encryption> document (caller owns; no <?xml?> declaration,
 * 2-space indent, final newline).  NV_ERROR_BAD_INPUT when format, secret
 * type or secret uuid is missing. */
char *nv_disk_encryption_to_xml(const nv_disk_encryption *enc, GError **error);
/* Caller owns the result.  NV_ERROR_BAD_INPUT for malformed XML, a DOCTYPE
 * or a root other than <encryption>; unknown content is ignored. */
nv_disk_encryption *nv_disk_encryption_parse(const char *xml, GError **error);
/* Field-by-field; NULL equals only NULL (same for the other _equal). */
gboolean nv_disk_encryption_equal(const nv_disk_encryption *a, const nv_disk_encryption *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_disk_encryption, nv_disk_encryption_free)

G_END_DECLS
