/* SPDX-License-Identifier: Apache-2.0 */
/* Cinder connection_info and encryption metadata (virt/block_device.c). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "nvirt/error.h"
#include "support.h"
#include "virt/block_device.h"

#define VOL_BLOCK "5c2f6bd0-8e0a-4c5e-9d1c-2b6c4d9a7f10"

static nv_connection_info *
parse_fixture(const char *name)
{
    g_autofree char *json = nv_test_data_read(name);
    g_autoptr(GError) error = NULL;
    nv_connection_info *info = nv_connection_info_parse(json, -1, &error);

    cr_assert_not_null(info, "%s: %s", name, error ? error->message : "");
    return info;
}

Test(connection_info, parses_block_volume)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/block-luks.json");

    cr_assert_str_eq(info->driver_volume_type, "local");
    cr_assert_str_eq(info->serial, VOL_BLOCK);
    cr_assert_str_eq(info->volume_id, VOL_BLOCK);
    cr_assert_str_eq(info->device_path, "/dev/sdb");
    cr_assert_str_eq(info->access_mode, "rw");
    cr_assert(info->encrypted);
    cr_assert_not(info->multiattach);
    cr_assert_not(info->discard);
    cr_assert_null(info->qos_specs);
    cr_assert_eq(info->hosts->len, 0);
    cr_assert_eq(info->ports->len, 0);
}

/* nova bug 1746609: attachments made before data.volume_id existed. */
Test(connection_info, volume_id_falls_back_to_serial)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/file.json");

    cr_assert_str_eq(info->volume_id, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d");
}

Test(connection_info, empty_volume_id_falls_back_to_serial)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(
        "{\"driver_volume_type\": \"local\", \"serial\": \"abc\", \"data\": {\"volume_id\": \"\"}}",
        -1, &error);

    cr_assert_not_null(info, "%s", error ? error->message : "");
    cr_assert_str_eq(info->volume_id, "abc");
}

Test(connection_info, data_volume_id_wins_over_serial)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(
        "{\"driver_volume_type\": \"local\", \"serial\": \"abc\", \"data\": {\"volume_id\": "
        "\"def\"}}",
        -1, &error);

    cr_assert_not_null(info, "%s", error ? error->message : "");
    cr_assert_str_eq(info->volume_id, "def");
    cr_assert_str_eq(info->serial, "abc");
}

Test(connection_info, parses_hosts_ports_and_keeps_data)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/rbd.json");

    cr_assert_eq(info->hosts->len, 2);
    cr_assert_str_eq(g_ptr_array_index(info->hosts, 0), "192.0.2.21");
    cr_assert_str_eq(g_ptr_array_index(info->hosts, 1), "192.0.2.22");
    cr_assert_eq(info->ports->len, 2);
    cr_assert_str_eq(g_ptr_array_index(info->ports, 0), "6789");
    cr_assert_str_eq(g_ptr_array_index(info->ports, 1), "6790");
    cr_assert(info->auth_enabled);
    cr_assert_str_eq(info->auth_username, "cinder");
    cr_assert_str_eq(info->secret_type, "ceph");
    cr_assert_str_eq(info->secret_uuid, "457eb676-33da-42ec-9a8c-9293d545c337");
    cr_assert_str_eq(info->name, "volumes/volume-7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908");
    cr_assert_null(info->serial);
    cr_assert_str_eq(nv_connection_info_get_data_string(info, "cluster_name"), "ceph");
}

Test(connection_info, get_data_string_ignores_non_strings)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/iscsi-full.json");

    cr_assert_null(nv_connection_info_get_data_string(info, "target_lun"));
    cr_assert_null(nv_connection_info_get_data_string(info, "no_such_key"));
}

Test(connection_info, parses_multiattach_discard_and_qos)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/iscsi-full.json");

    cr_assert(info->multiattach);
    cr_assert(info->discard);
    cr_assert_str_eq(info->access_mode, "ro");
    cr_assert_not_null(info->qos_specs);
    cr_assert(json_object_has_member(info->qos_specs, "total_bytes_sec"));
}

/* Nova tests data.encrypted (and multiattach, auth_enabled) with Python's
 * truthiness, so the string "false" is true. */
typedef struct {
    char value[16]; /* JSON text of data.encrypted; "" = key absent */
    gboolean truthy;
} truthy_case;

ParameterizedTestParameters(connection_info, encrypted_is_python_truthy)
{
    static truthy_case cases[] = {
        { "true", TRUE },  { "false", FALSE }, { "\"true\"", TRUE },   { "\"false\"", TRUE },
        { "\"\"", FALSE }, { "1", TRUE },      { "0", FALSE },         { "0.0", FALSE },
        { "1.5", TRUE },   { "null", FALSE },  { "", FALSE },          { "[]", FALSE },
        { "[0]", TRUE },   { "{}", FALSE },    { "{\"a\": 1}", TRUE },
    };
    return cr_make_param_array(truthy_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(truthy_case *c, connection_info, encrypted_is_python_truthy)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *json =
        g_strdup_printf("{\"driver_volume_type\": \"local\", \"serial\": \"v\", \"data\": {%s%s}}",
                        c->value[0] ? "\"encrypted\": " : "", c->value);
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(json, -1, &error);

    cr_assert_not_null(info, "%s", error ? error->message : "");
    cr_assert_eq(info->encrypted, c->truthy, "encrypted=%s", c->value);
}

/* LibvirtBaseVolumeDriver tests "data.get('discard', False) is True". */
typedef struct {
    char value[16];
    gboolean discard;
} discard_case;

ParameterizedTestParameters(connection_info, discard_only_json_true)
{
    static discard_case cases[] = {
        { "true", TRUE },   { "\"true\"", FALSE }, { "1", FALSE },
        { "false", FALSE }, { "null", FALSE },
    };
    return cr_make_param_array(discard_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(discard_case *c, connection_info, discard_only_json_true)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *json = g_strdup_printf(
        "{\"driver_volume_type\": \"local\", \"serial\": \"v\", \"data\": {\"discard\": %s}}",
        c->value);
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(json, -1, &error);

    cr_assert_not_null(info, "%s", error ? error->message : "");
    cr_assert_eq(info->discard, c->discard, "discard=%s", c->value);
}

typedef struct {
    char json[200];
    char message[160];
} bad_case;

ParameterizedTestParameters(connection_info, rejects_bad_input)
{
    static bad_case cases[] = {
        { "", "connection_info: invalid JSON: empty document" },
        { "[1, 2]", "connection_info: document must be a JSON object" },
        { "{\"data\": {\"volume_id\": \"v\"}}",
          "connection_info: missing key 'driver_volume_type'" },
        { "{\"driver_volume_type\": 3, \"data\": {}}",
          "connection_info: key 'driver_volume_type' must be a string" },
        { "{\"driver_volume_type\": \"local\", \"serial\": \"v\"}",
          "connection_info: missing key 'data'" },
        { "{\"driver_volume_type\": \"local\", \"data\": null}",
          "connection_info: missing key 'data'" },
        { "{\"driver_volume_type\": \"local\", \"data\": []}",
          "connection_info: key 'data' must be an object" },
        { "{\"driver_volume_type\": \"local\", \"data\": {}}",
          "connection_info: missing key 'data.volume_id' (or 'serial')" },
        { "{\"driver_volume_type\": \"local\", \"serial\": 7, \"data\": {}}",
          "connection_info: key 'serial' must be a string" },
        { "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": 7}}",
          "connection_info: key 'data.volume_id' must be a string" },
        { "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"v\", \"device_path\": "
          "1}}",
          "connection_info: key 'data.device_path' must be a string for volume v" },
        { "{\"driver_volume_type\": \"rbd\", \"data\": {\"volume_id\": \"v\", \"hosts\": \"h\"}}",
          "connection_info: key 'data.hosts' must be an array of strings for volume v" },
        { "{\"driver_volume_type\": \"rbd\", \"data\": {\"volume_id\": \"v\", \"hosts\": [1]}}",
          "connection_info: key 'data.hosts' must be an array of strings for volume v" },
        { "{\"driver_volume_type\": \"rbd\", \"data\": {\"volume_id\": \"v\", \"ports\": [true]}}",
          "connection_info: key 'data.ports' must be an array of strings, integers or nulls for "
          "volume v" },
        { "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"v\", \"access_mode\": "
          "1}}",
          "connection_info: key 'data.access_mode' must be a string for volume v" },
    };
    return cr_make_param_array(bad_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(bad_case *c, connection_info, rejects_bad_input)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(c->json, -1, &error);

    cr_assert_null(info, "accepted: %s", c->json);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message, c->message);
}

Test(connection_info, malformed_json_names_the_line)
{
    g_autofree char *json = nv_test_data_read("cinder/malformed.json");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(json, -1, &error);

    cr_assert_null(info);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    /* The trailing comma after data.device_path, on line 4; the wording
     * after the line number is json-glib's. */
    cr_assert_str_eq(error->message,
                     "connection_info: invalid JSON at line 4: unexpected character "
                     "`,', expected character `]'");
}

Test(connection_info, surrogate_pair_escape_is_decoded)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info =
        nv_connection_info_parse("{\"driver_volume_type\": \"local\", \"serial\": \"vol-1\", "
                                 "\"data\": {\"name\": \"\\ud83d\\ude00 \\u00e9\"}}",
                                 -1, &error);

    cr_assert_not_null(info, "%s", error ? error->message : "");
    /* U+1F600 and U+00E9 in UTF-8. */
    cr_expect_str_eq(info->name, "\xf0\x9f\x98\x80 \xc3\xa9");
}

Test(connection_info, free_null_is_noop)
{
    nv_connection_info_free(NULL);
    nv_encryption_meta_free(NULL);
}

Test(encryption_meta, parses_all_keys)
{
    g_autofree char *json = nv_test_data_read("cinder/encryption-luks.json");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryption_meta) meta = nv_encryption_meta_parse(json, -1, "v", &error);

    cr_assert_not_null(meta, "%s", error ? error->message : "");
    cr_assert_not(meta->empty);
    cr_assert_str_eq(meta->provider, "luks");
    cr_assert_str_eq(meta->control_location, "front-end");
    cr_assert_str_eq(meta->cipher, "aes-xts-plain64");
    cr_assert(meta->has_key_size);
    cr_assert_eq(meta->key_size, 256);
    cr_assert_str_eq(meta->encryption_key_id, "0f7e2d3c-1b2a-4c5d-8e9f-a0b1c2d3e4f5");
}

Test(encryption_meta, null_key_size_and_cipher_are_absent)
{
    g_autofree char *json = nv_test_data_read("cinder/encryption-no-key-size.json");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryption_meta) meta = nv_encryption_meta_parse(json, -1, "v", &error);

    cr_assert_not_null(meta, "%s", error ? error->message : "");
    cr_assert_not(meta->has_key_size);
    cr_assert_null(meta->cipher);
}

Test(encryption_meta, empty_object_is_empty)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryption_meta) meta = nv_encryption_meta_parse("{}", -1, "v", &error);

    cr_assert_not_null(meta, "%s", error ? error->message : "");
    cr_assert(meta->empty);
    cr_assert_null(meta->provider);
    cr_assert_null(meta->control_location);
}

/* Nova's format_dom writes a host's port only when it is not None. */
Test(connection_info, null_port_is_kept_as_no_port)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(
        "{\"driver_volume_type\": \"rbd\", \"serial\": \"v\", \"data\": {\"hosts\": [\"a\", "
        "\"b\"], \"ports\": [null, 6789]}}",
        -1, &error);

    cr_assert_not_null(info, "%s", error ? error->message : "");
    cr_assert_eq(info->ports->len, 2);
    cr_assert_null(g_ptr_array_index(info->ports, 0));
    cr_assert_str_eq(g_ptr_array_index(info->ports, 1), "6789");
}

ParameterizedTestParameters(encryption_meta, rejects_bad_input)
{
    static bad_case cases[] = {
        { "{\"provider\": 1}", "encryption for volume v: key 'provider' must be a string" },
        { "{\"control_location\": []}",
          "encryption for volume v: key 'control_location' must be a string" },
        { "{\"key_size\": 25.6}",
          "encryption for volume v: key 'key_size' must be an integer, a string of digits or "
          "null" },
        { "{\"key_size\": \"0x100\"}",
          "encryption for volume v: key 'key_size' must be an integer, a string of digits or "
          "null" },
        { "{\"key_size\": \" 256\"}",
          "encryption for volume v: key 'key_size' must be an integer, a string of digits or "
          "null" },
        { "{\"key_size\": \"-8\"}",
          "encryption for volume v: key 'key_size' must be an integer, a string of digits or "
          "null" },
        { "{\"key_size\": \"\"}",
          "encryption for volume v: key 'key_size' must be an integer, a string of digits or "
          "null" },
        { "{\"key_size\": true}",
          "encryption for volume v: key 'key_size' must be an integer, a string of digits or "
          "null" },
        { "{\"encryption_key_id\": {}}",
          "encryption for volume v: key 'encryption_key_id' must be a string" },
        { "\"luks\"", "encryption for volume v: document must be a JSON object" },
        { "{\"provider\": \"luks\",}",
          "encryption for volume v: invalid JSON at line 1: unexpected character `,', expected "
          "character `]'" },
    };
    return cr_make_param_array(bad_case, cases, G_N_ELEMENTS(cases));
}

/* Range before any narrowing (issue 12: 4294967552 = 2^32 + 256 was cast
 * to a 256-bit key); cryptsetup takes whole bytes. */
ParameterizedTestParameters(encryption_meta, rejects_key_size_out_of_range)
{
    static bad_case cases[] = {
        { "{\"key_size\": 0}", "" },
        { "{\"key_size\": -8}", "" },
        { "{\"key_size\": 7}", "" },
        { "{\"key_size\": 2048}", "" },
        { "{\"key_size\": 1032}", "" },
        { "{\"key_size\": 4294967552}", "" },
        { "{\"key_size\": \"4294967552\"}", "" },
        { "{\"key_size\": \"2048\"}", "" },
        { "{\"key_size\": \"0\"}", "" },
        { "{\"key_size\": \"00000000256\"}", "" },
        { "{\"key_size\": 9223372036854775807}", "" },
    };
    return cr_make_param_array(bad_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(bad_case *c, encryption_meta, rejects_key_size_out_of_range)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryption_meta) meta = nv_encryption_meta_parse(c->json, -1, "vol-9", &error);

    cr_assert_null(meta, "accepted: %s", c->json);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message,
                     "encryption for volume vol-9: key 'key_size' must be a positive multiple "
                     "of 8 of at most 1024 bits");
}

typedef struct {
    char json[48];
    gint64 bits;
} key_size_case;

/* os-brick hands key_size to cryptsetup's --key-size as it is, so a
 * string of digits works in Nova. */
ParameterizedTestParameters(encryption_meta, accepts_key_size)
{
    static key_size_case cases[] = {
        { "{\"key_size\": 256}", 256 },   { "{\"key_size\": \"256\"}", 256 },
        { "{\"key_size\": 8}", 8 },       { "{\"key_size\": \"512\"}", 512 },
        { "{\"key_size\": 1024}", 1024 }, { "{\"key_size\": \"0128\"}", 128 },
    };
    return cr_make_param_array(key_size_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(key_size_case *c, encryption_meta, accepts_key_size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryption_meta) meta = nv_encryption_meta_parse(c->json, -1, "v", &error);

    cr_assert_not_null(meta, "%s: %s", c->json, error ? error->message : "");
    cr_assert(meta->has_key_size);
    cr_assert_eq(meta->key_size, c->bits, "%s", c->json);
}

/* Cinder's default: a LUKS volume without control_location is decrypted
 * on the host, never attached as ciphertext (issue 8). */
Test(encryption_meta, missing_control_location_means_front_end)
{
    const char *docs[] = { "{\"provider\": \"luks\"}",
                           "{\"provider\": \"luks\", \"control_location\": null}" };

    for (gsize i = 0; i < G_N_ELEMENTS(docs); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(nv_encryption_meta) meta = nv_encryption_meta_parse(docs[i], -1, "v", &error);

        cr_assert_not_null(meta, "%s", error ? error->message : "");
        cr_assert_str_eq(meta->control_location, "front-end", "%s", docs[i]);
    }
}

Test(encryption_meta, given_control_location_is_kept)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryption_meta) meta = nv_encryption_meta_parse(
        "{\"provider\": \"luks\", \"control_location\": \"back-end\"}", -1, "v", &error);

    cr_assert_not_null(meta, "%s", error ? error->message : "");
    cr_assert_str_eq(meta->control_location, "back-end");
}

ParameterizedTest(bad_case *c, encryption_meta, rejects_bad_input)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryption_meta) meta = nv_encryption_meta_parse(c->json, -1, "v", &error);

    cr_assert_null(meta, "accepted: %s", c->json);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message, c->message);
}

/* LibvirtBaseVolumeDriver.get_config logs and ignores a qos_specs that is
 * not a dict. */
Test(connection_info, non_object_qos_specs_is_ignored)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(
        "{\"driver_volume_type\": \"local\", \"serial\": \"v\", \"data\": {\"qos_specs\": \"x\"}}",
        -1, &error);

    cr_assert_not_null(info, "%s", error ? error->message : "");
    cr_assert_null(info->qos_specs);
}
