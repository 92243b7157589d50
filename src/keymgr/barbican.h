/* SPDX-License-Identifier: Apache-2.0 */
/* The Barbican key-manager backend (see barbican.c).  Private to keymgr. */
#pragma once

#include "keymgr/keymgr.h"

G_BEGIN_DECLS

/* A Barbican key manager over @conf ([barbican], [barbican_service_user];
 * borrowed, must outlive the manager).  Nothing is sent until the first
 * nv_keymgr_get_key().  Errors: NV_ERROR_CONFIG for incomplete credentials
 * (keystone.h).  nv_keymgr_get_key() errors, each naming the key id:
 *   NV_ERROR_AUTH "key ID: authentication failed for user 'nova' (domain
 *     Default) at http://keystone/v3 (HTTP 401)", "key ID: user ... may not
 *     read it from Barbican at URL (HTTP 403)", "... refused the token ..."
 *   NV_ERROR_NOT_FOUND "key ID: not found in Barbican at URL (HTTP 404)"
 *   NV_ERROR_UNREACHABLE "key ID: key manager unreachable: cannot reach URL
 *     (REASON)"
 *   NV_ERROR_BAD_INPUT "key ID: not a Barbican secret id" */
nv_keymgr *nv_keymgr_new_barbican(const nv_conf *conf, GError **error);

G_END_DECLS
