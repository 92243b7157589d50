/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key manager (nova/keymgr + castellan's key_manager.API()).
 *
 * Callers hold an nv_keymgr and call the nv_keymgr_* functions below; the
 * backend behind it is a table of functions (nv_keymgr_backend): "fixed"
 * (conf_key_mgr.c) and "barbican" (barbican.c).  Keys leave a backend only inside an nv_secure_buf.
 */
#pragma once

#include <glib.h>

#include "conf/conf.h"
#include "util/secure.h"

G_BEGIN_DECLS

/* The one key id Nova's ConfKeyManager hands out (create_key) and knows. */
#define NV_KEYMGR_FIXED_KEY_ID "00000000-0000-0000-0000-000000000000"

typedef struct nv_keymgr nv_keymgr;

/* What a backend implements.  @state is the pointer given to nv_keymgr_new().
 * The nv_keymgr_* wrappers have already checked that @key_id is a non-empty
 * string.  Errors use NV_ERROR; messages name the key id, never the key. */
typedef struct {
    /* Name as [key_manager] backend spells it ("fixed"). */
    const char *name;
    /* Raw key bytes of @key_id; caller owns the result (a reference: a
     * backend may hand out the one buffer it holds, so callers never write
     * to it). */
    nv_secure_buf *(*get_key)(gpointer state, const char *key_id, GError **error);
    /* Optional (NULL: NV_ERROR_UNSUPPORTED).  A new key of @bits bits; returns
     * its id, caller owns it. */
    char *(*create_key)(gpointer state, guint bits, GError **error);
    /* Optional (NULL: NV_ERROR_UNSUPPORTED). */
    gboolean (*delete_key)(gpointer state, const char *key_id, GError **error);
    /* Optional (NULL: ignored).  A Keystone token to use instead of the
     * backend's own credentials (borrowed; copy it); NULL clears it. */
    void (*set_auth_token)(gpointer state, const nv_secure_buf *token);
    /* Frees @state; may be NULL. */
    void (*free_state)(gpointer state);
} nv_keymgr_backend;

/* A key manager over @backend (borrowed; must outlive the manager, normally a
 * static table) and @state (owned by the manager from now on, released with
 * backend->free_state).  Test doubles use this directly.  Never fails. */
nv_keymgr *nv_keymgr_new(const nv_keymgr_backend *backend, gpointer state);

/* The backend [key_manager] backend names in @conf (borrowed, and for
 * "barbican" it must outlive the manager; the fixed backend takes a
 * reference to the fixed key rather than a copy, so a driver holds that key
 * once).  "fixed" (also nova.keymgr.conf_key_mgr.ConfKeyManager) and
 * "barbican" (also castellan.key_manager.barbican_key_manager.
 * BarbicanKeyManager) are built in; NULL or "" means "fixed".  Errors
 * (NV_ERROR_CONFIG):
 *   "[key_manager] backend: 'vault' is not built in (available: fixed, barbican)"
 *   "[key_manager] fixed_key is not set"
 *   "[barbican_service_user] password is not set" (see keymgr/keystone.h)
 * Caller owns the result. */
nv_keymgr *nv_keymgr_new_from_conf(const nv_conf *conf, GError **error);

/* The fixed-key backend over @key: the manager takes a reference, and
 * nv_keymgr_get_key() hands out further references to the same buffer, never
 * copies.  A zero-length key fails like an unset one.  Caller owns the
 * result. */
nv_keymgr *nv_keymgr_new_fixed(nv_secure_buf *key, GError **error);

/* Backend name ("fixed"); borrowed from the backend table. */
const char *nv_keymgr_backend_name(const nv_keymgr *mgr);

/* Raw key bytes for @key_id; caller owns the result, and must not write to
 * it (it may be shared, see nv_keymgr_new_fixed()).  NULL or "" @key_id:
 * NV_ERROR_BAD_INPUT "encryption_key_id is missing". */
nv_secure_buf *nv_keymgr_get_key(nv_keymgr *mgr, const char *key_id, GError **error);

/* The volume passphrase Nova derives from the key:
 * binascii.hexlify(key.get_encoded()).decode('utf-8'), i.e. lowercase hex of
 * the raw bytes (a 256-bit key gives 64 characters).  Caller owns the result.
 * Errors as nv_keymgr_get_key(). */
nv_secure_buf *nv_keymgr_get_passphrase(nv_keymgr *mgr, const char *key_id, GError **error);

/* As nv_keymgr_get_passphrase(), with every error message prefixed by
 * "volume VOLUME_ID: " (if @volume_id is non-NULL), e.g.
 * "volume 7f1c...: encryption_key_id is missing". */
nv_secure_buf *nv_keymgr_get_volume_passphrase(nv_keymgr *mgr, const char *volume_id,
                                               const char *key_id, GError **error);

/* A new key of @bits bits; returns its id (caller owns).  The fixed backend
 * always returns NV_KEYMGR_FIXED_KEY_ID, as Nova's ConfKeyManager does. */
char *nv_keymgr_create_key(nv_keymgr *mgr, guint bits, GError **error);

/* Delete @key_id.  The fixed backend deletes nothing (it has one key, read
 * from the configuration) and succeeds, as Nova's ConfKeyManager does. */
gboolean nv_keymgr_delete_key(nv_keymgr *mgr, const char *key_id, GError **error);

/* Use @token (a Keystone token, e.g. the user's, as Nova hands castellan
 * the request context's; borrowed, copied into secure memory) instead of
 * the backend's own credentials; NULL or "" goes back to them.  Backends
 * without Keystone ignore it. */
void nv_keymgr_set_auth_token(nv_keymgr *mgr, const nv_secure_buf *token);

/* Free the manager and wipe the key material it holds.  NULL is a no-op. */
void nv_keymgr_free(nv_keymgr *mgr);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_keymgr, nv_keymgr_free)

G_END_DECLS
