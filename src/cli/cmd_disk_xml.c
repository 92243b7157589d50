/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt disk-xml: the <disk> a volume would be attached with, computed
 * offline from Cinder's connection_info and encryption metadata.  It never
 * connects to libvirt: it assumes a host new enough for native LUKS and
 * creates no secret, so the secret uuid comes from the command line.
 */
#include <stdio.h>

#include "cli/cli.h"
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
    { NULL },
};

static const char description[] =
    "The host is assumed new enough for native LUKS decryption (QEMU >= 2.6.0,\n"
    "libvirt >= 2.2.0): the decision only depends on the encryption provider and\n"
    "[workarounds] disable_native_luksv1 from the configuration.  When QEMU would\n"
    "decrypt natively the disk gets <encryption format='luks'> naming the secret\n"
    "given with --secret-uuid; otherwise no <encryption> element (an encryptor\n"
    "decrypts on the host, or nobody does).  The encryption metadata is only read\n"
    "when connection_info data.encrypted is set, as Nova does.  A volume with no\n"
    "host device (rbd, nbd, iscsi through QEMU's initiator) that an encryptor\n"
    "would have to decrypt is refused.\n"
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

static int
run(void)
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
    disk_info = nv_disk_info_new(opt_mountpoint, opt_disk_bus, &error);
    if (!disk_info)
        return nv_cli_fail(error);
    if (!load_encryption(info, &meta, &error))
        return nv_cli_fail(error);

    if (!nv_driver_choose_encryption_path(
            meta, info->volume_id, NV_MIN_LIBVIRT_LUKS_VERSION, NV_MIN_QEMU_LUKS_VERSION,
            conf->workarounds.disable_native_luksv1, &path, &reason, &error))
        return nv_cli_fail(error);
    /* A network volume has no host device for cryptsetup: refuse before
     * anything would be changed (VolumeEncryptionNotSupported). */
    if (path == NV_ENCRYPTION_PATH_ENCRYPTOR &&
        !nv_volume_check_encryptor_supported(info, conf, &error))
        return nv_cli_fail(error);

    /* Say why an encrypted volume gets no <encryption> element. */
    if (meta && path != NV_ENCRYPTION_PATH_NATIVE)
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
    return nv_cli_print(xml);
}

int
nv_cmd_disk_xml(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    int exit_code;

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

    return run();
}
