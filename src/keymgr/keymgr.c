/* SPDX-License-Identifier: Apache-2.0 */
/* Backend selection (castellan's key_manager.API()) and the caller-facing
 * wrappers, including the passphrase derivation of
 * nova/virt/libvirt/driver.py _attach_encryptor. */
#include "keymgr/keymgr.h"

#include <string.h>

#include "keymgr/barbican.h"
#include "nvirt/error.h"

struct nv_keymgr {
    const nv_keymgr_backend *backend;
    gpointer state;
};

/* Nova selects the fixed key manager by class path; accept that spelling so a
 * nova.conf [key_manager] section works unchanged. */
static const char *const fixed_aliases[] = {
    "fixed",
    "nova.keymgr.conf_key_mgr.ConfKeyManager",
};

static const char *const barbican_aliases[] = {
    "barbican",
    "castellan.key_manager.barbican_key_manager.BarbicanKeyManager",
};

nv_keymgr *
nv_keymgr_new(const nv_keymgr_backend *backend, gpointer state)
{
    nv_keymgr *mgr = g_new0(nv_keymgr, 1);

    mgr->backend = backend;
    mgr->state = state;
    return mgr;
}

nv_keymgr *
nv_keymgr_new_from_conf(const nv_conf *conf, GError **error)
{
    const char *name = conf->key_manager.backend;

    if (!name || !*name)
        name = "fixed";
    for (gsize i = 0; i < G_N_ELEMENTS(fixed_aliases); i++) {
        if (strcmp(name, fixed_aliases[i]) != 0)
            continue;
        if (!conf->key_manager.fixed_key || nv_secure_buf_len(conf->key_manager.fixed_key) == 0) {
            g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "[key_manager] fixed_key is not set");
            return NULL;
        }
        return nv_keymgr_new_fixed(conf->key_manager.fixed_key, error);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(barbican_aliases); i++) {
        if (strcmp(name, barbican_aliases[i]) == 0)
            return nv_keymgr_new_barbican(conf, error);
    }
    g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                "[key_manager] backend: '%s' is not built in (available: fixed, barbican)", name);
    return NULL;
}

const char *
nv_keymgr_backend_name(const nv_keymgr *mgr)
{
    return mgr->backend->name;
}

static gboolean
check_key_id(const char *key_id, GError **error)
{
    if (!key_id || !*key_id) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "encryption_key_id is missing");
        return FALSE;
    }
    return TRUE;
}

nv_secure_buf *
nv_keymgr_get_key(nv_keymgr *mgr, const char *key_id, GError **error)
{
    if (!check_key_id(key_id, error))
        return NULL;
    return mgr->backend->get_key(mgr->state, key_id, error);
}

nv_secure_buf *
nv_keymgr_get_passphrase(nv_keymgr *mgr, const char *key_id, GError **error)
{
    g_autoptr(nv_secure_buf) key = nv_keymgr_get_key(mgr, key_id, error);

    if (!key)
        return NULL;
    return nv_secure_buf_to_hex(key);
}

nv_secure_buf *
nv_keymgr_get_volume_passphrase(nv_keymgr *mgr, const char *volume_id, const char *key_id,
                                GError **error)
{
    g_autoptr(GError) local = NULL;
    nv_secure_buf *passphrase = nv_keymgr_get_passphrase(mgr, key_id, &local);

    if (!passphrase) {
        if (volume_id)
            g_prefix_error(&local, "volume %s: ", volume_id);
        g_propagate_error(error, g_steal_pointer(&local));
    }
    return passphrase;
}

char *
nv_keymgr_create_key(nv_keymgr *mgr, guint bits, GError **error)
{
    if (!mgr->backend->create_key) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED, "key manager '%s' cannot create keys",
                    mgr->backend->name);
        return NULL;
    }
    return mgr->backend->create_key(mgr->state, bits, error);
}

gboolean
nv_keymgr_delete_key(nv_keymgr *mgr, const char *key_id, GError **error)
{
    if (!check_key_id(key_id, error))
        return FALSE;
    if (!mgr->backend->delete_key) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED, "key manager '%s' cannot delete keys",
                    mgr->backend->name);
        return FALSE;
    }
    return mgr->backend->delete_key(mgr->state, key_id, error);
}

void
nv_keymgr_set_auth_token(nv_keymgr *mgr, const nv_secure_buf *token)
{
    if (mgr->backend->set_auth_token)
        mgr->backend->set_auth_token(mgr->state, token);
}

void
nv_keymgr_free(nv_keymgr *mgr)
{
    if (!mgr)
        return;
    if (mgr->backend->free_state)
        mgr->backend->free_state(mgr->state);
    g_free(mgr);
}
