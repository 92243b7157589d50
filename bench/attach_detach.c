/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/attach_detach: what nvirt costs on top of the libvirt calls it makes.
 *
 * For each measured volume, N cycles of attach + detach of one natively
 * decrypted LUKS file volume, in two variants, interleaved cycle by cycle
 * in the same run (the machine is shared, so only ratios mean anything):
 *
 *   nvirt   nv_driver_attach_volume() + nv_driver_detach_volume() through
 *           one driver handle, as a compute service would hold it;
 *   direct  the same libvirt work by hand with XML built once up front:
 *           virSecretDefineXML + virSecretSetValue +
 *           virDomainAttachDeviceFlags(CONFIG|LIVE), then
 *           virDomainDetachDeviceFlags (config, then live), re-reading the
 *           live XML until the disk is gone (nvirt waits the same way), and
 *           virSecretUndefine.
 *
 * Each volume is measured with only itself attached, then again with the
 * filler volumes (--fillers DIR) attached first, so the measured one is
 * the (fillers + 1)th disk of the domain.  The domain must be running,
 * with a virtio-scsi controller: SCSI disks leave at once without a guest
 * OS, virtio-blk disks never do.
 *
 * Run it through bench/run.sh, which prepares a private libvirtd, the
 * domain, the volumes and the configuration.
 */
#include "stats.h"

#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "conf/conf.h"
#include "keymgr/keymgr.h"
#include "nvirt/nvirt.h"
#include "util/secure.h"

/* nvirt re-reads the live XML at this interval while a disk leaves
 * (DETACH_POLL_US in src/virt/libvirt/guest.c); the direct variant waits
 * the same way, so neither gains from a shorter sleep. */
#define POLL_US           (50 * 1000)
#define DETACH_TIMEOUT_US (20 * G_USEC_PER_SEC)

/* The measured volume always sits at sdb; fillers take the names after it. */
#define MEASURED_INDEX 1

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static void
discard_libvirt_error(void *opaque, virErrorPtr err)
{
}

static const char *
libvirt_message(void)
{
    virErrorPtr err = virGetLastError();

    return err && err->message ? err->message : "unknown libvirt error";
}

/* libvirt's disk naming (virIndexToDiskName): 0 -> sda, 25 -> sdz,
 * 26 -> sdaa.  nv_disk_info_new() accepts any lowercase letters/digits. */
static char *
scsi_disk_name(guint index)
{
    char letters[8];
    int pos = (int)sizeof(letters) - 1;
    long i = index;

    letters[pos] = '\0';
    for (; i >= 0 && pos > 0; i = i / 26 - 1)
        letters[--pos] = (char)('a' + i % 26);
    return g_strdup_printf("sd%s", letters + pos);
}

static char *
connection_info_json(const char *volume_id, const char *path)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "driver_volume_type");
    json_builder_add_string_value(b, "file");
    json_builder_set_member_name(b, "serial");
    json_builder_add_string_value(b, volume_id);
    json_builder_set_member_name(b, "data");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "volume_id");
    json_builder_add_string_value(b, volume_id);
    json_builder_set_member_name(b, "device_path");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "encrypted");
    json_builder_add_boolean_value(b, TRUE);
    json_builder_end_object(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

/* Every volume of the run has the same metadata; the fixed-key manager
 * maps any key id to the one key. */
static const char encryption_json[] = "{\"provider\": \"luks\", \"control_location\": "
                                      "\"front-end\", \"cipher\": \"aes-xts-plain64\", "
                                      "\"key_size\": 256, \"encryption_key_id\": "
                                      "\"" NV_KEYMGR_FIXED_KEY_ID "\"}";

/* One volume as both variants see it. */
typedef struct {
    char *label;
    char *path;
    guint cycles;
    char *volume_id;
    char *dev;
    char *connection_info;
    nv_volume_request request;
    /* Direct variant: the XML nvirt would attach, built once. */
    char *disk_xml;
    char *secret_xml;
} volume;

static void
volume_free(volume *v)
{
    if (!v)
        return;
    g_free(v->label);
    g_free(v->path);
    g_free(v->volume_id);
    g_free(v->dev);
    g_free(v->connection_info);
    g_free(v->disk_xml);
    g_free(v->secret_xml);
    g_free(v);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(volume, volume_free)

static volume *
volume_new(const char *label, const char *path, guint cycles, const char *volume_id, guint index)
{
    volume *v = g_new0(volume, 1);

    v->label = g_strdup(label);
    v->path = g_strdup(path);
    v->cycles = cycles;
    v->volume_id = g_strdup(volume_id);
    v->dev = scsi_disk_name(index);
    v->connection_info = connection_info_json(volume_id, path);
    v->request.version = NV_VOLUME_REQUEST_VERSION;
    v->request.connection_info = v->connection_info;
    v->request.encryption = encryption_json;
    v->request.mountpoint = v->dev;
    return v;
}

/* The benchmark's state: one nvirt driver and one plain connection. */
typedef struct {
    nv_driver *driver;
    virConnectPtr conn;
    virDomainPtr dom;
    char *domain;
    nv_secure_buf *passphrase;
} bench;

/* ------------------------------------------------------------------------ */
/* The two variants                                                         */
/* ------------------------------------------------------------------------ */

typedef struct {
    gint64 attach_us;
    gint64 detach_us;
} cycle_time;

static gboolean
nvirt_cycle(bench *b, volume *v, cycle_time *t, GError **error)
{
    gint64 t0 = g_get_monotonic_time(), t1;

    if (!nv_driver_attach_volume(b->driver, b->domain, &v->request, error))
        return FALSE;
    t1 = g_get_monotonic_time();
    if (!nv_driver_detach_volume(b->driver, b->domain, &v->request, error))
        return FALSE;
    t->attach_us = t1 - t0;
    t->detach_us = g_get_monotonic_time() - t1;
    return TRUE;
}

/* TRUE with *@present when the live XML has a disk with target @dev. */
static gboolean
live_has_disk(bench *b, const char *dev, gboolean *present, GError **error)
{
    g_autofree char *xml = virDomainGetXMLDesc(b->dom, 0);
    g_autofree char *expr = NULL;
    xmlDocPtr doc;
    xmlXPathContextPtr ctx;
    xmlXPathObjectPtr obj;

    if (!xml) {
        g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "domain '%s': XML: %s", b->domain,
                    libvirt_message());
        return FALSE;
    }
    doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
    if (!doc) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "domain '%s': unparsable live XML",
                    b->domain);
        return FALSE;
    }
    expr = g_strdup_printf("/domain/devices/disk/target[@dev='%s']", dev);
    ctx = xmlXPathNewContext(doc);
    obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    *present = obj && obj->nodesetval && obj->nodesetval->nodeNr > 0;
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return TRUE;
}

static gboolean
direct_cycle(bench *b, volume *v, cycle_time *t, GError **error)
{
    gint64 t0 = g_get_monotonic_time(), t1, deadline;
    virSecretPtr secret;
    gboolean present = TRUE;
    int rc;

    secret = virSecretDefineXML(b->conn, v->secret_xml, 0);
    if (!secret)
        goto libvirt_fail;
    if (virSecretSetValue(secret, nv_secure_buf_cdata(b->passphrase),
                          nv_secure_buf_len(b->passphrase), 0) < 0 ||
        virDomainAttachDeviceFlags(b->dom, v->disk_xml,
                                   VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_AFFECT_LIVE) < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "direct attach of %s: %s", v->label,
                    libvirt_message());
        virSecretUndefine(secret);
        virSecretFree(secret);
        return FALSE;
    }
    t1 = g_get_monotonic_time();

    if (virDomainDetachDeviceFlags(b->dom, v->disk_xml, VIR_DOMAIN_AFFECT_CONFIG) < 0 ||
        virDomainDetachDeviceFlags(b->dom, v->disk_xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        virSecretFree(secret);
        goto libvirt_fail;
    }
    deadline = g_get_monotonic_time() + DETACH_TIMEOUT_US;
    while (live_has_disk(b, v->dev, &present, error) && present) {
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "direct detach of %s: disk %s stayed",
                        v->label, v->dev);
            break;
        }
        g_usleep(POLL_US);
    }
    if (present) {
        virSecretFree(secret);
        return FALSE;
    }
    rc = virSecretUndefine(secret);
    virSecretFree(secret);
    if (rc < 0)
        goto libvirt_fail;
    t->attach_us = t1 - t0;
    t->detach_us = g_get_monotonic_time() - t1;
    return TRUE;

libvirt_fail:
    g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "direct cycle of %s: %s", v->label,
                libvirt_message());
    return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Statistics and report                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    double attach_med, detach_med, cycle_med, cycle_p90;
} summary;

static summary
summarize(const cycle_time *times, guint n)
{
    g_autofree gint64 *a = g_new(gint64, n);
    g_autofree gint64 *d = g_new(gint64, n);
    g_autofree gint64 *c = g_new(gint64, n);
    summary s;

    for (guint i = 0; i < n; i++) {
        a[i] = times[i].attach_us;
        d[i] = times[i].detach_us;
        c[i] = times[i].attach_us + times[i].detach_us;
    }
    s.attach_med = bench_median_ms(a, n);
    s.detach_med = bench_median_ms(d, n);
    s.cycle_med = bench_median_ms(c, n);
    s.cycle_p90 = bench_percentile_ms(c, n, 90);
    return s;
}

#define RATIO_TARGET 1.05

/* Interleave the variants cycle by cycle, alternating which goes first so
 * neither always runs right after the other's detach.  Warm-up cycles of
 * both (QEMU and libvirt first-use costs) are not counted. */
static gboolean
measure(bench *b, volume *v, guint attached, guint warmup, GError **error)
{
    g_autofree cycle_time *nv = g_new0(cycle_time, v->cycles);
    g_autofree cycle_time *direct = g_new0(cycle_time, v->cycles);
    cycle_time ignored;
    g_autofree gint64 *paired = g_new0(gint64, v->cycles);
    summary sa, sb;
    double ratio, paired_ratio;

    for (guint i = 0; i < warmup; i++) {
        if (!nvirt_cycle(b, v, &ignored, error) || !direct_cycle(b, v, &ignored, error))
            return FALSE;
    }
    for (guint i = 0; i < v->cycles; i++) {
        gboolean ok =
            i % 2 == 0 ? nvirt_cycle(b, v, &nv[i], error) && direct_cycle(b, v, &direct[i], error)
                       : direct_cycle(b, v, &direct[i], error) && nvirt_cycle(b, v, &nv[i], error);
        if (!ok)
            return FALSE;
    }

    sa = summarize(nv, v->cycles);
    sb = summarize(direct, v->cycles);
    ratio = sa.cycle_med / sb.cycle_med;
    /* The two cycles of one round ran back to back, under about the same
     * load: the median of their ratios is less noisy than the ratio of
     * the medians (the target's definition, printed first).  Kept in
     * parts per million to reuse the integer median. */
    for (guint i = 0; i < v->cycles; i++) {
        gint64 a = nv[i].attach_us + nv[i].detach_us;
        gint64 d = direct[i].attach_us + direct[i].detach_us;

        paired[i] = d > 0 ? a * 1000000 / d : 0;
    }
    paired_ratio = bench_median_ms(paired, v->cycles) / 1000.0;
    printf("\n%s volume at %s, %u volume(s) attached, %u cycles per variant (+%u warm-up)\n",
           v->label, v->dev, attached, v->cycles, warmup);
    printf("  %-8s %12s %12s %12s %12s\n", "variant", "attach med", "detach med", "cycle med",
           "cycle p90");
    printf("  %-8s %9.1f ms %9.1f ms %9.1f ms %9.1f ms\n", "nvirt", sa.attach_med, sa.detach_med,
           sa.cycle_med, sa.cycle_p90);
    printf("  %-8s %9.1f ms %9.1f ms %9.1f ms %9.1f ms\n", "direct", sb.attach_med, sb.detach_med,
           sb.cycle_med, sb.cycle_p90);
    printf("  ratio nvirt/direct of cycle medians: %.3f (target <= %.2f: %s)\n", ratio,
           RATIO_TARGET, ratio <= RATIO_TARGET ? "PASS" : "MISS");
    printf("  median of per-round ratios nvirt/direct: %.3f\n", paired_ratio);
    /* One line per scenario for scripts (bench/run.sh's summary). */
    printf(
        "RESULT attach_detach volume=%s attached=%u cycles=%u nvirt_med_ms=%.1f "
        "direct_med_ms=%.1f nvirt_p90_ms=%.1f direct_p90_ms=%.1f ratio=%.3f paired_ratio=%.3f %s\n",
        v->label, attached, v->cycles, sa.cycle_med, sb.cycle_med, sa.cycle_p90, sb.cycle_p90,
        ratio, paired_ratio, ratio <= RATIO_TARGET ? "PASS" : "MISS");
    fflush(stdout);
    return TRUE;
}

/* What the libvirt calls nvirt makes on top of the direct variant cost
 * here, so the overhead can be attributed: per attach it also looks the
 * domain up, reads the live and the inactive XML (is the target free in
 * both, is the volume attached already?), looks the secret up and defines
 * it once more (ephemeral first, see nv_host_create_volume_secret()); per
 * detach it looks the domain up, reads the live XML and looks the secret
 * up.  The versions are asked once per driver handle.  State and
 * persistence are not asked (the state comes from the live XML); those
 * rows are kept for comparison with earlier reports. */
#define CALL_REPS 20

typedef enum {
    CALL_LOOKUP_DOMAIN,
    CALL_LIB_VERSION,
    CALL_HV_VERSION,
    CALL_STATE,
    CALL_LOOKUP_SECRET,
    CALL_XML_LIVE,
    CALL_XML_INACTIVE,
    N_CALLS,
} call_kind;

static const char *const call_names[N_CALLS] = {
    [CALL_LOOKUP_DOMAIN] = "virDomainLookupByName",
    [CALL_LIB_VERSION] = "virConnectGetLibVersion",
    [CALL_HV_VERSION] = "virConnectGetVersion",
    [CALL_STATE] = "virDomainGetState",
    [CALL_LOOKUP_SECRET] = "virSecretLookupByUsage (none)",
    [CALL_XML_LIVE] = "virDomainGetXMLDesc live",
    [CALL_XML_INACTIVE] = "virDomainGetXMLDesc inactive",
};

static gboolean
one_call(bench *b, call_kind kind)
{
    unsigned long version;
    int state;
    char *xml;
    virDomainPtr dom;
    virSecretPtr secret;

    switch (kind) {
    case CALL_LOOKUP_DOMAIN:
        dom = virDomainLookupByName(b->conn, b->domain);
        if (dom)
            virDomainFree(dom);
        return dom != NULL;
    case CALL_LIB_VERSION:
        return virConnectGetLibVersion(b->conn, &version) == 0;
    case CALL_HV_VERSION:
        return virConnectGetVersion(b->conn, &version) == 0;
    case CALL_STATE:
        return virDomainGetState(b->dom, &state, NULL, 0) == 0;
    case CALL_LOOKUP_SECRET:
        /* nvirt's usual case at attach: no secret yet. */
        secret = virSecretLookupByUsage(b->conn, VIR_SECRET_USAGE_TYPE_VOLUME,
                                        "00000000-0000-4000-8000-000000000000");
        if (secret)
            virSecretFree(secret);
        return TRUE;
    case CALL_XML_LIVE:
    case CALL_XML_INACTIVE:
        xml = virDomainGetXMLDesc(b->dom, kind == CALL_XML_INACTIVE ? VIR_DOMAIN_XML_INACTIVE : 0);
        free(xml);
        return xml != NULL;
    case N_CALLS:
        break;
    }
    return FALSE;
}

static gboolean
measure_calls(bench *b, guint attached, GError **error)
{
    gint64 times[N_CALLS][CALL_REPS];

    for (guint i = 0; i < CALL_REPS; i++) {
        for (guint k = 0; k < N_CALLS; k++) {
            gint64 t0 = g_get_monotonic_time();

            if (!one_call(b, k)) {
                g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "%s: %s", call_names[k],
                            libvirt_message());
                return FALSE;
            }
            times[k][i] = g_get_monotonic_time() - t0;
        }
    }
    printf("\nlibvirt calls, %u volume(s) attached, median of %d\n", attached, CALL_REPS);
    for (guint k = 0; k < N_CALLS; k++)
        printf("  %-30s %7.2f ms\n", call_names[k], bench_median_ms(times[k], CALL_REPS));
    fflush(stdout);
    return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Set-up                                                                   */
/* ------------------------------------------------------------------------ */

/* The direct variant's XML: exactly what nvirt attaches (its plan), with
 * the plan's secret uuid fixed for the whole run. */
static gboolean
prebuild_xml(bench *b, volume *v, GError **error)
{
    g_autoptr(nv_attach_plan) plan =
        nv_driver_plan_attach(b->driver, b->domain, &v->request, error);

    if (!plan)
        return FALSE;
    if (!nv_attach_plan_get_secret_xml(plan) || nv_attach_plan_get_reuses_secret(plan) ||
        g_strcmp0(nv_attach_plan_get_encryption_path(plan), "native")) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "volume %s: expected a native attach with a new secret, plan says %s (%s)",
                    v->label, nv_attach_plan_get_encryption_path(plan),
                    nv_attach_plan_get_reason(plan));
        return FALSE;
    }
    v->disk_xml = g_strdup(nv_attach_plan_get_disk_xml(plan));
    v->secret_xml = g_strdup(nv_attach_plan_get_secret_xml(plan));
    return TRUE;
}

/* The passphrase for virSecretSetValue, derived in memory as nvirt does
 * (fixed key from the configuration, lowercase hex). */
static nv_secure_buf *
load_passphrase(const char *config_file, GError **error)
{
    g_autoptr(nv_conf) conf = nv_conf_load(config_file, NULL, error);
    g_autoptr(nv_keymgr) keymgr = NULL;

    if (!conf)
        return NULL;
    keymgr = nv_keymgr_new_from_conf(conf, error);
    if (!keymgr)
        return NULL;
    return nv_keymgr_get_passphrase(keymgr, NV_KEYMGR_FIXED_KEY_ID, error);
}

static int
cmp_path(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *
filler_paths(const char *dir, GError **error)
{
    g_autoptr(GDir) d = NULL;
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (!dir)
        return g_steal_pointer(&paths);
    d = g_dir_open(dir, 0, error);
    if (!d)
        return NULL;
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_prefix(name, "filler-") && g_str_has_suffix(name, ".luks"))
            g_ptr_array_add(paths, g_build_filename(dir, name, NULL));
    }
    g_ptr_array_sort(paths, cmp_path);
    return g_steal_pointer(&paths);
}

static GPtrArray *
filler_volumes(GPtrArray *paths)
{
    GPtrArray *fillers = g_ptr_array_new_with_free_func((GDestroyNotify)volume_free);

    for (guint i = 0; i < paths->len; i++) {
        g_autofree char *id = g_strdup_printf("f0000000-0000-4000-8000-%012u", i + 1);
        g_autofree char *label = g_strdup_printf("filler %u", i + 1);

        g_ptr_array_add(fillers, volume_new(label, paths->pdata[i], 0, id, MEASURED_INDEX + 1 + i));
    }
    return fillers;
}

static gboolean
attach_all(bench *b, GPtrArray *vols, GError **error)
{
    for (guint i = 0; i < vols->len; i++) {
        volume *v = vols->pdata[i];

        if (!nv_driver_attach_volume(b->driver, b->domain, &v->request, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
detach_all(bench *b, GPtrArray *vols, GError **error)
{
    for (guint i = vols->len; i-- > 0;) {
        volume *v = vols->pdata[i];

        if (!nv_driver_detach_volume(b->driver, b->domain, &v->request, error))
            return FALSE;
    }
    return TRUE;
}

/* --volume LABEL:PATH:CYCLES */
static volume *
parse_volume(const char *spec, guint n, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(spec, ":", 3);
    g_autofree char *id = NULL;
    guint64 cycles = 0;

    if (g_strv_length(parts) != 3 || !*parts[0] || !*parts[1] ||
        !g_ascii_string_to_unsigned(parts[2], 10, 1, 100000, &cycles, NULL)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "--volume '%s': want LABEL:PATH:CYCLES (cycles >= 1)", spec);
        return NULL;
    }
    id = g_strdup_printf("b0000000-0000-4000-8000-%012u", n + 1);
    return volume_new(parts[0], parts[1], (guint)cycles, id, MEASURED_INDEX);
}

static void
bench_clear(bench *b)
{
    if (b->dom)
        virDomainFree(b->dom);
    if (b->conn)
        virConnectClose(b->conn);
    nv_driver_free(b->driver);
    nv_secure_buf_free(b->passphrase);
    g_free(b->domain);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(bench, bench_clear)

static char *opt_config;
static char *opt_domain;
static char **opt_volumes;
static char *opt_fillers;
static int opt_warmup = 1;

static GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
      "nvirt configuration: [libvirt] connection_uri and [key_manager] fixed_key", "FILE" },
    { "domain", 'd', 0, G_OPTION_ARG_STRING, &opt_domain,
      "Running domain with a virtio-scsi controller and no other volumes", "NAME" },
    { "volume", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &opt_volumes,
      "A LUKS1 volume file to measure, CYCLES cycles per variant (repeatable)",
      "LABEL:PATH:CYCLES" },
    { "fillers", 'f', 0, G_OPTION_ARG_FILENAME, &opt_fillers,
      "Directory of filler-*.luks volumes attached for the second round", "DIR" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &opt_warmup, "Uncounted cycles per variant (1)", "N" },
    { NULL },
};

static gboolean
run(GError **error)
{
    g_auto(bench) b = { 0 };
    g_autoptr(GPtrArray) volumes = g_ptr_array_new_with_free_func((GDestroyNotify)volume_free);
    g_autoptr(GPtrArray) paths = NULL;
    g_autoptr(GPtrArray) fillers = NULL;
    gboolean ok;

    for (guint i = 0; opt_volumes[i]; i++) {
        volume *v = parse_volume(opt_volumes[i], i, error);

        if (!v)
            return FALSE;
        g_ptr_array_add(volumes, v);
    }
    paths = filler_paths(opt_fillers, error);
    if (!paths)
        return FALSE;
    fillers = filler_volumes(paths);

    b.domain = g_strdup(opt_domain);
    b.driver = nv_driver_open(opt_config, NULL, NULL, error);
    if (!b.driver)
        return FALSE;
    b.passphrase = load_passphrase(opt_config, error);
    if (!b.passphrase)
        return FALSE;
    {
        g_autoptr(nv_conf) conf = nv_conf_load(opt_config, NULL, error);

        if (!conf)
            return FALSE;
        b.conn = virConnectOpen(conf->libvirt.connection_uri);
    }
    if (!b.conn || !(b.dom = virDomainLookupByName(b.conn, b.domain))) {
        g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "domain '%s': %s", b.domain,
                    libvirt_message());
        return FALSE;
    }
    virConnSetErrorFunc(b.conn, NULL, discard_libvirt_error);

    for (guint i = 0; i < volumes->len; i++) {
        if (!prebuild_xml(&b, volumes->pdata[i], error))
            return FALSE;
    }

    for (guint i = 0; i < volumes->len; i++) {
        if (!measure(&b, volumes->pdata[i], 1, (guint)opt_warmup, error))
            return FALSE;
    }
    if (!measure_calls(&b, 0, error))
        return FALSE;
    if (fillers->len == 0)
        return TRUE;

    printf("\nattaching %u filler volumes through nvirt...\n", fillers->len);
    fflush(stdout);
    if (!attach_all(&b, fillers, error))
        return FALSE;
    ok = TRUE;
    for (guint i = 0; ok && i < volumes->len; i++)
        ok = measure(&b, volumes->pdata[i], fillers->len + 1, (guint)opt_warmup, error);
    ok = ok && measure_calls(&b, fillers->len, error);
    /* Leave the domain as it was, even after a failed measurement. */
    if (!detach_all(&b, fillers, ok ? error : NULL))
        return FALSE;
    return ok;
}

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- nvirt attach/detach vs raw libvirt");
    g_autoptr(GError) error = NULL;

    /* libvirt's remote driver needs it (see nvirt.h). */
    signal(SIGPIPE, SIG_IGN);
    virSetErrorFunc(NULL, discard_libvirt_error);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "attach_detach: %s\n", error->message);
        return 2;
    }
    if (!opt_config || !opt_domain || !opt_volumes || opt_warmup < 0) {
        fprintf(stderr, "attach_detach: --config, --domain and --volume are required\n");
        return 2;
    }
    if (!run(&error)) {
        fprintf(stderr, "attach_detach: %s\n", error->message);
        return 1;
    }
    return 0;
}
