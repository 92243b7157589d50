/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt encryptor-attach / encryptor-detach end to end (cli/cmd_encryptor.c),
 * for everything that needs no device-mapper: usage, inputs, key manager,
 * the no-op encryptor, refusals, idempotent detach.  Opening real mappings
 * with the command is in the guest suite (cli::*).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

#define VOL_BLOCK "5c2f6bd0-8e0a-4c5e-9d1c-2b6c4d9a7f10"
#define TEST_KEY  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static char *tmpdir;

static void
setup(void)
{
    tmpdir = nv_test_mkdtemp();
}

static void
teardown(void)
{
    nv_test_rmtree(tmpdir);
    g_free(tmpdir);
}

TestSuite(encryptor_cli, .init = setup, .fini = teardown);

/* A configuration file in the test's directory; @fixed_key may be NULL. */
static char *
write_conf(const char *fixed_key)
{
    char *path = g_build_filename(tmpdir, "nvirt.conf", NULL);
    g_autofree char *text = fixed_key
                                ? g_strdup_printf("[key_manager]\nfixed_key = %s\n", fixed_key)
                                : g_strdup("[DEFAULT]\n");

    cr_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static char *
write_file(const char *name, const char *contents)
{
    char *path = g_build_filename(tmpdir, name, NULL);

    cr_assert(g_file_set_contents(path, contents, -1, NULL));
    return path;
}

/* nvirt COMMAND --config CONF ARGS...  ("@name": a file under tests/data) */
static int
nvirt(const char *command, const char *conf, const char *const *args, const char *stdin_text,
      char **out, char **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(argv, g_strdup(command));
    g_ptr_array_add(argv, g_strdup("--config"));
    g_ptr_array_add(argv, g_strdup(conf));
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (*a)[0] == '@' ? nv_test_data_path(*a + 1) : g_strdup(*a));
    g_ptr_array_add(argv, NULL);
    return nv_test_run_nvirt((const char *const *)argv->pdata, stdin_text, out, err);
}

static const char block_luks_info_fmt[] = "{\"driver_volume_type\": \"local\", \"data\": "
                                          "{\"volume_id\": \"vol-cli\", \"device_path\": \"%s\", "
                                          "\"encrypted\": true}}";

Test(encryptor_cli, encryption_is_required)
{
    g_autofree char *conf = write_conf(NULL);
    const char *args[] = { "--connection-info", "@cinder/block-luks.json", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(nvirt("encryptor-attach", conf, args, NULL, &out, &err), 2);
    cr_assert_str_eq(err, "nvirt encryptor-attach: --encryption is required (see --help)\n");
    cr_assert_str_empty(out);
}

Test(encryptor_cli, both_inputs_from_stdin_rejected)
{
    g_autofree char *conf = write_conf(NULL);
    const char *args[] = { "--connection-info", "-", "--encryption", "-", NULL };
    g_autofree char *err = NULL;

    cr_assert_eq(nvirt("encryptor-detach", conf, args, NULL, NULL, &err), 2);
    cr_assert_str_eq(err, "nvirt encryptor-detach: --connection-info and --encryption cannot "
                          "both be '-' (see --help)\n");
}

Test(encryptor_cli, attach_without_a_key_is_a_config_error)
{
    g_autofree char *conf = write_conf(NULL);
    const char *args[] = { "--connection-info", "@cinder/block-luks.json", "--encryption",
                           "@cinder/encryption-luks.json", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(nvirt("encryptor-attach", conf, args, NULL, &out, &err), 2);
    cr_assert_str_eq(err, "nvirt: [key_manager] fixed_key is not set\n");
    cr_assert_str_empty(out);
}

Test(encryptor_cli, unknown_provider_is_bad_input)
{
    g_autofree char *conf = write_conf(TEST_KEY);
    const char *args[] = { "--connection-info", "@cinder/block-luks.json", "--encryption",
                           "@cinder/encryption-unknown-provider.json", NULL };
    g_autofree char *err = NULL;

    cr_assert_eq(nvirt("encryptor-attach", conf, args, NULL, NULL, &err), 2);
    cr_assert_str_eq(err, "nvirt: volume " VOL_BLOCK
                          ": unknown encryption provider 'CryptSetupEncryptor'\n");
}

Test(encryptor_cli, network_volume_is_not_supported)
{
    g_autofree char *conf = write_conf(TEST_KEY);
    const char *info = "{\"driver_volume_type\": \"rbd\", \"data\": {\"volume_id\": \"vol-rbd\", "
                       "\"name\": \"volumes/vol-rbd\", \"encrypted\": true}}";
    const char *args[] = { "--connection-info", "-", "--encryption", "@cinder/encryption-luks.json",
                           NULL };
    g_autofree char *err = NULL;

    cr_assert_eq(nvirt("encryptor-attach", conf, args, info, NULL, &err), 1);
    cr_assert_str_eq(err, "nvirt: volume vol-rbd: encryption not supported for this volume "
                          "type\n");
}

Test(encryptor_cli, back_end_encryption_changes_nothing)
{
    g_autofree char *conf = write_conf(NULL);
    g_autofree char *meta = write_file("back-end.json", "{\"provider\": \"luks\", "
                                                        "\"control_location\": \"back-end\"}");
    const char *args[] = { "--connection-info", "@cinder/block-luks.json", "--encryption", meta,
                           NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    /* No key needed either: the no-op encryptor never asks for one. */
    cr_assert_eq(nvirt("encryptor-attach", conf, args, NULL, &out, &err), 0, "%s", err);
    cr_assert_str_eq(out, "/dev/sdb\n");
}

Test(encryptor_cli, unencrypted_volume_gets_the_no_op_encryptor)
{
    g_autofree char *conf = write_conf(NULL);
    g_autofree char *info = write_file(
        "plain-volume.json", "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": "
                             "\"vol-clear\", \"device_path\": \"/dev/sdc\"}}");
    const char *args[] = {
        "--connection-info", info, "--encryption", "@cinder/encryption-luks.json", "--json", NULL
    };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(nvirt("encryptor-attach", conf, args, NULL, &out, &err), 0, "%s", err);
    cr_assert_str_eq(err, "nvirt: volume vol-clear: data.encrypted is not set: nothing to "
                          "decrypt\n");
    cr_assert_not_null(strstr(out, "\"encryptor\" : \"none\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"mapping\" : null"), "%s", out);
}

Test(encryptor_cli, detach_of_a_mapping_that_is_not_open_succeeds)
{
    /* A device path and mapping name no host has, so the detach can find
     * nothing to close on whatever machine runs the test (this runs as root
     * against the real /sys and /dev/mapper). */
    g_autofree char *name = g_strdup_printf("nvirt-test-%d", (int)getpid());
    g_autofree char *device = g_build_filename(tmpdir, name, NULL);
    g_autofree char *conf = write_conf(NULL);
    g_autofree char *text =
        g_strdup_printf("{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": "
                        "\"" VOL_BLOCK "\", \"device_path\": \"%s\", \"encrypted\": true}}",
                        device);
    g_autofree char *info = write_file("unused-volume.json", text);
    const char *args[] = {
        "--connection-info", info, "--encryption", "@cinder/encryption-luks.json", "--json", NULL
    };
    g_autofree char *expected = g_strdup_printf("{\n"
                                                "  \"volume_id\" : \"" VOL_BLOCK "\",\n"
                                                "  \"encryptor\" : \"luks\",\n"
                                                "  \"device_path\" : \"%s\",\n"
                                                "  \"mapping\" : \"crypt-%s\",\n"
                                                "  \"mapper_path\" : \"/dev/mapper/crypt-%s\"\n"
                                                "}\n",
                                                device, name, name);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(nvirt("encryptor-detach", conf, args, NULL, &out, &err), 0, "%s", err);
    cr_assert_str_eq(out, expected);
}

Test(encryptor_cli, volume_with_a_file_system_is_refused)
{
    g_autofree char *conf = write_conf(TEST_KEY);
    g_autofree char *image = g_build_filename(tmpdir, "ext4.img", NULL);
    const char *mkfs[] = { "mkfs.ext4", "-F", "-q", image, NULL };
    g_autofree char *info_json = NULL;
    g_autofree char *info = NULL;
    g_autofree char *err = NULL;
    g_autofree char *expected = NULL;
    int fd, status = 0;

    fd = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(fd >= 0, "%s", g_strerror(errno));
    cr_assert_eq(ftruncate(fd, 32 * 1024 * 1024), 0);
    close(fd);
    cr_assert(g_spawn_sync(NULL, (char **)mkfs, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                           &status, NULL));
    cr_assert(g_spawn_check_wait_status(status, NULL), "mkfs.ext4 failed");
    info_json = g_strdup_printf(block_luks_info_fmt, image);
    info = write_file("info.json", info_json);
    {
        const char *args[] = { "--connection-info", info, "--encryption",
                               "@cinder/encryption-luks.json", NULL };

        cr_assert_eq(nvirt("encryptor-attach", conf, args, NULL, NULL, &err), 1);
    }
    expected = g_strdup_printf("nvirt: volume vol-cli: %s carries a ext4 signature and no "
                               "LUKS header: refusing to format\n",
                               image);
    cr_assert_str_eq(err, expected);
}
