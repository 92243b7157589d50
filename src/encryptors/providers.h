/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Provider names and control locations (os_brick/encryptors/__init__.py).
 *
 * Cinder's volume type names the encryption provider either by format
 * ("luks", "plain", "luks2") or by a legacy class path; both lead to one
 * nv_encryption_format.  The per-provider encryptors (dm-crypt through
 * libcryptsetup) live beside this file.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    NV_ENCRYPTION_FORMAT_NONE, /* no provider, or the no-op encryptor */
    NV_ENCRYPTION_FORMAT_LUKS, /* LUKS v1: the only format QEMU decrypts natively here */
    NV_ENCRYPTION_FORMAT_PLAIN,
    NV_ENCRYPTION_FORMAT_LUKS2,
} nv_encryption_format;

/* Map Cinder's provider string to a format, as os-brick's
 * LEGACY_PROVIDER_CLASS_TO_FORMAT_MAP and FORMAT_TO_FRONTEND_ENCRYPTOR_MAP
 * do: format names, the nova.volume.encryptors.* and os_brick.encryptors.*
 * class paths (including os-brick's own Luks2Encryptor and NoOpEncryptor
 * class paths, which it imports by name), and the bare class names.
 * Matching is exact (case sensitive).  NULL is the no-op encryptor; ""
 * is unknown, as os-brick fails to import it.  An unknown provider
 * fails with NV_ERROR_BAD_INPUT "volume VOLID: unknown encryption provider
 * 'X'" (@volume_id is used in the message only). */
gboolean nv_encryptors_provider_to_format(const char *provider, const char *volume_id,
                                          nv_encryption_format *format, GError **error);

/* "none", "luks", "plain", "luks2".  Static string. */
const char *nv_encryption_format_name(nv_encryption_format format);

/* os-brick only attaches a real encryptor when control_location is
 * "front-end" (case-insensitive); anything else, NULL included, gets the
 * no-op encryptor because the storage back end encrypts. */
gboolean nv_encryptors_is_front_end(const char *control_location);

G_END_DECLS
