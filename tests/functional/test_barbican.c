/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Barbican key manager against real Keystone and Barbican
 * (barbican_fixture.h) and the private libvirtd + QEMU (harness.h): keys
 * read from Barbican open volumes natively, every failure names the volume
 * and the key id and changes nothing, tokens are renewed, and an existing
 * volume secret needs no key manager at all (nova bug 1905701).
 */
#include "barbican_fixture.h"
#include "driver_fixtures.h"
#include "harness.h"
#include "key_scan.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <libcryptsetup.h>
#include <string.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "support.h"

/* LUKS_ENCRYPTION with @key_id as encryption_key_id.  Caller frees. */
static char *
encryption_for(const char *key_id)
{
    return g_strdup_printf("{\"provider\": \"luks\", \"control_location\": \"front-end\", "
                           "\"cipher\": \"aes-xts-plain64\", \"key_size\": 256, "
                           "\"encryption_key_id\": \"%s\"}",
                           key_id);
}

/* [key_manager] backend = barbican with nova's password (or @password),
 * or with nova's application credential. */
static char *
password_section(const char *user, const char *password)
{
    const nv_barbican *bb = nv_barbican_get();

    return g_strdup_printf("[key_manager]\nbackend = barbican\n"
                           "[barbican]\nbarbican_endpoint = %s\nnumber_of_retries = 0\n"
                           "[barbican_service_user]\nauth_type = password\nauth_url = %s\n"
                           "username = %s\npassword = %s\nuser_domain_name = Default\n"
                           "project_name = bar\nproject_domain_name = Default\n",
                           bb->barbican_url, bb->keystone_url, user, password);
}

static char *
app_cred_section(void)
{
    const nv_barbican *bb = nv_barbican_get();

    return g_strdup_printf("[key_manager]\nbackend = barbican\n"
                           "[barbican]\nauth_endpoint = %s\nnumber_of_retries = 0\n"
                           "[barbican_service_user]\nauth_type = v3applicationcredential\n"
                           "application_credential_id = %s\n"
                           "application_credential_secret = %s\n",
                           bb->keystone_url, bb->app_cred_id, bb->app_cred_secret);
}

static nv_driver *
nova_driver(void)
{
    g_autofree char *extra = password_section("nova", nv_barbican_get()->nova_password);

    return open_driver_with(NULL, extra);
}

/* A LUKS volume whose passphrase is the hex of FIXED_KEY, with that key
 * stored in Barbican; its request names the Barbican secret. */
typedef struct {
    volume *vol;
    char *key_id;
    char *encryption;
} bb_volume;

static void
bb_volume_free(bb_volume *v)
{
    volume_free(v->vol);
    g_free(v->key_id);
    g_free(v->encryption);
    g_free(v);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bb_volume, bb_volume_free)

static bb_volume *
bb_volume_new(const char *volume_id, const char *file, const char *key_id, gboolean blank)
{
    bb_volume *v = g_new0(bb_volume, 1);

    v->key_id = key_id ? g_strdup(key_id) : nv_barbican_store(FIXED_KEY);
    v->encryption = encryption_for(v->key_id);
    v->vol = volume_new(volume_id, file, "sdb", v->encryption);
    if (blank) {
        cr_assert(g_file_set_contents(v->vol->path, "", 0, NULL));
        cr_assert(truncate(v->vol->path, 4 * VOLUME_SIZE) == 0);
    } else {
        nv_harness_create_luks_volume(v->vol->path, PASSPHRASE, VOLUME_SIZE);
    }
    return v;
}

/* Attach @v to @domain (started if @dom is NULL), read it through QEMU,
 * detach. */
static void
attach_reads_plaintext(nv_driver *driver, const char *domain, virDomainPtr dom, const bb_volume *v)
{
    gboolean started = dom == NULL;
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;

    if (started)
        dom = start_domain(domain);
    attach_ok(driver, domain, v->vol);
    seen = nv_harness_read_back(dom, "sdb", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "QEMU did not read the plaintext");
    detach_ok(driver, domain, v->vol);
    cr_assert_not(has_disk(domain, 0, "sdb"));
    if (started)
        virDomainFree(dom);
}

/* ---- attach with a Barbican key ----------------------------------------- */

Test(barbican, application_credential_key_is_decrypted_by_qemu)
{
    g_autofree char *extra = app_cred_section();
    g_autoptr(nv_driver) driver = open_driver_with(NULL, extra);
    g_autoptr(bb_volume) v =
        bb_volume_new("33333333-0000-0000-0000-000000000001", "bb-appcred.luks", NULL, FALSE);

    cr_log_info("Keystone + Barbican fixture started in %.1f s",
                nv_barbican_get()->startup_seconds);
    attach_reads_plaintext(driver, "bb-appcred", NULL, v);
    cr_assert_not(has_volume_secret("33333333-0000-0000-0000-000000000001"));
}

Test(barbican, password_user_key_is_decrypted_by_qemu)
{
    g_autoptr(nv_driver) driver = nova_driver();
    g_autoptr(bb_volume) v =
        bb_volume_new("33333333-0000-0000-0000-000000000002", "bb-pass.luks", NULL, FALSE);

    attach_reads_plaintext(driver, "bb-pass", NULL, v);
}

/* Issue 15 (5): formatted through nvirt with the Barbican key, the volume
 * opens with the hex of the same key, as os-brick's passphrase is. */
Test(barbican, blank_volume_formatted_with_the_key_opens_with_its_hex)
{
    g_autoptr(nv_driver) driver = nova_driver();
    g_autoptr(bb_volume) v =
        bb_volume_new("33333333-0000-0000-0000-000000000003", "bb-blank.img", NULL, TRUE);
    virDomainPtr dom = start_domain("bb-blank");
    struct crypt_device *cd = NULL;

    attach_ok(driver, "bb-blank", v->vol);
    detach_ok(driver, "bb-blank", v->vol);
    cr_assert_eq(crypt_init(&cd, v->vol->path), 0);
    cr_assert_eq(crypt_load(cd, CRYPT_LUKS1, NULL), 0, "not LUKS1");
    /* A NULL name only checks the passphrase. */
    cr_assert_geq(
        crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, PASSPHRASE, strlen(PASSPHRASE), 0),
        0, "the hex of the Barbican key does not open the volume");
    crypt_free(cd);
    virDomainFree(dom);
}

Test(barbican, user_token_handed_to_the_driver_is_used)
{
    /* No [barbican_service_user]: only the handed-in token can work. */
    g_autofree char *extra =
        g_strdup_printf("[key_manager]\nbackend = barbican\n[barbican]\nbarbican_endpoint = %s\n",
                        nv_barbican_get()->barbican_url);
    g_autoptr(nv_driver) driver = open_driver_with(NULL, extra);
    g_autoptr(bb_volume) v =
        bb_volume_new("33333333-0000-0000-0000-000000000004", "bb-token.luks", NULL, FALSE);
    virDomainPtr dom = start_domain("bb-token");
    g_auto(host_state) before = { 0 };
    g_autofree char *message = g_strdup_printf(
        "volume 33333333-0000-0000-0000-000000000004: key %s: [barbican_service_user] "
        "auth_type is not set and no token was handed to the driver",
        v->key_id);

    snapshot(&before, "bb-token", v->vol->path);
    attach_fails(driver, "bb-token", v->vol, NV_ERROR_CONFIG, message);
    assert_unchanged(&before, "bb-token", v->vol->path);
    nv_driver_set_auth_token(driver, nv_barbican_nova_token());
    attach_reads_plaintext(driver, "bb-token", dom, v);
    virDomainFree(dom);
}

/* ---- errors: one line naming volume and key; the host unchanged --------- */

static void
attach_refused(const char *conf_extra, const char *volume_id, const char *domain,
               const char *key_id, int code, const char *expected_tail)
{
    g_autoptr(nv_driver) driver = open_driver_with(NULL, conf_extra);
    g_autofree char *file = g_strdup_printf("%s.luks", domain);
    g_autoptr(bb_volume) v = bb_volume_new(volume_id, file, key_id, FALSE);
    virDomainPtr dom = start_domain(domain);
    g_auto(host_state) before = { 0 };
    g_autofree char *message =
        g_strdup_printf("volume %s: key %s: %s", volume_id, v->key_id, expected_tail);

    snapshot(&before, domain, v->vol->path);
    attach_fails(driver, domain, v->vol, code, message);
    assert_unchanged(&before, domain, v->vol->path);
    cr_assert_not(has_volume_secret(volume_id));
    virDomainFree(dom);
}

Test(barbican, wrong_password_is_401_naming_user_and_auth_url)
{
    const nv_barbican *bb = nv_barbican_get();
    g_autofree char *extra = password_section("nova", "not-the-password");
    g_autofree char *tail =
        g_strdup_printf("authentication failed for user 'nova' (domain Default) at %s (HTTP 401)",
                        bb->keystone_url);

    attach_refused(extra, "33333333-0000-0000-0000-000000000011", "bb-401", NULL, NV_ERROR_AUTH,
                   tail);
}

Test(barbican, wrong_application_credential_secret_is_401_naming_it)
{
    const nv_barbican *bb = nv_barbican_get();
    g_autofree char *good = app_cred_section();
    g_autofree char *extra = g_strconcat(good, "application_credential_secret = wrong\n", NULL);
    g_autofree char *tail =
        g_strdup_printf("authentication failed for application credential '%s' at %s (HTTP 401)",
                        bb->app_cred_id, bb->keystone_url);

    attach_refused(extra, "33333333-0000-0000-0000-000000000012", "bb-401ac", NULL, NV_ERROR_AUTH,
                   tail);
}

Test(barbican, user_without_read_right_is_403)
{
    const nv_barbican *bb = nv_barbican_get();
    g_autofree char *extra = password_section("eve", bb->eve_password);
    g_autofree char *tail = g_strdup_printf(
        "user 'eve' (domain Default) may not read it from Barbican at %s (HTTP 403)",
        bb->barbican_url);

    attach_refused(extra, "33333333-0000-0000-0000-000000000013", "bb-403", NULL, NV_ERROR_AUTH,
                   tail);
}

Test(barbican, unknown_key_id_is_404)
{
    g_autofree char *extra = password_section("nova", nv_barbican_get()->nova_password);
    g_autofree char *tail =
        g_strdup_printf("not found in Barbican at %s (HTTP 404)", nv_barbican_get()->barbican_url);

    attach_refused(extra, "33333333-0000-0000-0000-000000000014", "bb-404",
                   "0badc0de-0000-4000-8000-000000000000", NV_ERROR_NOT_FOUND, tail);
}

Test(barbican, barbican_down_without_a_secret_is_unreachable_naming_the_endpoint)
{
    g_autofree char *extra = password_section("nova", nv_barbican_get()->nova_password);
    g_autoptr(nv_driver) driver = open_driver_with(NULL, extra);
    g_autoptr(bb_volume) v =
        bb_volume_new("33333333-0000-0000-0000-000000000015", "bb-down.luks", NULL, FALSE);
    virDomainPtr dom = start_domain("bb-down");
    g_auto(host_state) before = { 0 };
    g_autoptr(GError) error = NULL;
    g_autofree char *prefix = g_strdup_printf(
        "volume 33333333-0000-0000-0000-000000000015: key %s: key manager unreachable: cannot "
        "reach %s/v1/secrets/%s/payload (",
        v->key_id, nv_barbican_get()->barbican_url, v->key_id);

    snapshot(&before, "bb-down", v->vol->path);
    nv_barbican_stop();
    cr_assert_not(nv_driver_attach_volume(driver, "bb-down", &v->vol->request, &error));
    nv_barbican_start();
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNREACHABLE), "%s",
              error ? error->message : "");
    cr_assert(g_str_has_prefix(error->message, prefix), "%s", error->message);
    assert_unchanged(&before, "bb-down", v->vol->path);
    virDomainFree(dom);
}

/* ---- tokens ------------------------------------------------------------- */

/* The fixture's Keystone issues short-lived tokens: the driver's cached
 * token expires between the two attaches and the second one gets a new
 * one.  (That nvirt renews before expires_at rather than after a 401, and
 * that a valid token is reused, is pinned by the unit tests: Barbican's own
 * keystonemiddleware logins make Keystone's request count useless here.) */
Test(barbican, attach_after_the_token_expired_renews_it)
{
    g_autoptr(nv_driver) driver = nova_driver();
    g_autoptr(bb_volume) v =
        bb_volume_new("33333333-0000-0000-0000-000000000021", "bb-expiry.luks", NULL, FALSE);
    virDomainPtr dom = start_domain("bb-expiry");

    attach_ok(driver, "bb-expiry", v->vol);
    detach_ok(driver, "bb-expiry", v->vol);
    g_usleep((gulong)(nv_barbican_get()->token_lifetime + 1) * G_USEC_PER_SEC);
    attach_ok(driver, "bb-expiry", v->vol);
    detach_ok(driver, "bb-expiry", v->vol);
    virDomainFree(dom);
}

Test(barbican, revoked_token_is_renewed_on_401)
{
    g_autoptr(nv_driver) driver = nova_driver();
    g_autoptr(bb_volume) v =
        bb_volume_new("33333333-0000-0000-0000-000000000022", "bb-revoke.luks", NULL, FALSE);
    virDomainPtr dom = start_domain("bb-revoke");

    attach_ok(driver, "bb-revoke", v->vol);
    detach_ok(driver, "bb-revoke", v->vol);
    /* The cached token is now refused by Barbican (401) though not expired. */
    nv_barbican_revoke_nova();
    attach_ok(driver, "bb-revoke", v->vol);
    detach_ok(driver, "bb-revoke", v->vol);
    virDomainFree(dom);
}

/* ---- the reuse rule (nova bug 1905701) ---------------------------------- */

/* A volume secret as a previous attach (or Nova) left it. */
static void
define_volume_secret(const char *volume_id)
{
    virConnectPtr conn = connect_daemon();
    g_autofree char *xml = g_strdup_printf(
        "<secret ephemeral='no' private='yes'><usage type='volume'><volume>%s</volume></usage>"
        "</secret>",
        volume_id);
    virSecretPtr secret = virSecretDefineXML(conn, xml, 0);

    cr_assert_not_null(secret);
    cr_assert(virSecretSetValue(secret, (const unsigned char *)PASSPHRASE, strlen(PASSPHRASE), 0) ==
              0);
    virSecretFree(secret);
    virConnectClose(conn);
}

Test(barbican, barbican_down_with_an_existing_secret_attaches)
{
    g_autoptr(nv_driver) driver = nova_driver();
    g_autoptr(bb_volume) v =
        bb_volume_new("33333333-0000-0000-0000-000000000031", "bb-reuse.luks", NULL, FALSE);

    define_volume_secret("33333333-0000-0000-0000-000000000031");
    nv_barbican_stop();
    attach_reads_plaintext(driver, "bb-reuse", NULL, v);
    nv_barbican_start();
}

Test(barbican, unknown_backend_with_an_existing_secret_attaches)
{
    g_autoptr(nv_driver) driver = open_driver_with(NULL, "[key_manager]\nbackend = vault\n");
    g_autoptr(bb_volume) v = bb_volume_new("33333333-0000-0000-0000-000000000032", "bb-vault.luks",
                                           "0badc0de-0000-4000-8000-000000000001", FALSE);

    define_volume_secret("33333333-0000-0000-0000-000000000032");
    attach_reads_plaintext(driver, "bb-vault", NULL, v);
}

/* ---- key hygiene --------------------------------------------------------- */

/* As test_key_hygiene.c, with the key read from Barbican: the CLI formats a
 * blank volume and attaches it; neither the key (raw, hex) nor nova's
 * password is in any argv, environment, file write or output. */
Test(barbican, cli_attach_keeps_key_and_password_out_of_argv_env_files_and_output)
{
    const nv_barbican *bb = nv_barbican_get();
    g_autofree char *extra = password_section("nova", bb->nova_password);
    g_autofree char *conf = write_conf("bb-hygiene.conf", NULL, extra);
    g_autofree char *key_id = nv_barbican_store(FIXED_KEY);
    g_autofree char *enc_text = encryption_for(key_id);
    g_autofree char *image = nv_harness_path("bb-hygiene.img");
    g_autofree char *ci = nv_harness_path("bb-hygiene-ci.json");
    g_autofree char *enc = nv_harness_path("bb-hygiene-enc.json");
    g_autofree char *ci_text = connection_info("33333333-0000-0000-0000-000000000041", image, TRUE);
    g_autofree char *log = nv_harness_path("bb-hygiene.strace");
    virDomainPtr dom = start_domain("bb-hygiene");
    key_forms keys;
    key_forms password;
    trace_summary sum = { 0 };
    trace_summary pw_sum = { 0 };
    run_result r = { 0 };
    const char *args[] = {
        "--config-file", conf, "attach-volume", "bb-hygiene", "-i", ci, "-e", enc, "-m", "sdb", NULL
    };

    key_forms_init(&keys, FIXED_KEY);
    key_forms_init(&password, bb->nova_password);
    cr_assert(g_file_set_contents(ci, ci_text, -1, NULL));
    cr_assert(g_file_set_contents(enc, enc_text, -1, NULL));
    cr_assert(g_file_set_contents(image, "", 0, NULL));
    cr_assert_eq(truncate(image, 4 * VOLUME_SIZE), 0);

    run_traced(log, args, &r);
    cr_assert_eq(r.status, 0, "attach failed: %s", r.err);
    assert_output_clean(&r, &keys);
    cr_assert_str_empty(leak_in(r.err, strlen(r.err), &password), "the password on stderr");
    cr_assert(has_volume_secret("33333333-0000-0000-0000-000000000041"));
    check_trace(log, &keys, &sum);
    check_trace(log, &password, &pw_sum);
    cr_assert_geq(sum.execs, 1, "the trace shows no execve: not an strace log?");
    cr_assert_geq(sum.file_writes, 1, "the trace shows no write to a file");
    cr_assert(sum.key_on_socket,
              "the passphrase is in no write to libvirtd's socket: the trace cannot see it");
    g_unlink(log);
    run_result_clear(&r);
    key_forms_clear(&keys);
    key_forms_clear(&password);
    virDomainFree(dom);
}
