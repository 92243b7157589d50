/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt resume-guests-state: what a compute service does for its instances
 * when it starts after a libvirtd restart or a host reboot
 * (ComputeManager._init_instance -> resume_state_on_host_boot), for one
 * instance or for every NAME.json block_device_info file of a directory.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nvirt/error.h"

static char *opt_connect;
static char *opt_block_device_info;
static char *opt_block_device_info_dir;

static GOptionEntry entries[] = {
    { "block-device-info", 'B', 0, G_OPTION_ARG_FILENAME, &opt_block_device_info,
      "Nova block_device_info JSON of instance NAME ('-' for standard input)", "FILE" },
    { "block-device-info-dir", 'D', 0, G_OPTION_ARG_FILENAME, &opt_block_device_info_dir,
      "Directory with one block_device_info JSON file per instance, named NAME.json", "DIR" },
    { "connect", 'C', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt URI (default: [libvirt] connection_uri)", "URI" },
    { NULL },
};

static const char description[] =
    "A domain that is running, paused or suspended is left alone (QEMU outlives a\n"
    "libvirtd restart).  One that is shut off or crashed is hard-rebooted with its\n"
    "volumes, as power-on does: natively decrypted volumes reuse their persistent\n"
    "libvirt secrets, so no key manager is needed for them; dm-crypt mappings are\n"
    "opened again, which needs the key.\n"
    "\n"
    "With --block-device-info-dir every DIR/NAME.json is resumed as instance NAME,\n"
    "in name order; a failure is reported and the next instance is tried.\n"
    "\n"
    "Exit status: 0 success, 1 operation failed (for any instance), 2 bad usage\n"
    "or bad input.";

/* One instance: its block_device_info from @file. */
static gboolean
resume_one(nv_driver *driver, const char *name, const char *file, GError **error)
{
    g_autofree char *bdi_json = NULL;

    return nv_cli_read_input(file, &bdi_json, error) &&
           nv_driver_resume_state_on_host_boot(driver, name, bdi_json, error);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every DIR/NAME.json, in name order; the worst exit code. */
static int
resume_dir(nv_driver *driver, const char *dir)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) handle = g_dir_open(dir, 0, &error);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    const char *entry;
    int exit_code = NV_EXIT_OK;

    if (!handle) {
        g_autoptr(GError) bad = g_error_new(NV_ERROR, NV_ERROR_BAD_INPUT,
                                            "--block-device-info-dir: %s", error->message);

        return nv_cli_fail(bad);
    }
    while ((entry = g_dir_read_name(handle)))
        if (g_str_has_suffix(entry, ".json") && strlen(entry) > strlen(".json"))
            g_ptr_array_add(files, g_strdup(entry));
    g_ptr_array_sort(files, compare_names);
    for (guint i = 0; i < files->len; i++) {
        const char *file = g_ptr_array_index(files, i);
        g_autofree char *name = g_strndup(file, strlen(file) - strlen(".json"));
        g_autofree char *path = g_build_filename(dir, file, NULL);
        g_autoptr(GError) failure = NULL;

        if (!resume_one(driver, name, path, &failure)) {
            int code;

            g_prefix_error(&failure, "instance %s: ", name);
            code = nv_cli_fail(failure);
            exit_code = MAX(exit_code, code);
        }
    }
    return exit_code;
}

int
nv_cmd_resume_guests_state(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("[NAME]");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = NULL;
    int exit_code;

    g_option_context_set_summary(ctx, "Start the instances a libvirtd restart or a host reboot "
                                      "left shut off, with their volumes.");
    g_option_context_set_description(ctx, description);
    g_option_context_add_main_entries(ctx, entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;
    if (argc > 2)
        return nv_cli_usage_error("unexpected argument '%s'", argv[2]);
    if (opt_block_device_info_dir && (argc > 1 || opt_block_device_info))
        return nv_cli_usage_error("--block-device-info-dir takes no NAME or --block-device-info");
    if (!opt_block_device_info_dir && argc < 2)
        return nv_cli_usage_error("NAME or --block-device-info-dir is required");
    if (!opt_block_device_info_dir && !opt_block_device_info)
        return nv_cli_usage_error("--block-device-info is required");
    driver = nv_cli_open_driver(opt_connect, &error);
    if (!driver)
        return nv_cli_fail(error);
    if (opt_block_device_info_dir)
        return resume_dir(driver, opt_block_device_info_dir);
    if (!resume_one(driver, argv[1], opt_block_device_info, &error))
        return nv_cli_fail(error);
    return NV_EXIT_OK;
}
