/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt spawn / destroy: the driver's spawn and destroy for one instance,
 * with the instance description and Nova's block_device_info as JSON.
 */
#include <stdio.h>

#include "cli.h"
#include "nvirt/error.h"

static char *opt_connect;
static char *opt_instance;
static char *opt_block_device_info;

static GOptionEntry common_entries[] = {
    { "block-device-info", 'B', 0, G_OPTION_ARG_FILENAME, &opt_block_device_info,
      "Nova block_device_info JSON ('-' for standard input)", "FILE" },
    { "connect", 'C', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt URI (default: [libvirt] connection_uri)", "URI" },
    { NULL },
};

static GOptionEntry spawn_entries[] = {
    { "instance", 'I', 0, G_OPTION_ARG_FILENAME, &opt_instance,
      "Instance description JSON: name, uuid, memory_mb, vcpus, machine_type, "
      "kernel, initrd, cmdline ('-' for standard input)",
      "FILE" },
    { NULL },
};

static const char spawn_description[] =
    "Every volume of block_device_info is connected and its decryption prepared\n"
    "(a persistent private libvirt secret for QEMU, reused when it exists, or a\n"
    "dm-crypt mapping; a blank volume is formatted as LUKS1 first) before the\n"
    "domain is defined persistent and started.  Disks boot in boot_index order.\n"
    "On failure everything the command created is undone.\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

static const char destroy_description[] =
    "Stops domain NAME, closes each volume's encryptor and deletes its libvirt\n"
    "secret, then undefines the domain.  Volumes with delete_on_termination are\n"
    "left to the caller.  A domain already gone is not an error.\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

static int
lifecycle_command(int argc, char **argv, gboolean spawn)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(spawn ? NULL : "NAME");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = NULL;
    g_autoptr(nv_instance) instance = NULL;
    g_autofree char *instance_json = NULL;
    g_autofree char *bdi_json = NULL;
    int exit_code;

    if (spawn) {
        g_option_context_set_summary(ctx, "Define and start an instance with its (encrypted) "
                                          "volumes.");
        g_option_context_set_description(ctx, spawn_description);
        g_option_context_add_main_entries(ctx, spawn_entries, NULL);
    } else {
        g_option_context_set_summary(ctx, "Destroy and undefine domain NAME and clean up its "
                                          "volumes' host side.");
        g_option_context_set_description(ctx, destroy_description);
    }
    g_option_context_add_main_entries(ctx, common_entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;
    if (spawn && argc > 1)
        return nv_cli_usage_error("unexpected argument '%s'", argv[1]);
    if (!spawn && argc < 2)
        return nv_cli_usage_error("NAME is required");
    if (!spawn && argc > 2)
        return nv_cli_usage_error("unexpected argument '%s'", argv[2]);
    if (spawn && !opt_instance)
        return nv_cli_usage_error("--instance is required");
    if (!opt_block_device_info)
        return nv_cli_usage_error("--block-device-info is required");
    if (spawn && g_strcmp0(opt_instance, "-") == 0 && g_strcmp0(opt_block_device_info, "-") == 0)
        return nv_cli_usage_error("--instance and --block-device-info cannot both be '-'");

    if (!nv_cli_read_input(opt_block_device_info, &bdi_json, &error))
        return nv_cli_fail(error);
    if (spawn) {
        if (!nv_cli_read_input(opt_instance, &instance_json, &error))
            return nv_cli_fail(error);
        instance = nv_instance_new_from_json(instance_json, &error);
        if (!instance)
            return nv_cli_fail(error);
    }
    driver = nv_cli_open_driver(opt_connect, &error);
    if (!driver)
        return nv_cli_fail(error);
    if (spawn ? !nv_driver_spawn(driver, instance, bdi_json, &error)
              : !nv_driver_destroy(driver, argv[1], bdi_json, &error))
        return nv_cli_fail(error);
    return NV_EXIT_OK;
}

int
nv_cmd_spawn(int argc, char **argv)
{
    return lifecycle_command(argc, argv, TRUE);
}

int
nv_cmd_destroy(int argc, char **argv)
{
    return lifecycle_command(argc, argv, FALSE);
}
