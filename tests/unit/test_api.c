/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The public API's shapes (include/nvirt/nvirt.h): the versioned volume
 * request, the getters of the opaque plan and host information, the offline
 * plan, the standalone encryptor's checks and the sample configuration.
 * Only public headers: the test sees what a compute service sees.  The host
 * is libvirt's built-in test driver (test:///default), so no daemon.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "nvirt/nvirt.h"
#include "support.h"

#define VOL_BLOCK "5c2f6bd0-8e0a-4c5e-9d1c-2b6c4d9a7f10"
#define SECRET    "a1b2c3d4-0000-4000-8000-000000000001"

typedef struct {
    char *connection_info;
    char *encryption;
    nv_volume_request request;
} inputs;

static inputs *
inputs_new(const char *connection_info, const char *encryption)
{
    inputs *in = g_new0(inputs, 1);
    nv_volume_request init = NV_VOLUME_REQUEST_INIT;

    in->connection_info = nv_test_data_read(connection_info);
    in->encryption = encryption ? nv_test_data_read(encryption) : NULL;
    in->request = init;
    in->request.connection_info = in->connection_info;
    in->request.encryption = in->encryption;
    in->request.mountpoint = "/dev/vdb";
    return in;
}

static void
inputs_free(inputs *in)
{
    g_free(in->connection_info);
    g_free(in->encryption);
    g_free(in);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(inputs, inputs_free)

static nv_conf *
default_conf(void)
{
    g_autoptr(GError) error = NULL;
    nv_conf *conf = nv_conf_load_files(NULL, NULL, NULL, &error);

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    return conf;
}

Test(request, init_sets_the_current_version)
{
    nv_volume_request request = NV_VOLUME_REQUEST_INIT;

    cr_assert_eq(request.version, NV_VOLUME_REQUEST_VERSION);
    cr_assert_null(request.connection_info);
    cr_assert_null(request.encryption);
}

/* A request from a newer header, or one never initialised, is refused by
 * every entry point that takes one, naming the version. */
Test(request, unknown_version_is_bad_input_naming_it)
{
    g_autoptr(inputs) in = inputs_new("cinder/block-luks.json", "cinder/encryption-luks.json");
    g_autoptr(nv_conf) conf = default_conf();
    g_autoptr(nv_driver) driver = NULL;
    g_autoptr(GError) error = NULL;
    const unsigned int versions[] = { 0, NV_VOLUME_REQUEST_VERSION + 1 };

    driver = nv_driver_open(NULL, "test:///default", NULL, &error);
    cr_assert_not_null(driver, "%s", error ? error->message : "");
    for (gsize i = 0; i < G_N_ELEMENTS(versions); i++) {
        g_autofree char *expected = g_strdup_printf("volume request version %u ", versions[i]);
        g_autoptr(nv_attach_plan) offline = NULL;
        g_autoptr(nv_attach_plan) online = NULL;
        g_autoptr(nv_volume_encryptor) enc = NULL;

        in->request.version = versions[i];
        offline = nv_plan_attach_offline(conf, &in->request, NV_NATIVE_LUKS_MIN_LIBVIRT_VERSION,
                                         NV_NATIVE_LUKS_MIN_QEMU_VERSION, SECRET, &error);
        cr_assert_null(offline);
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
        cr_assert(g_str_has_prefix(error->message, expected), "%s", error->message);
        g_clear_error(&error);

        online = nv_driver_plan_attach(driver, "test", &in->request, &error);
        cr_assert_null(online);
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
        cr_assert(g_str_has_prefix(error->message, expected), "%s", error->message);
        g_clear_error(&error);

        cr_assert_not(nv_driver_attach_volume(driver, "test", &in->request, &error));
        cr_assert(g_str_has_prefix(error->message, expected), "%s", error->message);
        g_clear_error(&error);
        cr_assert_not(nv_driver_detach_volume(driver, "test", &in->request, &error));
        cr_assert(g_str_has_prefix(error->message, expected), "%s", error->message);
        g_clear_error(&error);

        enc = nv_volume_encryptor_new(conf, &in->request, &error);
        cr_assert_null(enc);
        cr_assert(g_str_has_prefix(error->message, expected), "%s", error->message);
        g_clear_error(&error);
    }
}

Test(host_info, getters_read_the_test_driver)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = nv_driver_open(NULL, "test:///default", NULL, &error);
    g_autoptr(nv_host_info) info = NULL;

    cr_assert_not_null(driver, "%s", error ? error->message : "");
    info = nv_driver_get_host_info(driver, &error);
    cr_assert_not_null(info, "%s", error ? error->message : "");
    /* The test driver reports libvirt's own version (newer than the gate)
     * and its own hypervisor version; the reason names both or the one that
     * blocks. */
    guint64 libvirt = nv_host_info_get_libvirt_version(info);
    guint64 qemu = nv_host_info_get_qemu_version(info);
    g_autofree char *qemu_text = nv_version_to_string(qemu);

    cr_assert_gt(libvirt, NV_NATIVE_LUKS_MIN_LIBVIRT_VERSION);
    cr_assert_eq(nv_host_info_get_native_luks(info), qemu >= NV_NATIVE_LUKS_MIN_QEMU_VERSION);
    cr_assert_not_null(strstr(nv_host_info_get_reason(info), qemu_text), "'%s' lacks '%s'",
                       nv_host_info_get_reason(info), qemu_text);
}

Test(offline_plan, native_luks_getters)
{
    g_autoptr(inputs) in = inputs_new("cinder/block-luks.json", "cinder/encryption-luks.json");
    g_autoptr(nv_conf) conf = default_conf();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_attach_plan) plan = NULL;
    guint key_size = 0;

    plan = nv_plan_attach_offline(conf, &in->request, NV_NATIVE_LUKS_MIN_LIBVIRT_VERSION,
                                  NV_NATIVE_LUKS_MIN_QEMU_VERSION, SECRET, &error);
    cr_assert_not_null(plan, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_attach_plan_get_volume_id(plan), VOL_BLOCK);
    cr_assert_str_eq(nv_attach_plan_get_encryption_path(plan), "native");
    cr_assert(nv_attach_plan_get_encrypted(plan));
    cr_assert_not(nv_attach_plan_get_reuses_secret(plan));
    cr_assert_null(nv_attach_plan_get_secret_xml(plan));
    cr_assert_null(nv_attach_plan_get_encryptor(plan));
    cr_assert_str_eq(nv_attach_plan_get_secret_usage(plan), VOL_BLOCK);
    cr_assert(nv_attach_plan_get_key_size(plan, &key_size));
    cr_assert_eq(key_size, 256);
    cr_assert_str_eq(nv_attach_plan_get_cipher(plan), "aes-xts-plain64");
    cr_assert_not_null(strstr(nv_attach_plan_get_disk_xml(plan), "<secret type=\"passphrase\" "
                                                                 "uuid=\"" SECRET "\"/>"),
                       "%s", nv_attach_plan_get_disk_xml(plan));
}

/* The same volume on a QEMU too old to decrypt: os-brick's LuksEncryptor
 * on the host, and no <encryption> in the disk. */
Test(offline_plan, old_qemu_gives_the_encryptor_path)
{
    g_autoptr(inputs) in = inputs_new("cinder/block-luks.json", "cinder/encryption-luks.json");
    g_autoptr(nv_conf) conf = default_conf();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_attach_plan) plan = NULL;

    plan = nv_plan_attach_offline(conf, &in->request, NV_NATIVE_LUKS_MIN_LIBVIRT_VERSION, 2005000,
                                  NULL, &error);
    cr_assert_not_null(plan, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_attach_plan_get_encryption_path(plan), "encryptor");
    cr_assert_str_eq(nv_attach_plan_get_encryptor(plan), "LuksEncryptor");
    cr_assert_null(nv_attach_plan_get_secret_usage(plan));
    cr_assert_str_eq(nv_attach_plan_get_cipher(plan), "aes-xts-plain64");
    cr_assert_null(strstr(nv_attach_plan_get_disk_xml(plan), "<encryption"));
}

Test(offline_plan, unencrypted_volume_ignores_metadata)
{
    g_autoptr(inputs) in = inputs_new("cinder/file.json", "cinder/encryption-luks.json");
    g_autoptr(nv_conf) conf = default_conf();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_attach_plan) plan = NULL;
    guint key_size = 7;

    plan = nv_plan_attach_offline(conf, &in->request, NV_NATIVE_LUKS_MIN_LIBVIRT_VERSION,
                                  NV_NATIVE_LUKS_MIN_QEMU_VERSION, NULL, &error);
    cr_assert_not_null(plan, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_attach_plan_get_encryption_path(plan), "none");
    cr_assert_not(nv_attach_plan_get_encrypted(plan));
    cr_assert_not(nv_attach_plan_get_key_size(plan, &key_size));
    cr_assert_eq(key_size, 7);
    cr_assert_null(nv_attach_plan_get_cipher(plan));
    cr_assert_null(nv_attach_plan_get_secret_usage(plan));
}

Test(offline_plan, invalid_secret_uuid_is_bad_input)
{
    g_autoptr(inputs) in = inputs_new("cinder/block-luks.json", "cinder/encryption-luks.json");
    g_autoptr(nv_conf) conf = default_conf();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_attach_plan) plan = NULL;

    plan = nv_plan_attach_offline(conf, &in->request, NV_NATIVE_LUKS_MIN_LIBVIRT_VERSION,
                                  NV_NATIVE_LUKS_MIN_QEMU_VERSION, "not-a-uuid", &error);
    cr_assert_null(plan);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message,
                     "volume " VOL_BLOCK ": secret uuid 'not-a-uuid' is not a valid UUID");
}

/* Without data.encrypted there is nothing to decrypt: the no-op encryptor,
 * and the reason says so.  Attach and detach touch nothing. */
Test(volume_encryptor, unencrypted_volume_gets_the_no_op_encryptor)
{
    g_autoptr(inputs) in = inputs_new("cinder/file.json", "cinder/encryption-luks.json");
    g_autoptr(nv_conf) conf = default_conf();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_volume_encryptor) enc = nv_volume_encryptor_new(conf, &in->request, &error);

    cr_assert_not_null(enc, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_volume_encryptor_get_reason(enc), "data.encrypted is not set");
    cr_assert_str_eq(nv_volume_encryptor_get_format(enc), "none");
    cr_assert_null(nv_volume_encryptor_get_mapping(enc));
    cr_assert(nv_volume_encryptor_attach(enc, &error), "%s", error ? error->message : "");
    cr_assert(nv_volume_encryptor_detach(enc, &error), "%s", error ? error->message : "");
}

Test(volume_encryptor, luks_volume_names_its_mapping)
{
    g_autoptr(inputs) in = inputs_new("cinder/block-luks.json", "cinder/encryption-luks.json");
    g_autoptr(nv_conf) conf = default_conf();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_volume_encryptor) enc = nv_volume_encryptor_new(conf, &in->request, &error);

    cr_assert_not_null(enc, "%s", error ? error->message : "");
    cr_assert_null(nv_volume_encryptor_get_reason(enc));
    cr_assert_str_eq(nv_volume_encryptor_get_volume_id(enc), VOL_BLOCK);
    cr_assert_str_eq(nv_volume_encryptor_get_format(enc), "luks");
    cr_assert_str_eq(nv_volume_encryptor_get_mapping(enc), "crypt-sdb");
    cr_assert_str_eq(nv_volume_encryptor_get_device_path(enc), "/dev/sdb");
}

/* Attach needs the key: with no [key_manager] fixed_key it fails before
 * touching the device (a path that does not exist, to be sure). */
Test(volume_encryptor, attach_without_a_key_fails_naming_the_option)
{
    g_autoptr(inputs) in = inputs_new("cinder/block-luks.json", "cinder/encryption-luks.json");
    g_autoptr(nv_conf) conf = default_conf();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_volume_encryptor) enc = NULL;

    in->request.connection_info =
        "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"" VOL_BLOCK "\", "
        "\"device_path\": \"/nonexistent/nvirt-test-device\", \"encrypted\": true}}";
    enc = nv_volume_encryptor_new(conf, &in->request, &error);

    cr_assert_not_null(enc, "%s", error ? error->message : "");
    cr_assert_not(nv_volume_encryptor_attach(enc, &error));
    cr_assert_not_null(error);
    cr_assert_not_null(strstr(error->message, "fixed_key"), "%s", error->message);
}

Test(volume_encryptor, metadata_is_required)
{
    g_autoptr(inputs) in = inputs_new("cinder/block-luks.json", NULL);
    g_autoptr(nv_conf) conf = default_conf();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_volume_encryptor) enc = nv_volume_encryptor_new(conf, &in->request, &error);

    cr_assert_null(enc);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
}

Test(conf, sample_text_is_the_generated_sample)
{
    g_autofree char *text = nv_conf_generate_sample_text();
    g_autofree char *committed = NULL;
    g_autofree char *path =
        g_build_filename(g_getenv("NVIRT_SOURCE_ROOT"), "etc", "nvirt.conf.sample", NULL);

    cr_assert(g_file_get_contents(path, &committed, NULL, NULL), "%s", path);
    cr_assert_str_eq(text, committed);
}
