/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt extend-volume / swap-volume: the driver's extend_volume and
 * swap_volume for one attached volume, with Cinder's JSON as input.
 */
#include <errno.h>
#include <stdlib.h>

#include "cli.h"
#include "nvirt/error.h"

static char *opt_connect;
static char *opt_connection_info;
static char *opt_encryption;
static char *opt_new_size;
static char *opt_old_connection_info;
static char *opt_new_connection_info;
static char *opt_mountpoint;

static GOptionEntry extend_entries[] = {
    { "connection-info", 'i', 0, G_OPTION_ARG_FILENAME, &opt_connection_info,
      "Cinder connection_info JSON of the grown volume ('-' for standard input)", "FILE" },
    { "new-size", 's', 0, G_OPTION_ARG_STRING, &opt_new_size,
      "The volume's new size on the host, in bytes", "BYTES" },
    { "encryption", 'e', 0, G_OPTION_ARG_FILENAME, &opt_encryption,
      "Cinder encryption metadata JSON (needed when an encryptor decrypts the volume)", "FILE" },
    { "connect", 'C', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt URI (default: [libvirt] connection_uri)", "URI" },
    { NULL },
};

static GOptionEntry swap_entries[] = {
    { "old-connection-info", 'o', 0, G_OPTION_ARG_FILENAME, &opt_old_connection_info,
      "Cinder connection_info JSON of the attached volume", "FILE" },
    { "new-connection-info", 'n', 0, G_OPTION_ARG_FILENAME, &opt_new_connection_info,
      "Cinder connection_info JSON of the volume to swap in", "FILE" },
    { "mountpoint", 'm', 0, G_OPTION_ARG_STRING, &opt_mountpoint,
      "Guest device name of the attached volume, e.g. /dev/vdb or vdb", "DEV" },
    { "connect", 'C', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt URI (default: [libvirt] connection_uri)", "URI" },
    { NULL },
};

static const char extend_description[] =
    "After Cinder has grown the volume, makes the running guest see it: QEMU\n"
    "resizes the disk to BYTES minus the LUKS payload offset when it decrypts the\n"
    "volume itself, to the resized dm-crypt mapping when an encryptor does, to\n"
    "BYTES otherwise.  A domain that is not running is left alone.  Prints the\n"
    "size the guest's disk now has (0: nothing resized).\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

static const char swap_description[] =
    "Copies the guest-visible contents of the volume at DEV onto the new volume\n"
    "(libvirt block copy) and pivots the running guest onto it; the persistent\n"
    "config then names the new volume.  Encrypted volumes are refused (natively\n"
    "decrypted LUKS: nova bug 1749418).\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

static int
parse_size(const char *text, guint64 *size)
{
    /* GLib's own message is localised and quotes typographically: say it
     * here, one stable line. */
    if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXUINT64, size, NULL))
        return nv_cli_usage_error("--new-size '%s' is not a size in bytes (1 or more)", text);
    return NV_EXIT_OK;
}

static int
check_domain(int argc, char **argv)
{
    if (argc < 2)
        return nv_cli_usage_error("DOMAIN is required");
    if (argc > 2)
        return nv_cli_usage_error("unexpected argument '%s'", argv[2]);
    return NV_EXIT_OK;
}

int
nv_cmd_extend_volume(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("DOMAIN");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = NULL;
    g_autofree char *connection_info = NULL;
    g_autofree char *encryption = NULL;
    g_autofree char *line = NULL;
    nv_volume_request request = NV_VOLUME_REQUEST_INIT;
    guint64 new_size = 0, guest_size = 0;
    int exit_code;

    g_option_context_set_summary(ctx, "Make libvirt domain DOMAIN see a volume Cinder has grown.");
    g_option_context_set_description(ctx, extend_description);
    g_option_context_add_main_entries(ctx, extend_entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;
    exit_code = check_domain(argc, argv);
    if (exit_code != NV_EXIT_OK)
        return exit_code;
    if (!opt_connection_info)
        return nv_cli_usage_error("--connection-info is required");
    if (!opt_new_size)
        return nv_cli_usage_error("--new-size is required");
    if (g_strcmp0(opt_connection_info, "-") == 0 && g_strcmp0(opt_encryption, "-") == 0)
        return nv_cli_usage_error("--connection-info and --encryption cannot both be '-'");
    exit_code = parse_size(opt_new_size, &new_size);
    if (exit_code != NV_EXIT_OK)
        return exit_code;

    if (!nv_cli_read_input(opt_connection_info, &connection_info, &error) ||
        (opt_encryption && !nv_cli_read_input(opt_encryption, &encryption, &error)))
        return nv_cli_fail(error);
    request.connection_info = connection_info;
    request.encryption = encryption;
    driver = nv_cli_open_driver(opt_connect, &error);
    if (!driver)
        return nv_cli_fail(error);
    if (!nv_driver_extend_volume(driver, argv[1], &request, new_size, &guest_size, &error))
        return nv_cli_fail(error);
    line = g_strdup_printf("%" G_GUINT64_FORMAT, guest_size);
    return nv_cli_print(line);
}

int
nv_cmd_swap_volume(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("DOMAIN");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = NULL;
    g_autofree char *old_info = NULL;
    g_autofree char *new_info = NULL;
    nv_volume_request old_request = NV_VOLUME_REQUEST_INIT;
    nv_volume_request new_request = NV_VOLUME_REQUEST_INIT;
    int exit_code;

    g_option_context_set_summary(ctx, "Swap the volume attached to running libvirt domain DOMAIN "
                                      "for another, by block copy.");
    g_option_context_set_description(ctx, swap_description);
    g_option_context_add_main_entries(ctx, swap_entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;
    exit_code = check_domain(argc, argv);
    if (exit_code != NV_EXIT_OK)
        return exit_code;
    if (!opt_old_connection_info)
        return nv_cli_usage_error("--old-connection-info is required");
    if (!opt_new_connection_info)
        return nv_cli_usage_error("--new-connection-info is required");
    if (!opt_mountpoint)
        return nv_cli_usage_error("--mountpoint is required");
    if (g_strcmp0(opt_old_connection_info, "-") == 0 &&
        g_strcmp0(opt_new_connection_info, "-") == 0)
        return nv_cli_usage_error(
            "--old-connection-info and --new-connection-info cannot both be '-'");

    if (!nv_cli_read_input(opt_old_connection_info, &old_info, &error) ||
        !nv_cli_read_input(opt_new_connection_info, &new_info, &error))
        return nv_cli_fail(error);
    old_request.connection_info = old_info;
    new_request.connection_info = new_info;
    driver = nv_cli_open_driver(opt_connect, &error);
    if (!driver)
        return nv_cli_fail(error);
    if (!nv_driver_swap_volume(driver, argv[1], opt_mountpoint, &old_request, &new_request, &error))
        return nv_cli_fail(error);
    return NV_EXIT_OK;
}
