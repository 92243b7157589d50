/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt migrate and nvirt reconcile: usage and input errors, which are
 * refused before any libvirt connection (exit 2, one line).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

static void
refused(const char *const *args, const char *stdin_text, int status, const char *message)
{
    g_autofree char *err = NULL;
    int rc = nv_test_run_nvirt(args, stdin_text, NULL, &err);

    cr_assert_eq(rc, status, "exit %d: %s", rc, err);
    cr_assert_not_null(strstr(err, message), "%s", err);
    cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
}

Test(cli_migrate, needs_a_domain_a_destination_and_live)
{
    const char *no_domain[] = { "migrate", "--live", "--dest-uri", "test:///default", NULL };
    const char *no_dest[] = { "migrate", "dom", "--live", NULL };
    const char *no_live[] = { "migrate", "dom", "--dest-uri", "test:///default", NULL };

    refused(no_domain, NULL, 2, "DOMAIN is required");
    refused(no_dest, NULL, 2, "--dest-uri is required");
    refused(no_live, NULL, 2, "only live migration is supported: pass --live");
}

Test(cli_migrate, bad_block_device_info_is_bad_input)
{
    const char *args[] = {
        "migrate", "dom", "--live", "--dest-uri", "test:///default", "--block-device-info",
        "-",       NULL
    };
    g_autofree char *deep = NULL;
    GString *nested = g_string_new("{\"block_device_mapping\": ");
    const char *cases[][2] = {
        { "[]", "block_device_info: document must be a JSON object" },
        { "{\"block_device_mapping\": [{\"mount_device\": \"/dev/sdb\"}]}",
          "block_device_mapping[0]: missing key 'connection_info'" },
        { "{\"block_device_mapping\": [{\"connection_info\": {\"driver_volume_type\": \"local\", "
          "\"data\": {\"volume_id\": \"v1\", \"device_path\": \"/dev/sdb\"}}, "
          "\"mount_device\": \"sdb\", \"disk_bus\": 3}]}",
          "block_device_mapping[0]: key 'disk_bus' must be a string" },
    };

    /* Nested 100 000 deep: the library's limits refuse it before json-glib
     * would recurse through it (it crashed the CLI before). */
    for (int i = 0; i < 100000; i++)
        g_string_append_c(nested, '[');
    for (int i = 0; i < 100000; i++)
        g_string_append_c(nested, ']');
    g_string_append_c(nested, '}');
    deep = g_string_free(nested, FALSE);
    refused(args, deep, 2, "nested deeper than 32 levels");
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
        refused(args, cases[i][0], 2, cases[i][1]);
}

Test(cli_reconcile, takes_no_argument)
{
    const char *args[] = { "reconcile", "extra", NULL };

    refused(args, NULL, 2, "unexpected argument 'extra'");
}
