/* SPDX-License-Identifier: Apache-2.0 */
/* Cinder connection_info and encryption metadata (nova/virt/block_device.py). */
#include "virt/block_device.h"

#include <stdlib.h>
#include <string.h>

#include "nvirt/error.h"
#include "util/quote.h"

/* Python truthiness of a JSON value: Nova tests data.encrypted,
 * multiattach and auth_enabled with a bare "if", so "false" (a non-empty
 * string) is true and 0, "", [] and {} are false. */
static gboolean
json_truthy(JsonNode *node)
{
    if (!node || JSON_NODE_HOLDS_NULL(node))
        return FALSE;
    if (JSON_NODE_HOLDS_OBJECT(node))
        return json_object_get_size(json_node_get_object(node)) > 0;
    if (JSON_NODE_HOLDS_ARRAY(node))
        return json_array_get_length(json_node_get_array(node)) > 0;

    switch (json_node_get_value_type(node)) {
    case G_TYPE_BOOLEAN:
        return json_node_get_boolean(node);
    case G_TYPE_INT64:
        return json_node_get_int(node) != 0;
    case G_TYPE_DOUBLE:
        return json_node_get_double(node) != 0.0;
    case G_TYPE_STRING:
        return json_node_get_string(node)[0] != '\0';
    default:
        return FALSE;
    }
}

static gboolean
json_is_string(JsonNode *node)
{
    return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

/* Where a message about a key points: "connection_info: " + key + suffix,
 * where the suffix names the volume once it is known. */
typedef struct {
    const char *prefix;   /* "connection_info" or "encryption for volume X" */
    const char *key_base; /* "" or "data." */
    const char *volume_id;
} key_ctx;

static void
set_type_error(const key_ctx *ctx, const char *key, const char *what, GError **error)
{
    if (ctx->volume_id)
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: key '%s%s' must be %s for volume %s",
                    ctx->prefix, ctx->key_base, key, what, ctx->volume_id);
    else
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: key '%s%s' must be %s", ctx->prefix,
                    ctx->key_base, key, what);
}

/* Optional string member: absent or null leaves *out NULL. */
static gboolean
get_opt_string(JsonObject *obj, const key_ctx *ctx, const char *key, char **out, GError **error)
{
    JsonNode *node = json_object_get_member(obj, key);

    *out = NULL;
    if (!node || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (!json_is_string(node)) {
        set_type_error(ctx, key, "a string", error);
        return FALSE;
    }
    *out = g_strdup(json_node_get_string(node));
    return TRUE;
}

/* Optional array of strings.  @ports: rbd's ports, which Cinder drivers
 * send as strings or integers, and where a null means "no port attribute"
 * (LibvirtConfigGuestDisk writes port only when it is not None); a null
 * element is kept as NULL. */
static gboolean
get_string_array(JsonObject *obj, const key_ctx *ctx, const char *key, gboolean ports,
                 GPtrArray *out, GError **error)
{
    JsonNode *node = json_object_get_member(obj, key);
    const char *what = ports ? "an array of strings, integers or nulls" : "an array of strings";
    JsonArray *array;

    if (!node || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (!JSON_NODE_HOLDS_ARRAY(node)) {
        set_type_error(ctx, key, what, error);
        return FALSE;
    }
    array = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(array); i++) {
        JsonNode *item = json_array_get_element(array, i);

        if (json_is_string(item)) {
            g_ptr_array_add(out, g_strdup(json_node_get_string(item)));
        } else if (ports && JSON_NODE_HOLDS_NULL(item)) {
            g_ptr_array_add(out, NULL);
        } else if (ports && JSON_NODE_HOLDS_VALUE(item) &&
                   json_node_get_value_type(item) == G_TYPE_INT64) {
            gint64 port = json_node_get_int(item);

            if (port < 0 || port > G_MAXUINT16) {
                set_type_error(ctx, key, "an array of ports (0 to 65535)", error);
                return FALSE;
            }
            g_ptr_array_add(out, g_strdup_printf("%" G_GINT64_FORMAT, port));
        } else {
            set_type_error(ctx, key, what, error);
            return FALSE;
        }
    }
    return TRUE;
}

/* json-glib reports "<data>:LINE:COL: Parse error: WHAT"; keep the line
 * and the description so the message is one line in our format.  WHAT can
 * quote a token of the input (an identifier of any length), so it is cut
 * and escaped like any untrusted value. */
static void
set_json_error(const char *prefix, const GError *parse_error, GError **error)
{
    const char *msg = parse_error->message;
    const char *what = strstr(msg, "Parse error: ");
    const char *colon = strchr(msg, ':');
    long line = colon ? strtol(colon + 1, NULL, 10) : 0;
    g_autofree char *head = NULL;
    g_autofree char *flat = NULL;

    what = what ? what + strlen("Parse error: ") : msg;
    head = g_strndup(what, 2 * NV_QUOTE_MAX_CHARS);
    flat = g_strescape(head, NULL);
    if (line > 0)
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: invalid JSON at line %ld: %s%s",
                    prefix, line, flat, what[strlen(head)] ? "..." : "");
    else
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: invalid JSON: %s%s", prefix, flat,
                    what[strlen(head)] ? "..." : "");
}

static gboolean
set_scan_error(const char *prefix, guint line, const char *what, GError **error)
{
    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: invalid JSON at line %u: %s", prefix,
                line, what);
    return FALSE;
}

/* The value of the "\uXXXX" escape at @s (of @len bytes), or -1 if it is
 * not one with four hex digits. */
static gint
unicode_escape_at(const char *s, gsize len)
{
    gint value = 0;

    if (len < 6 || s[0] != '\\' || s[1] != 'u')
        return -1;
    for (gsize i = 2; i < 6; i++) {
        gint digit = g_ascii_xdigit_value(s[i]);

        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

/* What json-glib does not check, checked on the bytes before it sees them:
 * - nesting depth: its parser recurses once per level, so "[[[[..." 100 000
 *   deep exhausts the stack;
 * - NUL bytes: the document is text, and a NUL would end it early for any
 *   code that takes it as a C string;
 * - "\u0000" in a string: json-glib decodes it into a NUL that silently
 *   cuts the C string ("no\u0000ne.img" would become "no");
 * - a second document: json-glib takes "{}{}" as the first object;
 * - a scalar document: every caller wants an object, and json-glib 1.6
 *   leaks the root of '"x"[]' (a scalar with more after it; found by
 *   fuzz/fuzz_encryption_meta), so such a document never reaches it;
 * - a "\u" escape without four hex digits, or a UTF-16 surrogate escape
 *   that is not a high one followed by a low one: json-glib refuses the
 *   pair too, but 1.6 leaks the string it was decoding (fixed in 1.9.2),
 *   and takes "\ude" as the surrogate U+DE00 ('{"\udddd\u' and
 *   '{"\udeu\u' were found by fuzz/fuzz_encryption_meta).
 * Brackets inside strings do not count; the rest of the grammar is left to
 * json-glib. */
static gboolean
prescan_json(const char *json, gsize len, const char *prefix, GError **error)
{
    guint depth = 0;
    guint line = 1;
    gboolean in_string = FALSE;
    gboolean closed = FALSE;  /* the top-level object or array has ended */
    gboolean started = FALSE; /* its '{' or '[' has been seen */

    for (gsize i = 0; i < len; i++) {
        char c = json[i];

        if (c == '\0')
            return set_scan_error(prefix, line, "NUL byte in the document", error);
        if (c == '\n')
            line++;
        if (in_string) {
            if (c == '\\' && i + 1 < len) {
                gint unit = json[i + 1] == 'u' ? unicode_escape_at(json + i, len - i) : 1;

                if (unit < 0)
                    return set_scan_error(prefix, line, "\\u escape without four hex digits",
                                          error);
                if (unit == 0)
                    return set_scan_error(prefix, line, "\\u0000 (NUL) in a string", error);
                if (unit >= 0xd800 && unit <= 0xdfff) {
                    gint low = unit <= 0xdbff ? unicode_escape_at(json + i + 6, len - i - 6) : -1;

                    if (low < 0xdc00 || low > 0xdfff)
                        return set_scan_error(prefix, line, "UTF-16 surrogate escape not in a pair",
                                              error);
                    i += 6; /* the high surrogate; the low one is skipped below */
                }
                i++; /* the escaped character, which may be a quote */
                if (json[i] == '\0')
                    return set_scan_error(prefix, line, "NUL byte in the document", error);
            } else if (c == '"') {
                in_string = FALSE;
            }
            continue;
        }
        if (closed && !g_ascii_isspace(c))
            return set_scan_error(prefix, line, "data after the end of the document", error);
        if (!started && !g_ascii_isspace(c)) {
            /* An array still gets its depth checked (its message says
             * more), and json-glib refuses it after that. */
            if (c != '{' && c != '[') {
                g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            "%s: document must be a JSON object", prefix);
                return FALSE;
            }
            started = TRUE;
        }
        switch (c) {
        case '"':
            in_string = TRUE;
            break;
        case '{':
        case '[':
            if (++depth > NV_JSON_MAX_DEPTH) {
                g_autofree char *what =
                    g_strdup_printf("nested deeper than %d levels", NV_JSON_MAX_DEPTH);

                return set_scan_error(prefix, line, what, error);
            }
            break;
        case '}':
        case ']':
            /* An unbalanced bracket is json-glib's to report. */
            if (depth > 0 && --depth == 0)
                closed = TRUE;
            break;
        default:
            break;
        }
    }
    return TRUE;
}

/* Parse @json into a root object (a new reference). */
static JsonObject *
parse_object(const char *json, gssize len, const char *prefix, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) local = NULL;
    gsize size = len < 0 ? strnlen(json, NV_JSON_MAX_BYTES + 1) : (gsize)len;
    JsonNode *root;

    if (size > NV_JSON_MAX_BYTES) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: document larger than %d bytes",
                    prefix, NV_JSON_MAX_BYTES);
        return NULL;
    }
    if (!prescan_json(json, size, prefix, error))
        return NULL;
    if (!json_parser_load_from_data(parser, json, (gssize)size, &local)) {
        set_json_error(prefix, local, error);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: invalid JSON: empty document",
                    prefix);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: document must be a JSON object",
                    prefix);
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

JsonObject *
nv_json_parse_object(const char *json, gssize len, const char *prefix, GError **error)
{
    g_return_val_if_fail(json != NULL && prefix != NULL, NULL);
    return parse_object(json, len, prefix, error);
}

void
nv_connection_info_free(nv_connection_info *info)
{
    if (!info)
        return;
    g_free(info->driver_volume_type);
    g_free(info->serial);
    g_free(info->volume_id);
    g_free(info->device_path);
    g_free(info->name);
    g_ptr_array_unref(info->hosts);
    g_ptr_array_unref(info->ports);
    g_free(info->auth_username);
    g_free(info->secret_type);
    g_free(info->secret_uuid);
    g_free(info->export);
    g_free(info->access_mode);
    g_free(info->format);
    if (info->data)
        json_object_unref(info->data);
    g_free(info);
}

/* A volume id every message can name as it is: one short line.  Cinder's
 * ids are UUIDs; this only refuses what would split or flood a message. */
static gboolean
volume_id_is_plain(const char *id)
{
    gsize n = strnlen(id, NV_VOLUME_ID_MAX_BYTES + 1);

    if (n == 0 || n > NV_VOLUME_ID_MAX_BYTES)
        return FALSE;
    for (gsize i = 0; i < n; i++)
        if (g_ascii_iscntrl(id[i]))
            return FALSE;
    return TRUE;
}

/* Every string member of @obj (not nested ones: qos_specs is read as
 * numbers) is a path, an id, a name or a keyword that reaches the XML and
 * messages: a control character (a newline, an escape) has no business in
 * any, and would split the one-line error that quotes it. */
static gboolean
check_no_control_chars(JsonObject *obj, const key_ctx *ctx, GError **error)
{
    JsonObjectIter iter;
    const char *key;
    JsonNode *node;

    json_object_iter_init(&iter, obj);
    while (json_object_iter_next(&iter, &key, &node)) {
        const char *value;

        if (!json_is_string(node))
            continue;
        value = json_node_get_string(node);
        for (const char *p = value; *p; p++) {
            if (g_ascii_iscntrl(*p)) {
                g_autofree char *full_key = g_strconcat(ctx->key_base, key, NULL);
                g_autofree char *quoted_key = nv_quote(full_key);
                g_autofree char *quoted = nv_quote(value);

                if (ctx->volume_id)
                    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                                "%s: key %s holds a control character for volume %s: %s",
                                ctx->prefix, quoted_key, ctx->volume_id, quoted);
                else
                    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                                "%s: key %s holds a control character: %s", ctx->prefix, quoted_key,
                                quoted);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* nova.virt.block_device.get_volume_id: data.volume_id if truthy, else
 * serial (nova bug 1746609: older attachments lack data.volume_id). */
static gboolean
parse_volume_id(nv_connection_info *info, GError **error)
{
    const key_ctx data_ctx = { "connection_info", "data.", NULL };
    g_autofree char *data_id = NULL;
    const char *key = "data.volume_id";

    if (!get_opt_string(info->data, &data_ctx, "volume_id", &data_id, error))
        return FALSE;
    if (data_id && *data_id)
        info->volume_id = g_steal_pointer(&data_id);
    else if (info->serial && *info->serial) {
        info->volume_id = g_strdup(info->serial);
        key = "serial";
    } else {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "connection_info: missing key 'data.volume_id' (or 'serial')");
        return FALSE;
    }
    if (!volume_id_is_plain(info->volume_id)) {
        g_autofree char *quoted = nv_quote(info->volume_id);

        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "connection_info: key '%s' must be at most %d bytes without control "
                    "characters, not %s",
                    key, NV_VOLUME_ID_MAX_BYTES, quoted);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_data(nv_connection_info *info, GError **error)
{
    const key_ctx ctx = { "connection_info", "data.", info->volume_id };
    JsonObject *data = info->data;
    JsonNode *discard = json_object_get_member(data, "discard");
    JsonNode *qos = json_object_get_member(data, "qos_specs");

    if (!check_no_control_chars(data, &ctx, error) ||
        !get_opt_string(data, &ctx, "device_path", &info->device_path, error) ||
        !get_opt_string(data, &ctx, "name", &info->name, error) ||
        !get_opt_string(data, &ctx, "auth_username", &info->auth_username, error) ||
        !get_opt_string(data, &ctx, "secret_type", &info->secret_type, error) ||
        !get_opt_string(data, &ctx, "secret_uuid", &info->secret_uuid, error) ||
        !get_opt_string(data, &ctx, "export", &info->export, error) ||
        !get_opt_string(data, &ctx, "access_mode", &info->access_mode, error) ||
        !get_opt_string(data, &ctx, "format", &info->format, error) ||
        !get_string_array(data, &ctx, "hosts", FALSE, info->hosts, error) ||
        !get_string_array(data, &ctx, "ports", TRUE, info->ports, error))
        return FALSE;

    info->encrypted = json_truthy(json_object_get_member(data, "encrypted"));
    info->auth_enabled = json_truthy(json_object_get_member(data, "auth_enabled"));
    info->discard = discard && JSON_NODE_HOLDS_VALUE(discard) &&
                    json_node_get_value_type(discard) == G_TYPE_BOOLEAN &&
                    json_node_get_boolean(discard);

    if (qos && JSON_NODE_HOLDS_OBJECT(qos))
        info->qos_specs = json_node_get_object(qos);
    else if (qos && !JSON_NODE_HOLDS_NULL(qos))
        /* LibvirtBaseVolumeDriver.get_config logs and ignores it. */
        g_warning("connection_info: ignoring key 'data.qos_specs' for volume %s: not an object",
                  info->volume_id);
    return TRUE;
}

nv_connection_info *
nv_connection_info_parse(const char *json, gssize len, GError **error)
{
    const key_ctx top = { "connection_info", "", NULL };
    g_autoptr(JsonObject) root = NULL;
    g_autoptr(nv_connection_info) info = NULL;
    JsonNode *data;

    g_return_val_if_fail(json != NULL, NULL);

    root = parse_object(json, len, "connection_info", error);
    if (!root)
        return NULL;

    info = g_new0(nv_connection_info, 1);
    info->hosts = g_ptr_array_new_with_free_func(g_free);
    info->ports = g_ptr_array_new_with_free_func(g_free);

    if (!get_opt_string(root, &top, "driver_volume_type", &info->driver_volume_type, error))
        return NULL;
    if (!info->driver_volume_type) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "connection_info: missing key 'driver_volume_type'");
        return NULL;
    }

    data = json_object_get_member(root, "data");
    if (!data || JSON_NODE_HOLDS_NULL(data)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "connection_info: missing key 'data'");
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(data)) {
        set_type_error(&top, "data", "an object", error);
        return NULL;
    }
    info->data = json_object_ref(json_node_get_object(data));

    if (!get_opt_string(root, &top, "serial", &info->serial, error) ||
        !parse_volume_id(info, error))
        return NULL;
    {
        const key_ctx named = { "connection_info", "", info->volume_id };

        if (!check_no_control_chars(root, &named, error))
            return NULL;
    }
    info->multiattach = json_truthy(json_object_get_member(root, "multiattach"));

    if (!parse_data(info, error))
        return NULL;
    return g_steal_pointer(&info);
}

const char *
nv_connection_info_get_data_string(const nv_connection_info *info, const char *key)
{
    JsonNode *node;

    g_return_val_if_fail(info != NULL && key != NULL, NULL);
    node = json_object_get_member(info->data, key);
    return node && json_is_string(node) ? json_node_get_string(node) : NULL;
}

void
nv_encryption_meta_free(nv_encryption_meta *meta)
{
    if (!meta)
        return;
    g_free(meta->provider);
    g_free(meta->control_location);
    g_free(meta->cipher);
    g_free(meta->encryption_key_id);
    g_free(meta);
}

/* Cinder's volume types default control_location to front-end, and Nova
 * decrypts a LUKS volume without one natively; a metadata dict that lacks
 * it must not quietly leave the volume undecrypted (issue 8). */
#define DEFAULT_CONTROL_LOCATION "front-end"

/* The largest key size in bits: cryptsetup's LUKS1 and plain modes take at
 * most 512 (aes-xts with two 256-bit halves); 1024 leaves room for the
 * ciphers libcryptsetup accepts while bounding what reaches a guint. */
#define MAX_KEY_SIZE 1024

/* key_size as os-brick passes it to cryptsetup's --key-size: a JSON
 * integer or a string of decimal digits ("256" works in Nova, which only
 * formats it into argv).  Range-checked here, before any narrowing: a
 * positive multiple of 8 of at most MAX_KEY_SIZE bits. */
static gboolean
parse_key_size(JsonNode *node, const key_ctx *ctx, gint64 *out, GError **error)
{
    gint64 bits = -1;
    gboolean is_int = FALSE;

    if (JSON_NODE_HOLDS_VALUE(node)) {
        GType type = json_node_get_value_type(node);

        if (type == G_TYPE_INT64) {
            bits = json_node_get_int(node);
            is_int = TRUE;
        } else if (type == G_TYPE_STRING) {
            const char *s = json_node_get_string(node);
            guint64 value = 0;

            /* Digits only: no sign, space or base prefix.  Longer than
             * MAX_KEY_SIZE's digits is out of range without parsing. */
            is_int = *s && strspn(s, "0123456789") == strlen(s);
            if (is_int && strlen(s) <= 4 &&
                g_ascii_string_to_unsigned(s, 10, 0, MAX_KEY_SIZE, &value, NULL))
                bits = (gint64)value;
        }
    }
    if (!is_int) {
        set_type_error(ctx, "key_size", "an integer, a string of digits or null", error);
        return FALSE;
    }
    if (bits <= 0 || bits > MAX_KEY_SIZE || bits % 8 != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "%s: key 'key_size' must be a positive multiple of 8 of at most %d bits",
                    ctx->prefix, MAX_KEY_SIZE);
        return FALSE;
    }
    *out = bits;
    return TRUE;
}

nv_encryption_meta *
nv_encryption_meta_parse(const char *json, gssize len, const char *volume_id, GError **error)
{
    g_autofree char *name = NULL;
    g_autofree char *prefix = NULL;
    key_ctx ctx = { NULL, "", NULL };
    g_autoptr(JsonObject) root = NULL;
    g_autoptr(nv_encryption_meta) meta = NULL;
    JsonNode *key_size;

    g_return_val_if_fail(json != NULL && volume_id != NULL, NULL);

    /* The caller's id may come from a command line: quoted unless plain. */
    name = volume_id_is_plain(volume_id) ? g_strdup(volume_id) : nv_quote(volume_id);
    prefix = g_strdup_printf("encryption for volume %s", name);
    ctx.prefix = prefix;

    root = parse_object(json, len, prefix, error);
    if (!root)
        return NULL;

    meta = g_new0(nv_encryption_meta, 1);
    meta->empty = json_object_get_size(root) == 0;
    if (!check_no_control_chars(root, &ctx, error) ||
        !get_opt_string(root, &ctx, "provider", &meta->provider, error) ||
        !get_opt_string(root, &ctx, "control_location", &meta->control_location, error) ||
        !get_opt_string(root, &ctx, "cipher", &meta->cipher, error) ||
        !get_opt_string(root, &ctx, "encryption_key_id", &meta->encryption_key_id, error))
        return NULL;
    if (!meta->empty && !meta->control_location)
        meta->control_location = g_strdup(DEFAULT_CONTROL_LOCATION);

    key_size = json_object_get_member(root, "key_size");
    if (key_size && !JSON_NODE_HOLDS_NULL(key_size)) {
        if (!parse_key_size(key_size, &ctx, &meta->key_size, error))
            return NULL;
        meta->has_key_size = TRUE;
    }
    return g_steal_pointer(&meta);
}
