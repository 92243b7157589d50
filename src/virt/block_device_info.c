/* SPDX-License-Identifier: Apache-2.0 */
/* Nova's block_device_info (see block_device_info.h). */
#include "virt/block_device_info.h"

#include <string.h>

#include "nvirt/error.h"
#include "util/quote.h"

#define BDI "block_device_info"

static void
bdm_free(gpointer data)
{
    nv_bdm *bdm = data;

    if (!bdm)
        return;
    nv_connection_info_free(bdm->connection_info);
    nv_encryption_meta_free(bdm->encryption);
    g_free(bdm->mount_device);
    g_free(bdm->disk_bus);
    g_free(bdm->device_type);
    g_free(bdm);
}

void
nv_block_device_info_free(nv_block_device_info *bdi)
{
    if (!bdi)
        return;
    g_free(bdi->root_device_name);
    g_ptr_array_unref(bdi->mappings);
    g_free(bdi);
}

static gboolean
is_null(JsonNode *node)
{
    return !node || JSON_NODE_HOLDS_NULL(node);
}

static gboolean
holds_type(JsonNode *node, GType type)
{
    return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == type;
}

/* Optional string without control characters (it reaches XML and
 * messages); absent or null leaves *@out NULL.  @where: "" or
 * "block_device_mapping[N]: ". */
static gboolean
get_string(JsonObject *obj, const char *where, const char *key, char **out, GError **error)
{
    JsonNode *node = json_object_get_member(obj, key);
    const char *value;

    *out = NULL;
    if (is_null(node))
        return TRUE;
    if (!holds_type(node, G_TYPE_STRING)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, BDI ": %skey '%s' must be a string", where,
                    key);
        return FALSE;
    }
    value = json_node_get_string(node);
    for (const char *p = value; *p; p++) {
        if (g_ascii_iscntrl(*p)) {
            g_autofree char *quoted = nv_quote(value);

            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        BDI ": %skey '%s' holds a control character: %s", where, key, quoted);
            return FALSE;
        }
    }
    *out = g_strdup(value);
    return TRUE;
}

/* -1 for absent or null; an integer is range-checked as gint64 before it
 * is narrowed. */
static gboolean
get_boot_index(JsonObject *obj, const char *where, gint *out, GError **error)
{
    JsonNode *node = json_object_get_member(obj, "boot_index");
    gint64 value;

    *out = -1;
    if (is_null(node))
        return TRUE;
    if (!holds_type(node, G_TYPE_INT64)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    BDI ": %skey 'boot_index' must be an integer or null", where);
        return FALSE;
    }
    value = json_node_get_int(node);
    if (value < -1 || value > NV_BDM_MAX_BOOT_INDEX) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    BDI ": %skey 'boot_index' must be -1 to %d, not %" G_GINT64_FORMAT, where,
                    NV_BDM_MAX_BOOT_INDEX, value);
        return FALSE;
    }
    *out = (gint)value;
    return TRUE;
}

/* A member that is itself a document one of block_device.h's parsers
 * reads: handed over as the JSON text it is, so its checks and messages
 * are those of a single attach. */
static char *
member_json(JsonObject *obj, const char *key)
{
    return json_to_string(json_object_get_member(obj, key), FALSE);
}

static nv_bdm *
parse_bdm(JsonNode *node, guint i, GError **error)
{
    g_autofree char *where = g_strdup_printf("block_device_mapping[%u]: ", i);
    g_autoptr(GError) local = NULL;
    g_autofree char *json = NULL;
    nv_bdm *bdm;
    JsonObject *obj;
    JsonNode *member;

    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, BDI ": %smust be an object", where);
        return NULL;
    }
    obj = json_node_get_object(node);
    bdm = g_new0(nv_bdm, 1);

    member = json_object_get_member(obj, "connection_info");
    if (is_null(member)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, BDI ": %smissing key 'connection_info'",
                    where);
        goto fail;
    }
    json = member_json(obj, "connection_info");
    bdm->connection_info = nv_connection_info_parse(json, -1, &local);
    if (!bdm->connection_info)
        goto fail_nested;
    g_clear_pointer(&json, g_free);

    member = json_object_get_member(obj, "encryption");
    if (!is_null(member)) {
        json = member_json(obj, "encryption");
        bdm->encryption =
            nv_encryption_meta_parse(json, -1, bdm->connection_info->volume_id, &local);
        if (!bdm->encryption)
            goto fail_nested;
    }

    if (!get_string(obj, where, "mount_device", &bdm->mount_device, error) ||
        !get_string(obj, where, "disk_bus", &bdm->disk_bus, error) ||
        !get_string(obj, where, "device_type", &bdm->device_type, error) ||
        !get_boot_index(obj, where, &bdm->boot_index, error))
        goto fail;
    if (!bdm->mount_device) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, BDI ": %smissing key 'mount_device'",
                    where);
        goto fail;
    }
    if (!bdm->device_type)
        bdm->device_type = g_strdup("disk");
    if (!g_str_equal(bdm->device_type, "disk")) {
        g_autofree char *quoted = nv_quote(bdm->device_type);

        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    BDI ": %skey 'device_type' must be 'disk' for a volume, not %s", where, quoted);
        goto fail;
    }
    member = json_object_get_member(obj, "delete_on_termination");
    if (!is_null(member)) {
        if (!holds_type(member, G_TYPE_BOOLEAN)) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        BDI ": %skey 'delete_on_termination' must be true or false", where);
            goto fail;
        }
        bdm->delete_on_termination = json_node_get_boolean(member);
    }
    return bdm;

fail_nested:
    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, BDI ": %s%s", where, local->message);
fail:
    bdm_free(bdm);
    return NULL;
}

/* Two entries may not share a boot_index, a target or a volume. */
static gboolean
check_unique(const GPtrArray *mappings, GError **error)
{
    for (guint i = 0; i < mappings->len; i++) {
        const nv_bdm *a = g_ptr_array_index(mappings, i);

        for (guint j = 0; j < i; j++) {
            const nv_bdm *b = g_ptr_array_index(mappings, j);

            if (a->boot_index >= 0 && a->boot_index == b->boot_index) {
                g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            BDI ": block_device_mapping[%u]: boot_index %d is also entry %u's", i,
                            a->boot_index, j);
                return FALSE;
            }
            if (g_str_equal(a->mount_device, b->mount_device)) {
                g_autofree char *quoted = nv_quote(a->mount_device);

                g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            BDI ": block_device_mapping[%u]: mount_device %s is also entry %u's", i,
                            quoted, j);
                return FALSE;
            }
            if (g_str_equal(a->connection_info->volume_id, b->connection_info->volume_id)) {
                g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            BDI ": block_device_mapping[%u]: volume %s is also entry %u", i,
                            a->connection_info->volume_id, j);
                return FALSE;
            }
        }
    }
    return TRUE;
}

nv_block_device_info *
nv_block_device_info_parse(const char *json, gssize len, GError **error)
{
    g_autoptr(JsonObject) root = NULL;
    g_autoptr(nv_block_device_info) bdi = NULL;
    JsonNode *list;
    JsonArray *array;

    g_return_val_if_fail(json != NULL, NULL);
    root = nv_json_parse_object(json, len, BDI, error);
    if (!root)
        return NULL;
    bdi = g_new0(nv_block_device_info, 1);
    bdi->mappings = g_ptr_array_new_with_free_func(bdm_free);
    if (!get_string(root, "", "root_device_name", &bdi->root_device_name, error))
        return NULL;

    list = json_object_get_member(root, "block_device_mapping");
    if (is_null(list)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    BDI ": missing key 'block_device_mapping'");
        return NULL;
    }
    if (!JSON_NODE_HOLDS_ARRAY(list)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    BDI ": key 'block_device_mapping' must be an array");
        return NULL;
    }
    array = json_node_get_array(list);
    if (json_array_get_length(array) > NV_BDM_MAX_ENTRIES) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    BDI ": more than %d entries in 'block_device_mapping'", NV_BDM_MAX_ENTRIES);
        return NULL;
    }
    for (guint i = 0; i < json_array_get_length(array); i++) {
        nv_bdm *bdm = parse_bdm(json_array_get_element(array, i), i, error);

        if (!bdm)
            return NULL;
        g_ptr_array_add(bdi->mappings, bdm);
    }
    if (!check_unique(bdi->mappings, error))
        return NULL;
    return g_steal_pointer(&bdi);
}
