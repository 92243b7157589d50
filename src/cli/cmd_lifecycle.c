/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt spawn / destroy / power-off / power-on / reboot --hard: the
 * driver's lifecycle calls for one instance, with the instance description
 * and Nova's block_device_info as JSON.
 */
#include <stdio.h>

#include "cli.h"
#include "nvirt/error.h"

static char *opt_connect;
static char *opt_instance;
static char *opt_block_device_info;
static gboolean opt_hard;

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

static GOptionEntry reboot_entries[] = {
    { "hard", 0, 0, G_OPTION_ARG_NONE, &opt_hard,
      "Hard reboot: stop, rebuild and start the domain (required: soft reboot is not "
      "supported)",
      NULL },
    { NULL },
};

static GOptionEntry connect_entries[] = {
    { "connect", 'C', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt URI (default: [libvirt] connection_uri)", "URI" },
    { NULL },
};

static const char power_on_description[] =
    "Stops domain NAME if it runs, closes each volume's encryptor (secrets are\n"
    "kept), rebuilds the domain XML from its definition with the volumes of\n"
    "block_device_info, reconnects every volume (an existing libvirt secret is\n"
    "reused without the key manager; an encryptor is re-opened), then redefines\n"
    "and starts the domain.\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

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

/* power-on NAME -B FILE, reboot --hard NAME -B FILE. */
static int
restart_command(int argc, char **argv, gboolean reboot)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("NAME");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = NULL;
    g_autofree char *bdi_json = NULL;
    int exit_code;

    g_option_context_set_summary(ctx, reboot ? "Hard-reboot domain NAME with its volumes."
                                             : "Start domain NAME again with its volumes.");
    g_option_context_set_description(ctx, power_on_description);
    if (reboot)
        g_option_context_add_main_entries(ctx, reboot_entries, NULL);
    g_option_context_add_main_entries(ctx, common_entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;
    if (argc < 2)
        return nv_cli_usage_error("NAME is required");
    if (argc > 2)
        return nv_cli_usage_error("unexpected argument '%s'", argv[2]);
    if (reboot && !opt_hard)
        return nv_cli_usage_error("only --hard is supported");
    if (!opt_block_device_info)
        return nv_cli_usage_error("--block-device-info is required");
    if (!nv_cli_read_input(opt_block_device_info, &bdi_json, &error))
        return nv_cli_fail(error);
    driver = nv_cli_open_driver(opt_connect, &error);
    if (!driver)
        return nv_cli_fail(error);
    if (reboot ? !nv_driver_hard_reboot(driver, argv[1], bdi_json, &error)
               : !nv_driver_power_on(driver, argv[1], bdi_json, &error))
        return nv_cli_fail(error);
    return NV_EXIT_OK;
}

int
nv_cmd_power_off(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("NAME");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = NULL;
    int exit_code;

    g_option_context_set_summary(ctx, "Stop domain NAME; its volumes stay connected and their "
                                      "secrets defined.");
    g_option_context_set_description(
        ctx, "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.");
    g_option_context_add_main_entries(ctx, connect_entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;
    if (argc < 2)
        return nv_cli_usage_error("NAME is required");
    if (argc > 2)
        return nv_cli_usage_error("unexpected argument '%s'", argv[2]);
    driver = nv_cli_open_driver(opt_connect, &error);
    if (!driver)
        return nv_cli_fail(error);
    if (!nv_driver_power_off(driver, argv[1], &error))
        return nv_cli_fail(error);
    return NV_EXIT_OK;
}

int
nv_cmd_power_on(int argc, char **argv)
{
    return restart_command(argc, argv, FALSE);
}

int
nv_cmd_reboot(int argc, char **argv)
{
    return restart_command(argc, argv, TRUE);
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
