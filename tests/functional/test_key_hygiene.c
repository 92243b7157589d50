/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key hygiene of a real "nvirt attach-volume" / "detach-volume" (DESIGN.md:
 * key material never goes to argv, the environment, logs or files).
 *
 * The CLI runs under strace with every debug switch on (G_MESSAGES_DEBUG=all
 * and --debug), attaching a blank file volume, which nvirt formats as LUKS1
 * with the passphrase and then hands to QEMU through a libvirt secret.  The
 * trace shows every execve (argv and environment) and every write to a file
 * descriptor; none may carry the fixed key (as the config file spells it,
 * in hex), its raw bytes, or the passphrase derived from it.  Writes to
 * sockets are left out: the passphrase goes to libvirtd over RPC
 * (virSecretSetValue), and the test checks that it does, so a trace that
 * could not see the key cannot pass for a clean one.  The scan itself is in
 * key_scan.c (test_barbican.c runs it with a key read from Barbican).
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "key_scan.h"
#include "support.h"

/* Upper case, as an operator might write it; the passphrase is lower case. */
#define FIXED_KEY   "8F3A61C2D94E07B5A1C8E3F2096D4B7AE5C10F2B3D8A6E9147C2B5D0F3A8E61C"
#define VOLUME_ID   "22222222-0000-0000-0000-000000000001"
#define VOLUME_SIZE (4 * 1024 * 1024)

#define LUKS_ENCRYPTION                                                                            \
    "{\"provider\": \"luks\", \"control_location\": \"front-end\", "                               \
    "\"cipher\": \"aes-xts-plain64\", \"key_size\": 256, "                                         \
    "\"encryption_key_id\": \"00000000-0000-0000-0000-000000000000\"}"

static gboolean
has_volume_secret(void)
{
    virConnectPtr conn = nv_harness_connect();
    virSecretPtr secret = virSecretLookupByUsage(conn, VIR_SECRET_USAGE_TYPE_VOLUME, VOLUME_ID);
    gboolean found = secret != NULL;

    if (secret)
        virSecretFree(secret);
    virConnectClose(conn);
    return found;
}

static char *
live_xml(virDomainPtr dom)
{
    char *xml = virDomainGetXMLDesc(dom, 0);

    cr_assert_not_null(xml);
    return xml;
}

Test(key_hygiene, attach_and_detach_keep_the_key_out_of_argv_env_files_and_output)
{
    key_forms keys;
    g_autofree char *conf = nv_harness_path("hygiene.conf");
    g_autofree char *conf_text = g_strdup_printf(
        "[libvirt]\nconnection_uri = %s\n[key_manager]\nfixed_key = " FIXED_KEY "\n",
        nv_harness_uri());
    g_autofree char *volume = nv_harness_path("hygiene.img");
    g_autofree char *ci = nv_harness_path("hygiene-ci.json");
    g_autofree char *enc = nv_harness_path("hygiene-enc.json");
    g_autofree char *ci_text = g_strdup_printf(
        "{\"driver_volume_type\": \"file\", \"serial\": \"%s\", \"data\": {\"volume_id\": "
        "\"%s\", \"device_path\": \"%s\", \"encrypted\": true}}",
        VOLUME_ID, VOLUME_ID, volume);
    g_autofree char *attach_log = nv_harness_path("hygiene-attach.strace");
    g_autofree char *detach_log = nv_harness_path("hygiene-detach.strace");
    virConnectPtr conn = nv_harness_connect();
    virDomainPtr dom = nv_harness_start_domain(conn, "hygiene");
    trace_summary attach = { 0 };
    trace_summary detach = { 0 };
    run_result r = { 0 };
    g_autofree char *xml = NULL;

    key_forms_init(&keys, FIXED_KEY);
    cr_assert(g_file_set_contents(conf, conf_text, -1, NULL));
    cr_assert_eq(g_chmod(conf, 0600), 0);
    cr_assert(g_file_set_contents(ci, ci_text, -1, NULL));
    cr_assert(g_file_set_contents(enc, LUKS_ENCRYPTION, -1, NULL));
    /* Blank: nvirt formats it, so libcryptsetup gets the passphrase too. */
    cr_assert(g_file_set_contents(volume, "", 0, NULL));
    cr_assert_eq(truncate(volume, VOLUME_SIZE), 0);

    {
        const char *args[] = {
            "--config-file", conf, "attach-volume", "hygiene", "-i", ci, "-e", enc, "-m",
            "sdb",           NULL
        };

        run_traced(attach_log, args, &r);
        cr_assert_eq(r.status, 0, "attach failed: %s", r.err);
        assert_output_clean(&r, &keys);
        run_result_clear(&r);
    }
    xml = live_xml(dom);
    cr_assert_not_null(strstr(xml, volume), "the volume is not attached:\n%s", xml);
    cr_assert(has_volume_secret());
    check_trace(attach_log, &keys, &attach);
    cr_assert_geq(attach.execs, 1, "the trace shows no execve: not an strace log?");
    cr_assert_geq(attach.file_writes, 1, "the trace shows no write to a file");
    cr_assert(attach.key_on_socket,
              "the passphrase is in no write to libvirtd's socket: the trace cannot see it");

    {
        const char *args[] = {
            "detach-volume", "hygiene", "--config", conf, "-i", ci, "-e", enc, "-m", "sdb", NULL
        };

        run_traced(detach_log, args, &r);
        cr_assert_eq(r.status, 0, "detach failed: %s", r.err);
        assert_output_clean(&r, &keys);
        run_result_clear(&r);
    }
    cr_assert_not(has_volume_secret());
    check_trace(detach_log, &keys, &detach);
    cr_assert_geq(detach.execs, 1);

    /* The traces hold the passphrase as written to the socket. */
    g_unlink(attach_log);
    g_unlink(detach_log);
    key_forms_clear(&keys);
    virDomainFree(dom);
    virConnectClose(conn);
}
