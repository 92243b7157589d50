/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Nova's block_device_info (virt/block_device_info.c) and the instance
 * description (virt/instance.c) a spawn takes: good documents, and hostile
 * ones refused with one exact line each.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "nvirt/error.h"
#include "virt/block_device_info.h"
#include "virt/instance.h"

#define VOL_A "0b6ef1a1-7c4e-4d55-9a1c-1f2e3d4c5b6a"
#define VOL_B "5d0c3a7e-2b1f-4c8d-9e6a-7f8b9c0d1e2f"

#define CI(id, path)                                                                               \
    "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"" id "\", "                   \
    "\"device_path\": \"" path "\", \"encrypted\": true}}"
#define ENC "{\"provider\": \"luks\", \"control_location\": \"front-end\", \"cipher\": null}"

static const char *const two_volumes =
    "{\"root_device_name\": \"/dev/vda\", \"swap\": null, \"ephemerals\": [],\n"
    " \"block_device_mapping\": [\n"
    "  {\"connection_info\": " CI(
        VOL_A, "/dev/sdb") ", \"encryption\": " ENC ",\n"
                           "   \"mount_device\": \"/dev/vda\", \"boot_index\": 0, \"disk_bus\": "
                           "\"virtio\",\n"
                           "   \"device_type\": \"disk\", \"delete_on_termination\": true, "
                           "\"guest_format\": null},\n"
                           "  {\"connection_info\": " CI(
                               VOL_B,
                               "/dev/sdc") ", \"encryption\": null,\n"
                                           "   \"mount_device\": \"vdb\", \"boot_index\": null}]}";

static void
assert_bad_input(const GError *error, const char *message)
{
    cr_assert_not_null(error, "expected \"%s\"", message);
    cr_assert_eq(error->domain, NV_ERROR);
    cr_assert_eq(error->code, NV_ERROR_BAD_INPUT, "code %d: %s", error->code, error->message);
    cr_assert_str_eq(error->message, message);
    cr_assert_null(strchr(error->message, '\n'), "not one line: %s", error->message);
}

Test(block_device_info, parses_nova_document)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_block_device_info) bdi = nv_block_device_info_parse(two_volumes, -1, &error);
    const nv_bdm *a, *b;

    cr_assert_not_null(bdi, "%s", error ? error->message : "");
    cr_assert_str_eq(bdi->root_device_name, "/dev/vda");
    cr_assert_eq(bdi->mappings->len, 2);
    a = g_ptr_array_index(bdi->mappings, 0);
    b = g_ptr_array_index(bdi->mappings, 1);
    cr_assert_str_eq(a->connection_info->volume_id, VOL_A);
    cr_assert_str_eq(a->connection_info->device_path, "/dev/sdb");
    cr_assert_not_null(a->encryption);
    cr_assert_str_eq(a->encryption->provider, "luks");
    cr_assert_str_eq(a->mount_device, "/dev/vda");
    cr_assert_eq(a->boot_index, 0);
    cr_assert_str_eq(a->disk_bus, "virtio");
    cr_assert_str_eq(a->device_type, "disk");
    cr_assert(a->delete_on_termination);
    cr_assert_str_eq(b->connection_info->volume_id, VOL_B);
    cr_assert_null(b->encryption);
    cr_assert_eq(b->boot_index, -1);
    cr_assert_null(b->disk_bus);
    cr_assert_str_eq(b->device_type, "disk");
    cr_assert_not(b->delete_on_termination);
}

Test(block_device_info, empty_mapping_is_an_instance_without_volumes)
{
    g_autoptr(nv_block_device_info) bdi =
        nv_block_device_info_parse("{\"block_device_mapping\": []}", -1, NULL);

    cr_assert_not_null(bdi);
    cr_assert_null(bdi->root_device_name);
    cr_assert_eq(bdi->mappings->len, 0);
}

typedef struct {
    const char *json;
    const char *message;
} bad_case;

#define ENTRY(extra)                                                                               \
    "{\"block_device_mapping\": [{\"connection_info\": " CI(VOL_A, "/dev/sdb") ", " extra "}]}"
#define GOOD_A "{\"connection_info\": " CI(VOL_A, "/dev/sdb") ", \"mount_device\": \"vda\"}"

static const bad_case bad_cases[] = {
    { "[]", "block_device_info: document must be a JSON object" },
    { "{}", "block_device_info: missing key 'block_device_mapping'" },
    { "{\"block_device_mapping\": {}}",
      "block_device_info: key 'block_device_mapping' must be an array" },
    { "{\"block_device_mapping\": []} {}",
      "block_device_info: invalid JSON at line 1: data after the end of the document" },
    { "{\"root_device_name\": \"/dev/v\\u0000da\", \"block_device_mapping\": []}",
      "block_device_info: invalid JSON at line 1: \\u0000 (NUL) in a string" },
    { "{\"root_device_name\": 7, \"block_device_mapping\": []}",
      "block_device_info: key 'root_device_name' must be a string" },
    { "{\"block_device_mapping\": [7]}",
      "block_device_info: block_device_mapping[0]: must be an object" },
    { "{\"block_device_mapping\": [{\"mount_device\": \"vda\"}]}",
      "block_device_info: block_device_mapping[0]: missing key 'connection_info'" },
    { ENTRY("\"boot_index\": 0"),
      "block_device_info: block_device_mapping[0]: missing key 'mount_device'" },
    { ENTRY("\"mount_device\": \"vd\\na\""),
      "block_device_info: block_device_mapping[0]: key 'mount_device' holds a control "
      "character: 'vd\\na'" },
    { ENTRY("\"mount_device\": \"vda\", \"boot_index\": \"0\""),
      "block_device_info: block_device_mapping[0]: key 'boot_index' must be an integer or null" },
    { ENTRY("\"mount_device\": \"vda\", \"boot_index\": 4294967296"),
      "block_device_info: block_device_mapping[0]: key 'boot_index' must be -1 to 1024, not "
      "4294967296" },
    { ENTRY("\"mount_device\": \"vda\", \"boot_index\": -2"),
      "block_device_info: block_device_mapping[0]: key 'boot_index' must be -1 to 1024, not -2" },
    { ENTRY("\"mount_device\": \"vda\", \"boot_index\": 1.5"),
      "block_device_info: block_device_mapping[0]: key 'boot_index' must be an integer or null" },
    { ENTRY("\"mount_device\": \"vda\", \"device_type\": \"cdrom\""),
      "block_device_info: block_device_mapping[0]: key 'device_type' must be 'disk' for a "
      "volume, not 'cdrom'" },
    { ENTRY("\"mount_device\": \"vda\", \"delete_on_termination\": \"yes\""),
      "block_device_info: block_device_mapping[0]: key 'delete_on_termination' must be true or "
      "false" },
    { "{\"block_device_mapping\": [{\"connection_info\": {\"data\": {}}, \"mount_device\": "
      "\"vda\"}]}",
      "block_device_info: block_device_mapping[0]: connection_info: missing key "
      "'driver_volume_type'" },
    { ENTRY("\"mount_device\": \"vda\", \"encryption\": {\"key_size\": 7}"),
      "block_device_info: block_device_mapping[0]: encryption for volume " VOL_A
      ": key 'key_size' must be a positive multiple of 8 of at most 1024 bits" },
    { "{\"block_device_mapping\": [" GOOD_A
      ", {\"connection_info\": " CI(VOL_B, "/dev/sdc") ", \"mount_device\": \"vda\"}]}",
      "block_device_info: block_device_mapping[1]: mount_device 'vda' is also entry 0's" },
    { "{\"block_device_mapping\": [" GOOD_A
      ", {\"connection_info\": " CI(VOL_A, "/dev/sdc") ", \"mount_device\": \"vdb\"}]}",
      "block_device_info: block_device_mapping[1]: volume " VOL_A " is also entry 0" },
    { "{\"block_device_mapping\": [{\"connection_info\": " CI(
          VOL_A, "/dev/sdb") ", \"mount_device\": \"vda\", \"boot_index\": 3}, "
                             "{\"connection_info\": " CI(VOL_B,
                                                         "/dev/sdc") ", \"mount_device\": \"vdb\", "
                                                                     "\"boot_index\": 3}]}",
      "block_device_info: block_device_mapping[1]: boot_index 3 is also entry 0's" },
};

/* Criterion copies parameters into the test process: indexes, not
 * pointers to string literals. */
static size_t bad_indexes[G_N_ELEMENTS(bad_cases)];

ParameterizedTestParameters(block_device_info, rejects_bad_input)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++)
        bad_indexes[i] = i;
    return cr_make_param_array(size_t, bad_indexes, G_N_ELEMENTS(bad_cases));
}

ParameterizedTest(size_t *i, block_device_info, rejects_bad_input)
{
    const bad_case *c = &bad_cases[*i];
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_block_device_info) bdi = nv_block_device_info_parse(c->json, -1, &error);

    cr_assert_null(bdi, "accepted: %s", c->json);
    assert_bad_input(error, c->message);
}

Test(block_device_info, refuses_deep_nesting_before_parsing)
{
    g_autoptr(GString) json = g_string_new("{\"block_device_mapping\": ");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_block_device_info) bdi = NULL;

    for (int i = 0; i < 100000; i++)
        g_string_append_c(json, '[');
    bdi = nv_block_device_info_parse(json->str, -1, &error);
    cr_assert_null(bdi);
    assert_bad_input(error, "block_device_info: invalid JSON at line 1: nested deeper than 32 "
                            "levels");
}

Test(block_device_info, refuses_documents_over_the_size_limit)
{
    g_autofree char *json = g_malloc(NV_JSON_MAX_BYTES + 64);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_block_device_info) bdi = NULL;
    size_t n;

    strcpy(json, "{\"block_device_mapping\": [], \"pad\": \"");
    n = strlen(json);
    memset(json + n, 'x', NV_JSON_MAX_BYTES);
    strcpy(json + n + NV_JSON_MAX_BYTES, "\"}");
    bdi = nv_block_device_info_parse(json, -1, &error);
    cr_assert_null(bdi);
    assert_bad_input(error, "block_device_info: document larger than 1048576 bytes");
}

Test(block_device_info, refuses_a_nul_byte_inside_the_given_length)
{
    static const char json[] = "{\"block_device_mapping\": []}\0{}";
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_block_device_info) bdi =
        nv_block_device_info_parse(json, sizeof(json) - 1, &error);

    cr_assert_null(bdi);
    assert_bad_input(error, "block_device_info: invalid JSON at line 1: NUL byte in the document");
}

Test(block_device_info, refuses_more_than_64_entries)
{
    g_autoptr(GString) json = g_string_new("{\"block_device_mapping\": [");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_block_device_info) bdi = NULL;

    for (int i = 0; i < 65; i++)
        g_string_append(json, i ? ", {}" : "{}");
    g_string_append(json, "]}");
    bdi = nv_block_device_info_parse(json->str, -1, &error);
    cr_assert_null(bdi);
    assert_bad_input(error, "block_device_info: more than 64 entries in 'block_device_mapping'");
}

/* ------------------------------------------------------------------------ */
/* Instance description                                                      */

Test(instance, parses_description)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_instance) inst = nv_instance_new_from_json(
        "{\"name\": \"instance-0000002a\", \"uuid\": \"8A3C5B2E-1F4D-4E6A-9B7C-0D1E2F3A4B5C\", "
        "\"memory_mb\": 512, \"vcpus\": 2, \"machine_type\": \"pc\", \"kernel\": "
        "\"/boot/vmlinuz\", "
        "\"initrd\": \"/boot/initrd\", \"cmdline\": \"console=ttyS0\", \"console_log\": "
        "\"/var/lib/nova/instances/i/console.log\", \"flavor_id\": 7}",
        &error);

    cr_assert_not_null(inst, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_instance_get_name(inst), "instance-0000002a");
    cr_assert_str_eq(nv_instance_get_uuid(inst), "8a3c5b2e-1f4d-4e6a-9b7c-0d1e2f3a4b5c");
    cr_assert_eq(inst->memory_mb, 512);
    cr_assert_eq(inst->vcpus, 2);
    cr_assert_str_eq(inst->machine_type, "pc");
    cr_assert_str_eq(inst->kernel, "/boot/vmlinuz");
    cr_assert_str_eq(inst->initrd, "/boot/initrd");
    cr_assert_str_eq(inst->cmdline, "console=ttyS0");
    cr_assert_str_eq(inst->console_log, "/var/lib/nova/instances/i/console.log");
}

#define INST(extra)                                                                                \
    "{\"name\": \"i-1\", \"uuid\": \"8a3c5b2e-1f4d-4e6a-9b7c-0d1e2f3a4b5c\", " extra "}"

static const bad_case bad_instances[] = {
    { "{\"uuid\": \"8a3c5b2e-1f4d-4e6a-9b7c-0d1e2f3a4b5c\", \"memory_mb\": 1, \"vcpus\": 1}",
      "instance: missing key 'name'" },
    { "{\"name\": \"a/b\"}", "instance: key 'name' must be 1 to 255 bytes without '/', not 'a/b'" },
    { "{\"name\": \"i-1\", \"uuid\": \"nope\"}", "instance: key 'uuid' is not a UUID: 'nope'" },
    { INST("\"vcpus\": 1"), "instance: missing key 'memory_mb'" },
    { INST("\"memory_mb\": \"512\", \"vcpus\": 1"),
      "instance: key 'memory_mb' must be an integer" },
    { INST("\"memory_mb\": 0, \"vcpus\": 1"),
      "instance: key 'memory_mb' must be 1 to 1073741824, not 0" },
    { INST("\"memory_mb\": 512, \"vcpus\": 9223372036854775807"),
      "instance: key 'vcpus' must be 1 to 4096, not 9223372036854775807" },
    { INST("\"memory_mb\": 512, \"vcpus\": 1, \"kernel\": \"vmlinuz\""),
      "instance: key 'kernel' must be an absolute path, not 'vmlinuz'" },
    { INST("\"memory_mb\": 512, \"vcpus\": 1, \"console_log\": \"console.log\""),
      "instance: key 'console_log' must be an absolute path, not 'console.log'" },
    { INST("\"memory_mb\": 512, \"vcpus\": 1, \"cmdline\": \"quiet\""),
      "instance: keys 'initrd' and 'cmdline' need 'kernel'" },
    { INST("\"memory_mb\": 512, \"vcpus\": 1, \"machine_type\": \"pc\\u001b[2J\""),
      "instance: key 'machine_type' holds a control character: 'pc\\033[2J'" },
    { INST("\"memory_mb\": 512, \"vcpus\": 1} x"),
      "instance: invalid JSON at line 1: data after the end of the document" },
};

static size_t bad_instance_indexes[G_N_ELEMENTS(bad_instances)];

ParameterizedTestParameters(instance, rejects_bad_input)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_instances); i++)
        bad_instance_indexes[i] = i;
    return cr_make_param_array(size_t, bad_instance_indexes, G_N_ELEMENTS(bad_instances));
}

ParameterizedTest(size_t *i, instance, rejects_bad_input)
{
    const bad_case *c = &bad_instances[*i];
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_instance) inst = nv_instance_new_from_json(c->json, &error);

    cr_assert_null(inst, "accepted: %s", c->json);
    assert_bad_input(error, c->message);
}
