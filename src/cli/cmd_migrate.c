/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt migrate: both halves of a live migration from one host, as Nova's
 * compute managers run them on two: pre_live_migration with a driver on
 * the destination, the migration with one on the source, then
 * post_live_migration on the source or rollback on the destination.
 */
#include <stdio.h>

#include <json-glib/json-glib.h>

#include "cli.h"
#include "nvirt/error.h"

static char *opt_connect;
static char *opt_dest_uri;
static char *opt_dest_config;
static char *opt_block_device_info;
static gboolean opt_live;
static gboolean opt_unsafe;

static GOptionEntry entries[] = {
    { "dest-uri", 'd', 0, G_OPTION_ARG_STRING, &opt_dest_uri,
      "libvirt URI of the destination (required)", "URI" },
    { "live", 'l', 0, G_OPTION_ARG_NONE, &opt_live,
      "Migrate the running guest live (required: the only mode)", NULL },
    { "unsafe", 'u', 0, G_OPTION_ARG_NONE, &opt_unsafe,
      "Migrate although libvirt cannot prove the storage is shared (VIR_MIGRATE_UNSAFE)", NULL },
    { "dest-config", 'D', 0, G_OPTION_ARG_FILENAME, &opt_dest_config,
      "Configuration of the destination's driver (default: the source's)", "FILE" },
    { "block-device-info", 'B', 0, G_OPTION_ARG_FILENAME, &opt_block_device_info,
      "The guest's volumes, Nova's block_device_info as JSON ('-' for standard input)", "FILE" },
    { "connect", 'C', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt URI of the source (default: [libvirt] connection_uri)", "URI" },
    { NULL },
};

static const char description[] =
    "Each host keeps its own libvirt secret for a volume QEMU decrypts: the\n"
    "destination creates one with the key from its key manager (--dest-config),\n"
    "the guest moves with its disks naming that secret in the live and the\n"
    "persistent XML, and the source's secret is deleted after success.  A\n"
    "failure at any step leaves the guest running on the source with its disks\n"
    "and secrets, and nothing on the destination; the one line printed names the\n"
    "step.\n"
    "\n"
    "--block-device-info lists the volumes, as Nova's block_device_info:\n"
    "  {\"block_device_mapping\": [{\"connection_info\": {...},\n"
    "    \"encryption\": {...} or null, \"mount_device\": \"/dev/sdb\"}, ...]}\n"
    "(Cinder's connection_info and encryption metadata, as for attach-volume;\n"
    "mount_device is the disk's target on the source; disk_bus is optional).\n"
    "Without it the guest migrates with no volume prepared on the destination,\n"
    "which is refused before anything changes if a disk is encrypted.\n"
    "\n"
    "Exit status: 0 success, 1 a step failed, 2 bad usage or bad input.";

/* The volume requests of a block_device_info document; the strings they
 * point to are owned by @strings. */
typedef struct {
    GPtrArray *strings;  /* char * */
    GPtrArray *requests; /* nv_volume_request * */
} volume_list;

static void
volume_list_clear(volume_list *list)
{
    g_clear_pointer(&list->strings, g_ptr_array_unref);
    g_clear_pointer(&list->requests, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(volume_list, volume_list_clear)

static const char *
keep(volume_list *list, char *text)
{
    g_ptr_array_add(list->strings, text);
    return text;
}

static const char *
member_json(volume_list *list, JsonObject *entry, const char *name)
{
    JsonNode *node = json_object_get_member(entry, name);

    if (!node || JSON_NODE_HOLDS_NULL(node))
        return NULL;
    return keep(list, json_to_string(node, FALSE));
}

static gboolean
parse_block_device_info(const char *json, volume_list *list, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;
    JsonNode *root, *mapping;
    JsonArray *entries_array;

    list->strings = g_ptr_array_new_with_free_func(g_free);
    list->requests = g_ptr_array_new_with_free_func(g_free);
    if (!json_parser_load_from_data(parser, json, -1, &local)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "block_device_info: %s", local->message);
        return FALSE;
    }
    root = json_parser_get_root(parser);
    mapping = root && JSON_NODE_HOLDS_OBJECT(root)
                  ? json_object_get_member(json_node_get_object(root), "block_device_mapping")
                  : NULL;
    if (!mapping || !JSON_NODE_HOLDS_ARRAY(mapping)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "block_device_info: want an object with a 'block_device_mapping' array");
        return FALSE;
    }
    entries_array = json_node_get_array(mapping);
    for (guint i = 0; i < json_array_get_length(entries_array); i++) {
        JsonNode *node = json_array_get_element(entries_array, i);
        JsonObject *entry = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        nv_volume_request *request;

        if (!entry || !json_object_has_member(entry, "connection_info") ||
            !JSON_NODE_HOLDS_VALUE(json_object_get_member(entry, "mount_device")) ||
            json_node_get_value_type(json_object_get_member(entry, "mount_device")) !=
                G_TYPE_STRING) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "block_device_info: block_device_mapping[%u] needs connection_info and "
                        "a mount_device string",
                        i);
            return FALSE;
        }
        /* Owned by the list from here, whatever fails below. */
        request = g_new0(nv_volume_request, 1);
        g_ptr_array_add(list->requests, request);
        request->version = NV_VOLUME_REQUEST_VERSION;
        request->connection_info = member_json(list, entry, "connection_info");
        request->encryption = member_json(list, entry, "encryption");
        request->mountpoint =
            keep(list, g_strdup(json_object_get_string_member(entry, "mount_device")));
        if (json_object_has_member(entry, "disk_bus") &&
            !json_object_get_null_member(entry, "disk_bus")) {
            JsonNode *bus = json_object_get_member(entry, "disk_bus");

            if (!JSON_NODE_HOLDS_VALUE(bus) || json_node_get_value_type(bus) != G_TYPE_STRING) {
                g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            "block_device_info: block_device_mapping[%u].disk_bus is not a "
                            "string",
                            i);
                return FALSE;
            }
            request->disk_bus = keep(list, g_strdup(json_node_get_string(bus)));
        }
    }
    return TRUE;
}

/* "nvirt migrate: STEP failed: MESSAGE"; exit 1, or 2 for bad input. */
static int
step_failed(const char *step, const GError *error)
{
    fprintf(stderr, "%s: %s failed: %s\n", g_get_prgname(), step, error->message);
    if (error->domain == NV_ERROR &&
        (error->code == NV_ERROR_BAD_INPUT || error->code == NV_ERROR_CONFIG) &&
        g_str_has_prefix(step, "read"))
        return NV_EXIT_USAGE;
    return NV_EXIT_FAILED;
}

static nv_driver *
open_destination(GError **error)
{
    if (opt_dest_config)
        return nv_driver_open(opt_dest_config, opt_dest_uri, NULL, error);
    return nv_cli_open_driver(opt_dest_uri, error);
}

int
nv_cmd_migrate(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("DOMAIN");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) source = NULL;
    g_autoptr(nv_driver) dest = NULL;
    g_autoptr(nv_migrate_data) data = NULL;
    g_autofree char *bdi = NULL;
    g_auto(volume_list) volumes = { 0 };
    const nv_volume_request *const *requests;
    const char *domain;
    gsize n;
    int exit_code;

    g_option_context_set_summary(ctx, "Live-migrate libvirt domain DOMAIN with its encrypted "
                                      "volumes to another host.");
    g_option_context_set_description(ctx, description);
    g_option_context_add_main_entries(ctx, entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;
    if (argc < 2)
        return nv_cli_usage_error("DOMAIN is required");
    if (argc > 2)
        return nv_cli_usage_error("unexpected argument '%s'", argv[2]);
    if (!opt_dest_uri)
        return nv_cli_usage_error("--dest-uri is required");
    if (!opt_live)
        return nv_cli_usage_error("only live migration is supported: pass --live");
    domain = argv[1];

    if (opt_block_device_info) {
        /* The library's parser and its limits first: json-glib alone
         * recurses without bound on nesting. */
        if (!nv_cli_read_input(opt_block_device_info, &bdi, &error) ||
            !nv_block_device_info_validate(bdi, &error) ||
            !parse_block_device_info(bdi, &volumes, &error))
            return step_failed("read --block-device-info", error);
    } else {
        parse_block_device_info("{\"block_device_mapping\": []}", &volumes, NULL);
    }
    requests = (const nv_volume_request *const *)volumes.requests->pdata;
    n = volumes.requests->len;

    source = nv_cli_open_driver(opt_connect, &error);
    if (!source)
        return step_failed("connect to the source", error);
    dest = open_destination(&error);
    if (!dest)
        return step_failed("connect to the destination", error);
    data = nv_driver_pre_live_migration(dest, domain, requests, n, &error);
    if (!data)
        return step_failed("pre_live_migration on the destination", error);
    if (!nv_driver_live_migration(source, domain, opt_dest_uri, data,
                                  opt_unsafe ? NV_MIGRATE_UNSAFE : NV_MIGRATE_NONE, &error)) {
        g_autoptr(GError) rollback = NULL;

        if (!nv_driver_rollback_live_migration_at_destination(dest, data, &rollback))
            fprintf(stderr, "%s: rollback on the destination failed too: %s\n", g_get_prgname(),
                    rollback->message);
        return step_failed("live migration", error);
    }
    /* The guest runs on the destination now: what is left on the source
     * is host cleanup, which a failure here leaves for a retry (or
     * nvirt reconcile). */
    if (!nv_driver_post_live_migration(source, domain, requests, n, &error))
        return step_failed("post_live_migration on the source (the guest has moved)", error);
    return NV_EXIT_OK;
}
