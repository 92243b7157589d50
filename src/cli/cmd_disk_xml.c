/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt disk-xml: the <disk> a volume would be attached with, computed
 * offline from Cinder's connection_info and encryption metadata.  It never
 * connects to libvirt: it assumes a host new enough for native LUKS and
 * creates no secret, so the secret uuid comes from the command line.
 */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "cli/cli.h"
#include "encryptors/encryptors.h"
#include "nvirt/error.h"
#include "virt/block_device.h"
#include "virt/libvirt/config.h"
#include "virt/libvirt/driver.h"
#include "virt/libvirt/volume/volume.h"

static char *opt_connection_info;
static char *opt_mountpoint;
static char *opt_encryption;
static char *opt_secret_uuid;
static char *opt_disk_bus;
static gboolean opt_json;
static char *opt_libvirt_version;
static char *opt_qemu_version;

static GOptionEntry entries[] = {
    { "connection-info", 'i', 0, G_OPTION_ARG_FILENAME, &opt_connection_info,
      "Cinder connection_info JSON ('-' for standard input)", "FILE" },
    { "mountpoint", 'm', 0, G_OPTION_ARG_STRING, &opt_mountpoint,
      "Guest device name, e.g. /dev/vdb or vdb", "DEV" },
    { "encryption", 'e', 0, G_OPTION_ARG_FILENAME, &opt_encryption,
      "Cinder encryption metadata JSON ('-' for standard input)", "FILE" },
    { "secret-uuid", 's', 0, G_OPTION_ARG_STRING, &opt_secret_uuid,
      "UUID of the libvirt secret holding the passphrase (native LUKS)", "UUID" },
    { "disk-bus", 'b', 0, G_OPTION_ARG_STRING, &opt_disk_bus,
      "virtio, scsi, sata, ide or usb (default: from the device name)", "BUS" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json,
      "Print the decision and the XML as one JSON object", NULL },
    { "libvirt-version", 0, 0, G_OPTION_ARG_STRING, &opt_libvirt_version,
      "Decide as on a host with this libvirt (default: 2.2.0, the native LUKS minimum)", "X.Y.Z" },
    { "qemu-version", 0, 0, G_OPTION_ARG_STRING, &opt_qemu_version,
      "Decide as on a host with this QEMU (default: 2.6.0, the native LUKS minimum)", "X.Y.Z" },
    { NULL },
};

static const char description[] =
    "The host is assumed new enough for native LUKS decryption (QEMU >= 2.6.0,\n"
    "libvirt >= 2.2.0) unless --qemu-version / --libvirt-version say otherwise:\n"
    "the decision depends on the encryption provider, control_location (absent\n"
    "means front-end) and [workarounds] disable_native_luksv1.  When QEMU would\n"
    "decrypt natively the disk gets <encryption format='luks'> naming the secret\n"
    "given with --secret-uuid; otherwise no <encryption> element (an encryptor\n"
    "decrypts on the host, or nobody does).  The encryption metadata is only read\n"
    "when connection_info data.encrypted is set, as Nova does.  A volume with no\n"
    "host device (rbd, nbd, iscsi through QEMU's initiator) that an encryptor\n"
    "would have to decrypt is refused.\n"
    "\n"
    "JSON keys with --json: volume_id, encryption_path (none, native, encryptor),\n"
    "reason, encryptor (the os-brick class that decrypts on the host, or null),\n"
    "secret_usage (the volume secret's usage id when QEMU decrypts, or null),\n"
    "key_size and cipher (what a first-use format would use, or null), disk_xml.\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

/* Parse the encryption metadata named by --encryption, or say why there is
 * none.  *meta stays NULL when the volume is not encrypted. */
static gboolean
load_encryption(const nv_connection_info *info, nv_encryption_meta **meta, GError **error)
{
    g_autofree char *json = NULL;

    *meta = NULL;
    if (!info->encrypted) {
        /* get_encryption_metadata only asks Cinder when data.encrypted. */
        if (opt_encryption)
            fprintf(stderr, "nvirt: warning: volume %s: data.encrypted is not set, ignoring %s\n",
                    info->volume_id, opt_encryption);
        return TRUE;
    }
    if (!opt_encryption) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: data.encrypted is set but no --encryption metadata was given",
                    info->volume_id);
        return FALSE;
    }
    if (!nv_cli_read_input(opt_encryption, &json, error))
        return FALSE;
    *meta = nv_encryption_meta_parse(json, -1, info->volume_id, error);
    return *meta != NULL;
}

/* "X.Y.Z" in libvirt's encoding; FALSE when it is not three numbers each
 * below 1000 (the encoding's limit). */
static gboolean
parse_version(const char *text, guint64 *version)
{
    g_auto(GStrv) parts = g_strsplit(text, ".", -1);
    guint64 value = 0;

    if (g_strv_length(parts) != 3)
        return FALSE;
    for (int i = 0; i < 3; i++) {
        guint64 part;

        if (!g_ascii_string_to_unsigned(parts[i], 10, 0, 999, &part, NULL))
            return FALSE;
        value = value * 1000 + part;
    }
    *version = value;
    return TRUE;
}

/* The os-brick class get_volume_encryptor picks for a format
 * (FORMAT_TO_FRONTEND_ENCRYPTOR_MAP). */
static const char *
encryptor_class(const nv_encryption_meta *meta)
{
    nv_encryption_format format = NV_ENCRYPTION_FORMAT_NONE;

    if (!nv_encryptors_provider_to_format(meta->provider, NULL, &format, NULL))
        return NULL;
    switch (format) {
    case NV_ENCRYPTION_FORMAT_LUKS:
        return "LuksEncryptor";
    case NV_ENCRYPTION_FORMAT_LUKS2:
        return "Luks2Encryptor";
    case NV_ENCRYPTION_FORMAT_PLAIN:
        return "CryptsetupEncryptor";
    case NV_ENCRYPTION_FORMAT_NONE:
        break;
    }
    return NULL;
}

static void
add_string_or_null(JsonBuilder *builder, const char *name, const char *value)
{
    json_builder_set_member_name(builder, name);
    if (value)
        json_builder_add_string_value(builder, value);
    else
        json_builder_add_null_value(builder);
}

static char *
result_to_json(const nv_connection_info *info, const nv_encryption_meta *meta,
               nv_encryption_path path, const char *reason, const char *xml)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    gboolean decrypts = path != NV_ENCRYPTION_PATH_NONE;

    json_builder_begin_object(builder);
    add_string_or_null(builder, "volume_id", info->volume_id);
    add_string_or_null(builder, "encryption_path", nv_encryption_path_name(path));
    add_string_or_null(builder, "reason", reason);
    add_string_or_null(builder, "encryptor",
                       path == NV_ENCRYPTION_PATH_ENCRYPTOR ? encryptor_class(meta) : NULL);
    add_string_or_null(builder, "secret_usage",
                       path == NV_ENCRYPTION_PATH_NATIVE ? info->volume_id : NULL);
    json_builder_set_member_name(builder, "key_size");
    if (decrypts && meta->has_key_size)
        json_builder_add_int_value(builder, meta->key_size);
    else
        json_builder_add_null_value(builder);
    add_string_or_null(builder, "cipher", decrypts ? meta->cipher : NULL);
    add_string_or_null(builder, "disk_xml", xml);
    json_builder_end_object(builder);

    root = json_builder_get_root(builder);
    json_generator_set_root(generator, root);
    json_generator_set_pretty(generator, TRUE);
    return json_generator_to_data(generator, NULL);
}

static int
run(guint64 libvirt_version, guint64 qemu_version)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = NULL;
    g_autofree char *json = NULL;
    g_autoptr(nv_connection_info) info = NULL;
    g_autoptr(nv_encryption_meta) meta = NULL;
    g_autoptr(nv_disk_info) disk_info = NULL;
    g_autoptr(nv_disk_config) disk = NULL;
    g_autofree char *reason = NULL;
    g_autofree char *xml = NULL;
    nv_encryption_path path;

    conf = nv_cli_load_conf(&error);
    if (!conf)
        return nv_cli_fail(error);
    if (!nv_cli_read_input(opt_connection_info, &json, &error))
        return nv_cli_fail(error);
    info = nv_connection_info_parse(json, -1, &error);
    if (!info)
        return nv_cli_fail(error);
    disk_info = nv_disk_info_new_for_volume(info->volume_id, opt_mountpoint, opt_disk_bus, &error);
    if (!disk_info)
        return nv_cli_fail(error);
    if (!load_encryption(info, &meta, &error))
        return nv_cli_fail(error);

    if (!nv_driver_choose_encryption_path(meta, info->volume_id, libvirt_version, qemu_version,
                                          conf->workarounds.disable_native_luksv1, &path, &reason,
                                          &error))
        return nv_cli_fail(error);
    /* A network volume has no host device for cryptsetup: refuse before
     * anything would be changed (VolumeEncryptionNotSupported). */
    if (path == NV_ENCRYPTION_PATH_ENCRYPTOR &&
        !nv_volume_check_encryptor_supported(info, conf, &error))
        return nv_cli_fail(error);

    /* Say why an encrypted volume gets no <encryption> element (the JSON
     * says it in "reason"). */
    if (meta && path != NV_ENCRYPTION_PATH_NATIVE && !opt_json)
        fprintf(stderr, "nvirt: volume %s: no <encryption> element, %s decrypts: %s\n",
                info->volume_id,
                path == NV_ENCRYPTION_PATH_ENCRYPTOR ? "an encryptor on the host"
                                                     : "nobody on the host",
                reason);

    disk = nv_volume_get_config(info, disk_info, conf, &error);
    if (!disk)
        return nv_cli_fail(error);

    if (path == NV_ENCRYPTION_PATH_NATIVE) {
        if (!opt_secret_uuid) {
            g_set_error(&error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "volume %s: --secret-uuid is required to show the native LUKS "
                        "<encryption> element (the driver creates the secret at attach time)",
                        info->volume_id);
            return nv_cli_fail(error);
        }
        nv_volume_set_encryption(disk, opt_secret_uuid);
    }

    xml = nv_disk_config_to_xml(disk, &error);
    if (!xml)
        return nv_cli_fail(error);
    if (opt_json) {
        g_autofree char *text = result_to_json(info, meta, path, reason, xml);

        return nv_cli_print(text);
    }
    return nv_cli_print(xml);
}

int
nv_cmd_disk_xml(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    int exit_code;
    guint64 libvirt_version = NV_MIN_LIBVIRT_LUKS_VERSION;
    guint64 qemu_version = NV_MIN_QEMU_LUKS_VERSION;

    g_option_context_set_summary(ctx, "Print the <disk> XML a Cinder volume would be attached "
                                      "with.  No libvirt connection is made.");
    g_option_context_set_description(ctx, description);
    g_option_context_add_main_entries(ctx, entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;

    if (argc > 1)
        return nv_cli_usage_error("unexpected argument '%s'", argv[1]);
    if (!opt_connection_info)
        return nv_cli_usage_error("--connection-info is required");
    if (!opt_mountpoint)
        return nv_cli_usage_error("--mountpoint is required");
    if (g_strcmp0(opt_connection_info, "-") == 0 && g_strcmp0(opt_encryption, "-") == 0)
        return nv_cli_usage_error("--connection-info and --encryption cannot both be '-'");
    if (opt_secret_uuid && !g_uuid_string_is_valid(opt_secret_uuid))
        return nv_cli_usage_error("--secret-uuid '%s' is not a valid UUID", opt_secret_uuid);

    if (opt_libvirt_version && !parse_version(opt_libvirt_version, &libvirt_version))
        return nv_cli_usage_error("--libvirt-version '%s' is not X.Y.Z", opt_libvirt_version);
    if (opt_qemu_version && !parse_version(opt_qemu_version, &qemu_version))
        return nv_cli_usage_error("--qemu-version '%s' is not X.Y.Z", opt_qemu_version);

    return run(libvirt_version, qemu_version);
}
