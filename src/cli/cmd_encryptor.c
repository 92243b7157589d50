/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt encryptor-attach / encryptor-detach: run the volume's encryptor on
 * its own, without libvirt, as the driver's cryptsetup fallback would.  For
 * operators recovering a host (a mapping left open, a volume to read after
 * a failed detach) and for the guest tests.  The key comes from the
 * configured key manager; it never appears on the command line.  The
 * encryptor is the library's (nv_volume_encryptor).
 */
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "nvirt/error.h"
#include "nvirt/nvirt.h"

static char *opt_connection_info;
static char *opt_encryption;
static gboolean opt_json;

static GOptionEntry entries[] = {
    { "connection-info", 'i', 0, G_OPTION_ARG_FILENAME, &opt_connection_info,
      "Cinder connection_info JSON with data.device_path ('-' for standard input)", "FILE" },
    { "encryption", 'e', 0, G_OPTION_ARG_FILENAME, &opt_encryption,
      "Cinder encryption metadata JSON ('-' for standard input)", "FILE" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print the result as a JSON object", NULL },
    { NULL },
};

static const char attach_description[] =
    "Opens the dm-crypt mapping crypt-<basename of data.device_path> with the\n"
    "volume's key from the configured key manager ([key_manager]) and points\n"
    "data.device_path at /dev/mapper/<mapping>, as os-brick's encryptors do.  A\n"
    "blank luks/luks2 volume is formatted first; a volume carrying any other\n"
    "signature is refused.  Prints the device path to hand to the guest.\n"
    "A control_location other than front-end, or no provider, selects the no-op\n"
    "encryptor: nothing is changed.\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

static const char detach_description[] =
    "Closes the volume's dm-crypt mapping and makes data.device_path the original\n"
    "device again.  A mapping that is not open is not an error.  No key is needed.\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

static void
add_string_or_null(JsonBuilder *builder, const char *name, const char *value)
{
    json_builder_set_member_name(builder, name);
    if (value)
        json_builder_add_string_value(builder, value);
    else
        json_builder_add_null_value(builder);
}

static int
print_result(const nv_volume_encryptor *enc)
{
    const char *device_path = nv_volume_encryptor_get_device_path(enc);
    const char *mapping = nv_volume_encryptor_get_mapping(enc);

    if (opt_json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;
        g_autofree char *mapper = mapping ? g_strdup_printf("/dev/mapper/%s", mapping) : NULL;

        json_builder_begin_object(builder);
        add_string_or_null(builder, "volume_id", nv_volume_encryptor_get_volume_id(enc));
        add_string_or_null(builder, "encryptor", nv_volume_encryptor_get_format(enc));
        add_string_or_null(builder, "device_path", device_path);
        add_string_or_null(builder, "mapping", mapping);
        add_string_or_null(builder, "mapper_path", mapper);
        json_builder_end_object(builder);
        root = json_builder_get_root(builder);
        json_generator_set_root(gen, root);
        json_generator_set_pretty(gen, TRUE);
        text = json_generator_to_data(gen, NULL);
        printf("%s\n", text);
    } else if (device_path) {
        printf("%s\n", device_path);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "nvirt: cannot write standard output\n");
        return NV_EXIT_FAILED;
    }
    return NV_EXIT_OK;
}

static int
run(gboolean attach)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = NULL;
    g_autoptr(nv_volume_encryptor) enc = NULL;
    g_autofree char *connection_info = NULL;
    g_autofree char *encryption = NULL;
    nv_volume_request request = NV_VOLUME_REQUEST_INIT;

    conf = nv_cli_load_conf(&error);
    if (!conf)
        return nv_cli_fail(error);
    if (!nv_cli_read_input(opt_connection_info, &connection_info, &error) ||
        !nv_cli_read_input(opt_encryption, &encryption, &error))
        return nv_cli_fail(error);
    request.connection_info = connection_info;
    request.encryption = encryption;

    enc = nv_volume_encryptor_new(conf, &request, &error);
    if (!enc)
        return nv_cli_fail(error);
    if (nv_volume_encryptor_get_reason(enc))
        fprintf(stderr, "nvirt: volume %s: %s: nothing to decrypt\n",
                nv_volume_encryptor_get_volume_id(enc), nv_volume_encryptor_get_reason(enc));
    if (attach ? !nv_volume_encryptor_attach(enc, &error)
               : !nv_volume_encryptor_detach(enc, &error))
        return nv_cli_fail(error);
    return print_result(enc);
}

static int
command(int argc, char **argv, gboolean attach)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    int exit_code;

    g_option_context_set_summary(
        ctx, attach ? "Open a volume's dm-crypt mapping with its encryptor (no libvirt)."
                    : "Close a volume's dm-crypt mapping and restore its device path.");
    g_option_context_set_description(ctx, attach ? attach_description : detach_description);
    g_option_context_add_main_entries(ctx, entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;

    if (argc > 1)
        return nv_cli_usage_error("unexpected argument '%s'", argv[1]);
    if (!opt_connection_info)
        return nv_cli_usage_error("--connection-info is required");
    if (!opt_encryption)
        return nv_cli_usage_error("--encryption is required");
    if (g_str_equal(opt_connection_info, "-") && g_str_equal(opt_encryption, "-"))
        return nv_cli_usage_error("--connection-info and --encryption cannot both be '-'");
    return run(attach);
}

int
nv_cmd_encryptor_attach(int argc, char **argv)
{
    return command(argc, argv, TRUE);
}

int
nv_cmd_encryptor_detach(int argc, char **argv)
{
    return command(argc, argv, FALSE);
}
