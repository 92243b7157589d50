/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt attach-volume / detach-volume: the driver's attach_volume and
 * detach_volume for one volume, with Cinder's JSON as input.
 */
#include <stdio.h>

#include <json-glib/json-glib.h>

#include "cli.h"
#include "nvirt/error.h"

static char *opt_connect;
static char *opt_connection_info;
static char *opt_mountpoint;
static char *opt_encryption;
static char *opt_disk_bus;
static gboolean opt_dry_run;
static gboolean opt_json;

static GOptionEntry volume_entries[] = {
    { "connection-info", 'i', 0, G_OPTION_ARG_FILENAME, &opt_connection_info,
      "Cinder connection_info JSON ('-' for standard input)", "FILE" },
    { "mountpoint", 'm', 0, G_OPTION_ARG_STRING, &opt_mountpoint,
      "Guest device name, e.g. /dev/vdb or vdb", "DEV" },
    { "encryption", 'e', 0, G_OPTION_ARG_FILENAME, &opt_encryption,
      "Cinder encryption metadata JSON ('-' for standard input)", "FILE" },
    { "connect", 'C', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt URI (default: [libvirt] connection_uri)", "URI" },
    { NULL },
};

static GOptionEntry attach_entries[] = {
    { "disk-bus", 'b', 0, G_OPTION_ARG_STRING, &opt_disk_bus,
      "virtio, scsi, sata, ide or usb (default: from the device name)", "BUS" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run,
      "Print the decision, the <disk> and the <secret> XML; change nothing", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "With --dry-run: print JSON", NULL },
    { NULL },
};

static const char attach_description[] =
    "On a host whose QEMU (>= 2.6.0) and libvirt (>= 2.2.0) decrypt LUKS, a volume\n"
    "with encryption provider 'luks' gets a persistent private libvirt secret\n"
    "(usage 'volume', the volume id) holding the passphrase from the key manager,\n"
    "and <encryption format='luks'> on its <disk>: QEMU decrypts it, nothing\n"
    "decrypted appears on the host.  A blank volume is formatted as LUKS1 first;\n"
    "a volume carrying any other signature is refused.  The disk is added to the\n"
    "persistent config, and to the live one when the domain runs.  On failure\n"
    "everything done is undone.\n"
    "\n"
    "JSON keys with --dry-run --json: volume_id, encryption_path (native,\n"
    "encryptor, none), reason, reuses_secret, disk_xml, secret_xml (null unless a\n"
    "secret would be defined).\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

static const char detach_description[] =
    "Removes the disk from the domain (persistent and live) and waits until QEMU\n"
    "has let go of it, then cleans up the host: the volume secret when the disk\n"
    "had <encryption> (QEMU decrypted it) or a secret exists.  A disk already gone\n"
    "from the domain is not an error.\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

/* Read the inputs into @request; the strings stay owned by the caller's
 * autofree variables. */
static gboolean
read_request(nv_volume_request *request, char **connection_info, char **encryption, GError **error)
{
    if (!nv_cli_read_input(opt_connection_info, connection_info, error))
        return FALSE;
    if (opt_encryption && !nv_cli_read_input(opt_encryption, encryption, error))
        return FALSE;
    request->connection_info = *connection_info;
    request->encryption = *encryption;
    request->mountpoint = opt_mountpoint;
    request->disk_bus = opt_disk_bus;
    return TRUE;
}

static int
check_arguments(int argc, char **argv, const char **domain)
{
    if (argc < 2)
        return nv_cli_usage_error("DOMAIN is required");
    if (argc > 2)
        return nv_cli_usage_error("unexpected argument '%s'", argv[2]);
    if (!opt_connection_info)
        return nv_cli_usage_error("--connection-info is required");
    if (!opt_mountpoint)
        return nv_cli_usage_error("--mountpoint is required");
    if (g_strcmp0(opt_connection_info, "-") == 0 && g_strcmp0(opt_encryption, "-") == 0)
        return nv_cli_usage_error("--connection-info and --encryption cannot both be '-'");
    if (opt_json && !opt_dry_run)
        return nv_cli_usage_error("--json only goes with --dry-run");
    *domain = argv[1];
    return NV_EXIT_OK;
}

static char *
plan_to_json(const nv_attach_plan *plan)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    const char *secret_xml = nv_attach_plan_get_secret_xml(plan);

    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "volume_id");
    json_builder_add_string_value(builder, nv_attach_plan_get_volume_id(plan));
    json_builder_set_member_name(builder, "encryption_path");
    json_builder_add_string_value(builder, nv_attach_plan_get_encryption_path(plan));
    json_builder_set_member_name(builder, "reason");
    json_builder_add_string_value(builder, nv_attach_plan_get_reason(plan));
    json_builder_set_member_name(builder, "reuses_secret");
    json_builder_add_boolean_value(builder, nv_attach_plan_get_reuses_secret(plan));
    json_builder_set_member_name(builder, "disk_xml");
    json_builder_add_string_value(builder, nv_attach_plan_get_disk_xml(plan));
    json_builder_set_member_name(builder, "secret_xml");
    if (secret_xml)
        json_builder_add_string_value(builder, secret_xml);
    else
        json_builder_add_null_value(builder);
    json_builder_end_object(builder);

    root = json_builder_get_root(builder);
    json_generator_set_root(generator, root);
    json_generator_set_pretty(generator, TRUE);
    return json_generator_to_data(generator, NULL);
}

static char *
plan_to_text(const nv_attach_plan *plan)
{
    GString *out = g_string_new(NULL);
    const char *secret_xml = nv_attach_plan_get_secret_xml(plan);

    g_string_append_printf(out, "volume:   %s\n", nv_attach_plan_get_volume_id(plan));
    g_string_append_printf(out, "decision: %s (%s)\n", nv_attach_plan_get_encryption_path(plan),
                           nv_attach_plan_get_reason(plan));
    if (nv_attach_plan_get_reuses_secret(plan))
        g_string_append(out, "secret:   the volume's existing libvirt secret is reused\n");
    else if (secret_xml)
        g_string_append_printf(out, "secret:   would be defined (value from the key manager):\n%s",
                               secret_xml);
    else
        g_string_append(out, "secret:   none\n");
    if (out->str[out->len - 1] != '\n')
        g_string_append_c(out, '\n');
    g_string_append_printf(out, "disk:\n%s", nv_attach_plan_get_disk_xml(plan));
    return g_string_free(out, FALSE);
}

static int
volume_command(int argc, char **argv, gboolean attach)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("DOMAIN");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = NULL;
    g_autofree char *connection_info = NULL;
    g_autofree char *encryption = NULL;
    nv_volume_request request = NV_VOLUME_REQUEST_INIT;
    const char *domain = NULL;
    int exit_code;

    if (attach) {
        g_option_context_set_summary(ctx, "Attach a Cinder volume to libvirt domain DOMAIN, "
                                          "natively decrypted by QEMU where the host allows.");
        g_option_context_set_description(ctx, attach_description);
        g_option_context_add_main_entries(ctx, attach_entries, NULL);
    } else {
        g_option_context_set_summary(ctx, "Detach a Cinder volume from libvirt domain DOMAIN "
                                          "and clean up its host side.");
        g_option_context_set_description(ctx, detach_description);
    }
    g_option_context_add_main_entries(ctx, volume_entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;
    exit_code = check_arguments(argc, argv, &domain);
    if (exit_code != NV_EXIT_OK)
        return exit_code;

    if (!read_request(&request, &connection_info, &encryption, &error))
        return nv_cli_fail(error);
    driver = nv_cli_open_driver(opt_connect, &error);
    if (!driver)
        return nv_cli_fail(error);

    if (attach && opt_dry_run) {
        g_autoptr(nv_attach_plan) plan = nv_driver_plan_attach(driver, domain, &request, &error);
        g_autofree char *text = NULL;

        if (!plan)
            return nv_cli_fail(error);
        text = opt_json ? plan_to_json(plan) : plan_to_text(plan);
        return nv_cli_print(text);
    }
    if (attach ? !nv_driver_attach_volume(driver, domain, &request, &error)
               : !nv_driver_detach_volume(driver, domain, &request, &error))
        return nv_cli_fail(error);
    return NV_EXIT_OK;
}

int
nv_cmd_attach_volume(int argc, char **argv)
{
    return volume_command(argc, argv, TRUE);
}

int
nv_cmd_detach_volume(int argc, char **argv)
{
    return volume_command(argc, argv, FALSE);
}
