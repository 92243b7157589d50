/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <secret> (LibvirtConfigSecret), defined before the passphrase is set.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* <secret ephemeral= private=><uuid/><description/><usage type='volume'>
 * <volume>ID</volume></usage></secret> (LibvirtConfigSecret) */
typedef struct {
    gboolean ephemeral;
    gboolean private_; /* "private" is reserved in C++ headers */
    char *uuid;        /* NULL: libvirt picks one */
    char *description;
    char *usage_type; /* "volume" (also "ceph", "iscsi" for auth secrets) */
    char *usage_id;   /* volume id for usage type volume */
} nv_secret_config;

nv_secret_config *nv_secret_config_new(void);
void nv_secret_config_free(nv_secret_config *secret);
/* Order as LibvirtConfigSecret.format_dom: description, uuid, usage.  Caller
 * owns.  NV_ERROR_BAD_INPUT for a usage type other than volume, ceph, iscsi,
 * tls, vtpm, or a usage type without id (or the reverse). */
char *nv_secret_config_to_xml(const nv_secret_config *secret, GError **error);
/* Caller owns.  NV_ERROR_BAD_INPUT for malformed XML, a DOCTYPE, a root other
 * than <secret>, or ephemeral/private not "yes"/"no". */
nv_secret_config *nv_secret_config_parse(const char *xml, GError **error);
gboolean nv_secret_config_equal(const nv_secret_config *a, const nv_secret_config *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_secret_config, nv_secret_config_free)

G_END_DECLS
