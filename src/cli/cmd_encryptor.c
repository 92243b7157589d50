/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt encryptor-attach / encryptor-detach: run the volume's encryptor on
 * its own, without libvirt, as the driver's cryptsetup fallback would.  For
 * operators recovering a host (a mapping left open, a volume to read after
 * a failed detach) and for the guest tests.  The key comes from the
 * configured key manager; it never appears on the command line.
 */
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"
#include "encryptors/encryptor.h"
#include "keymgr/keymgr.h"
#include "nvirt/error.h"
#include "virt/block_device.h"

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

static int G_GNUC_PRINTF(1, 2) usage_error(const char *format, ...)
{
    g_autofree char *message = NULL;
    va_list args;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    fprintf(stderr, "%s: %s (see --help)\n", g_get_prgname(), message);
    return NV_EXIT_USAGE;
}

/* The encryptor for the volume described by the two input files.  A volume
 * without data.encrypted gets the no-op encryptor, as Nova never asks
 * Cinder for its metadata. */
static nv_encryptor *
load_encryptor(nv_connection_info **info_out, nv_encryption_meta **meta_out, GError **error)
{
    g_autofree char *info_json = NULL;
    g_autofree char *meta_json = NULL;
    g_autoptr(nv_connection_info) info = NULL;
    g_autoptr(nv_encryption_meta) meta = NULL;
    nv_encryptor *enc;
    guint key_size = 0;

    if (!nv_cli_read_input(opt_connection_info, &info_json, error))
        return NULL;
    info = nv_connection_info_parse(info_json, -1, error);
    if (!info)
        return NULL;
    if (!nv_cli_read_input(opt_encryption, &meta_json, error))
        return NULL;
    meta = nv_encryption_meta_parse(meta_json, -1, info->volume_id, error);
    if (!meta)
        return NULL;

    if (!info->encrypted || meta->empty) {
        fprintf(stderr, "nvirt: volume %s: %s: nothing to decrypt\n", info->volume_id,
                !info->encrypted ? "data.encrypted is not set" : "encryption metadata is empty");
        enc = nv_encryptor_new(info->volume_id, info->device_path, NULL, NULL, NULL, 0, error);
    } else {
        if (meta->has_key_size && (meta->key_size < 0 || meta->key_size > G_MAXUINT)) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "volume %s: key_size %" G_GINT64_FORMAT " is out of range", info->volume_id,
                        meta->key_size);
            return NULL;
        }
        if (meta->has_key_size)
            key_size = (guint)meta->key_size;
        enc = nv_encryptor_new(info->volume_id, info->device_path, meta->provider,
                               meta->control_location, meta->cipher, key_size, error);
    }
    if (enc) {
        *info_out = g_steal_pointer(&info);
        *meta_out = g_steal_pointer(&meta);
    }
    return enc;
}

static int
print_result(const nv_connection_info *info, const nv_encryptor *enc)
{
    const char *device_path = nv_encryptor_device_path(enc);
    const char *mapping = nv_encryptor_mapping_name(enc);

    if (opt_json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;
        g_autofree char *mapper = mapping ? g_strdup_printf("/dev/mapper/%s", mapping) : NULL;

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "volume_id");
        json_builder_add_string_value(builder, info->volume_id);
        json_builder_set_member_name(builder, "encryptor");
        json_builder_add_string_value(builder, nv_encryption_format_name(nv_encryptor_format(enc)));
        json_builder_set_member_name(builder, "device_path");
        if (device_path)
            json_builder_add_string_value(builder, device_path);
        else
            json_builder_add_null_value(builder);
        json_builder_set_member_name(builder, "mapping");
        if (mapping)
            json_builder_add_string_value(builder, mapping);
        else
            json_builder_add_null_value(builder);
        json_builder_set_member_name(builder, "mapper_path");
        if (mapper)
            json_builder_add_string_value(builder, mapper);
        else
            json_builder_add_null_value(builder);
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
    g_autoptr(nv_connection_info) info = NULL;
    g_autoptr(nv_encryption_meta) meta = NULL;
    g_autoptr(nv_encryptor) enc = NULL;

    conf = nv_cli_load_conf(&error);
    if (!conf)
        return nv_cli_fail(error);
    enc = load_encryptor(&info, &meta, &error);
    if (!enc)
        return nv_cli_fail(error);

    if (attach && nv_encryptor_mapping_name(enc)) {
        g_autoptr(nv_keymgr) keymgr = NULL;
        g_autoptr(nv_secure_buf) passphrase = NULL;

        keymgr = nv_keymgr_new_from_conf(conf, &error);
        if (!keymgr)
            return nv_cli_fail(error);
        passphrase = nv_keymgr_get_volume_passphrase(keymgr, info->volume_id,
                                                     meta->encryption_key_id, &error);
        if (!passphrase)
            return nv_cli_fail(error);
        if (!nv_encryptor_attach(enc, passphrase, &error))
            return nv_cli_fail(error);
    } else if (!attach && !nv_encryptor_detach(enc, &error)) {
        return nv_cli_fail(error);
    }
    return print_result(info, enc);
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
        return usage_error("unexpected argument '%s'", argv[1]);
    if (!opt_connection_info)
        return usage_error("--connection-info is required");
    if (!opt_encryption)
        return usage_error("--encryption is required");
    if (g_str_equal(opt_connection_info, "-") && g_str_equal(opt_encryption, "-"))
        return usage_error("--connection-info and --encryption cannot both be '-'");
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
