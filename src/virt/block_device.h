/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cinder's inputs to an attach (nova/virt/block_device.py and the dicts Nova
 * passes around): the connection_info a volume driver consumes and the
 * encryption metadata the encryption decision consumes.
 *
 * Both are parsed from JSON with json-glib.  Keys that every volume type
 * shares are lifted into fields; the whole "data" object stays available for
 * type-specific keys.  Parsing checks only what is common to every
 * driver_volume_type: a key a given volume driver needs (data.device_path,
 * data.export, ...) is checked by that driver, which names the volume.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Limits on both documents, checked before json-glib parses them (it has
 * no depth limit and recurses per level).  Cinder's documents are a few
 * KiB and a few levels deep.  A document must also be one JSON object with
 * nothing after it, no NUL byte and no "\u0000" escape in any string, and
 * no control character in a string member of the root or of "data". */
#define NV_JSON_MAX_BYTES (1024 * 1024)
#define NV_JSON_MAX_DEPTH 32

/* The root object of a JSON document of @len bytes (-1: NUL-terminated)
 * after the checks above (size, depth, NUL, trailing data), one reference
 * the caller owns; NULL with NV_ERROR_BAD_INPUT and a message starting
 * "@prefix: " otherwise.  For the other documents Nova hands the driver
 * (block_device_info.h, instance.h). */
JsonObject *nv_json_parse_object(const char *json, gssize len, const char *prefix, GError **error);

/* A volume id (data.volume_id or serial) is at most this many bytes and has
 * no control character, so every message can name the volume as it is. */
#define NV_VOLUME_ID_MAX_BYTES 255

/* connection_info as Cinder's initialize_connection returns it, plus the
 * "serial" and "multiattach" keys Nova's DriverVolumeBlockDevice adds. */
typedef struct {
    char *driver_volume_type; /* "iscsi", "local", "rbd", "nfs", "file", ... */
    char *serial;             /* top-level "serial"; NULL when absent */
    /* data.volume_id, else serial (nova bug 1746609); never NULL */
    char *volume_id;
    gboolean multiattach; /* top-level, Python truthiness */

    /* data.* shared by several volume types; NULL / FALSE when absent */
    char *device_path;
    gboolean encrypted; /* Python truthiness, as Nova tests it */
    char *name;
    GPtrArray *hosts; /* char *, owned; never NULL (may be empty) */
    /* char *, owned; never NULL; JSON ints become strings, a JSON null
     * element is a NULL element (no port) */
    GPtrArray *ports;
    gboolean auth_enabled;
    char *auth_username;
    char *secret_type;
    char *secret_uuid;
    char *export;
    char *access_mode;     /* "ro", "rw"; validated by the volume driver */
    gboolean discard;      /* only a JSON true, as Nova's "is True" */
    char *format;          /* data.format (fs drivers) */
    JsonObject *qos_specs; /* borrowed from @data; NULL when absent or null */

    JsonObject *data; /* the whole data object, one reference owned */
} nv_connection_info;

/* Parse a connection_info JSON document of @len bytes (-1: NUL-terminated).
 * Returns a new nv_connection_info the caller owns, or NULL with
 * NV_ERROR_BAD_INPUT and a message starting "connection_info: " that names
 * the offending key ("missing key 'driver_volume_type'", "key 'data.hosts'
 * must be an array of strings", "invalid JSON at line L: ...").  Integer
 * ports must be 0 to 65535.  Untrusted values in messages are escaped and
 * cut (util/quote.h). */
nv_connection_info *nv_connection_info_parse(const char *json, gssize len, GError **error);

/* A string member of data (type-specific keys), borrowed; NULL when absent,
 * null or not a string. */
const char *nv_connection_info_get_data_string(const nv_connection_info *info, const char *key);

void nv_connection_info_free(nv_connection_info *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_connection_info, nv_connection_info_free)

/* Cinder's volume encryption metadata (get_volume_encryption_metadata). */
typedef struct {
    gboolean empty; /* "{}": Nova treats it as "not encrypted" */
    char *provider; /* NULL when absent or null: the no-op encryptor */
    /* "front-end" / "back-end"; absent or null in a non-empty document
     * means "front-end", Cinder's default (so QEMU or an encryptor
     * decrypts, never nobody).  NULL only when @empty. */
    char *control_location;
    char *cipher;
    gboolean has_key_size; /* FALSE when key_size is absent or null */
    /* bits: a positive multiple of 8, at most 1024.  Given as a JSON
     * integer or a string of digits ("256"), as os-brick takes it. */
    gint64 key_size;
    char *encryption_key_id;
} nv_encryption_meta;

/* Parse an encryption metadata JSON object of @len bytes (-1:
 * NUL-terminated) for volume @volume_id (used in messages only).  Returns a
 * new nv_encryption_meta the caller owns, or NULL with NV_ERROR_BAD_INPUT and
 * a message starting "encryption for volume VOLID: " (VOLID quoted and cut
 * when it is not a plain volume id) (a key of the wrong
 * type, or a key_size out of range: checked before it is narrowed). */
nv_encryption_meta *nv_encryption_meta_parse(const char *json, gssize len, const char *volume_id,
                                             GError **error);

void nv_encryption_meta_free(nv_encryption_meta *meta);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_encryption_meta, nv_encryption_meta_free)

G_END_DECLS
