/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt host-info: the versions the spec's gate looks at, and whether QEMU
 * on this host decrypts provider 'luks' volumes itself.
 */
#include <stdio.h>

#include <json-glib/json-glib.h>

#include "cli.h"

static char *opt_connect;
static gboolean opt_json;

static GOptionEntry entries[] = {
    { "connect", 'C', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt URI (default: [libvirt] connection_uri)", "URI" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { NULL },
};

static const char description[] =
    "Native decryption needs QEMU >= 2.6.0 and libvirt >= 2.2.0, and\n"
    "[workarounds] disable_native_luksv1 unset.  librbd decrypts LUKS2 on rbd\n"
    "with libvirt >= 7.9.0 and QEMU >= 6.1.0 (cold-plug only).  JSON keys:\n"
    "libvirt_version, qemu_version (\"MAJOR.MINOR.MICRO\"), native_luks\n"
    "(boolean), reason, rbd_luks2 (boolean), rbd_luks2_reason.\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.";

static char *
to_json(const nv_host_info *info)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *libvirt = nv_version_to_string(nv_host_info_get_libvirt_version(info));
    g_autofree char *qemu = nv_version_to_string(nv_host_info_get_qemu_version(info));

    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "libvirt_version");
    json_builder_add_string_value(builder, libvirt);
    json_builder_set_member_name(builder, "qemu_version");
    json_builder_add_string_value(builder, qemu);
    json_builder_set_member_name(builder, "native_luks");
    json_builder_add_boolean_value(builder, nv_host_info_get_native_luks(info));
    json_builder_set_member_name(builder, "reason");
    json_builder_add_string_value(builder, nv_host_info_get_reason(info));
    json_builder_set_member_name(builder, "rbd_luks2");
    json_builder_add_boolean_value(builder, nv_host_info_get_rbd_luks2(info));
    json_builder_set_member_name(builder, "rbd_luks2_reason");
    json_builder_add_string_value(builder, nv_host_info_get_rbd_luks2_reason(info));
    json_builder_end_object(builder);

    root = json_builder_get_root(builder);
    json_generator_set_root(generator, root);
    json_generator_set_pretty(generator, TRUE);
    return json_generator_to_data(generator, NULL);
}

int
nv_cmd_host_info(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = NULL;
    g_autoptr(nv_host_info) info = NULL;
    g_autofree char *libvirt = NULL;
    g_autofree char *qemu = NULL;
    g_autofree char *text = NULL;
    int exit_code;

    g_option_context_set_summary(ctx, "Show the libvirt and QEMU versions of the host and "
                                      "whether QEMU decrypts LUKS volumes natively.");
    g_option_context_set_description(ctx, description);
    g_option_context_add_main_entries(ctx, entries, NULL);
    nv_cli_add_common_options(ctx);
    if (!nv_cli_parse(ctx, &argc, &argv, &exit_code))
        return exit_code;
    if (argc > 1)
        return nv_cli_usage_error("unexpected argument '%s'", argv[1]);

    driver = nv_cli_open_driver(opt_connect, &error);
    if (!driver)
        return nv_cli_fail(error);
    info = nv_driver_get_host_info(driver, &error);
    if (!info)
        return nv_cli_fail(error);

    if (opt_json) {
        text = to_json(info);
    } else {
        libvirt = nv_version_to_string(nv_host_info_get_libvirt_version(info));
        qemu = nv_version_to_string(nv_host_info_get_qemu_version(info));
        text = g_strdup_printf("libvirt version: %s\n"
                               "QEMU version:    %s\n"
                               "native LUKS:     %s (%s)\n"
                               "rbd LUKS2:       %s (%s)\n",
                               libvirt, qemu, nv_host_info_get_native_luks(info) ? "yes" : "no",
                               nv_host_info_get_reason(info),
                               nv_host_info_get_rbd_luks2(info) ? "yes" : "no",
                               nv_host_info_get_rbd_luks2_reason(info));
    }
    return nv_cli_print(text);
}
