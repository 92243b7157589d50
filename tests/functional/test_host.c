/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host module against a private libvirtd (nova/tests/unit/virt/libvirt/
 * test_host.py covers the same calls with a fake libvirt).
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <glib/gstdio.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>

#include "nvirt/error.h"
#include "util/secure.h"
#include "virt/libvirt/config.h"
#include "virt/libvirt/host.h"

#define PASSPHRASE  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define VOLUME_SIZE (1024 * 1024)

static nv_host *
open_host(void)
{
    g_autoptr(GError) error = NULL;
    nv_host *host = nv_host_open(nv_harness_uri(), &error);

    cr_assert(host != NULL, "%s", error ? error->message : "");
    return host;
}

static nv_secure_buf *
passphrase(void)
{
    return nv_secure_buf_new_from(PASSPHRASE, strlen(PASSPHRASE));
}

static char *
create_secret(nv_host *host, const char *volume_id)
{
    g_autoptr(nv_secure_buf) pass = passphrase();
    g_autoptr(GError) error = NULL;
    char *uuid = nv_host_create_volume_secret(host, volume_id, NULL, pass, &error);

    cr_assert(uuid != NULL, "%s", error ? error->message : "");
    return uuid;
}

static char *
find_secret(nv_host *host, const char *volume_id)
{
    g_autoptr(GError) error = NULL;
    char *uuid = NULL;

    cr_assert(nv_host_find_volume_secret(host, volume_id, &uuid, &error), "%s",
              error ? error->message : "");
    cr_assert_null(error);
    return uuid;
}

/* ---- connection ---------------------------------------------------------- */

Test(host, open_bad_uri_names_the_uri)
{
    g_autoptr(GError) error = NULL;
    nv_host *host = nv_host_open("qemu+unix:///system?socket=/nonexistent/libvirt-sock", &error);

    cr_assert_null(host);
    cr_assert_eq(error->code, NV_ERROR_LIBVIRT);
    cr_assert_str_eq(error->message,
                     "cannot connect to libvirt at 'qemu+unix:///system?socket=/nonexistent/"
                     "libvirt-sock': Failed to connect socket to '/nonexistent/libvirt-sock': No "
                     "such file or directory");
}

Test(host, open_fails_naming_the_uri_when_the_daemon_is_stopped)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *expected = NULL;
    nv_host *host;

    nv_harness_stop_daemon();
    host = nv_host_open(nv_harness_uri(), &error);
    nv_harness_start_daemon();

    cr_assert_null(host);
    cr_assert_eq(error->code, NV_ERROR_LIBVIRT);
    /* libvirtd removes its socket on exit. */
    expected = g_strdup_printf("cannot connect to libvirt at '%s': Failed to connect socket to "
                               "'%s/sock/libvirt-sock': No such file or directory",
                               nv_harness_uri(), nv_harness_dir());
    cr_assert_str_eq(error->message, expected);
}

Test(host, libvirt_errors_on_the_connection_are_not_printed_on_stderr, .init = cr_redirect_stderr)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(GError) error = NULL;

    cr_assert_not(nv_host_delete_volume_secret(host, "host-stderr", &error));
    fflush(stderr);
    cr_assert_stderr_eq_str("");
}

static void
count_libvirt_error(void *opaque, virErrorPtr err)
{
    (*(int *)opaque)++;
}

/* A library is a guest in its process: the program's own process-wide
 * libvirt error handler stays installed and keeps getting what has no
 * connection, while errors on nvirt's connection go to nvirt alone. */
Test(host, the_process_wide_libvirt_error_handler_is_left_alone)
{
    int calls = 0;
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(nv_host) host = NULL;

    virSetErrorFunc(&calls, count_libvirt_error);
    host = open_host();
    cr_assert_null(nv_host_open("qemu+unix:///system?socket=/nonexistent/sock", &e1));
    cr_assert_geq(calls, 1, "the program's handler was replaced");
    calls = 0;
    cr_assert_not(nv_host_delete_volume_secret(host, "host-handler", &e2));
    cr_assert_eq(calls, 0, "an error on nvirt's connection reached the program's handler");
    virSetErrorFunc(NULL, NULL);
}

Test(host, uri_and_connection_are_kept)
{
    g_autoptr(nv_host) host = open_host();

    cr_assert_str_eq(nv_host_get_uri(host), nv_harness_uri());
    cr_assert(virConnectIsAlive(nv_host_get_connection(host)) == 1);
}

/* ---- versions ------------------------------------------------------------ */

Test(host, lib_version_is_the_installed_libvirtd)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(GError) error = NULL;
    guint64 version = 0;

    cr_assert(nv_host_get_lib_version(host, &version, &error), "%s", error ? error->message : "");
    cr_assert_eq(version, nv_harness_program_version("libvirtd"));
    cr_assert_geq(version, NV_VERSION(9, 0, 0));
}

Test(host, hypervisor_version_is_the_installed_qemu)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(GError) error = NULL;
    guint64 version = 0;

    cr_assert(nv_host_get_hypervisor_version(host, &version, &error), "%s",
              error ? error->message : "");
    cr_assert_eq(version, nv_harness_program_version("qemu-system-x86_64"));
    cr_assert_geq(version, NV_HARNESS_QEMU_MIN_PLAUSIBLE);
}

struct min_version_case {
    const char *name;
    gint64 lib_delta; /* added to the real version; G_MININT64: pass 0 */
    gint64 hv_delta;
    gboolean expected;
};

Test(host, has_min_version_compares_both_sides)
{
    static const struct min_version_case cases[] = {
        { "no check", G_MININT64, G_MININT64, TRUE },
        { "libvirt equal", 0, G_MININT64, TRUE },
        { "libvirt older required", -1, G_MININT64, TRUE },
        { "libvirt newer required", 1, G_MININT64, FALSE },
        { "qemu equal", G_MININT64, 0, TRUE },
        { "qemu newer required", G_MININT64, 1, FALSE },
        { "both equal", 0, 0, TRUE },
        { "libvirt ok, qemu newer required", 0, 1, FALSE },
        { "libvirt newer required, qemu ok", 1, 0, FALSE },
    };
    g_autoptr(nv_host) host = open_host();
    guint64 lv = 0, hv = 0;

    cr_assert(nv_host_get_lib_version(host, &lv, NULL));
    cr_assert(nv_host_get_hypervisor_version(host, &hv, NULL));
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const struct min_version_case *c = &cases[i];
        guint64 want_lv = c->lib_delta == G_MININT64 ? 0 : lv + c->lib_delta;
        guint64 want_hv = c->hv_delta == G_MININT64 ? 0 : hv + c->hv_delta;
        g_autoptr(GError) error = NULL;

        cr_expect_eq(nv_host_has_min_version(host, want_lv, want_hv, &error), c->expected,
                     "case '%s'", c->name);
        cr_expect_null(error, "case '%s'", c->name);
    }
}

Test(host, has_min_version_sees_an_old_qemu)
{
    g_autoptr(nv_host) host = NULL;
    gboolean luks_gate, at_old;

    /* Spec: native LUKS needs QEMU >= 2.6.0 and libvirt >= 2.2.0. */
    nv_harness_set_qemu_version(NV_VERSION(2, 5, 0));
    host = open_host();
    luks_gate = nv_host_has_min_version(host, NV_VERSION(2, 2, 0), NV_VERSION(2, 6, 0), NULL);
    at_old = nv_host_has_min_version(host, NV_VERSION(2, 2, 0), NV_VERSION(2, 5, 0), NULL);
    g_clear_pointer(&host, nv_host_free);
    nv_harness_reset_qemu_version();

    cr_assert_not(luks_gate);
    cr_assert(at_old);
}

/* ---- secrets --------------------------------------------------------------- */

Test(host, created_secret_is_found_by_volume_and_deleted)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(GError) error = NULL;
    g_autofree char *uuid = create_secret(host, "host-crud");
    g_autofree char *found = find_secret(host, "host-crud");
    g_autofree char *after = NULL;

    cr_assert_str_eq(found, uuid);
    cr_assert(nv_host_delete_volume_secret(host, "host-crud", &error), "%s",
              error ? error->message : "");
    after = find_secret(host, "host-crud");
    cr_assert_null(after);
}

Test(host, secret_is_a_persistent_private_volume_secret)
{
    g_autoptr(nv_host) host = open_host();
    g_autofree char *uuid = create_secret(host, "host-xml");
    virSecretPtr secret = virSecretLookupByUUIDString(nv_host_get_connection(host), uuid);
    g_autofree char *xml = virSecretGetXMLDesc(secret, 0);
    g_autoptr(nv_secret_config) conf = nv_secret_config_parse(xml, NULL);

    cr_assert_not_null(conf, "%s", xml);
    cr_assert_not(conf->ephemeral);
    cr_assert(conf->private_);
    cr_assert_str_eq(conf->usage_type, "volume");
    cr_assert_str_eq(conf->usage_id, "host-xml");
    cr_assert_str_eq(conf->uuid, uuid);
    virSecretFree(secret);
    nv_host_delete_volume_secret(host, "host-xml", NULL);
}

Test(host, secret_is_created_with_the_given_uuid)
{
    static const char uuid[] = "5e3ba7b0-6c1d-4b8e-9a51-0c2d2f0e7a11";
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_secure_buf) pass = passphrase();
    g_autoptr(GError) error = NULL;
    g_autofree char *created =
        nv_host_create_volume_secret(host, "host-given-uuid", uuid, pass, &error);

    cr_assert_str_eq(created, uuid, "%s", error ? error->message : "");
    nv_host_delete_volume_secret(host, "host-given-uuid", NULL);
}

Test(host, second_secret_for_a_volume_is_a_libvirt_error)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_secure_buf) pass = passphrase();
    g_autoptr(GError) error = NULL;
    g_autofree char *uuid = create_secret(host, "host-dup");
    g_autofree char *again = nv_host_create_volume_secret(host, "host-dup", NULL, pass, &error);
    g_autofree char *expected = g_strdup_printf(
        "secret for volume host-dup: internal error: a secret with UUID %s already defined "
        "for use with host-dup",
        uuid);

    cr_assert_null(again);
    cr_assert_eq(error->code, NV_ERROR_LIBVIRT);
    cr_assert_str_eq(error->message, expected);
    nv_host_delete_volume_secret(host, "host-dup", NULL);
}

Test(host, empty_volume_id_is_bad_input)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_secure_buf) pass = passphrase();
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_host_create_volume_secret(host, "", NULL, pass, &error));
    cr_assert_eq(error->code, NV_ERROR_BAD_INPUT);
    cr_assert_str_eq(error->message, "volume secret: the volume id is empty");
}

Test(host, find_missing_secret_is_not_an_error)
{
    g_autoptr(nv_host) host = open_host();
    g_autofree char *uuid = find_secret(host, "host-never-created");

    cr_assert_null(uuid);
}

Test(host, delete_missing_secret_is_not_found)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(GError) error = NULL;

    cr_assert_not(nv_host_delete_volume_secret(host, "host-never-created", &error));
    cr_assert_eq(error->code, NV_ERROR_NOT_FOUND);
    cr_assert_str_eq(error->message, "secret for volume host-never-created not found");
}

Test(host, find_reports_a_lost_connection_instead_of_not_found)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(GError) error = NULL;
    char *uuid = NULL;
    gboolean ok;

    nv_harness_stop_daemon();
    ok = nv_host_find_volume_secret(host, "host-lost", &uuid, &error);
    nv_harness_start_daemon();

    cr_assert_not(ok);
    cr_assert_null(uuid);
    cr_assert_eq(error->code, NV_ERROR_LIBVIRT);
    cr_assert(g_str_has_prefix(error->message, "secret for volume host-lost: "), "%s",
              error->message);
}

Test(host, secret_value_cannot_be_read_back)
{
    g_autoptr(nv_host) host = open_host();
    g_autofree char *uuid = create_secret(host, "host-private");
    virSecretPtr secret = virSecretLookupByUUIDString(nv_host_get_connection(host), uuid);
    size_t len = 0;
    unsigned char *value = virSecretGetValue(secret, &len, 0);
    virErrorPtr err = virGetLastError();

    cr_assert_null(value);
    cr_assert_eq(err->code, VIR_ERR_INVALID_SECRET);
    cr_assert_str_eq(err->message, "Invalid secret: secret is private");
    virSecretFree(secret);
    nv_host_delete_volume_secret(host, "host-private", NULL);
}

Test(host, has_value_is_unsupported_for_private_secrets)
{
    g_autoptr(nv_host) host = open_host();
    g_autofree char *uuid = create_secret(host, "host-has-value-private");
    g_autoptr(GError) error = NULL;
    gboolean has = TRUE;

    cr_assert_not(nv_host_volume_secret_has_value(host, "host-has-value-private", &has, &error));
    cr_assert_eq(error->code, NV_ERROR_UNSUPPORTED);
    cr_assert_str_eq(error->message, "secret for volume host-has-value-private is private: "
                                     "cannot tell whether it has a value");
    nv_host_delete_volume_secret(host, "host-has-value-private", NULL);
}

/* A secret as Nova defines it (private='no'), before and after its value. */
Test(host, has_value_tells_a_public_secret_with_and_without_value)
{
    static const char xml[] = "<secret ephemeral='no' private='no'><usage type='volume'>"
                              "<volume>host-has-value</volume></usage></secret>";
    g_autoptr(nv_host) host = open_host();
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    virSecretPtr secret = virSecretDefineXML(nv_host_get_connection(host), xml, 0);
    gboolean before = TRUE, after = FALSE;

    cr_assert_not_null(secret);
    cr_assert(nv_host_volume_secret_has_value(host, "host-has-value", &before, &e1), "%s",
              e1 ? e1->message : "");
    cr_assert(virSecretSetValue(secret, (const unsigned char *)"x", 1, 0) == 0);
    cr_assert(nv_host_volume_secret_has_value(host, "host-has-value", &after, &e2), "%s",
              e2 ? e2->message : "");
    virSecretFree(secret);
    nv_host_delete_volume_secret(host, "host-has-value", NULL);

    cr_assert_not(before);
    cr_assert(after);
}

/* What nv_host_create_volume_secret() leaves when a crash cuts it short:
 * an ephemeral private secret, with or without its value.  Neither may be
 * reused (libvirt would not even say whether it has a value). */
Test(host, has_value_is_false_for_an_unfinished_ephemeral_secret)
{
    static const char xml[] = "<secret ephemeral='yes' private='yes'><usage type='volume'>"
                              "<volume>host-unfinished</volume></usage></secret>";
    g_autoptr(nv_host) host = open_host();
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    virSecretPtr secret = virSecretDefineXML(nv_host_get_connection(host), xml, 0);
    gboolean before = TRUE, after = TRUE;

    cr_assert_not_null(secret);
    cr_assert(nv_host_volume_secret_has_value(host, "host-unfinished", &before, &e1), "%s",
              e1 ? e1->message : "");
    cr_assert(virSecretSetValue(secret, (const unsigned char *)"x", 1, 0) == 0);
    cr_assert(nv_host_volume_secret_has_value(host, "host-unfinished", &after, &e2), "%s",
              e2 ? e2->message : "");
    virSecretFree(secret);
    nv_host_delete_volume_secret(host, "host-unfinished", NULL);

    cr_assert_not(before, "an ephemeral secret without a value was taken as finished");
    cr_assert_not(after, "an ephemeral secret with a value was taken as finished");
}

Test(host, has_value_of_missing_secret_is_not_found)
{
    g_autoptr(nv_host) host = open_host();
    g_autoptr(GError) error = NULL;
    gboolean has = TRUE;

    cr_assert_not(nv_host_volume_secret_has_value(host, "host-never-created", &has, &error));
    cr_assert_eq(error->code, NV_ERROR_NOT_FOUND);
    cr_assert_str_eq(error->message, "secret for volume host-never-created not found");
}

/* libvirt stores the value as secrets/UUID.base64 (virFileRewrite: write
 * UUID.base64.new, rename); a directory in the way makes virSecretSetValue
 * fail inside the daemon after the define succeeded. */
Test(host, failed_set_value_leaves_no_secret_behind)
{
    static const char uuid[] = "0b7c4d2e-3f1a-4c5b-8d6e-7f8091a2b3c4";
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_secure_buf) pass = passphrase();
    g_autoptr(GError) error = NULL;
    g_autofree char *blocker =
        g_strdup_printf("%s/etc/secrets/%s.base64.new", nv_harness_dir(), uuid);
    g_autofree char *created = NULL;
    g_autofree char *left = NULL;

    cr_assert(g_mkdir_with_parents(blocker, 0700) == 0);
    created = nv_host_create_volume_secret(host, "host-set-fails", uuid, pass, &error);
    g_rmdir(blocker);
    left = find_secret(host, "host-set-fails");

    cr_assert_null(created);
    cr_assert_eq(error->code, NV_ERROR_LIBVIRT);
    cr_assert(g_str_has_prefix(error->message, "secret for volume host-set-fails: "), "%s",
              error->message);
    cr_assert_null(left, "secret %s was left defined", left);
}

/* nova bug 1905701: power-on after a host or libvirtd restart finds the
 * secret instead of asking the key manager; QEMU must still get the value. */
Test(host, secret_and_its_value_survive_a_daemon_restart)
{
    g_autofree char *path = nv_harness_path("host-restart.luks");
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *found = NULL;
    g_autofree char *disk = NULL;
    g_autoptr(nv_host) host = open_host();
    virDomainPtr dom;

    nv_harness_create_luks_volume(path, PASSPHRASE, VOLUME_SIZE);
    uuid = create_secret(host, "host-restart");
    g_clear_pointer(&host, nv_host_free);

    nv_harness_restart_daemon();
    host = open_host();
    found = find_secret(host, "host-restart");
    cr_assert_str_eq(found, uuid);

    dom = nv_harness_start_domain(nv_host_get_connection(host), "host-restart");
    disk = nv_harness_disk_xml(path, "sda", uuid);
    cr_assert(virDomainAttachDeviceFlags(dom, disk, VIR_DOMAIN_AFFECT_LIVE) == 0, "%s",
              virGetLastErrorMessage());
    seen = nv_harness_read_back(dom, "sda", VOLUME_SIZE);
    cr_assert(g_bytes_equal(seen, plain), "QEMU did not decrypt with the restored secret");
    virDomainFree(dom);
}
