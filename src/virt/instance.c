/* SPDX-License-Identifier: Apache-2.0 */
/* The instance description a spawn takes (see instance.h). */
#include "virt/instance.h"

#include "nvirt/error.h"
#include "util/quote.h"
#include "virt/block_device.h"

#define INST "instance"

void
nv_instance_free(nv_instance *instance)
{
    if (!instance)
        return;
    g_free(instance->name);
    g_free(instance->uuid);
    g_free(instance->machine_type);
    g_free(instance->kernel);
    g_free(instance->initrd);
    g_free(instance->cmdline);
    g_free(instance->console_log);
    g_free(instance);
}

const char *
nv_instance_get_name(const nv_instance *instance)
{
    g_return_val_if_fail(instance != NULL, NULL);
    return instance->name;
}

const char *
nv_instance_get_uuid(const nv_instance *instance)
{
    g_return_val_if_fail(instance != NULL, NULL);
    return instance->uuid;
}

/* Optional string without control characters; absent or null is NULL. */
static gboolean
get_string(JsonObject *obj, const char *key, char **out, GError **error)
{
    JsonNode *node = json_object_get_member(obj, key);
    const char *value;

    *out = NULL;
    if (!node || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, INST ": key '%s' must be a string", key);
        return FALSE;
    }
    value = json_node_get_string(node);
    for (const char *p = value; *p; p++) {
        if (g_ascii_iscntrl(*p)) {
            g_autofree char *quoted = nv_quote(value);

            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        INST ": key '%s' holds a control character: %s", key, quoted);
            return FALSE;
        }
    }
    *out = g_strdup(value);
    return TRUE;
}

/* A required integer from 1 to @max, range-checked before it is narrowed. */
static gboolean
get_count(JsonObject *obj, const char *key, gint64 max, guint64 *out, GError **error)
{
    JsonNode *node = json_object_get_member(obj, key);
    gint64 value;

    if (!node || JSON_NODE_HOLDS_NULL(node)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, INST ": missing key '%s'", key);
        return FALSE;
    }
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, INST ": key '%s' must be an integer", key);
        return FALSE;
    }
    value = json_node_get_int(node);
    if (value < 1 || value > max) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    INST ": key '%s' must be 1 to %" G_GINT64_FORMAT ", not %" G_GINT64_FORMAT, key,
                    max, value);
        return FALSE;
    }
    *out = (guint64)value;
    return TRUE;
}

static gboolean
check_name(const char *name, GError **error)
{
    g_autofree char *quoted = NULL;

    if (!name) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, INST ": missing key 'name'");
        return FALSE;
    }
    /* libvirt refuses '/' in a domain name (it becomes a file name). */
    if (*name && strlen(name) <= NV_INSTANCE_MAX_NAME_BYTES && !strchr(name, '/'))
        return TRUE;
    quoted = nv_quote(name);
    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                INST ": key 'name' must be 1 to %d bytes without '/', not %s",
                NV_INSTANCE_MAX_NAME_BYTES, quoted);
    return FALSE;
}

static gboolean
check_path(const char *key, const char *path, GError **error)
{
    g_autofree char *quoted = NULL;

    if (!path || g_path_is_absolute(path))
        return TRUE;
    quoted = nv_quote(path);
    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                INST ": key '%s' must be an absolute path, not %s", key, quoted);
    return FALSE;
}

nv_instance *
nv_instance_new_from_json(const char *json, GError **error)
{
    g_autoptr(JsonObject) root = NULL;
    g_autoptr(nv_instance) instance = NULL;
    g_autofree char *uuid = NULL;
    guint64 vcpus = 0;

    g_return_val_if_fail(json != NULL, NULL);
    root = nv_json_parse_object(json, -1, INST, error);
    if (!root)
        return NULL;
    instance = g_new0(nv_instance, 1);
    if (!get_string(root, "name", &instance->name, error) || !check_name(instance->name, error) ||
        !get_string(root, "uuid", &uuid, error))
        return NULL;
    if (!uuid) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, INST ": missing key 'uuid'");
        return NULL;
    }
    if (!g_uuid_string_is_valid(uuid)) {
        g_autofree char *quoted = nv_quote(uuid);

        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, INST ": key 'uuid' is not a UUID: %s",
                    quoted);
        return NULL;
    }
    instance->uuid = g_ascii_strdown(uuid, -1);
    if (!get_count(root, "memory_mb", NV_INSTANCE_MAX_MEMORY_MB, &instance->memory_mb, error) ||
        !get_count(root, "vcpus", NV_INSTANCE_MAX_VCPUS, &vcpus, error) ||
        !get_string(root, "machine_type", &instance->machine_type, error) ||
        !get_string(root, "kernel", &instance->kernel, error) ||
        !get_string(root, "initrd", &instance->initrd, error) ||
        !get_string(root, "cmdline", &instance->cmdline, error) ||
        !get_string(root, "console_log", &instance->console_log, error) ||
        !check_path("kernel", instance->kernel, error) ||
        !check_path("initrd", instance->initrd, error) ||
        !check_path("console_log", instance->console_log, error))
        return NULL;
    instance->vcpus = (guint)vcpus;
    if ((instance->initrd || instance->cmdline) && !instance->kernel) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    INST ": keys 'initrd' and 'cmdline' need 'kernel'");
        return NULL;
    }
    return g_steal_pointer(&instance);
}
