/* SPDX-License-Identifier: Apache-2.0 */
/* The nvirt binary: nvirt disk-xml end to end (cli/cmd_disk_xml.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "nvirt/error.h"
#include "support.h"
#include "virt/libvirt/config.h"

#define VOL_BLOCK   "5c2f6bd0-8e0a-4c5e-9d1c-2b6c4d9a7f10"
#define VOL_PLAIN   "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"
#define SECRET_UUID "d3a1c8e2-6f4b-4b7e-9a0d-1e2f3a4b5c6d"

/* Run "nvirt disk-xml --config tests/data/disk-xml/nvirt.conf ARGS...". */
static int
disk_xml(const char *const *args, const char *stdin_text, char **out, char **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(argv, g_strdup("disk-xml"));
    g_ptr_array_add(argv, g_strdup("--config"));
    g_ptr_array_add(argv, nv_test_data_path("disk-xml/nvirt.conf"));
    for (const char *const *a = args; *a; a++) {
        /* "@name" is a file under tests/data. */
        g_ptr_array_add(argv, (*a)[0] == '@' ? nv_test_data_path(*a + 1) : g_strdup(*a));
    }
    g_ptr_array_add(argv, NULL);
    return nv_test_run_nvirt((const char *const *)argv->pdata, stdin_text, out, err);
}

/* Compare XML as config objects: attribute order and whitespace do not
 * matter, every field does. */
static void
assert_disk_xml_equal(const char *actual, const char *expected_file)
{
    g_autofree char *expected_xml = nv_test_data_read(expected_file);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_disk_config) expected = nv_disk_config_parse(expected_xml, &error);
    g_autoptr(nv_disk_config) got = NULL;

    cr_assert_not_null(expected, "%s: %s", expected_file, error ? error->message : "");
    got = nv_disk_config_parse(actual, &error);
    cr_assert_not_null(got, "output does not parse: %s\n%s", error ? error->message : "", actual);
    cr_assert(nv_disk_config_equal(got, expected), "output differs from %s:\n%s", expected_file,
              actual);
}

static void
assert_usage_error(const char *const *args, const char *stdin_text, const char *message)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *expected = g_strdup_printf("%s\n", message);

    cr_assert_eq(disk_xml(args, stdin_text, &out, &err), 2, "stderr: %s", err);
    cr_assert_str_eq(err, expected);
    cr_assert_str_empty(out);
}

Test(disk_xml, block_luks_matches_nova_reference)
{
    const char *args[] = { "--connection-info",
                           "@cinder/block-luks.json",
                           "--mountpoint",
                           "/dev/vdb",
                           "--encryption",
                           "@cinder/encryption-luks.json",
                           "--secret-uuid",
                           SECRET_UUID,
                           NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(disk_xml(args, NULL, &out, &err), 0, "stderr: %s", err);
    cr_assert_str_empty(err);
    assert_disk_xml_equal(out, "disk-xml/block-luks.xml");
}

Test(disk_xml, file_volume)
{
    const char *args[] = { "--connection-info", "@cinder/file.json", "--mountpoint", "vdc", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(disk_xml(args, NULL, &out, &err), 0, "stderr: %s", err);
    cr_assert_str_empty(err);
    assert_disk_xml_equal(out, "disk-xml/file.xml");
}

Test(disk_xml, connection_info_from_stdin)
{
    const char *args[] = { "--connection-info", "-", "--mountpoint", "vdc", NULL };
    g_autofree char *json = nv_test_data_read("cinder/file.json");
    g_autofree char *out = NULL;

    cr_assert_eq(disk_xml(args, json, &out, NULL), 0);
    assert_disk_xml_equal(out, "disk-xml/file.xml");
}

Test(disk_xml, encryption_from_stdin)
{
    const char *args[] = { "--connection-info",
                           "@cinder/block-luks.json",
                           "--mountpoint",
                           "vdb",
                           "--encryption",
                           "-",
                           "--secret-uuid",
                           SECRET_UUID,
                           NULL };
    g_autofree char *json = nv_test_data_read("cinder/encryption-luks.json");
    g_autofree char *out = NULL;

    cr_assert_eq(disk_xml(args, json, &out, NULL), 0);
    assert_disk_xml_equal(out, "disk-xml/block-luks.xml");
}

Test(disk_xml, both_inputs_from_stdin_rejected)
{
    const char *args[] = {
        "--connection-info", "-", "--mountpoint", "vdb", "--encryption", "-", NULL
    };

    /* No input on stdin: nvirt exits before reading it, and writing to
     * the closed pipe would kill the test with SIGPIPE. */
    assert_usage_error(args, NULL,
                       "nvirt disk-xml: --connection-info and --encryption cannot both be '-' "
                       "(see --help)");
}

/* A plain (cryptsetup) volume is never native: no <encryption>, and
 * stderr says why. */
Test(disk_xml, plain_provider_gets_no_encryption_element)
{
    const char *args[] = { "--connection-info",
                           "@cinder/encrypted-plain-block.json",
                           "--mountpoint",
                           "sdb",
                           "--encryption",
                           "@cinder/encryption-plain.json",
                           NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(disk_xml(args, NULL, &out, &err), 0, "stderr: %s", err);
    assert_disk_xml_equal(out, "disk-xml/block-plain.xml");
    cr_assert_str_eq(err, "nvirt: volume " VOL_PLAIN ": no <encryption> element, an encryptor on "
                          "the host decrypts: provider 'plain' is not LUKS v1\n");
}

Test(disk_xml, workaround_disables_native_luks)
{
    g_autofree char *conf = nv_test_data_path("disk-xml/disable-native-luksv1.conf");
    g_autofree char *conn = nv_test_data_path("cinder/block-luks.json");
    g_autofree char *enc = nv_test_data_path("cinder/encryption-luks.json");
    /* A later --config wins over the one disk_xml() passes. */
    const char *args[] = { "--connection-info",
                           conn,
                           "--mountpoint",
                           "vdb",
                           "--encryption",
                           enc,
                           "--secret-uuid",
                           SECRET_UUID,
                           "--config",
                           conf,
                           NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_disk_config) disk = NULL;

    cr_assert_eq(disk_xml(args, NULL, &out, &err), 0, "stderr: %s", err);
    disk = nv_disk_config_parse(out, &error);
    cr_assert_not_null(disk, "%s", error ? error->message : "");
    cr_assert_null(disk->encryption);
    cr_assert_str_eq(err, "nvirt: volume " VOL_BLOCK ": no <encryption> element, an encryptor on "
                          "the host decrypts: [workarounds] disable_native_luksv1 is set\n");
}

/* get_encryption_metadata only looks at metadata when data.encrypted. */
Test(disk_xml, unencrypted_volume_ignores_encryption_metadata)
{
    const char *args[] = { "--connection-info",
                           "@cinder/file.json",
                           "--mountpoint",
                           "vdc",
                           "--encryption",
                           "@cinder/encryption-luks.json",
                           NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(disk_xml(args, NULL, &out, &err), 0, "stderr: %s", err);
    assert_disk_xml_equal(out, "disk-xml/file.xml");
    cr_assert(g_str_has_prefix(err, "nvirt: warning: volume 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d: "
                                    "data.encrypted is not set, ignoring "),
              "%s", err);
}

Test(disk_xml, native_without_secret_uuid_fails)
{
    const char *args[] = { "--connection-info",
                           "@cinder/block-luks.json",
                           "--mountpoint",
                           "vdb",
                           "--encryption",
                           "@cinder/encryption-luks.json",
                           NULL };

    assert_usage_error(args, NULL,
                       "nvirt: volume " VOL_BLOCK ": --secret-uuid is required to show the native "
                       "LUKS <encryption> element (the driver creates the secret at attach time)");
}

Test(disk_xml, encrypted_without_metadata_fails)
{
    const char *args[] = { "--connection-info", "@cinder/block-luks.json", "--mountpoint", "vdb",
                           NULL };

    assert_usage_error(args, NULL,
                       "nvirt: volume " VOL_BLOCK
                       ": data.encrypted is set but no --encryption metadata was given");
}

Test(disk_xml, unknown_provider_fails)
{
    const char *args[] = { "--connection-info",
                           "@cinder/block-luks.json",
                           "--mountpoint",
                           "vdb",
                           "--encryption",
                           "@cinder/encryption-unknown-provider.json",
                           "--secret-uuid",
                           SECRET_UUID,
                           NULL };

    assert_usage_error(args, NULL,
                       "nvirt: volume " VOL_BLOCK
                       ": unknown encryption provider 'CryptSetupEncryptor'");
}

Test(disk_xml, malformed_json_fails)
{
    const char *args[] = { "--connection-info", "@cinder/malformed.json", "--mountpoint", "vdb",
                           NULL };

    assert_usage_error(args, NULL,
                       "nvirt: connection_info: invalid JSON at line 4: unexpected character "
                       "`,', expected character `]'");
}

Test(disk_xml, missing_driver_volume_type_fails)
{
    const char *args[] = { "--connection-info", "@cinder/missing-driver-volume-type.json",
                           "--mountpoint", "vdb", NULL };

    assert_usage_error(args, NULL, "nvirt: connection_info: missing key 'driver_volume_type'");
}

Test(disk_xml, missing_device_path_fails)
{
    const char *args[] = { "--connection-info", "@cinder/missing-device-path.json", "--mountpoint",
                           "vdb", NULL };

    assert_usage_error(
        args, NULL, "nvirt: connection_info: missing key 'data.device_path' for volume " VOL_BLOCK);
}

Test(disk_xml, unsupported_driver_volume_type_fails)
{
    const char *args[] = { "--connection-info", "-", "--mountpoint", "vdb", NULL };

    assert_usage_error(
        args, "{\"driver_volume_type\": \"sheepdog\", \"serial\": \"vol-1\", \"data\": {}}",
        "nvirt: volume vol-1: unsupported driver_volume_type 'sheepdog'");
}

Test(disk_xml, rbd_volume_is_a_network_disk_with_cephx_auth)
{
    const char *args[] = { "--connection-info", "@cinder/rbd.json", "--mountpoint", "vdb", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(disk_xml(args, NULL, &out, &err), 0, "stderr: %s", err);
    cr_assert_str_empty(err);
    assert_disk_xml_equal(out, "volume/rbd.xml");
}

/* Bad input on a network volume: exit 2, one line naming volume and type. */
Test(disk_xml, rbd_auth_without_secret_uuid_fails)
{
    const char *args[] = { "--connection-info", "-", "--mountpoint", "vdb", NULL };

    assert_usage_error(args,
                       "{\"driver_volume_type\": \"rbd\", \"serial\": \"vol-1\", \"data\": "
                       "{\"name\": \"volumes/volume-1\", \"auth_enabled\": true, "
                       "\"auth_username\": \"cinder\"}}",
                       "nvirt: rbd volume vol-1: auth_enabled but no secret uuid in "
                       "data.secret_uuid or [libvirt] rbd_secret_uuid");
}

/* The cryptsetup fallback (plain provider) needs a host device; an rbd
 * volume has none.  Exit 1: valid input this host cannot serve. */
Test(disk_xml, encryptor_on_a_network_volume_fails)
{
    const char *args[] = { "--connection-info",
                           "-",
                           "--mountpoint",
                           "vdb",
                           "--encryption",
                           "@cinder/encryption-plain.json",
                           NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(disk_xml(args,
                          "{\"driver_volume_type\": \"rbd\", \"serial\": \"vol-1\", \"data\": "
                          "{\"name\": \"volumes/volume-1\", \"encrypted\": true}}",
                          &out, &err),
                 1, "stderr: %s", err);
    cr_assert_str_eq(err, "nvirt: volume vol-1: volume encryption is not supported for rbd volume: "
                          "QEMU opens it without a host device, so only native LUKS can decrypt "
                          "it\n");
    cr_assert_str_empty(out);
}

Test(disk_xml, bad_mountpoint_fails)
{
    const char *args[] = { "--connection-info", "@cinder/file.json", "--mountpoint", "/dev/xvdb",
                           NULL };

    assert_usage_error(args, NULL,
                       "nvirt: mountpoint '/dev/xvdb': cannot determine the disk bus of 'xvdb' "
                       "(use a vd, sd or hd device name, or give the bus)");
}

Test(disk_xml, bad_disk_bus_fails)
{
    const char *args[] = {
        "--connection-info", "@cinder/file.json", "--mountpoint", "vdb", "--disk-bus", "xen", NULL
    };

    assert_usage_error(args, NULL,
                       "nvirt: disk bus 'xen' for mountpoint 'vdb' is not supported (virtio, scsi, "
                       "sata, ide, usb)");
}

Test(disk_xml, disk_bus_option_sets_target_bus)
{
    const char *args[] = {
        "--connection-info", "@cinder/file.json", "--mountpoint", "sdb", "--disk-bus", "sata", NULL
    };
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_disk_config) disk = NULL;

    cr_assert_eq(disk_xml(args, NULL, &out, NULL), 0);
    disk = nv_disk_config_parse(out, &error);
    cr_assert_not_null(disk, "%s", error ? error->message : "");
    cr_assert_str_eq(disk->target_dev, "sdb");
    cr_assert_str_eq(disk->target_bus, "sata");
}

Test(disk_xml, invalid_secret_uuid_fails)
{
    const char *args[] = { "--connection-info",
                           "@cinder/block-luks.json",
                           "--mountpoint",
                           "vdb",
                           "--secret-uuid",
                           "not-a-uuid",
                           NULL };

    assert_usage_error(
        args, NULL, "nvirt disk-xml: --secret-uuid 'not-a-uuid' is not a valid UUID (see --help)");
}

Test(disk_xml, missing_connection_info_option_fails)
{
    const char *args[] = { "--mountpoint", "vdb", NULL };

    assert_usage_error(args, NULL, "nvirt disk-xml: --connection-info is required (see --help)");
}

Test(disk_xml, missing_mountpoint_option_fails)
{
    const char *args[] = { "--connection-info", "@cinder/file.json", NULL };

    assert_usage_error(args, NULL, "nvirt disk-xml: --mountpoint is required (see --help)");
}

Test(disk_xml, unreadable_connection_info_fails)
{
    g_autofree char *dir = nv_test_mkdtemp();
    g_autofree char *missing = g_build_filename(dir, "absent.json", NULL);
    const char *args[] = { "--connection-info", missing, "--mountpoint", "vdb", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(disk_xml(args, NULL, &out, &err), 2);
    nv_test_rmtree(dir);
    cr_assert(g_str_has_prefix(err, "nvirt: "), "%s", err);
    cr_assert(strstr(err, missing) != NULL, "stderr does not name the file: %s", err);
    cr_assert_str_empty(out);
}

Test(disk_xml, help_exits_zero_and_states_version_assumption)
{
    const char *args[] = { "disk-xml", "--help", NULL };
    g_autofree char *out = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NULL, &out, NULL), 0);
    cr_assert(strstr(out, "--connection-info=FILE") != NULL, "%s", out);
    cr_assert(strstr(out, "QEMU >= 2.6.0") != NULL, "%s", out);
    cr_assert(strstr(out, "libvirt >= 2.2.0") != NULL, "%s", out);
}

Test(nvirt, help_lists_disk_xml)
{
    const char *args[] = { "--help", NULL };
    g_autofree char *out = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NULL, &out, NULL), 0);
    cr_assert(strstr(out, "  disk-xml ") != NULL, "%s", out);
}

Test(nvirt, unknown_command_exits_two)
{
    const char *args[] = { "no-such-command", NULL };
    g_autofree char *err = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NULL, NULL, &err), 2);
    cr_assert_str_eq(err, "nvirt: unknown command 'no-such-command' (see 'nvirt --help')\n");
}

Test(nvirt, help_lists_the_volume_commands)
{
    const char *args[] = { "--help", NULL };
    g_autofree char *out = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NULL, &out, NULL), 0);
    cr_assert(strstr(out, "  host-info ") != NULL, "%s", out);
    cr_assert(strstr(out, "  attach-volume ") != NULL, "%s", out);
    cr_assert(strstr(out, "  detach-volume ") != NULL, "%s", out);
}

/* ---- attach-volume / detach-volume / host-info: usage, no daemon needed ---- */

typedef struct {
    const char *args[12];
    const char *err;
} usage_case;

static const usage_case usage_cases[] = {
    { { "attach-volume", "-i", "ci.json", "-m", "vdb", NULL },
      "nvirt attach-volume: DOMAIN is required (see --help)\n" },
    { { "attach-volume", "dom", "extra", "-i", "ci.json", "-m", "vdb", NULL },
      "nvirt attach-volume: unexpected argument 'extra' (see --help)\n" },
    { { "attach-volume", "dom", "-m", "vdb", NULL },
      "nvirt attach-volume: --connection-info is required (see --help)\n" },
    { { "attach-volume", "dom", "-i", "ci.json", NULL },
      "nvirt attach-volume: --mountpoint is required (see --help)\n" },
    { { "attach-volume", "dom", "-i", "-", "-e", "-", "-m", "vdb", NULL },
      "nvirt attach-volume: --connection-info and --encryption cannot both be '-' (see "
      "--help)\n" },
    { { "attach-volume", "dom", "-i", "ci.json", "-m", "vdb", "--json", NULL },
      "nvirt attach-volume: --json only goes with --dry-run (see --help)\n" },
    { { "detach-volume", "-i", "ci.json", "-m", "vdb", NULL },
      "nvirt detach-volume: DOMAIN is required (see --help)\n" },
    { { "detach-volume", "dom", "-i", "ci.json", "-m", "vdb", "--dry-run", NULL },
      "nvirt detach-volume: Unknown option --dry-run (see --help)\n" },
    { { "host-info", "extra", NULL },
      "nvirt host-info: unexpected argument 'extra' (see --help)\n" },
};

Test(volume_commands, usage_errors_exit_two_with_one_line)
{
    for (gsize i = 0; i < G_N_ELEMENTS(usage_cases); i++) {
        g_autofree char *err = NULL;

        cr_assert_eq(nv_test_run_nvirt(usage_cases[i].args, NULL, NULL, &err), 2, "case %zu: %s", i,
                     err);
        cr_assert_str_eq(err, usage_cases[i].err, "case %zu", i);
    }
}

Test(volume_commands, unreachable_libvirt_exits_one_naming_the_uri)
{
    const char *args[] = { "host-info", "--connect", "qemu+unix:///system?socket=/nonexistent/sock",
                           NULL };
    g_autofree char *err = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NULL, NULL, &err), 1, "%s", err);
    cr_assert(strstr(err, "cannot connect to libvirt at "
                          "'qemu+unix:///system?socket=/nonexistent/sock'") != NULL,
              "%s", err);
}
