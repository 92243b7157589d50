/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt reconcile: list, then remove, the volume secrets and crypt-*
 * mappings no domain on the host uses (nv_driver_reconcile()).
 */
#include <stdio.h>

#include <json-glib/json-glib.h>

#include "cli.h"
#include "nvirt/error.h"

static char *opt_connect;
static gboolean opt_dry_run;
static gboolean opt_json;

static GOptionEntry entries[] = {
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run,
      "List what would be removed; change nothing", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { "connect", 'C', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt URI (default: [libvirt] connection_uri)", "URI" },
    { NULL },
};

static const char description[] =
    "Removes libvirt secrets of usage type 'volume' that no domain references in\n"
    "its live or persistent config (running, paused or shut off), and dm-crypt\n"
    "mappings named crypt-* that no domain's disk uses.  Secrets of other usage\n"
    "types (ceph, iscsi, tls, vtpm) and other device-mapper devices are never\n"
    "touched.  Each removal takes the volume's lock and checks again.\n"
    "\n"
    "Output: one line per item, \"secret UUID volume VOLID: removed\" (or \"would\n"
    "be removed\", or \"not removed: ERROR\"), \"mapping NAME: ...\".  JSON with\n"
    "--json: {\"dry_run\": BOOL, \"items\": [{\"kind\": \"secret\"|\"mapping\", \"name\",\n"
    "\"volume_id\" (null for a mapping), \"removed\", \"error\" (null)}]}.\n"
    "\n"
    "Exit status: 0 success, 1 an item could not be removed or the host could not\n"
    "be read, 2 bad usage.";

static const char *
kind_name(nv_reconcile_kind kind)
{
    return kind == NV_RECONCILE_MAPPING ? "mapping" : "secret";
}

static void
add_nullable(JsonBuilder *builder, const char *name, const char *value)
{
    json_builder_set_member_name(builder, name);
    if (value)
        json_builder_add_string_value(builder, value);
    else
        json_builder_add_null_value(builder);
}

static char *
report_to_json(const nv_reconcile_report *report)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "dry_run");
    json_builder_add_boolean_value(builder, opt_dry_run);
    json_builder_set_member_name(builder, "items");
    json_builder_begin_array(builder);
    for (guint i = 0; i < nv_reconcile_report_get_n_items(report); i++) {
        json_builder_begin_object(builder);
        add_nullable(builder, "kind", kind_name(nv_reconcile_report_get_kind(report, i)));
        add_nullable(builder, "name", nv_reconcile_report_get_name(report, i));
        add_nullable(builder, "volume_id", nv_reconcile_report_get_volume_id(report, i));
        json_builder_set_member_name(builder, "removed");
        json_builder_add_boolean_value(builder, nv_reconcile_report_get_removed(report, i));
        add_nullable(builder, "error", nv_reconcile_report_get_error(report, i));
        json_builder_end_object(builder);
    }
    json_builder_end_array(builder);
    json_builder_end_object(builder);
    root = json_builder_get_root(builder);
    json_generator_set_root(generator, root);
    json_generator_set_pretty(generator, TRUE);
    return json_generator_to_data(generator, NULL);
}

static char *
report_to_text(const nv_reconcile_report *report)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < nv_reconcile_report_get_n_items(report); i++) {
        const char *volume_id = nv_reconcile_report_get_volume_id(report, i);
        const char *failure = nv_reconcile_report_get_error(report, i);

        g_string_append_printf(out, "%s %s", kind_name(nv_reconcile_report_get_kind(report, i)),
                               nv_reconcile_report_get_name(report, i));
        if (volume_id)
            g_string_append_printf(out, " volume %s", volume_id);
        if (failure)
            g_string_append_printf(out, ": not removed: %s\n", failure);
        else if (nv_reconcile_report_get_removed(report, i))
            g_string_append(out, ": removed\n");
        else
            g_string_append(out, opt_dry_run ? ": would be removed\n" : ": in use again, kept\n");
    }
    return g_string_free(out, FALSE);
}

int
nv_cmd_reconcile(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = NULL;
    g_autoptr(nv_reconcile_report) report = NULL;
    g_autofree char *text = NULL;
    int exit_code;

    g_option_context_set_summary(ctx, "Remove the volume secrets and crypt-* mappings no domain "
                                      "on this host uses.");
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
    report = nv_driver_reconcile(driver, opt_dry_run, &error);
    if (!report)
        return nv_cli_fail(error);
    text = opt_json ? report_to_json(report) : report_to_text(report);
    exit_code = nv_cli_print(text);
    for (guint i = 0; i < nv_reconcile_report_get_n_items(report); i++)
        if (nv_reconcile_report_get_error(report, i))
            return NV_EXIT_FAILED;
    return exit_code;
}
