/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixed-key backend: nova/keymgr/conf_key_mgr.py (ConfKeyManager).
 *
 * One key, read from [key_manager] fixed_key, is every volume's key.  Like
 * Nova's, it gives no protection once that key is known, and exists for
 * deployments and tests without Barbican.
 *
 * Deliberate difference: Nova's get() raises KeyError for any id other than
 * NV_KEYMGR_FIXED_KEY_ID.  Here every non-empty key id maps to the fixed key,
 * so volumes whose metadata carries another id (created while Cinder used a
 * different id scheme, or by test fixtures) still attach with the one key
 * there is.
 */
#include "keymgr/keymgr.h"

#include "nvirt/error.h"

static nv_secure_buf *
fixed_get_key(gpointer state, const char *key_id, GError **error)
{
    /* The one key, shared: a copy per call would be one more page of key
     * material to lock and wipe. */
    return nv_secure_buf_ref(state);
}

static char *
fixed_create_key(gpointer state, guint bits, GError **error)
{
    /* ConfKeyManager.create_key ignores algorithm and length. */
    return g_strdup(NV_KEYMGR_FIXED_KEY_ID);
}

static gboolean
fixed_delete_key(gpointer state, const char *key_id, GError **error)
{
    /* ConfKeyManager.delete: the only key lives in the configuration. */
    g_debug("key manager 'fixed': not deleting key %s", key_id);
    return TRUE;
}

static void
fixed_free_state(gpointer state)
{
    nv_secure_buf_unref(state);
}

static const nv_keymgr_backend fixed_backend = {
    .name = "fixed",
    .get_key = fixed_get_key,
    .create_key = fixed_create_key,
    .delete_key = fixed_delete_key,
    .free_state = fixed_free_state,
};

nv_keymgr *
nv_keymgr_new_fixed(nv_secure_buf *key, GError **error)
{
    if (!key || nv_secure_buf_len(key) == 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "[key_manager] fixed_key is not set");
        return NULL;
    }
    /* Nova logs this as a warning on every construction; info level here so
     * the CLI's stderr carries only errors. */
    g_info("key manager 'fixed' is insecure: every volume shares one key");
    return nv_keymgr_new(&fixed_backend, nv_secure_buf_ref(key));
}
