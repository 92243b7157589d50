/* SPDX-License-Identifier: Apache-2.0 */
/* Key manager (keymgr/): backend choice, the fixed key (Nova's
 * ConfKeyManager) and the passphrase derivation. */
#include <criterion/criterion.h>
#include <string.h>

#include "conf/conf.h"
#include "keymgr/keymgr.h"
#include "nvirt/error.h"
#include "support.h"
#include "util/secure.h"

/* A configuration with @backend and @hex_key (NULL: unset). */
static nv_conf *
conf_with(const char *backend, const char *hex_key)
{
    nv_conf *conf = nv_conf_new_default();

    g_free(conf->key_manager.backend);
    conf->key_manager.backend = g_strdup(backend);
    nv_secure_buf_free(conf->key_manager.fixed_key);
    conf->key_manager.fixed_key = NULL;
    if (hex_key) {
        g_autoptr(GError) error = NULL;

        conf->key_manager.fixed_key = nv_secure_buf_from_hex(hex_key, "test key", &error);
        cr_assert_not_null(conf->key_manager.fixed_key, "%s", error ? error->message : "");
    }
    return conf;
}

static nv_keymgr *
fixed_keymgr(const char *hex_key)
{
    g_autoptr(nv_conf) conf = conf_with("fixed", hex_key);
    g_autoptr(GError) error = NULL;
    nv_keymgr *mgr = nv_keymgr_new_from_conf(conf, &error);

    cr_assert_not_null(mgr, "%s", error ? error->message : "");
    return mgr;
}

#define KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

Test(keymgr, fixed_backend_returns_configured_key_for_every_key_id)
{
    const char *key_ids[] = { NV_KEYMGR_FIXED_KEY_ID, "9f2b1c57-6a0e-4d43-9f4c-1f0d3c8f6e21", "x" };
    g_autoptr(nv_keymgr) mgr = fixed_keymgr(KEY_HEX);
    g_autoptr(nv_secure_buf) want = nv_secure_buf_from_hex(KEY_HEX, "test key", NULL);

    cr_assert_str_eq(nv_keymgr_backend_name(mgr), "fixed");
    for (gsize i = 0; i < G_N_ELEMENTS(key_ids); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(nv_secure_buf) key = nv_keymgr_get_key(mgr, key_ids[i], &error);

        cr_assert_not_null(key, "%s: %s", key_ids[i], error ? error->message : "");
        cr_assert(nv_secure_buf_equal(key, want), "key id %s", key_ids[i]);
    }
}

/* The manager keeps its own reference: the configuration can go away. */
Test(keymgr, fixed_backend_outlives_its_configuration)
{
    nv_conf *conf = conf_with("fixed", KEY_HEX);
    g_autoptr(nv_secure_buf) want = nv_secure_buf_from_hex(KEY_HEX, "test key", NULL);
    g_autoptr(nv_keymgr) mgr = nv_keymgr_new_from_conf(conf, NULL);
    g_autoptr(nv_secure_buf) key = NULL;

    cr_assert_not_null(mgr);
    nv_conf_free(conf);
    key = nv_keymgr_get_key(mgr, NV_KEYMGR_FIXED_KEY_ID, NULL);
    cr_assert_not_null(key);
    cr_assert(nv_secure_buf_equal(key, want));
}

/* One key per driver: the configuration, the manager and every get_key
 * share one buffer (one locked mapping), nothing is copied. */
Test(keymgr, fixed_key_is_shared_not_copied)
{
    g_autoptr(nv_conf) conf = conf_with("fixed", KEY_HEX);
    g_autoptr(nv_keymgr) mgr = nv_keymgr_new_from_conf(conf, NULL);
    g_autoptr(nv_secure_buf) first = NULL;
    g_autoptr(nv_secure_buf) second = NULL;

    cr_assert_not_null(mgr);
    first = nv_keymgr_get_key(mgr, NV_KEYMGR_FIXED_KEY_ID, NULL);
    second = nv_keymgr_get_key(mgr, "another-id", NULL);
    cr_assert_eq(first, conf->key_manager.fixed_key);
    cr_assert_eq(second, conf->key_manager.fixed_key);
    /* Releasing what get_key returned leaves the key in place. */
    g_clear_pointer(&first, nv_secure_buf_unref);
    g_clear_pointer(&second, nv_secure_buf_unref);
    first = nv_keymgr_get_key(mgr, NV_KEYMGR_FIXED_KEY_ID, NULL);
    cr_assert_eq(nv_secure_buf_cdata(first)[1], 0x11);
}

Test(keymgr, backend_defaults_to_fixed_when_unset)
{
    g_autoptr(nv_conf) conf = conf_with(NULL, KEY_HEX);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_keymgr) mgr = nv_keymgr_new_from_conf(conf, &error);

    cr_assert_not_null(mgr, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_keymgr_backend_name(mgr), "fixed");
}

Test(keymgr, backend_accepts_nova_class_path_for_fixed)
{
    g_autoptr(nv_conf) conf = conf_with("nova.keymgr.conf_key_mgr.ConfKeyManager", KEY_HEX);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_keymgr) mgr = nv_keymgr_new_from_conf(conf, &error);

    cr_assert_not_null(mgr, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_keymgr_backend_name(mgr), "fixed");
}

Test(keymgr, rejects_backend_not_built_in)
{
    const char *backends[] = { "vault", "Fixed", "Barbican" };

    for (gsize i = 0; i < G_N_ELEMENTS(backends); i++) {
        g_autoptr(nv_conf) conf = conf_with(backends[i], KEY_HEX);
        g_autoptr(GError) error = NULL;
        g_autofree char *message = g_strdup_printf(
            "[key_manager] backend: '%s' is not built in (available: fixed, barbican)",
            backends[i]);

        cr_assert_null(nv_keymgr_new_from_conf(conf, &error));
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG));
        cr_assert_str_eq(error->message, message);
    }
}

Test(keymgr, fixed_backend_fails_when_fixed_key_unset)
{
    g_autoptr(nv_conf) conf = conf_with("fixed", NULL);
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_keymgr_new_from_conf(conf, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG));
    cr_assert_str_eq(error->message, "[key_manager] fixed_key is not set");
}

/* Nova would unhexlify "" into a zero-length key and an empty passphrase. */
Test(keymgr, fixed_backend_fails_when_fixed_key_empty)
{
    g_autoptr(nv_secure_buf) empty = nv_secure_buf_new(0);
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_keymgr_new_fixed(empty, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG));
    cr_assert_str_eq(error->message, "[key_manager] fixed_key is not set");
}

/* The expected value is computed by Nova's own expression, run by Python,
 * over a key holding every byte value. */
Test(keymgr, passphrase_is_novas_hexlify_of_key)
{
    const char *argv[] = {
        "python3", "-c",
        "import binascii; print(binascii.hexlify(bytes(range(256))).decode('utf-8'), end='')", NULL
    };
    g_autofree char *want = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) hex = g_string_new(NULL);
    g_autoptr(nv_keymgr) mgr = NULL;
    g_autoptr(nv_secure_buf) passphrase = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &want, NULL,
                      &status, &error))
        cr_skip_test("python3: %s", error->message);
    cr_assert(g_spawn_check_wait_status(status, &error), "%s", error ? error->message : "");
    for (guint i = 0; i < 256; i++)
        g_string_append_printf(hex, "%02X", i); /* configured in uppercase on purpose */
    mgr = fixed_keymgr(hex->str);

    passphrase = nv_keymgr_get_passphrase(mgr, NV_KEYMGR_FIXED_KEY_ID, &error);
    cr_assert_not_null(passphrase, "%s", error ? error->message : "");
    cr_assert_eq(nv_secure_buf_len(passphrase), 512);
    cr_assert_str_eq(nv_secure_buf_str(passphrase), want);
}

/* End to end from nova.conf syntax: [key_manager] fixed_key in hex. */
Test(keymgr, passphrase_from_loaded_configuration)
{
    g_autofree char *dir = nv_test_mkdtemp();
    g_autofree char *path = g_build_filename(dir, "nvirt.conf", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = NULL;
    g_autoptr(nv_keymgr) mgr = NULL;
    g_autoptr(nv_secure_buf) passphrase = NULL;
    g_autofree char *want = g_ascii_strdown(KEY_HEX, -1);
    g_autofree char *upper = g_ascii_strup(KEY_HEX, -1);
    g_autofree char *ini = g_strdup_printf("[key_manager]\nfixed_key = %s\n", upper);

    cr_assert(g_file_set_contents(path, ini, -1, &error), "%s", error ? error->message : "");
    conf = nv_conf_load(path, NULL, &error);
    cr_assert_not_null(conf, "%s", error ? error->message : "");
    mgr = nv_keymgr_new_from_conf(conf, &error);
    cr_assert_not_null(mgr, "%s", error ? error->message : "");
    passphrase = nv_keymgr_get_passphrase(mgr, NV_KEYMGR_FIXED_KEY_ID, &error);
    cr_assert_not_null(passphrase, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_secure_buf_str(passphrase), want);
    nv_test_rmtree(dir);
}

Test(keymgr, get_key_rejects_missing_key_id)
{
    const char *key_ids[] = { NULL, "" };
    g_autoptr(nv_keymgr) mgr = fixed_keymgr(KEY_HEX);

    for (gsize i = 0; i < G_N_ELEMENTS(key_ids); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) error2 = NULL;

        cr_assert_null(nv_keymgr_get_key(mgr, key_ids[i], &error));
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
        cr_assert_str_eq(error->message, "encryption_key_id is missing");
        cr_assert_null(nv_keymgr_get_passphrase(mgr, key_ids[i], &error2));
        cr_assert(g_error_matches(error2, NV_ERROR, NV_ERROR_BAD_INPUT));
        cr_assert_str_eq(error2->message, "encryption_key_id is missing");
    }
}

Test(keymgr, volume_passphrase_error_names_volume)
{
    g_autoptr(nv_keymgr) mgr = fixed_keymgr(KEY_HEX);
    g_autoptr(GError) error = NULL;

    cr_assert_null(
        nv_keymgr_get_volume_passphrase(mgr, "7f1c2d3e-0000-4000-8000-000000000001", "", &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message,
                     "volume 7f1c2d3e-0000-4000-8000-000000000001: encryption_key_id is missing");
}

Test(keymgr, volume_passphrase_matches_passphrase)
{
    g_autoptr(nv_keymgr) mgr = fixed_keymgr(KEY_HEX);
    g_autoptr(nv_secure_buf) a = nv_keymgr_get_passphrase(mgr, NV_KEYMGR_FIXED_KEY_ID, NULL);
    g_autoptr(nv_secure_buf) b =
        nv_keymgr_get_volume_passphrase(mgr, "vol-1", NV_KEYMGR_FIXED_KEY_ID, NULL);

    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert(nv_secure_buf_equal(a, b));
}

/* ConfKeyManager.create_key hands out its one id whatever is asked for. */
Test(keymgr, fixed_create_key_returns_fixed_key_id)
{
    g_autoptr(nv_keymgr) mgr = fixed_keymgr(KEY_HEX);
    g_autoptr(GError) error = NULL;
    g_autofree char *id = nv_keymgr_create_key(mgr, 512, &error);

    cr_assert_not_null(id, "%s", error ? error->message : "");
    cr_assert_str_eq(id, NV_KEYMGR_FIXED_KEY_ID);
}

/* ConfKeyManager.delete deletes nothing: the key stays usable. */
Test(keymgr, fixed_delete_key_keeps_key)
{
    g_autoptr(nv_keymgr) mgr = fixed_keymgr(KEY_HEX);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) key = NULL;

    cr_assert(nv_keymgr_delete_key(mgr, NV_KEYMGR_FIXED_KEY_ID, &error), "%s",
              error ? error->message : "");
    key = nv_keymgr_get_key(mgr, NV_KEYMGR_FIXED_KEY_ID, &error);
    cr_assert_not_null(key, "%s", error ? error->message : "");
}

/* A second backend plugs in without touching the nv_keymgr_* callers: a
 * test double that knows one key id and nothing else. */
typedef struct {
    int *freed;
} double_state;

static nv_secure_buf *
double_get_key(gpointer state, const char *key_id, GError **error)
{
    static const guint8 key[] = { 0xde, 0xad, 0xbe, 0xef };

    if (strcmp(key_id, "known") != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "key %s not found", key_id);
        return NULL;
    }
    return nv_secure_buf_new_from(key, sizeof(key));
}

static void
double_free_state(gpointer state)
{
    double_state *s = state;

    (*s->freed)++;
    g_free(s);
}

static const nv_keymgr_backend double_backend = {
    .name = "double",
    .get_key = double_get_key,
    .free_state = double_free_state,
};

static nv_keymgr *
double_keymgr(int *freed)
{
    double_state *state = g_new0(double_state, 1);

    state->freed = freed;
    return nv_keymgr_new(&double_backend, state);
}

Test(keymgr, custom_backend_serves_passphrase)
{
    int freed = 0;
    g_autoptr(nv_keymgr) mgr = double_keymgr(&freed);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) passphrase = nv_keymgr_get_passphrase(mgr, "known", &error);

    cr_assert_not_null(passphrase, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_secure_buf_str(passphrase), "deadbeef");
    cr_assert_str_eq(nv_keymgr_backend_name(mgr), "double");
}

Test(keymgr, custom_backend_error_is_prefixed_with_volume)
{
    int freed = 0;
    g_autoptr(nv_keymgr) mgr = double_keymgr(&freed);
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_keymgr_get_volume_passphrase(mgr, "vol-1", "other", &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_NOT_FOUND));
    cr_assert_str_eq(error->message, "volume vol-1: key other not found");
}

Test(keymgr, backend_without_create_or_delete_reports_unsupported)
{
    int freed = 0;
    g_autoptr(nv_keymgr) mgr = double_keymgr(&freed);
    g_autoptr(GError) create_error = NULL;
    g_autoptr(GError) delete_error = NULL;

    cr_assert_null(nv_keymgr_create_key(mgr, 256, &create_error));
    cr_assert(g_error_matches(create_error, NV_ERROR, NV_ERROR_UNSUPPORTED));
    cr_assert_str_eq(create_error->message, "key manager 'double' cannot create keys");
    cr_assert_not(nv_keymgr_delete_key(mgr, "known", &delete_error));
    cr_assert(g_error_matches(delete_error, NV_ERROR, NV_ERROR_UNSUPPORTED));
    cr_assert_str_eq(delete_error->message, "key manager 'double' cannot delete keys");
}

Test(keymgr, free_releases_backend_state_once)
{
    int freed = 0;
    nv_keymgr *mgr = double_keymgr(&freed);

    nv_keymgr_free(mgr);
    cr_assert_eq(freed, 1);
    nv_keymgr_free(NULL);
    cr_assert_eq(freed, 1);
}
