/* SPDX-License-Identifier: Apache-2.0 */
/* The nvirt binary: nvirt disk-xml end to end (cli/cmd_disk_xml.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
                       ": connection_info says the volume is encrypted but no encryption "
                       "metadata was given");
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

/* LUKS2 on rbd: librbd decrypts it when the versions pass the librbd gate
 * (libvirt 7.9.0, QEMU 6.1.0), as at attach; older versions leave only an
 * encryptor, which an rbd volume cannot have. */
Test(disk_xml, rbd_luks2_is_decrypted_by_librbd_on_new_enough_versions)
{
    const char *args[] = { "--connection-info",
                           "@cinder/rbd-luks2.json",
                           "--mountpoint",
                           "vdb",
                           "--encryption",
                           "@cinder/encryption-luks2.json",
                           "--secret-uuid",
                           SECRET_UUID,
                           "--libvirt-version",
                           "7.9.0",
                           "--qemu-version",
                           "6.1.0",
                           NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(disk_xml(args, NULL, &out, &err), 0, "stderr: %s", err);
    cr_assert_str_empty(err);
    assert_disk_xml_equal(out, "disk-xml/rbd-luks2.xml");
}

Test(disk_xml, rbd_luks2_json_names_the_librbd_path)
{
    const char *args[] = { "--connection-info",
                           "@cinder/rbd-luks2.json",
                           "--mountpoint",
                           "vdb",
                           "--encryption",
                           "@cinder/encryption-luks2.json",
                           "--libvirt-version",
                           "9.0.0",
                           "--qemu-version",
                           "7.2.0",
                           "--json",
                           NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    /* The secret is named on the librbd path as on the native one. */
    cr_assert_eq(disk_xml(args, NULL, &out, &err), 2, "stdout: %s", out);
    cr_assert_str_eq(err, "nvirt: volume 7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908: --secret-uuid is "
                          "required to show the librbd LUKS2 <encryption> element (the driver "
                          "creates the secret at attach time)\n");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    {
        const char *with_uuid[] = { "--connection-info",
                                    "@cinder/rbd-luks2.json",
                                    "--mountpoint",
                                    "vdb",
                                    "--encryption",
                                    "@cinder/encryption-luks2.json",
                                    "--secret-uuid",
                                    SECRET_UUID,
                                    "--libvirt-version",
                                    "9.0.0",
                                    "--qemu-version",
                                    "7.2.0",
                                    "--json",
                                    NULL };

        cr_assert_eq(disk_xml(with_uuid, NULL, &out, &err), 0, "stderr: %s", err);
    }
    cr_assert_not_null(strstr(out, "\"encryption_path\" : \"librbd\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"reason\" : \"provider 'luks2' is LUKS2 on rbd and librbd "
                                   "decrypts it\""),
                       "%s", out);
    cr_assert_not_null(strstr(out, "\"secret_usage\" : \"7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908\""),
                       "%s", out);
}

Test(disk_xml, rbd_luks2_on_old_libvirt_is_refused)
{
    const char *args[] = { "--connection-info",
                           "@cinder/rbd-luks2.json",
                           "--mountpoint",
                           "vdb",
                           "--encryption",
                           "@cinder/encryption-luks2.json",
                           "--secret-uuid",
                           SECRET_UUID,
                           "--libvirt-version",
                           "7.8.0",
                           "--qemu-version",
                           "7.2.0",
                           NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(disk_xml(args, NULL, &out, &err), 1, "stdout: %s", out);
    cr_assert_str_eq(err, "nvirt: volume 7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908: volume encryption "
                          "is not supported for rbd volume: QEMU opens it without a host device, "
                          "so only native LUKS can decrypt it\n");
    cr_assert_str_empty(out);
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
                       "nvirt: volume 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d: mountpoint "
                       "'/dev/xvdb': cannot determine the disk bus of 'xvdb' "
                       "(use a vd, sd or hd device name, or give the bus)");
}

Test(disk_xml, bad_disk_bus_fails)
{
    const char *args[] = {
        "--connection-info", "@cinder/file.json", "--mountpoint", "vdb", "--disk-bus", "xen", NULL
    };

    assert_usage_error(args, NULL,
                       "nvirt: volume 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d: disk bus 'xen' for "
                       "mountpoint 'vdb' is not supported (virtio, scsi, "
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
    cr_assert(strstr(out, "  extend-volume ") != NULL, "%s", out);
    cr_assert(strstr(out, "  swap-volume ") != NULL, "%s", out);
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
    { { "extend-volume", "-i", "ci.json", "-s", "1", NULL },
      "nvirt extend-volume: DOMAIN is required (see --help)\n" },
    { { "extend-volume", "dom", "-s", "1", NULL },
      "nvirt extend-volume: --connection-info is required (see --help)\n" },
    { { "extend-volume", "dom", "-i", "ci.json", NULL },
      "nvirt extend-volume: --new-size is required (see --help)\n" },
    { { "extend-volume", "dom", "-i", "ci.json", "-s", "2G", NULL },
      "nvirt extend-volume: --new-size '2G' is not a size in bytes (1 or more) (see --help)\n" },
    { { "extend-volume", "dom", "-i", "ci.json", "-s", "0", NULL },
      "nvirt extend-volume: --new-size '0' is not a size in bytes (1 or more) (see --help)\n" },
    { { "swap-volume", "dom", "-n", "new.json", "-m", "vdb", NULL },
      "nvirt swap-volume: --old-connection-info is required (see --help)\n" },
    { { "swap-volume", "dom", "-o", "old.json", "-m", "vdb", NULL },
      "nvirt swap-volume: --new-connection-info is required (see --help)\n" },
    { { "swap-volume", "dom", "-o", "old.json", "-n", "new.json", NULL },
      "nvirt swap-volume: --mountpoint is required (see --help)\n" },
    { { "swap-volume", "dom", "-o", "-", "-n", "-", "-m", "vdb", NULL },
      "nvirt swap-volume: --old-connection-info and --new-connection-info cannot both be '-' "
      "(see --help)\n" },
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

/* ---- global options: nvirt [--config-file F]... [--config-dir D] CMD ---- */

/* Scratch directory with configuration files that set [workarounds]
 * disable_native_luksv1, which decides whether disk-xml prints
 * <encryption>: the observable result of which file won. */
static char *cfgdir;

static void
setup_cfgdir(void)
{
    cfgdir = nv_test_mkdtemp();
}

static void
teardown_cfgdir(void)
{
    nv_test_rmtree(cfgdir);
    g_clear_pointer(&cfgdir, g_free);
}

static char *
cfg_file(const char *name, gboolean disable_native)
{
    char *path = g_build_filename(cfgdir, name, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *text = g_strdup_printf("[workarounds]\ndisable_native_luksv1 = %s\n",
                                            disable_native ? "true" : "false");

    cr_assert_eq(g_mkdir_with_parents(dir, 0755), 0);
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* Run nvirt with @global options, then "disk-xml" for the LUKS block volume
 * and @after; returns whether the XML has <encryption> (native path). */
static gboolean
native_with(const char *const *global, const char *const *after)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;

    for (const char *const *a = global; a && *a; a++)
        g_ptr_array_add(argv, g_strdup(*a));
    g_ptr_array_add(argv, g_strdup("disk-xml"));
    g_ptr_array_add(argv, g_strdup("-i"));
    g_ptr_array_add(argv, nv_test_data_path("cinder/block-luks.json"));
    g_ptr_array_add(argv, g_strdup("-e"));
    g_ptr_array_add(argv, nv_test_data_path("cinder/encryption-luks.json"));
    g_ptr_array_add(argv, g_strdup("-m"));
    g_ptr_array_add(argv, g_strdup("vdb"));
    g_ptr_array_add(argv, g_strdup("-s"));
    g_ptr_array_add(argv, g_strdup(SECRET_UUID));
    for (const char *const *a = after; a && *a; a++)
        g_ptr_array_add(argv, g_strdup(*a));
    g_ptr_array_add(argv, NULL);
    status = nv_test_run_nvirt((const char *const *)argv->pdata, NULL, &out, &err);
    cr_assert_eq(status, 0, "stderr: %s", err);
    /* No log line unless asked for (the non-native case prints a note). */
    cr_assert_null(strstr(err, "-DEBUG"), "%s", err);
    return strstr(out, "<encryption") != NULL;
}

Test(global_options, config_files_apply_in_order_later_wins, .init = setup_cfgdir,
     .fini = teardown_cfgdir)
{
    g_autofree char *on = cfg_file("on.conf", FALSE);
    g_autofree char *off = cfg_file("off.conf", TRUE);
    const char *on_last[] = { "--config-file", off, "--config-file", on, NULL };
    const char *off_last[] = { "--config-file", on, "--config-file", off, NULL };

    cr_assert(native_with(on_last, NULL));
    cr_assert_not(native_with(off_last, NULL));
}

Test(global_options, three_files_then_the_directory_in_sorted_order, .init = setup_cfgdir,
     .fini = teardown_cfgdir)
{
    g_autofree char *a = cfg_file("a.conf", TRUE);
    g_autofree char *b = cfg_file("b.conf", FALSE);
    g_autofree char *c = cfg_file("c.conf", TRUE);
    g_autofree char *d1 = cfg_file("d/01-first.conf", TRUE);
    g_autofree char *d2 = cfg_file("d/20-last.conf", FALSE);
    g_autofree char *d_ignored = cfg_file("d/99-ignored.conf.bak", TRUE);
    g_autofree char *dir = g_build_filename(cfgdir, "d", NULL);
    const char *files_only[] = { "--config-file", a, "--config-file", b, "--config-file", c, NULL };
    const char *with_dir[] = {
        "--config-file", a, "--config-file", b, "--config-file", c, "--config-dir", dir, NULL
    };

    cr_assert_not(native_with(files_only, NULL));
    /* d/20-last.conf is read last (and *.conf.bak not at all). */
    cr_assert(native_with(with_dir, NULL));
}

Test(global_options, config_is_an_alias_and_options_after_the_command_still_work,
     .init = setup_cfgdir, .fini = teardown_cfgdir)
{
    g_autofree char *on = cfg_file("on.conf", FALSE);
    g_autofree char *off = cfg_file("off.conf", TRUE);
    const char *alias[] = { "--config", off, NULL };
    const char *short_alias[] = { "-c", off, NULL };
    const char *after_off[] = { "--config", off, NULL };
    const char *before_on[] = { "--config-file", on, NULL };

    cr_assert_not(native_with(alias, NULL));
    cr_assert_not(native_with(short_alias, NULL));
    cr_assert_not(native_with(NULL, after_off));
    /* Both positions feed one list, global options first. */
    cr_assert_not(native_with(before_on, after_off));
}

static void
assert_global_fails(const char *const *args, const char *expected_err)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NULL, &out, &err), 2, "stderr: %s", err);
    cr_assert_str_eq(err, expected_err);
    cr_assert_str_empty(out);
}

Test(global_options, missing_config_file_is_named)
{
    const char *args[] = {
        "--config-file", "/nonexistent/nvirt.conf", "disk-xml", "-i", "x.json", "-m", "vdb", NULL
    };

    assert_global_fails(args, "nvirt: /nonexistent/nvirt.conf: No such file or directory\n");
}

Test(global_options, fifo_config_is_refused_without_blocking, .init = setup_cfgdir,
     .fini = teardown_cfgdir)
{
    g_autofree char *fifo = g_build_filename(cfgdir, "fifo.conf", NULL);
    g_autofree char *expected = g_strdup_printf("nvirt: %s: is a FIFO, not a regular file\n", fifo);
    const char *args[] = { "--config-file", fifo, "disk-xml", "-i", "x.json", "-m", "vdb", NULL };

    /* No writer: a blocking open would hang nvirt, and meson's timeout
     * would fail this test. */
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    assert_global_fails(args, expected);
}

Test(global_options, device_config_is_refused)
{
    const char *args[] = { "--config", "/dev/zero", "disk-xml", "-i", "x.json", "-m", "vdb", NULL };

    assert_global_fails(args, "nvirt: /dev/zero: is a character device, not a regular file\n");
}

Test(global_options, unknown_global_option_exits_two)
{
    const char *args[] = { "--no-such-option", "disk-xml", NULL };

    assert_global_fails(args, "nvirt: Unknown option --no-such-option (see 'nvirt --help')\n");
}

Test(global_options, help_after_global_options_lists_them)
{
    const char *args[] = { "--config-file", "/nonexistent", "--help", NULL };
    g_autofree char *out = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NULL, &out, NULL), 0);
    cr_assert(strstr(out, "--config-file FILE") != NULL, "%s", out);
    cr_assert(strstr(out, "--config-dir DIR") != NULL, "%s", out);
    cr_assert(strstr(out, "  disk-xml ") != NULL, "%s", out);
}

Test(global_options, driver_commands_take_the_global_config_too)
{
    const char *args[] = { "--config-file", "/nonexistent/nvirt.conf", "host-info", NULL };

    assert_global_fails(args, "nvirt: /nonexistent/nvirt.conf: No such file or directory\n");
}

Test(global_options, debug_goes_to_stderr_and_stdout_stays_data, .init = setup_cfgdir,
     .fini = teardown_cfgdir)
{
    g_autofree char *on = cfg_file("on.conf", FALSE);
    g_autofree char *ci = nv_test_data_path("cinder/block-luks.json");
    g_autofree char *enc = nv_test_data_path("cinder/encryption-luks.json");
    g_autofree char *expected_debug = g_strdup_printf("reading configuration file %s", on);
    const char *args[] = { "--debug", "--config-file", on,   "disk-xml",  "-i", ci, "-e", enc,
                           "-m",      "vdb",           "-s", SECRET_UUID, NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_disk_config) disk = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NULL, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, expected_debug) != NULL, "no debug line on stderr: %s", err);
    cr_assert(strstr(err, "DEBUG") != NULL, "%s", err);
    /* stdout is the XML alone. */
    disk = nv_disk_config_parse(out, &error);
    cr_assert_not_null(disk, "stdout is not just the XML: %s\n%s", error ? error->message : "",
                       out);
}

Test(global_options, no_debug_output_without_debug, .init = setup_cfgdir, .fini = teardown_cfgdir)
{
    g_autofree char *on = cfg_file("on.conf", FALSE);
    const char *global[] = { "--config-file", on, NULL };

    /* native_with() asserts that stderr has no debug line. */
    cr_assert(native_with(global, NULL));
}

/* ---- the process: not dumpable ------------------------------------------ */

/* Where the kernel shows it: /proc/PID/\* of a non-dumpable process belongs
 * to root, whoever runs it.  So nvirt runs as an unprivileged user (nobody
 * when the test runs as root), blocked reading its standard input, and the
 * owner of /proc/PID/status is compared with that user. */
Test(process, nvirt_is_not_dumpable, .init = setup_cfgdir, .fini = teardown_cfgdir)
{
    const char *bin = g_getenv("NVIRT_BIN");
    g_autofree char *copy = g_build_filename(cfgdir, "nvirt", NULL);
    g_autofree char *conf = cfg_file("on.conf", FALSE);
    g_autofree char *contents = NULL;
    g_autofree char *status_path = NULL;
    uid_t run_as = geteuid() == 0 ? 65534 : geteuid();
    struct stat st;
    int in[2];
    int status = 0;
    int pending = 1;
    pid_t pid;
    gsize len = 0;

    cr_assert_not_null(bin, "NVIRT_BIN is not set: run the tests through meson test");
    /* A copy the unprivileged user can run, wherever the build tree is. */
    cr_assert(g_file_get_contents(bin, &contents, &len, NULL));
    cr_assert(g_file_set_contents(copy, contents, (gssize)len, NULL));
    cr_assert_eq(g_chmod(copy, 0755), 0);
    cr_assert_eq(g_chmod(cfgdir, 0755), 0);
    cr_assert_eq(pipe(in), 0);

    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        close(in[0]);
        close(in[1]);
        if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
            _exit(99);
        execl(copy, "nvirt", "--config-file", conf, "disk-xml", "-i", "-", "-m", "vdb",
              (char *)NULL);
        _exit(98);
    }
    close(in[0]);
    /* Once nvirt has read this byte it is in main(), past its first step. */
    cr_assert_eq(write(in[1], "{", 1), 1);
    while (pending > 0) {
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "nvirt exited early (status %d)", status);
        cr_assert_eq(ioctl(in[1], FIONREAD, &pending), 0, "%s", g_strerror(errno));
        if (pending > 0)
            g_usleep(1000);
    }
    status_path = g_strdup_printf("/proc/%d/status", (int)pid);
    cr_assert_eq(stat(status_path, &st), 0);
    close(in[1]);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
    cr_assert_neq(run_as, 0);
    cr_assert_eq(st.st_uid, 0, "/proc/PID belongs to uid %u: nvirt is dumpable", st.st_uid);
}
