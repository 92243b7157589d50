/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/migrate: what nvirt costs on top of the libvirt calls a live
 * migration with encrypted volumes needs (issue 13, target <= 1.10).
 *
 * A running TCG guest with N natively decrypted LUKS volumes (N from
 * --volumes, e.g. 1,8) migrates between two private daemons A and B, one
 * leg A->B and one B->A per round, in two variants interleaved round by
 * round in one run (the machine is shared: only ratios mean anything):
 *
 *   nvirt   nv_driver_pre_live_migration() on the destination's driver,
 *           nv_driver_live_migration() and nv_driver_post_live_migration()
 *           on the source's;
 *   direct  the same work by hand: per volume virSecretDefineXML +
 *           virSecretSetValue on the destination, both migratable XMLs
 *           with the UUIDs replaced as strings, virDomainMigrateToURI3
 *           with the same flags and parameters, virSecretUndefine of each
 *           source secret.
 *
 * Run it through bench/migrate.sh, which starts the daemons and makes the
 * volumes and the two configurations.
 */
#include "stats.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "keymgr/keymgr.h"
#include "nvirt/nvirt.h"
#include "util/secure.h"

#define TARGET_RATIO 1.10

static void
discard_libvirt_error(void *opaque, virErrorPtr err)
{
}

static G_NORETURN void
die(const char *what, const GError *error)
{
    fprintf(stderr, "bench/migrate: %s: %s\n", what,
            error ? error->message : virGetLastErrorMessage());
    exit(1);
}

typedef struct {
    const char *uri;
    nv_driver *driver;
    virConnectPtr conn;
} side;

typedef struct {
    side a, b;
    const char *domain;
    char *domain_xml;
    const char *dir;
    nv_secure_buf *passphrase;
    GPtrArray *connection_infos; /* char *, per volume */
    GPtrArray *volume_ids;       /* char * */
    nv_volume_request *requests;
    const nv_volume_request **request_ptrs;
    guint n;
} bench;

static const char encryption[] = "{\"provider\": \"luks\", \"control_location\": \"front-end\", "
                                 "\"cipher\": \"aes-xts-plain64\", \"key_size\": 256, "
                                 "\"encryption_key_id\": \"00000000-0000-0000-0000-000000000000\"}";

static void
setup_volumes(bench *b, guint n)
{
    b->n = n;
    b->connection_infos = g_ptr_array_new_with_free_func(g_free);
    b->volume_ids = g_ptr_array_new_with_free_func(g_free);
    b->requests = g_new0(nv_volume_request, n);
    b->request_ptrs = g_new0(const nv_volume_request *, n);
    for (guint i = 0; i < n; i++) {
        char *id = g_strdup_printf("6e1d0000-0000-4000-8000-%012u", i + 1);
        g_autofree char *path = g_strdup_printf("%s/vol-%02u.luks", b->dir, i + 1);
        char *info = g_strdup_printf(
            "{\"driver_volume_type\": \"file\", \"serial\": \"%s\", \"data\": {\"volume_id\": "
            "\"%s\", \"device_path\": \"%s\", \"encrypted\": true}}",
            id, id, path);

        g_ptr_array_add(b->volume_ids, id);
        g_ptr_array_add(b->connection_infos, info);
        b->requests[i].version = NV_VOLUME_REQUEST_VERSION;
        b->requests[i].connection_info = info;
        b->requests[i].encryption = encryption;
        b->requests[i].mountpoint = g_strdup_printf("sd%c", 'b' + i);
        b->request_ptrs[i] = &b->requests[i];
    }
}

static void
clear_volumes(bench *b)
{
    for (guint i = 0; i < b->n; i++)
        g_free((char *)b->requests[i].mountpoint);
    g_clear_pointer(&b->requests, g_free);
    g_clear_pointer(&b->request_ptrs, g_free);
    g_clear_pointer(&b->connection_infos, g_ptr_array_unref);
    g_clear_pointer(&b->volume_ids, g_ptr_array_unref);
}

/* ---- the two variants --------------------------------------------------- */

static void
nvirt_leg(bench *b, side *src, side *dst)
{
    g_autoptr(nv_migrate_data) data = NULL;
    g_autoptr(GError) error = NULL;

    data = nv_driver_pre_live_migration(dst->driver, b->domain, b->request_ptrs, b->n, &error);
    if (!data)
        die("nvirt pre_live_migration", error);
    if (!nv_driver_live_migration(src->driver, b->domain, dst->uri, data, NV_MIGRATE_UNSAFE,
                                  &error))
        die("nvirt live_migration", error);
    if (!nv_driver_post_live_migration(src->driver, b->domain, b->request_ptrs, b->n, &error))
        die("nvirt post_live_migration", error);
}

static void
direct_leg(bench *b, side *src, side *dst)
{
    g_autoptr(GString) live = NULL;
    g_autoptr(GString) persistent = NULL;
    virSecretPtr *old = g_new0(virSecretPtr, b->n);
    virTypedParameterPtr params = NULL;
    int nparams = 0, maxparams = 0;
    virDomainPtr dom;
    char *xml;

    dom = virDomainLookupByName(src->conn, b->domain);
    if (!dom)
        die("direct: domain", NULL);
    xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_MIGRATABLE);
    live = g_string_new(xml);
    free(xml);
    xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_MIGRATABLE | VIR_DOMAIN_XML_INACTIVE);
    persistent = g_string_new(xml);
    free(xml);
    for (guint i = 0; i < b->n; i++) {
        const char *id = g_ptr_array_index(b->volume_ids, i);
        g_autofree char *secret_xml = g_strdup_printf(
            "<secret ephemeral='no' private='yes'><usage type='volume'><volume>%s</volume>"
            "</usage></secret>",
            id);
        char old_uuid[VIR_UUID_STRING_BUFLEN], new_uuid[VIR_UUID_STRING_BUFLEN];
        virSecretPtr secret = virSecretDefineXML(dst->conn, secret_xml, 0);

        if (!secret ||
            virSecretSetValue(secret, nv_secure_buf_cdata(b->passphrase),
                              nv_secure_buf_len(b->passphrase), 0) < 0 ||
            virSecretGetUUIDString(secret, new_uuid) < 0)
            die("direct: destination secret", NULL);
        virSecretFree(secret);
        old[i] = virSecretLookupByUsage(src->conn, VIR_SECRET_USAGE_TYPE_VOLUME, id);
        if (!old[i] || virSecretGetUUIDString(old[i], old_uuid) < 0)
            die("direct: source secret", NULL);
        g_string_replace(live, old_uuid, new_uuid, 0);
        g_string_replace(persistent, old_uuid, new_uuid, 0);
    }
    if (virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_DEST_XML,
                                live->str) < 0 ||
        virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_PERSIST_XML,
                                persistent->str) < 0)
        die("direct: parameters", NULL);
    if (virDomainMigrateToURI3(dom, dst->uri, params, (unsigned int)nparams,
                               VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
                                   VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_UNSAFE) < 0)
        die("direct: migrate", NULL);
    virTypedParamsFree(params, nparams);
    virDomainFree(dom);
    for (guint i = 0; i < b->n; i++) {
        if (virSecretUndefine(old[i]) < 0)
            die("direct: source secret undefine", NULL);
        virSecretFree(old[i]);
    }
    g_free(old);
}

/* ---- measuring ---------------------------------------------------------- */

typedef void (*leg_fn)(bench *b, side *src, side *dst);

/* One round trip A->B->A; returns the two legs' times. */
static void
round_trip(bench *b, leg_fn leg, gint64 *there, gint64 *back)
{
    gint64 t0 = g_get_monotonic_time();

    leg(b, &b->a, &b->b);
    *there = g_get_monotonic_time() - t0;
    t0 = g_get_monotonic_time();
    leg(b, &b->b, &b->a);
    *back = g_get_monotonic_time() - t0;
}

static void
run(bench *b, guint n, guint rounds, guint warmup)
{
    g_autofree gint64 *nv = g_new0(gint64, 2 * rounds);
    g_autofree gint64 *direct = g_new0(gint64, 2 * rounds);
    g_autofree gint64 *paired = g_new0(gint64, rounds);
    g_autoptr(GError) error = NULL;
    virDomainPtr dom;
    double nv_med, direct_med, ratio, paired_ratio;

    setup_volumes(b, n);
    dom = virDomainDefineXML(b->a.conn, b->domain_xml);
    if (!dom || virDomainCreate(dom) < 0)
        die("start the domain on A", NULL);
    virDomainFree(dom);
    for (guint i = 0; i < n; i++)
        if (!nv_driver_attach_volume(b->a.driver, b->domain, &b->requests[i], &error))
            die("attach", error);

    for (guint w = 0; w < warmup; w++) {
        gint64 x, y;

        round_trip(b, nvirt_leg, &x, &y);
        round_trip(b, direct_leg, &x, &y);
    }
    for (guint r = 0; r < rounds; r++) {
        /* Alternate which variant goes first, so neither always follows
         * the other's leftovers. */
        if (r % 2 == 0) {
            round_trip(b, nvirt_leg, &nv[2 * r], &nv[2 * r + 1]);
            round_trip(b, direct_leg, &direct[2 * r], &direct[2 * r + 1]);
        } else {
            round_trip(b, direct_leg, &direct[2 * r], &direct[2 * r + 1]);
            round_trip(b, nvirt_leg, &nv[2 * r], &nv[2 * r + 1]);
        }
        paired[r] = (nv[2 * r] + nv[2 * r + 1]) * 1000000 / (direct[2 * r] + direct[2 * r + 1]);
    }
    nv_med = bench_median_ms(nv, 2 * rounds);
    direct_med = bench_median_ms(direct, 2 * rounds);
    ratio = nv_med / direct_med;
    paired_ratio = bench_median_ms(paired, rounds) / 1000.0;
    printf("\n%u encrypted volume(s), %u rounds (2 legs each), %u warm-up\n", n, rounds, warmup);
    printf("  nvirt  (pre + migrate + post)   median %8.1f ms per leg\n", nv_med);
    printf("  direct (same libvirt calls)     median %8.1f ms per leg\n", direct_med);
    printf("  ratio nvirt/direct of medians: %.3f (target <= %.2f: %s)\n", ratio, TARGET_RATIO,
           ratio <= TARGET_RATIO ? "PASS" : "MISS");
    printf("  median of per-round ratios: %.3f\n", paired_ratio);
    printf("RESULT migrate volumes=%u rounds=%u nvirt_med_ms=%.1f direct_med_ms=%.1f ratio=%.3f "
           "paired_ratio=%.3f %s\n",
           n, rounds, nv_med, direct_med, ratio, paired_ratio,
           ratio <= TARGET_RATIO ? "PASS" : "MISS");
    fflush(stdout);

    for (guint i = 0; i < n; i++)
        if (!nv_driver_detach_volume(b->a.driver, b->domain, &b->requests[i], &error))
            die("detach", error);
    dom = virDomainLookupByName(b->a.conn, b->domain);
    if (dom) {
        virDomainDestroy(dom);
        virDomainUndefine(dom);
        virDomainFree(dom);
    }
    clear_volumes(b);
}

static void
open_side(side *s, const char *uri, const char *config)
{
    g_autoptr(GError) error = NULL;

    s->uri = uri;
    s->driver = nv_driver_open(config, uri, NULL, &error);
    if (!s->driver)
        die(config, error);
    s->conn = virConnectOpen(uri);
    if (!s->conn)
        die(uri, NULL);
    virConnSetErrorFunc(s->conn, NULL, discard_libvirt_error);
}

int
main(int argc, char **argv)
{
    static char *uri_a, *uri_b, *config_a, *config_b, *dir, *domain_xml, *counts;
    static int rounds = 5, warmup = 1;
    GOptionEntry entries[] = {
        { "uri-a", 0, 0, G_OPTION_ARG_STRING, &uri_a, "libvirt URI of A", "URI" },
        { "uri-b", 0, 0, G_OPTION_ARG_STRING, &uri_b, "libvirt URI of B", "URI" },
        { "config-a", 0, 0, G_OPTION_ARG_FILENAME, &config_a, "nvirt config for A", "FILE" },
        { "config-b", 0, 0, G_OPTION_ARG_FILENAME, &config_b, "nvirt config for B", "FILE" },
        { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "directory of vol-NN.luks", "DIR" },
        { "domain-xml", 0, 0, G_OPTION_ARG_FILENAME, &domain_xml, "domain to migrate", "FILE" },
        { "volumes", 0, 0, G_OPTION_ARG_STRING, &counts, "volume counts, e.g. 1,8", "LIST" },
        { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "measured round trips", "N" },
        { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "warm-up round trips", "N" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) list = NULL;
    g_autoptr(nv_conf) conf = NULL;
    g_autoptr(nv_keymgr) keymgr = NULL;
    bench b = { 0 };

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        die("options", error);
    if (!uri_a || !uri_b || !config_a || !config_b || !dir || !domain_xml || rounds < 1 ||
        warmup < 0)
        die("options", NULL);
    signal(SIGPIPE, SIG_IGN);
    virSetErrorFunc(NULL, discard_libvirt_error);
    if (!g_file_get_contents(domain_xml, &b.domain_xml, NULL, &error))
        die(domain_xml, error);
    b.domain = "nvirt-bench-mig";
    b.dir = dir;
    open_side(&b.a, uri_a, config_a);
    open_side(&b.b, uri_b, config_b);
    /* The direct variant's passphrase, derived in memory as nvirt does. */
    conf = nv_conf_load(config_a, NULL, &error);
    keymgr = conf ? nv_keymgr_new_from_conf(conf, &error) : NULL;
    b.passphrase = keymgr ? nv_keymgr_get_passphrase(keymgr, NV_KEYMGR_FIXED_KEY_ID, &error) : NULL;
    if (!b.passphrase)
        die("passphrase", error);

    list = g_strsplit(counts ? counts : "1,8", ",", -1);
    for (guint i = 0; list[i]; i++)
        run(&b, (guint)g_ascii_strtoull(list[i], NULL, 10), (guint)rounds, (guint)warmup);

    nv_secure_buf_free(b.passphrase);
    g_free(b.domain_xml);
    nv_driver_free(b.a.driver);
    nv_driver_free(b.b.driver);
    virConnectClose(b.a.conn);
    virConnectClose(b.b.conn);
    return 0;
}
