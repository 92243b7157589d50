/* SPDX-License-Identifier: Apache-2.0 */
/* Option table, INI loader, sample generator (src/conf) and
 * "nvirt generate-config" (src/cli/cmd_generate_config.c). */
#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "encryptors/luks_format.h"
#include "nvirt/error.h"
#include "support.h"

/* nv_test_run_nvirt() always opens a stdin pipe, and GSubprocess asserts
 * when a pipe gets no data, so give it an empty text. */
#define NO_STDIN ""

/* ...and returns NULL rather than "" for an empty stdout or stderr. */
#define EMPTY_IF_NULL(s) ((s) ? (s) : "")

/* A scratch directory per test, removed by the fini hook. */
static char *tmpdir;

static void
setup_tmpdir(void)
{
    tmpdir = nv_test_mkdtemp();
}

static void
teardown_tmpdir(void)
{
    nv_test_rmtree(tmpdir);
    g_clear_pointer(&tmpdir, g_free);
}

/* Write @content to a file in the scratch directory; returns its path. */
static char *
write_conf(const char *content)
{
    char *path = g_build_filename(tmpdir, "nvirt.conf", NULL);
    g_autoptr(GError) error = NULL;

    cr_assert(g_file_set_contents(path, content, -1, &error), "%s", error ? error->message : "");
    return path;
}

/* Load @content, which must succeed with no warnings. */
static nv_conf *
load_ok(const char *content)
{
    g_autofree char *path = write_conf(content);
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    nv_conf *conf = nv_conf_load(path, &warnings, &error);

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_eq(warnings->len, 0, "unexpected warning: %s",
                 warnings->len ? (const char *)g_ptr_array_index(warnings, 0) : "");
    return conf;
}

/* Load @content, which must fail with NV_ERROR_CONFIG and exactly
 * "PATH: @expected". */
static void
assert_load_fails(const char *content, const char *expected)
{
    g_autofree char *path = write_conf(content);
    g_autofree char *message = g_strdup_printf("%s: %s", path, expected);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, NULL, &error);

    cr_assert_null(conf);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG), "code %d: %s",
              error ? error->code : -1, error ? error->message : "");
    cr_assert_str_eq(error->message, message);
}

static void
assert_warnings(GPtrArray *warnings, const char *const *expected)
{
    guint n = g_strv_length((char **)expected);

    for (guint i = 0; i < warnings->len && i < n; i++)
        cr_assert_str_eq(g_ptr_array_index(warnings, i), expected[i], "warning %u", i);
    cr_assert_eq(warnings->len, n, "%u warnings, expected %u", warnings->len, n);
}

static void
assert_same_conf(const nv_conf *a, const nv_conf *b)
{
    cr_assert_str_eq(a->state_path, b->state_path);
    cr_assert_str_eq(a->libvirt.connection_uri, b->libvirt.connection_uri);
    cr_assert_str_eq(a->libvirt.virt_type, b->libvirt.virt_type);
    cr_assert_str_eq(a->libvirt.nfs_mount_point_base, b->libvirt.nfs_mount_point_base);
    cr_assert_eq(a->libvirt.device_detach_timeout, b->libvirt.device_detach_timeout);
    cr_assert_str_eq(a->key_manager.backend, b->key_manager.backend);
    cr_assert_eq(a->key_manager.fixed_key == NULL, b->key_manager.fixed_key == NULL);
    if (a->key_manager.fixed_key)
        cr_assert(nv_secure_buf_equal(a->key_manager.fixed_key, b->key_manager.fixed_key));
    cr_assert_eq(a->workarounds.disable_native_luksv1, b->workarounds.disable_native_luksv1);
}

static char *
sample_path(void)
{
    const char *root = g_getenv("NVIRT_SOURCE_ROOT");

    cr_assert_not_null(root, "NVIRT_SOURCE_ROOT is not set: run the tests through meson test");
    return g_build_filename(root, "etc", "nvirt.conf.sample", NULL);
}

static char *
read_sample(void)
{
    g_autofree char *path = sample_path();
    g_autoptr(GError) error = NULL;
    char *contents = NULL;

    cr_assert(g_file_get_contents(path, &contents, NULL, &error), "%s",
              error ? error->message : "");
    return contents;
}

/* ---- defaults ---------------------------------------------------------- */

Test(conf_defaults, follow_nova_where_nvirt_has_the_option)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();

    cr_assert_str_eq(conf->libvirt.connection_uri, "");
    cr_assert_str_eq(conf->libvirt.virt_type, "kvm");
    cr_assert_eq(conf->libvirt.device_detach_timeout, 20);
    cr_assert_str_eq(conf->libvirt.disk_cachemodes, "");
    cr_assert_eq(conf->workarounds.disable_native_luksv1, FALSE);
    cr_assert_null(conf->key_manager.fixed_key);
}

Test(conf_defaults, key_manager_backend_is_the_built_in_fixed_key)
{
    /* Castellan defaults to barbican; nvirt keeps the one needing no service. */
    g_autoptr(nv_conf) conf = nv_conf_new_default();

    cr_assert_str_eq(conf->key_manager.backend, "fixed");
}

Test(conf_defaults, nfs_mount_point_base_is_mnt_under_state_path)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();

    cr_assert_str_eq(conf->state_path, "/var/lib/nvirt");
    cr_assert_str_eq(conf->libvirt.nfs_mount_point_base, "/var/lib/nvirt/mnt");
}

/* The option's default is the bound luks_format.h documents. */
Test(conf_defaults, luks_unlock_bound_is_the_library_default)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();

    cr_assert_eq((guint64)conf->libvirt.volume_luks_max_unlock_iterations,
                 NV_LUKS_DEFAULT_MAX_PBKDF2_ITERATIONS);
}

/* ---- loading a nova.conf ----------------------------------------------- */

/* LibvirtDriver._uri(): connection_uri wins, else the default of virt_type. */
Test(conf_uri, follows_nova_driver_uri, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    static const struct {
        const char *content;
        const char *uri;
    } cases[] = {
        { "", "qemu:///system" },
        { "[libvirt]\nvirt_type = qemu\n", "qemu:///system" },
        { "[libvirt]\nvirt_type = lxc\n", "lxc:///" },
        { "[libvirt]\nvirt_type = parallels\n", "parallels:///system" },
        { "[libvirt]\nvirt_type = lxc\nconnection_uri = qemu+unix:///system?socket=/s\n",
          "qemu+unix:///system?socket=/s" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(nv_conf) conf = load_ok(cases[i].content);

        cr_assert_str_eq(nv_conf_libvirt_uri(conf), cases[i].uri, "case %zu", i);
    }
}

Test(conf_load, nova_conf_sets_the_options_nvirt_knows)
{
    g_autofree char *path = nv_test_data_path("conf/nova.conf");
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, &warnings, &error);

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_str_eq(conf->state_path, "/var/lib/nova");
    cr_assert_str_eq(conf->libvirt.virt_type, "qemu");
    cr_assert_str_eq(conf->libvirt.connection_uri,
                     "qemu+unix:///system?socket=/run/libvirt/libvirt-sock");
    cr_assert_eq(conf->libvirt.device_detach_timeout, 45);
    cr_assert_str_eq(conf->libvirt.disk_cachemodes, "file=directsync,block=none,network=writeback");
    cr_assert_str_eq(conf->libvirt.nfs_mount_point_base, "/var/lib/nova/mnt");
    cr_assert_str_eq(conf->key_manager.backend, "nova.keymgr.conf_key_mgr.ConfKeyManager");
    cr_assert_eq(conf->workarounds.disable_native_luksv1, TRUE);
}

Test(conf_load, nova_conf_fixed_key_is_decoded_to_raw_bytes)
{
    g_autofree char *path = nv_test_data_path("conf/nova.conf");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, NULL, &error);
    const guint8 *key;

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_not_null(conf->key_manager.fixed_key);
    cr_assert_eq(nv_secure_buf_len(conf->key_manager.fixed_key), 32);
    key = nv_secure_buf_cdata(conf->key_manager.fixed_key);
    for (guint i = 0; i < 32; i++)
        cr_assert_eq(key[i], i, "byte %u is 0x%02x", i, key[i]);
}

Test(conf_load, nova_conf_warns_once_per_unknown_section_and_option)
{
    g_autofree char *path = nv_test_data_path("conf/nova.conf");
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, &warnings, &error);
    g_autofree char *w0 = g_strdup_printf("%s: unknown option [DEFAULT] debug", path);
    g_autofree char *w1 = g_strdup_printf("%s: unknown option [DEFAULT] transport_url", path);
    g_autofree char *w2 = g_strdup_printf("%s: unknown section [api]", path);
    g_autofree char *w3 = g_strdup_printf("%s: unknown section [glance]", path);
    g_autofree char *w4 = g_strdup_printf("%s: unknown option [libvirt] images_type", path);
    const char *const expected[] = { w0, w1, w2, w3, w4, NULL };

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    assert_warnings(warnings, expected);
}

Test(conf_load, option_outside_any_section_warns, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *path = write_conf("virt_type = qemu\n[libvirt]\n");
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, &warnings, &error);
    g_autofree char *w0 = g_strdup_printf("%s: unknown option virt_type outside any section", path);
    const char *const expected[] = { w0, NULL };

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    assert_warnings(warnings, expected);
    cr_assert_str_eq(conf->libvirt.virt_type, "kvm");
}

Test(conf_load, section_and_option_names_are_case_insensitive, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autoptr(nv_conf) conf = load_ok("[LIBVIRT]\nVirt_Type = qemu\n");

    cr_assert_str_eq(conf->libvirt.virt_type, "qemu");
}

/* 0 turns the bound off; a negative count is refused.  A second [libvirt]
 * section adds to the first (what the functional tests' extra config
 * relies on). */
Test(conf_load, luks_unlock_bound_takes_zero_and_refuses_negative, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autoptr(nv_conf) off = load_ok("[libvirt]\nvolume_luks_max_unlock_iterations = 0\n");
    g_autoptr(nv_conf) two = load_ok("[libvirt]\nvirt_type = qemu\n[key_manager]\n"
                                     "[libvirt]\nvolume_luks_max_unlock_iterations = 999\n");

    cr_assert_eq(off->libvirt.volume_luks_max_unlock_iterations, 0);
    cr_assert_str_eq(two->libvirt.virt_type, "qemu");
    cr_assert_eq(two->libvirt.volume_luks_max_unlock_iterations, 999);
    assert_load_fails("[libvirt]\nvolume_luks_max_unlock_iterations = -1\n",
                      "[libvirt] volume_luks_max_unlock_iterations: -1 is less than the minimum 0");
}

/* nvirt's own, virsh's -k 5 -K 6: 0 turns keepalive off; a count of 0
 * would close the connection at the first silence. */
Test(conf_load, libvirt_keepalive_as_virsh, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autoptr(nv_conf) defaults = nv_conf_new_default();
    g_autoptr(nv_conf) off = load_ok("[libvirt]\nkeepalive_interval = 0\nkeepalive_count = 1\n");

    cr_assert_eq(defaults->libvirt.keepalive_interval, 5);
    cr_assert_eq(defaults->libvirt.keepalive_count, 6);
    cr_assert_eq(off->libvirt.keepalive_interval, 0);
    cr_assert_eq(off->libvirt.keepalive_count, 1);
    assert_load_fails("[libvirt]\nkeepalive_count = 0\n",
                      "[libvirt] keepalive_count: 0 is less than the minimum 1");
}

Test(conf_load, deprecated_keymgr_group_sets_fixed_key_with_a_warning, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *path = write_conf("[keymgr]\nfixed_key = abcd\n");
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, &warnings, &error);
    g_autofree char *w0 = g_strdup_printf(
        "%s: deprecated option [keymgr] fixed_key: use [key_manager] fixed_key", path);
    const char *const expected[] = { w0, NULL };

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    assert_warnings(warnings, expected);
    cr_assert_eq(nv_secure_buf_len(conf->key_manager.fixed_key), 2);
    cr_assert_eq(nv_secure_buf_cdata(conf->key_manager.fixed_key)[0], 0xab);
}

Test(conf_load, current_spelling_wins_over_deprecated_one, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *path = write_conf("[key_manager]\nfixed_key = 1111\n"
                                       "[keymgr]\nfixed_key = 2222\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, NULL, &error);

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_eq(nv_secure_buf_cdata(conf->key_manager.fixed_key)[0], 0x11);
}

Test(conf_load, castellan_api_class_sets_backend_with_a_warning, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *path = write_conf("[key_manager]\napi_class = fixed\n");
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, &warnings, &error);
    g_autofree char *w0 = g_strdup_printf(
        "%s: deprecated option [key_manager] api_class: use [key_manager] backend", path);
    const char *const expected[] = { w0, NULL };

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    assert_warnings(warnings, expected);
    cr_assert_str_eq(conf->key_manager.backend, "fixed");
}

Test(conf_load, empty_fixed_key_means_no_key, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autoptr(nv_conf) conf = load_ok("[key_manager]\nfixed_key =\n");

    cr_assert_null(conf->key_manager.fixed_key);
}

Test(conf_load, fixed_key_accepts_both_hex_cases, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autoptr(nv_conf) conf = load_ok("[key_manager]\nfixed_key = aBcD\n");

    cr_assert_eq(nv_secure_buf_cdata(conf->key_manager.fixed_key)[0], 0xab);
    cr_assert_eq(nv_secure_buf_cdata(conf->key_manager.fixed_key)[1], 0xcd);
}

Test(conf_load, accepts_every_oslo_boolean_spelling, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    static const struct {
        const char *text;
        gboolean value;
    } cases[] = {
        { "true", TRUE },   { "True", TRUE }, { "YES", TRUE },  { "on", TRUE }, { "1", TRUE },
        { "false", FALSE }, { "No", FALSE },  { "OFF", FALSE }, { "0", FALSE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text =
            g_strdup_printf("[workarounds]\ndisable_native_luksv1 = %s\n", cases[i].text);
        g_autoptr(nv_conf) conf = load_ok(text);

        cr_assert_eq(conf->workarounds.disable_native_luksv1, cases[i].value, "'%s'",
                     cases[i].text);
    }
}

Test(conf_load, state_path_moves_nfs_mount_point_base, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autoptr(nv_conf) conf = load_ok("[DEFAULT]\nstate_path = /srv/nvirt\n");

    cr_assert_str_eq(conf->libvirt.nfs_mount_point_base, "/srv/nvirt/mnt");
}

Test(conf_load, substitution_follows_oslo_template_rules, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    /* ${name}, $group.name, "$$" and "\$" for a literal "$", and a "$"
     * before a non-name kept as it is. */
    g_autoptr(nv_conf) conf =
        load_ok("[DEFAULT]\nstate_path = /s\n"
                "[libvirt]\nnfs_mount_point_base = ${state_path}/$libvirt.virt_type/$$a/\\$b/$1\n");

    cr_assert_str_eq(conf->libvirt.nfs_mount_point_base, "/s/kvm/$a/$b/$1");
}

Test(conf_load, sample_file_loads_as_the_defaults)
{
    g_autofree char *path = sample_path();
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, &warnings, &error);
    g_autoptr(nv_conf) defaults = nv_conf_new_default();

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_eq(warnings->len, 0);
    assert_same_conf(conf, defaults);
}

Test(conf_load, warnings_may_be_null, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *path = write_conf("[glance]\napi_servers = x\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, NULL, &error);

    cr_assert_not_null(conf, "%s", error ? error->message : "");
}

Test(conf_load, warnings_are_returned_on_failure_too, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *path = write_conf("[glance]\n[libvirt]\nvirt_type = xen\n");
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, &warnings, &error);
    g_autofree char *w0 = g_strdup_printf("%s: unknown section [glance]", path);
    const char *const expected[] = { w0, NULL };

    cr_assert_null(conf);
    assert_warnings(warnings, expected);
}

/* ---- errors ------------------------------------------------------------ */

Test(conf_errors, missing_file)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load("/nonexistent/nvirt.conf", NULL, &error);

    cr_assert_null(conf);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG));
    cr_assert_str_eq(error->message, "/nonexistent/nvirt.conf: No such file or directory");
}

Test(conf_errors, directory_instead_of_file, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(tmpdir, NULL, &error);
    g_autofree char *expected = g_strdup_printf("%s: Is a directory", tmpdir);

    cr_assert_null(conf);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG));
    cr_assert_str_eq(error->message, expected);
}

Test(conf_errors, syntax_error_names_the_first_bad_line, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *path =
        write_conf("# comment\n[libvirt]\nvirt_type = qemu\nthis is not ini\nnor this\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, NULL, &error);
    g_autofree char *expected = g_strdup_printf("%s:4: syntax error", path);

    cr_assert_null(conf);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG));
    cr_assert_str_eq(error->message, expected);
}

Test(conf_errors, syntax_error_does_not_quote_the_line, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    /* iniparser's own message quotes the line, which here holds a key. */
    g_autofree char *path = write_conf("[key_manager]\nfixed_key 00112233445566778899\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, NULL, &error);
    g_autofree char *expected = g_strdup_printf("%s:2: syntax error", path);

    cr_assert_null(conf);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG));
    cr_assert_str_eq(error->message, expected);
}

Test(conf_errors, bool_rejects_maybe, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[workarounds]\ndisable_native_luksv1 = maybe\n",
                      "[workarounds] disable_native_luksv1: 'maybe' is not a boolean");
}

Test(conf_errors, int_rejects_non_number, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[libvirt]\ndevice_detach_timeout = 20s\n",
                      "[libvirt] device_detach_timeout: '20s' is not an integer");
}

Test(conf_errors, int_rejects_value_below_minimum, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[libvirt]\ndevice_detach_timeout = 0\n",
                      "[libvirt] device_detach_timeout: 0 is less than the minimum 1");
}

Test(conf_errors, int_rejects_overflow, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[libvirt]\ndevice_detach_timeout = 99999999999\n",
                      "[libvirt] device_detach_timeout: '99999999999' is not an integer");
}

Test(conf_errors, enum_rejects_unknown_choice, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[libvirt]\nvirt_type = xen\n",
                      "[libvirt] virt_type: 'xen' is not one of kvm, lxc, qemu, parallels");
}

Test(conf_errors, enum_choices_are_case_sensitive, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[libvirt]\nvirt_type = KVM\n",
                      "[libvirt] virt_type: 'KVM' is not one of kvm, lxc, qemu, parallels");
}

Test(conf_errors, fixed_key_odd_length_is_not_echoed, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[key_manager]\nfixed_key = 0123456789abcde\n",
                      "[key_manager] fixed_key: expected an even number of hex digits");
}

Test(conf_errors, fixed_key_non_hex_is_not_echoed, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[key_manager]\nfixed_key = 0123456789abcdeg\n",
                      "[key_manager] fixed_key: not a hex string (bad digit at offset 15)");
}

/* Nova bug 1905701: a backend nvirt lacks must not stop the load, or an
 * attach that reuses a volume secret (and needs no key) would fail too. */
Test(conf_load, unknown_backend_is_a_warning_not_an_error, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *path = write_conf("[key_manager]\nbackend = vault\n");
    g_autofree char *expected = g_strdup_printf(
        "%s: [key_manager] backend: 'vault' is not built in (available: fixed, barbican); "
        "attaches that need a key will fail",
        path);
    const char *const want[] = { expected, NULL };
    g_autoptr(GPtrArray) warnings = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = nv_conf_load(path, &warnings, &error);

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_str_eq(conf->key_manager.backend, "vault");
    assert_warnings(warnings, want);
}

Test(conf_errors, substitution_of_unknown_option, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[libvirt]\nnfs_mount_point_base = $pybasedir/mnt\n",
                      "[libvirt] nfs_mount_point_base: no string option $pybasedir to substitute");
}

Test(conf_errors, substitution_of_the_key_is_refused, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[key_manager]\nfixed_key = 00ff\n"
                      "[libvirt]\nconnection_uri = ${key_manager.fixed_key}\n",
                      "[libvirt] connection_uri: no string option $key_manager.fixed_key to "
                      "substitute");
}

Test(conf_errors, substitution_loop, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    assert_load_fails("[DEFAULT]\nstate_path = $state_path/x\n",
                      "[DEFAULT] state_path: substitution loop at $state_path");
}

/* ---- sample ------------------------------------------------------------ */

Test(conf_sample, generated_sample_matches_etc_nvirt_conf_sample)
{
    g_autofree char *committed = read_sample();
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);

    cr_assert_not_null(mem);
    nv_conf_generate_sample(mem);
    cr_assert_eq(fclose(mem), 0);
    cr_assert_eq(len, strlen(committed), "regenerate it: nvirt generate-config --output %s",
                 "etc/nvirt.conf.sample");
    cr_assert(memcmp(text, committed, len) == 0,
              "etc/nvirt.conf.sample is stale: regenerate it with nvirt generate-config");
    free(text);
}

Test(conf_sample, every_option_is_shown_commented_out_with_its_default)
{
    g_autofree char *sample = read_sample();
    static const char *const lines[] = {
        "\n[DEFAULT]\n",
        "\n#state_path = /var/lib/nvirt\n",
        "\n[key_manager]\n",
        "\n#backend = fixed\n",
        "\n#fixed_key = <None>\n",
        "\n[libvirt]\n",
        "\n#virt_type = kvm\n",
        "\n#connection_uri =\n",
        "\n#device_detach_timeout = 20\n",
        "\n#disk_cachemodes =\n",
        "\n#nfs_mount_point_base = $state_path/mnt\n",
        "\n[workarounds]\n",
        "\n#disable_native_luksv1 = false\n",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++)
        cr_assert_not_null(strstr(sample, lines[i]), "missing %s", lines[i]);
}

Test(conf_sample, comment_lines_fit_70_columns)
{
    g_autofree char *sample = read_sample();
    g_auto(GStrv) lines = g_strsplit(sample, "\n", -1);

    for (gsize i = 0; lines[i]; i++)
        cr_assert_leq(strlen(lines[i]), 70, "line %zu is too long: %s", i + 1, lines[i]);
}

/* ---- nvirt generate-config --------------------------------------------- */

Test(conf_cli, generate_config_prints_the_sample)
{
    const char *const args[] = { "generate-config", NULL };
    g_autofree char *sample = read_sample();
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NO_STDIN, &out, &err), 0, "%s", err);
    cr_assert_str_eq(out, sample);
    cr_assert_str_eq(EMPTY_IF_NULL(err), "");
}

Test(conf_cli, generate_config_output_writes_the_sample_to_a_file, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    g_autofree char *path = g_build_filename(tmpdir, "out.conf", NULL);
    const char *const args[] = { "generate-config", "--output", path, NULL };
    g_autofree char *sample = read_sample();
    g_autofree char *written = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NO_STDIN, &out, &err), 0, "%s", err);
    cr_assert_str_eq(EMPTY_IF_NULL(out), "");
    cr_assert(g_file_get_contents(path, &written, NULL, NULL));
    cr_assert_str_eq(written, sample);
}

Test(conf_cli, generate_config_help_exits_0)
{
    const char *const args[] = { "generate-config", "--help", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NO_STDIN, &out, &err), 0, "%s", err);
    cr_assert_not_null(strstr(out, "--output=FILE"), "%s", out);
}

Test(conf_cli, generate_config_rejects_an_extra_argument)
{
    const char *const args[] = { "generate-config", "extra", NULL };
    g_autofree char *err = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NO_STDIN, NULL, &err), 2);
    cr_assert_str_eq(err, "nvirt generate-config: unexpected argument 'extra' (see --help)\n");
}

Test(conf_cli, generate_config_reports_an_unwritable_output)
{
    const char *const args[] = { "generate-config", "--output", "/nonexistent/dir/out.conf", NULL };
    g_autofree char *err = NULL;

    cr_assert_eq(nv_test_run_nvirt(args, NO_STDIN, NULL, &err), 1);
    cr_assert(g_str_has_prefix(err, "nvirt: "), "%s", err);
    cr_assert_not_null(strstr(err, "/nonexistent/dir/out.conf"), "%s", err);
}
