/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/spawn: what nvirt costs on top of the libvirt calls a spawn and a
 * power-on with encrypted volumes need (issue 10, part 10, target <= 1.10).
 *
 * An instance (a TCG domain with no OS) boots from N natively decrypted
 * LUKS volumes (N from --volumes, e.g. 1,4,16), two variants interleaved
 * round by round in one run (the machine is shared: only ratios mean
 * anything):
 *
 *   nvirt   nv_driver_spawn() with Nova's block_device_info;
 *   direct  the same work by hand: per volume virSecretDefineXML +
 *           virSecretSetValue, then virDomainDefineXML of the same domain
 *           XML (the one nvirt's warm-up spawn defined, secret UUIDs
 *           replaced as strings) and virDomainCreate.
 *
 * Between rounds each instance is torn down (nv_driver_destroy(), or
 * destroy + undefine + secret undefine), untimed.  The volumes are
 * formatted once by bench/spawn.sh with a cheap KDF (qemu-img iter-time
 * 10): every round creates its secrets anew, but QEMU's PBKDF per volume
 * at start stays small and is the same in both variants.
 *
 * Power-on with the largest N: the instance is powered off (untimed), then
 *
 *   nvirt   nv_driver_power_on(): existing secrets reused, XML rebuilt;
 *   direct  virSecretLookupByUsage per volume, virDomainGetXMLDesc
 *           (inactive), virDomainDefineXML and virDomainCreate.
 *
 * Run it through bench/spawn.sh, which starts the daemon and makes the
 * volumes and the configuration.
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
#define DOMAIN       "nvirt-bench-spawn"
#define DOMAIN_UUID  "5a7e0000-0000-4000-8000-000000000001"

static void
discard_libvirt_error(void *opaque, virErrorPtr err)
{
}

static G_NORETURN void
die(const char *what, const GError *error)
{
    fprintf(stderr, "bench/spawn: %s: %s\n", what,
            error ? error->message : virGetLastErrorMessage());
    exit(1);
}

typedef struct {
    nv_driver *driver;
    virConnectPtr conn;
    nv_instance *instance;
    const char *dir;
    nv_secure_buf *passphrase;
    guint n;
    GPtrArray *volume_ids;     /* char * */
    char *bdi;                 /* block_device_info JSON */
    char *template_xml;        /* nvirt's domain XML; old secret UUIDs ... */
    GPtrArray *template_uuids; /* ... one per volume, replaced by direct */
} bench;

static const char encryption[] = "{\"provider\": \"luks\", \"control_location\": \"front-end\", "
                                 "\"cipher\": \"aes-xts-plain64\", \"key_size\": 256, "
                                 "\"encryption_key_id\": \"00000000-0000-0000-0000-000000000000\"}";

static void
setup_volumes(bench *b, guint n)
{
    GString *bdi = g_string_new("{\"root_device_name\": \"/dev/vda\", \"block_device_mapping\": [");

    b->n = n;
    b->volume_ids = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < n; i++) {
        char *id = g_strdup_printf("5a7e1000-0000-4000-8000-%012u", i + 1);
        g_autofree char *path = g_strdup_printf("%s/vol-%02u.luks", b->dir, i + 1);

        g_ptr_array_add(b->volume_ids, id);
        g_string_append_printf(
            bdi,
            "%s{\"connection_info\": {\"driver_volume_type\": \"file\", \"serial\": \"%s\", "
            "\"data\": {\"volume_id\": \"%s\", \"device_path\": \"%s\", \"encrypted\": true}}, "
            "\"encryption\": %s, \"mount_device\": \"/dev/vd%c\", \"boot_index\": %d, "
            "\"disk_bus\": \"virtio\", \"device_type\": \"disk\", "
            "\"delete_on_termination\": false}",
            i ? ", " : "", id, id, path, encryption, 'a' + i, i == 0 ? 0 : -1);
    }
    g_string_append(bdi, "]}");
    b->bdi = g_string_free(bdi, FALSE);
}

static void
clear_volumes(bench *b)
{
    g_clear_pointer(&b->volume_ids, g_ptr_array_unref);
    g_clear_pointer(&b->bdi, g_free);
    g_clear_pointer(&b->template_xml, g_free);
    g_clear_pointer(&b->template_uuids, g_ptr_array_unref);
}

static char *
secret_uuid(bench *b, const char *volume_id)
{
    virSecretPtr secret = virSecretLookupByUsage(b->conn, VIR_SECRET_USAGE_TYPE_VOLUME, volume_id);
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (!secret || virSecretGetUUIDString(secret, uuid) < 0)
        die("secret lookup", NULL);
    virSecretFree(secret);
    return g_strdup(uuid);
}

/* ---- the variants ------------------------------------------------------- */

static void
nvirt_spawn(bench *b)
{
    g_autoptr(GError) error = NULL;

    if (!nv_driver_spawn(b->driver, b->instance, b->bdi, &error))
        die("nvirt spawn", error);
}

static void
nvirt_teardown(bench *b)
{
    g_autoptr(GError) error = NULL;

    if (!nv_driver_destroy(b->driver, DOMAIN, b->bdi, &error))
        die("nvirt destroy", error);
}

static void
direct_spawn(bench *b)
{
    g_autoptr(GString) xml = g_string_new(b->template_xml);
    virDomainPtr dom;

    for (guint i = 0; i < b->n; i++) {
        g_autofree char *secret_xml = g_strdup_printf(
            "<secret ephemeral='no' private='yes'><usage type='volume'><volume>%s</volume>"
            "</usage></secret>",
            (const char *)g_ptr_array_index(b->volume_ids, i));
        char uuid[VIR_UUID_STRING_BUFLEN];
        virSecretPtr secret = virSecretDefineXML(b->conn, secret_xml, 0);

        if (!secret ||
            virSecretSetValue(secret, nv_secure_buf_cdata(b->passphrase),
                              nv_secure_buf_len(b->passphrase), 0) < 0 ||
            virSecretGetUUIDString(secret, uuid) < 0)
            die("direct: secret", NULL);
        virSecretFree(secret);
        g_string_replace(xml, g_ptr_array_index(b->template_uuids, i), uuid, 0);
    }
    dom = virDomainDefineXML(b->conn, xml->str);
    if (!dom || virDomainCreate(dom) < 0)
        die("direct: define and start", NULL);
    virDomainFree(dom);
}

static void
direct_teardown(bench *b)
{
    virDomainPtr dom = virDomainLookupByName(b->conn, DOMAIN);

    if (!dom || virDomainDestroy(dom) < 0 || virDomainUndefine(dom) < 0)
        die("direct: destroy", NULL);
    virDomainFree(dom);
    for (guint i = 0; i < b->n; i++) {
        virSecretPtr secret = virSecretLookupByUsage(b->conn, VIR_SECRET_USAGE_TYPE_VOLUME,
                                                     g_ptr_array_index(b->volume_ids, i));

        if (!secret || virSecretUndefine(secret) < 0)
            die("direct: secret undefine", NULL);
        virSecretFree(secret);
    }
}

static void
power_off(bench *b)
{
    g_autoptr(GError) error = NULL;

    if (!nv_driver_power_off(b->driver, DOMAIN, &error))
        die("power off", error);
}

static void
nvirt_power_on(bench *b)
{
    g_autoptr(GError) error = NULL;

    if (!nv_driver_power_on(b->driver, DOMAIN, b->bdi, &error))
        die("nvirt power on", error);
}

static void
direct_power_on(bench *b)
{
    virDomainPtr dom = virDomainLookupByName(b->conn, DOMAIN);
    virDomainPtr defined;
    char *xml;

    if (!dom)
        die("direct: domain", NULL);
    for (guint i = 0; i < b->n; i++)
        g_free(secret_uuid(b, g_ptr_array_index(b->volume_ids, i)));
    xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    defined = xml ? virDomainDefineXML(b->conn, xml) : NULL;
    free(xml);
    if (!defined || virDomainCreate(defined) < 0)
        die("direct: define and start", NULL);
    virDomainFree(defined);
    virDomainFree(dom);
}

/* ---- measuring ---------------------------------------------------------- */

typedef void (*step_fn)(bench *b);

static gint64
timed(bench *b, step_fn step, step_fn after)
{
    gint64 t0 = g_get_monotonic_time(), t;

    step(b);
    t = g_get_monotonic_time() - t0;
    if (after)
        after(b);
    return t;
}

static void
report(const char *what, guint n, guint rounds, guint warmup, gint64 *nv, gint64 *direct,
       gint64 *paired)
{
    double nv_med = bench_median_ms(nv, rounds), direct_med = bench_median_ms(direct, rounds);
    double ratio = nv_med / direct_med, paired_ratio = bench_median_ms(paired, rounds) / 1000.0;

    printf("\n%s, %u encrypted volume(s), %u rounds, %u warm-up\n", what, n, rounds, warmup);
    printf("  nvirt                 median %8.1f ms\n", nv_med);
    printf("  direct libvirt calls  median %8.1f ms\n", direct_med);
    printf("  ratio nvirt/direct of medians: %.3f (target <= %.2f: %s)\n", ratio, TARGET_RATIO,
           ratio <= TARGET_RATIO ? "PASS" : "MISS");
    printf("  median of per-round ratios: %.3f\n", paired_ratio);
    printf("RESULT %s volumes=%u rounds=%u nvirt_med_ms=%.1f direct_med_ms=%.1f ratio=%.3f "
           "paired_ratio=%.3f %s\n",
           what, n, rounds, nv_med, direct_med, ratio, paired_ratio,
           ratio <= TARGET_RATIO ? "PASS" : "MISS");
    fflush(stdout);
}

/* Interleaved rounds of @a (nvirt) and @b (direct), each followed by its
 * untimed @after; which goes first alternates. */
static void
compare(bench *b, const char *what, step_fn nv_step, step_fn nv_after, step_fn direct_step,
        step_fn direct_after, guint rounds, guint warmup)
{
    g_autofree gint64 *nv = g_new0(gint64, rounds);
    g_autofree gint64 *direct = g_new0(gint64, rounds);
    g_autofree gint64 *paired = g_new0(gint64, rounds);

    for (guint w = 0; w < warmup; w++) {
        timed(b, nv_step, nv_after);
        timed(b, direct_step, direct_after);
    }
    for (guint r = 0; r < rounds; r++) {
        if (r % 2 == 0) {
            nv[r] = timed(b, nv_step, nv_after);
            direct[r] = timed(b, direct_step, direct_after);
        } else {
            direct[r] = timed(b, direct_step, direct_after);
            nv[r] = timed(b, nv_step, nv_after);
        }
        paired[r] = nv[r] * 1000000 / direct[r];
    }
    report(what, b->n, rounds, warmup, nv, direct, paired);
}

static void
run(bench *b, guint n, gboolean power_on, guint rounds, guint warmup)
{
    virDomainPtr dom;
    char *xml;

    setup_volumes(b, n);
    /* The direct variant's domain XML: what nvirt's spawn defined. */
    nvirt_spawn(b);
    dom = virDomainLookupByName(b->conn, DOMAIN);
    xml = dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE) : NULL;
    if (!xml)
        die("domain XML", NULL);
    b->template_xml = g_strdup(xml);
    free(xml);
    virDomainFree(dom);
    b->template_uuids = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(b->template_uuids, secret_uuid(b, g_ptr_array_index(b->volume_ids, i)));
    nvirt_teardown(b);

    compare(b, "spawn", nvirt_spawn, nvirt_teardown, direct_spawn, direct_teardown, rounds, warmup);
    if (power_on) {
        nvirt_spawn(b);
        power_off(b);
        compare(b, "power-on", nvirt_power_on, power_off, direct_power_on, power_off, rounds,
                warmup);
        nvirt_teardown(b);
    }
    clear_volumes(b);
}

int
main(int argc, char **argv)
{
    static char *uri, *config, *dir, *counts;
    static int rounds = 5, warmup = 1;
    GOptionEntry entries[] = {
        { "uri", 0, 0, G_OPTION_ARG_STRING, &uri, "libvirt URI", "URI" },
        { "config", 0, 0, G_OPTION_ARG_FILENAME, &config, "nvirt config", "FILE" },
        { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "directory of vol-NN.luks", "DIR" },
        { "volumes", 0, 0, G_OPTION_ARG_STRING, &counts, "volume counts, e.g. 1,4,16", "LIST" },
        { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "measured rounds", "N" },
        { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "warm-up rounds", "N" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) list = NULL;
    g_autoptr(nv_conf) conf = NULL;
    g_autoptr(nv_keymgr) keymgr = NULL;
    bench b = { 0 };
    guint last;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        die("options", error);
    if (!uri || !config || !dir || rounds < 1 || warmup < 0)
        die("options", NULL);
    signal(SIGPIPE, SIG_IGN);
    virSetErrorFunc(NULL, discard_libvirt_error);
    b.dir = dir;
    b.driver = nv_driver_open(config, uri, NULL, &error);
    if (!b.driver)
        die(config, error);
    b.conn = virConnectOpen(uri);
    if (!b.conn)
        die(uri, NULL);
    virConnSetErrorFunc(b.conn, NULL, discard_libvirt_error);
    b.instance = nv_instance_new_from_json("{\"name\": \"" DOMAIN "\", \"uuid\": \"" DOMAIN_UUID
                                           "\", \"memory_mb\": 64, \"vcpus\": 1, "
                                           "\"machine_type\": \"pc\"}",
                                           &error);
    if (!b.instance)
        die("instance", error);
    /* The direct variant's passphrase, derived in memory as nvirt does. */
    conf = nv_conf_load(config, NULL, &error);
    keymgr = conf ? nv_keymgr_new_from_conf(conf, &error) : NULL;
    b.passphrase = keymgr ? nv_keymgr_get_passphrase(keymgr, NV_KEYMGR_FIXED_KEY_ID, &error) : NULL;
    if (!b.passphrase)
        die("passphrase", error);

    list = g_strsplit(counts ? counts : "1,4,16", ",", -1);
    last = g_strv_length(list);
    for (guint i = 0; list[i]; i++) {
        guint n = (guint)g_ascii_strtoull(list[i], NULL, 10);

        if (n < 1 || n > 26)
            die("--volumes: each count must be 1 to 26", NULL);
        /* Power-on with the last (largest) count. */
        run(&b, n, i + 1 == last, (guint)rounds, (guint)warmup);
    }

    nv_secure_buf_free(b.passphrase);
    nv_instance_free(b.instance);
    nv_driver_free(b.driver);
    virConnectClose(b.conn);
    return 0;
}
