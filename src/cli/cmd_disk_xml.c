/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt disk-xml: the <disk> a volume would be attached with, computed
 * offline from Cinder's connection_info and encryption metadata.  It never
 * connects to libvirt: it assumes a host new enough for native LUKS and
 * creates no secret, so the secret uuid comes from the command line.  The
 * planning is the library's (nv_plan_attach_offline).
 */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "cli.h"
#include "nvirt/error.h"
#include "nvirt/nvirt.h"

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
      "UUID of the libvirt secret holding the passphrase (native LUKS, LUKS2 by librbd)", "UUID" },
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
    "decrypts on the host, or nobody does).  LUKS2 on rbd gets <encryption\n"
    "format='luks2' engine='librbd'> with that secret on libvirt >= 7.9.0 and\n"
    "QEMU >= 6.1.0 (a librbd with encryption, Ceph >= 16.1, is assumed).  The\n"
    "encryption metadata is only read when connection_info data.encrypted is\n"
    "set, as Nova does.  A volume with no host device (rbd, nbd, iscsi through\n"
    "QEMU's initiator) that an encryptor would have to decrypt is refused.\n"
    "\n"
    "JSON keys with --json: volume_id, encryption_path (none, native, encryptor,\n"
    "librbd),\n"
    "reason, encryptor (the os-brick class that decrypts on the host, or null),\n"
    "secret_usage (the volume secret's usage id when QEMU decrypts, or null),\n"
    "key_size and cipher (what a first-use format would use, or null), disk_xml.\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

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
plan_to_json(const nv_attach_plan *plan)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    guint key_size;

    json_builder_begin_object(builder);
    add_string_or_null(builder, "volume_id", nv_attach_plan_get_volume_id(plan));
    add_string_or_null(builder, "encryption_path", nv_attach_plan_get_encryption_path(plan));
    add_string_or_null(builder, "reason", nv_attach_plan_get_reason(plan));
    add_string_or_null(builder, "encryptor", nv_attach_plan_get_encryptor(plan));
    add_string_or_null(builder, "secret_usage", nv_attach_plan_get_secret_usage(plan));
    json_builder_set_member_name(builder, "key_size");
    if (nv_attach_plan_get_key_size(plan, &key_size))
        json_builder_add_int_value(builder, key_size);
    else
        json_builder_add_null_value(builder);
    add_string_or_null(builder, "cipher", nv_attach_plan_get_cipher(plan));
    add_string_or_null(builder, "disk_xml", nv_attach_plan_get_disk_xml(plan));
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
    g_autoptr(nv_attach_plan) plan = NULL;
    g_autofree char *connection_info = NULL;
    g_autofree char *encryption = NULL;
    nv_volume_request request = NV_VOLUME_REQUEST_INIT;
    const char *path;
    gboolean uses_secret;

    conf = nv_cli_load_conf(&error);
    if (!conf)
        return nv_cli_fail(error);
    if (!nv_cli_read_input(opt_connection_info, &connection_info, &error))
        return nv_cli_fail(error);
    if (opt_encryption && !nv_cli_read_input(opt_encryption, &encryption, &error))
        return nv_cli_fail(error);
    request.connection_info = connection_info;
    request.encryption = encryption;
    request.mountpoint = opt_mountpoint;
    request.disk_bus = opt_disk_bus;

    plan = nv_plan_attach_offline(conf, &request, libvirt_version, qemu_version, opt_secret_uuid,
                                  &error);
    if (!plan)
        return nv_cli_fail(error);
    path = nv_attach_plan_get_encryption_path(plan);
    /* QEMU (native) or librbd inside QEMU decrypts with the volume secret. */
    uses_secret = g_str_equal(path, "native") || g_str_equal(path, "librbd");

    /* get_encryption_metadata only asks Cinder when data.encrypted. */
    if (opt_encryption && !nv_attach_plan_get_encrypted(plan))
        fprintf(stderr, "nvirt: warning: volume %s: data.encrypted is not set, ignoring %s\n",
                nv_attach_plan_get_volume_id(plan), opt_encryption);
    /* Say why an encrypted volume gets no <encryption> element (the JSON
     * says it in "reason"). */
    if (nv_attach_plan_get_encrypted(plan) && !uses_secret && !opt_json)
        fprintf(stderr, "nvirt: volume %s: no <encryption> element, %s decrypts: %s\n",
                nv_attach_plan_get_volume_id(plan),
                g_str_equal(path, "encryptor") ? "an encryptor on the host" : "nobody on the host",
                nv_attach_plan_get_reason(plan));
    /* The library would invent a uuid for illustration; the XML this
     * command prints is meant to be used, so the secret must be named. */
    if (uses_secret && !opt_secret_uuid) {
        g_set_error(&error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: --secret-uuid is required to show the %s <encryption> "
                    "element (the driver creates the secret at attach time)",
                    nv_attach_plan_get_volume_id(plan),
                    g_str_equal(path, "native") ? "native LUKS" : "librbd LUKS2");
        return nv_cli_fail(error);
    }

    if (opt_json) {
        g_autofree char *text = plan_to_json(plan);

        return nv_cli_print(text);
    }
    return nv_cli_print(nv_attach_plan_get_disk_xml(plan));
}

int
nv_cmd_disk_xml(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    int exit_code;
    guint64 libvirt_version = NV_NATIVE_LUKS_MIN_LIBVIRT_VERSION;
    guint64 qemu_version = NV_NATIVE_LUKS_MIN_QEMU_VERSION;

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
