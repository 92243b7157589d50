/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live migration with encrypted volumes (LibvirtDriver.pre_live_migration,
 * _live_migration_operation, post_live_migration,
 * rollback_live_migration_at_destination).  The XML rewrite and the URIs
 * are in migration.c; what a migration needs to know about other domains
 * sharing a secret is in secret_refs.c.
 */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "encryptors/encryptor.h"
#include "nvirt/error.h"
#include "virt/libvirt/driver_priv.h"
#include "virt/libvirt/migration.h"
#include "virt/libvirt/migration_monitor.h"
#include "virt/libvirt/secret_refs.h"
#include "virt/libvirt/volume_lock.h"

typedef struct {
    char *volume_id;
    char *secret_uuid;       /* NULL unless QEMU decrypts it on the destination */
    gboolean created_secret; /* pre_live_migration defined it */
    nv_encryptor *encryptor; /* the mapping pre_live_migration opened; in-process only */
} migrate_volume;

struct nv_migrate_data {
    GPtrArray *volumes; /* migrate_volume * */
    char *target_connect_addr;
};

static void
migrate_volume_free(migrate_volume *vol)
{
    g_free(vol->volume_id);
    g_free(vol->secret_uuid);
    nv_encryptor_free(vol->encryptor);
    g_free(vol);
}

static nv_migrate_data *
migrate_data_new(void)
{
    nv_migrate_data *data = g_new0(nv_migrate_data, 1);

    data->volumes = g_ptr_array_new_with_free_func((GDestroyNotify)migrate_volume_free);
    return data;
}

void
nv_migrate_data_free(nv_migrate_data *data)
{
    if (!data)
        return;
    g_ptr_array_unref(data->volumes);
    g_free(data->target_connect_addr);
    g_free(data);
}

static const migrate_volume *
data_volume(const nv_migrate_data *data, guint i)
{
    g_return_val_if_fail(data != NULL && i < data->volumes->len, NULL);
    return g_ptr_array_index(data->volumes, i);
}

guint
nv_migrate_data_get_n_volumes(const nv_migrate_data *data)
{
    g_return_val_if_fail(data != NULL, 0);
    return data->volumes->len;
}

const char *
nv_migrate_data_get_volume_id(const nv_migrate_data *data, guint i)
{
    const migrate_volume *vol = data_volume(data, i);

    return vol ? vol->volume_id : NULL;
}

const char *
nv_migrate_data_get_secret_uuid(const nv_migrate_data *data, guint i)
{
    const migrate_volume *vol = data_volume(data, i);

    return vol ? vol->secret_uuid : NULL;
}

gboolean
nv_migrate_data_get_created_secret(const nv_migrate_data *data, guint i)
{
    const migrate_volume *vol = data_volume(data, i);

    return vol && vol->created_secret;
}

const char *
nv_migrate_data_get_target_connect_addr(const nv_migrate_data *data)
{
    g_return_val_if_fail(data != NULL, NULL);
    return data->target_connect_addr;
}

char *
nv_migrate_data_to_json(const nv_migrate_data *data)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    g_return_val_if_fail(data != NULL, NULL);
    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "target_connect_addr");
    if (data->target_connect_addr)
        json_builder_add_string_value(builder, data->target_connect_addr);
    else
        json_builder_add_null_value(builder);
    json_builder_set_member_name(builder, "volumes");
    json_builder_begin_array(builder);
    for (guint i = 0; i < data->volumes->len; i++) {
        const migrate_volume *vol = g_ptr_array_index(data->volumes, i);

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "volume_id");
        json_builder_add_string_value(builder, vol->volume_id);
        json_builder_set_member_name(builder, "secret_uuid");
        if (vol->secret_uuid)
            json_builder_add_string_value(builder, vol->secret_uuid);
        else
            json_builder_add_null_value(builder);
        json_builder_set_member_name(builder, "created_secret");
        json_builder_add_boolean_value(builder, vol->created_secret);
        json_builder_end_object(builder);
    }
    json_builder_end_array(builder);
    json_builder_end_object(builder);
    root = json_builder_get_root(builder);
    json_generator_set_root(generator, root);
    return json_generator_to_data(generator, NULL);
}

/* A member that is a string (TRUE, *@out set), null or absent (TRUE, NULL),
 * anything else FALSE. */
static gboolean
json_optional_string(JsonObject *obj, const char *name, const char **out)
{
    JsonNode *node = json_object_get_member(obj, name);

    *out = NULL;
    if (!node || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
        return FALSE;
    *out = json_node_get_string(node);
    return TRUE;
}

nv_migrate_data *
nv_migrate_data_from_json(const char *json, GError **error)
{
    g_autoptr(nv_migrate_data) data = migrate_data_new();
    g_autoptr(JsonObject) obj = NULL;
    JsonNode *volumes;
    const char *addr;

    g_return_val_if_fail(json != NULL, NULL);
    /* It comes from the other host: the limits every parser of input has
     * (depth, size, NUL, the json-glib leaks the pre-scan avoids). */
    obj = nv_json_parse_object(json, -1, "migrate data", error);
    if (!obj)
        return NULL;
    volumes = json_object_get_member(obj, "volumes");
    if (!volumes || !JSON_NODE_HOLDS_ARRAY(volumes) ||
        !json_optional_string(obj, "target_connect_addr", &addr)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "migrate data: want an object with a 'volumes' array");
        return NULL;
    }
    data->target_connect_addr = g_strdup(addr);
    for (guint i = 0; i < json_array_get_length(json_node_get_array(volumes)); i++) {
        JsonNode *node = json_array_get_element(json_node_get_array(volumes), i);
        JsonObject *v = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        const char *volume_id = NULL, *uuid = NULL;
        migrate_volume *vol;

        if (!v || !json_optional_string(v, "volume_id", &volume_id) || !volume_id || !*volume_id ||
            !json_optional_string(v, "secret_uuid", &uuid) ||
            (uuid && !g_uuid_string_is_valid(uuid))) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "migrate data: volume %u needs a volume_id and a UUID or null as "
                        "secret_uuid",
                        i);
            return NULL;
        }
        vol = g_new0(migrate_volume, 1);
        vol->volume_id = g_strdup(volume_id);
        vol->secret_uuid = g_strdup(uuid);
        vol->created_secret =
            json_object_get_boolean_member_with_default(v, "created_secret", FALSE);
        g_ptr_array_add(data->volumes, vol);
    }
    return g_steal_pointer(&data);
}

/* ------------------------------------------------------------------------ */
/* Destination: pre_live_migration and rollback                             */
/* ------------------------------------------------------------------------ */

static nv_volume_lock *
lock_volume(nv_driver *driver, const char *volume_id, GError **error)
{
    return nv_volume_lock_acquire(driver->conf->oslo_concurrency.lock_path, volume_id,
                                  NV_VOLUME_LOCK_TIMEOUT_MS, error);
}

/* Undo what pre_live_migration created for @vol.  Logs and returns FALSE
 * with @error set on the first failure; the caller decides what to report. */
static gboolean
undo_volume(nv_driver *driver, migrate_volume *vol, GError **error)
{
    gboolean ok = TRUE;

    if (vol->encryptor) {
        if (!nv_encryptor_detach(vol->encryptor, error))
            ok = FALSE;
        else
            g_clear_pointer(&vol->encryptor, nv_encryptor_free);
    }
    if (vol->created_secret && vol->secret_uuid) {
        g_autoptr(GError) local = NULL;

        if (!nv_host_delete_secret_by_uuid(driver->host, vol->secret_uuid, &local) &&
            !g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
            if (ok)
                g_propagate_error(error, g_steal_pointer(&local));
            ok = FALSE;
        } else {
            vol->created_secret = FALSE;
        }
    }
    return ok;
}

/* The volume's host path must be there before anything is created for it
 * (_connect_volume: Cinder has connected the volume to this host). */
static gboolean
check_connected(const nv_volume_op *op, GError **error)
{
    if (!op->host_path || access(op->host_path, R_OK) == 0)
        return TRUE;
    g_set_error(error, NV_ERROR, errno == ENOENT ? NV_ERROR_NOT_FOUND : NV_ERROR_FAILED,
                "volume %s: '%s' on the destination: %s", op->info->volume_id, op->host_path,
                g_strerror(errno));
    return FALSE;
}

/* A volume QEMU decrypts: the volume secret found (reused) or created.
 * The header is not touched: a migrated volume is in use, so it has one. */
static gboolean
prepare_native(nv_driver *driver, const nv_volume_op *op, migrate_volume *vol, GError **error)
{
    g_autoptr(nv_secure_buf) passphrase = NULL;
    nv_keymgr *keymgr;

    if (!nv_host_find_volume_secret(driver->host, vol->volume_id, &vol->secret_uuid, error))
        return FALSE;
    if (vol->secret_uuid)
        return TRUE;
    keymgr = nv_driver_keymgr(driver, error);
    if (!keymgr)
        return FALSE;
    passphrase =
        nv_keymgr_get_volume_passphrase(keymgr, vol->volume_id, op->meta->encryption_key_id, error);
    if (!passphrase)
        return FALSE;
    vol->secret_uuid =
        nv_host_create_volume_secret(driver->host, vol->volume_id, NULL, passphrase, error);
    if (!vol->secret_uuid)
        return FALSE;
    vol->created_secret = TRUE;
    return TRUE;
}

/* A volume a dm-crypt encryptor decrypts: its mapping, opened here too. */
static gboolean
prepare_encryptor(nv_driver *driver, const nv_volume_op *op, migrate_volume *vol, GError **error)
{
    const nv_encryption_meta *meta = op->meta;
    g_autoptr(nv_encryptor) encryptor = NULL;
    g_autoptr(nv_secure_buf) passphrase = NULL;
    nv_keymgr *keymgr;

    encryptor =
        nv_encryptor_new(vol->volume_id, op->host_path, meta->provider, meta->control_location,
                         meta->cipher, meta->has_key_size ? (guint)meta->key_size : 0, error);
    keymgr = encryptor ? nv_driver_keymgr(driver, error) : NULL;
    if (!keymgr)
        return FALSE;
    passphrase =
        nv_keymgr_get_volume_passphrase(keymgr, vol->volume_id, meta->encryption_key_id, error);
    if (!passphrase || !nv_encryptor_attach(encryptor, passphrase, error))
        return FALSE;
    vol->encryptor = g_steal_pointer(&encryptor);
    return TRUE;
}

static gboolean
prepare_volume(nv_driver *driver, const char *domain, const nv_volume_request *request,
               nv_migrate_data *data, GError **error)
{
    g_autoptr(nv_volume_op) op = NULL;
    g_autoptr(nv_volume_lock) lock = NULL;
    migrate_volume *vol;

    /* As a detach does, the request may name a domain that is not here. */
    op = nv_volume_op_new(driver, domain, request, TRUE, error);
    if (!op)
        return FALSE;
    if (op->info->encrypted && !op->meta) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: connection_info says the volume is encrypted but no "
                    "encryption metadata was given",
                    op->info->volume_id);
        return FALSE;
    }
    if (!nv_volume_op_decide(driver, op, error))
        return FALSE;
    vol = g_new0(migrate_volume, 1);
    vol->volume_id = g_strdup(op->info->volume_id);
    /* Added first, so a failure below is rolled back with the rest. */
    g_ptr_array_add(data->volumes, vol);
    lock = lock_volume(driver, vol->volume_id, error);
    if (!lock)
        return FALSE;
    if (g_strcmp0(op->disk->source_type, "network") != 0 && !check_connected(op, error))
        return FALSE;
    if (nv_encryption_path_uses_secret(op->path))
        return prepare_native(driver, op, vol, error);
    if (op->path == NV_ENCRYPTION_PATH_ENCRYPTOR)
        return prepare_encryptor(driver, op, vol, error);
    return TRUE;
}

nv_migrate_data *
nv_driver_pre_live_migration(nv_driver *driver, const char *domain,
                             const nv_volume_request *const *volumes, gsize n_volumes,
                             GError **error)
{
    g_autoptr(nv_migrate_data) data = migrate_data_new();
    g_autoptr(nv_guest) guest = NULL;
    g_autoptr(GError) local = NULL;
    const char *addr;

    g_return_val_if_fail(driver != NULL, NULL);
    g_return_val_if_fail(volumes != NULL || n_volumes == 0, NULL);
    if (!domain || !*domain) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "pre_live_migration: no domain given");
        return NULL;
    }
    /* A domain of that name here would make libvirt refuse at prepare;
     * refusing now creates nothing. */
    guest = nv_guest_lookup(driver->host, domain, &local);
    if (guest) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "domain '%s' already exists on the destination", domain);
        return NULL;
    }
    if (!g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    for (gsize i = 0; i < n_volumes; i++) {
        g_clear_error(&local);
        if (!prepare_volume(driver, domain, volumes[i], data, &local)) {
            g_autoptr(GError) cleanup = NULL;

            if (!nv_driver_rollback_live_migration_at_destination(driver, data, &cleanup))
                g_warning("pre_live_migration of '%s': rollback: %s", domain, cleanup->message);
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
    }
    addr = driver->conf->libvirt.live_migration_inbound_addr;
    data->target_connect_addr = addr && *addr ? g_strdup(addr) : NULL;
    return g_steal_pointer(&data);
}

gboolean
nv_driver_rollback_live_migration_at_destination(nv_driver *driver, const nv_migrate_data *data,
                                                 GError **error)
{
    gboolean ok = TRUE;

    g_return_val_if_fail(driver != NULL && data != NULL, FALSE);
    /* Newest first, as an attach rolls back. */
    for (guint i = data->volumes->len; i-- > 0;) {
        migrate_volume *vol = g_ptr_array_index(data->volumes, i);
        g_autoptr(nv_volume_lock) lock = NULL;
        g_autoptr(GError) local = NULL;

        if (!vol->created_secret && !vol->encryptor)
            continue;
        lock = lock_volume(driver, vol->volume_id, &local);
        if (!lock || !undo_volume(driver, vol, &local)) {
            if (ok)
                g_propagate_error(error, g_steal_pointer(&local));
            ok = FALSE;
        }
    }
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Source: the migration itself, and cleaning up after it                   */
/* ------------------------------------------------------------------------ */

/* The migration's error @err as the caller can act on it. */
static void
set_migrate_error(GError **error, const char *domain, const char *uri, virErrorPtr err,
                  nv_migration_outcome outcome, guint64 timeout_s)
{
    const char *message = err && err->message ? err->message : "unknown libvirt error";

    if (outcome == NV_MIGRATION_ABORTED)
        g_set_error(error, NV_ERROR, NV_ERROR_TIMEOUT,
                    "domain '%s': migration to '%s' not completed after %" G_GUINT64_FORMAT
                    " s ([libvirt] live_migration_completion_timeout): aborted, the guest keeps "
                    "running here (%s)",
                    domain, uri, timeout_s, message);
    else if (err && err->code == VIR_ERR_MIGRATE_UNSAFE)
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "domain '%s': migration to '%s' refused: %s (if the storage is shared, "
                    "pass NV_MIGRATE_UNSAFE: nvirt migrate --unsafe)",
                    domain, uri, message);
    else
        g_set_error(error, NV_ERROR,
                    strstr(message, "Invalid password, cannot unlock any keyslot")
                        ? NV_ERROR_WRONG_PASSPHRASE
                        : NV_ERROR_LIBVIRT,
                    "domain '%s': migration to '%s': %s", domain, uri, message);
}

static char *
migratable_xml(nv_guest *guest, gboolean inactive, GHashTable *secrets, GError **error)
{
    unsigned int flags = VIR_DOMAIN_XML_MIGRATABLE | (inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
    g_autofree char *xml = virDomainGetXMLDesc(nv_guest_get_domain(guest), flags);

    if (!xml) {
        g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "domain '%s': migratable XML: %s",
                    nv_guest_get_name(guest), virGetLastErrorMessage());
        return NULL;
    }
    return nv_migration_update_guest_xml(xml, secrets, error);
}

/* [libvirt] live_migration_completion_timeout for @guest's RAM. */
static gboolean
migration_timeout(nv_driver *driver, nv_guest *guest, guint64 *timeout_s, GError **error)
{
    unsigned long memory_kib;

    *timeout_s = 0;
    if (driver->conf->libvirt.live_migration_completion_timeout == 0)
        return TRUE;
    memory_kib = virDomainGetMaxMemory(nv_guest_get_domain(guest));
    if (memory_kib == 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "domain '%s': memory size: %s",
                    nv_guest_get_name(guest), virGetLastErrorMessage());
        return FALSE;
    }
    *timeout_s = nv_migration_completion_timeout(
        (guint)driver->conf->libvirt.live_migration_completion_timeout, memory_kib);
    return TRUE;
}

gboolean
nv_driver_live_migration(nv_driver *driver, const char *domain, const char *dest,
                         const nv_migrate_data *data, unsigned int flags, GError **error)
{
    g_autoptr(nv_guest) guest = NULL;
    g_autoptr(GHashTable) secrets = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *uri = NULL;
    g_autofree char *live_xml = NULL;
    g_autofree char *persistent_xml = NULL;
    g_autofree char *migrate_uri = NULL;
    virTypedParameterPtr params = NULL;
    int nparams = 0, maxparams = 0;
    unsigned int vir_flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
                             VIR_MIGRATE_UNDEFINE_SOURCE;
    gboolean live = FALSE;
    gboolean persistent = FALSE;
    nv_migration_outcome outcome = NV_MIGRATION_RAN;
    virErrorPtr err = NULL;
    guint64 timeout_s = 0;
    int rc;

    g_return_val_if_fail(driver != NULL && data != NULL, FALSE);
    if (!dest || !*dest) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "domain '%s': no destination given",
                    domain ? domain : "");
        return FALSE;
    }
    if ((flags & ~(unsigned int)NV_MIGRATE_UNSAFE) != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "domain '%s': unknown migrate flags 0x%x",
                    domain ? domain : "", flags);
        return FALSE;
    }
    uri = strstr(dest, "://") ? g_strdup(dest)
                              : nv_migration_live_migration_uri(driver->conf, dest, error);
    if (!uri)
        return FALSE;
    guest = nv_guest_lookup(driver->host, domain, error);
    if (!guest || !nv_guest_is_live(guest, &live, error))
        return FALSE;
    if (!live) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "domain '%s' is not running: a live migration needs a running domain", domain);
        return FALSE;
    }
    for (guint i = 0; i < data->volumes->len; i++) {
        const migrate_volume *vol = g_ptr_array_index(data->volumes, i);

        if (vol->secret_uuid)
            g_hash_table_insert(secrets, vol->volume_id, vol->secret_uuid);
    }
    /* Both, as Nova's get_updated_guest_xml feeds destination_xml and
     * libvirt otherwise persists the source's definition, whose secret is
     * deleted after success (reference/migration.md, "Pitfall"). */
    live_xml = migratable_xml(guest, FALSE, secrets, error);
    if (!live_xml)
        return FALSE;
    if (!nv_guest_is_persistent(guest, &persistent, error))
        return FALSE;
    if (persistent) {
        persistent_xml = migratable_xml(guest, TRUE, secrets, error);
        if (!persistent_xml)
            return FALSE;
    }
    if (virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_DEST_XML,
                                live_xml) < 0 ||
        (persistent_xml &&
         virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_PERSIST_XML,
                                 persistent_xml) < 0))
        goto params_failed;
    if (data->target_connect_addr) {
        migrate_uri = nv_migration_migrate_uri(data->target_connect_addr);
        if (virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_URI,
                                    migrate_uri) < 0 ||
            virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_LISTEN_ADDRESS,
                                    data->target_connect_addr) < 0)
            goto params_failed;
    }
    if (flags & NV_MIGRATE_UNSAFE)
        vir_flags |= VIR_MIGRATE_UNSAFE;

    if (driver->conf->libvirt.live_migration_bandwidth > 0 &&
        virTypedParamsAddULLong(
            &params, &nparams, &maxparams, VIR_MIGRATE_PARAM_BANDWIDTH,
            (unsigned long long)driver->conf->libvirt.live_migration_bandwidth) < 0)
        goto params_failed;
    if (!migration_timeout(driver, guest, &timeout_s, error)) {
        virTypedParamsFree(params, nparams);
        return FALSE;
    }

    g_info("domain '%s': live migration to %s", domain, uri);
    rc = nv_migration_run(
        nv_guest_get_domain(guest), uri, params, nparams, vir_flags, timeout_s,
        g_strcmp0(driver->conf->libvirt.live_migration_timeout_action, "force_complete") == 0
            ? NV_MIGRATION_TIMEOUT_FORCE_COMPLETE
            : NV_MIGRATION_TIMEOUT_ABORT,
        &outcome, &err);
    if (rc < 0)
        set_migrate_error(error, domain, uri, err, outcome, timeout_s);
    virFreeError(err);
    virTypedParamsFree(params, nparams);
    return rc == 0;

params_failed:
    g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "domain '%s': migration parameters: %s", domain,
                virGetLastErrorMessage());
    virTypedParamsFree(params, nparams);
    return FALSE;
}

/* One volume's host side on the source, after the guest has left. */
static gboolean
post_volume(nv_driver *driver, const char *domain, const nv_volume_request *request, GError **error)
{
    g_autoptr(nv_volume_op) op = NULL;
    g_autoptr(nv_volume_lock) lock = NULL;
    g_autofree char *secret_uuid = NULL;
    nv_encryption_path path = NV_ENCRYPTION_PATH_NONE;
    g_autofree char *reason = NULL;
    gboolean in_use = FALSE;

    op = nv_volume_op_new(driver, domain, request, TRUE, error);
    if (!op)
        return FALSE;
    lock = lock_volume(driver, op->info->volume_id, error);
    if (!lock)
        return FALSE;
    if (!nv_host_find_volume_secret(driver->host, op->info->volume_id, &secret_uuid, error))
        return FALSE;
    /* Multi-attach: a domain still here that uses the volume keeps its
     * secret (secret_refs.h). */
    if (secret_uuid && !nv_secret_refs_in_use(driver->host, secret_uuid, domain, &in_use, error))
        return FALSE;
    if (secret_uuid && in_use)
        g_message("volume %s: secret %s is still used by another domain: kept", op->info->volume_id,
                  secret_uuid);
    else if (secret_uuid && !nv_host_delete_secret_by_uuid(driver->host, secret_uuid, error))
        return FALSE;

    /* _disconnect_volume -> _detach_encryptor: a mapping only an encryptor
     * opened; versions 0 never choose native. */
    if (!op->meta || !op->host_path || in_use)
        return TRUE;
    if (!nv_driver_choose_encryption_path(op->meta, op->info->volume_id, 0, 0, FALSE, &path,
                                          &reason, error))
        return FALSE;
    if (path == NV_ENCRYPTION_PATH_ENCRYPTOR) {
        const nv_encryption_meta *meta = op->meta;
        g_autoptr(nv_encryptor) encryptor = nv_encryptor_new(
            op->info->volume_id, op->host_path, meta->provider, meta->control_location,
            meta->cipher, meta->has_key_size ? (guint)meta->key_size : 0, error);

        if (!encryptor || !nv_encryptor_detach(encryptor, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
nv_driver_post_live_migration(nv_driver *driver, const char *domain,
                              const nv_volume_request *const *volumes, gsize n_volumes,
                              GError **error)
{
    gboolean ok = TRUE;

    g_return_val_if_fail(driver != NULL, FALSE);
    g_return_val_if_fail(volumes != NULL || n_volumes == 0, FALSE);
    /* Nova logs and goes on, so that one volume does not keep the others'
     * host side around. */
    for (gsize i = 0; i < n_volumes; i++) {
        g_autoptr(GError) local = NULL;

        if (!post_volume(driver, domain, volumes[i], &local)) {
            g_warning("post_live_migration of '%s': %s", domain ? domain : "", local->message);
            if (ok)
                g_propagate_error(error, g_steal_pointer(&local));
            ok = FALSE;
        }
    }
    return ok;
}
