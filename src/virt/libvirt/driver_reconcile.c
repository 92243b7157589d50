/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reconcile (nvirt's own; Nova has cleanup_lingering_instance_resources for
 * instances, nothing for secrets): remove the volume secrets and crypt-*
 * mappings no domain on the host uses.  What "uses" means is in
 * secret_refs.h: any domain's live or persistent config.
 */
#include <sys/stat.h>

#include "encryptors/mappings.h"
#include "nvirt/error.h"
#include "virt/libvirt/driver_priv.h"
#include "virt/libvirt/secret_refs.h"
#include "virt/libvirt/volume_lock.h"

/* sysfs, where the mappings are listed; tests of the listing use their own
 * tree (encryptors/mappings.h). */
#define SYSFS_ROOT "/sys"

typedef struct {
    nv_reconcile_kind kind;
    char *name;
    char *volume_id;
    gboolean removed;
    char *error;
} reconcile_item;

struct nv_reconcile_report {
    GPtrArray *items; /* reconcile_item * */
};

static void
reconcile_item_free(reconcile_item *item)
{
    g_free(item->name);
    g_free(item->volume_id);
    g_free(item->error);
    g_free(item);
}

void
nv_reconcile_report_free(nv_reconcile_report *report)
{
    if (!report)
        return;
    g_ptr_array_unref(report->items);
    g_free(report);
}

static const reconcile_item *
report_item(const nv_reconcile_report *report, guint i)
{
    g_return_val_if_fail(report != NULL && i < report->items->len, NULL);
    return g_ptr_array_index(report->items, i);
}

guint
nv_reconcile_report_get_n_items(const nv_reconcile_report *report)
{
    g_return_val_if_fail(report != NULL, 0);
    return report->items->len;
}

nv_reconcile_kind
nv_reconcile_report_get_kind(const nv_reconcile_report *report, guint i)
{
    const reconcile_item *item = report_item(report, i);

    return item ? item->kind : NV_RECONCILE_SECRET;
}

const char *
nv_reconcile_report_get_name(const nv_reconcile_report *report, guint i)
{
    const reconcile_item *item = report_item(report, i);

    return item ? item->name : NULL;
}

const char *
nv_reconcile_report_get_volume_id(const nv_reconcile_report *report, guint i)
{
    const reconcile_item *item = report_item(report, i);

    return item ? item->volume_id : NULL;
}

gboolean
nv_reconcile_report_get_removed(const nv_reconcile_report *report, guint i)
{
    const reconcile_item *item = report_item(report, i);

    return item && item->removed;
}

const char *
nv_reconcile_report_get_error(const nv_reconcile_report *report, guint i)
{
    const reconcile_item *item = report_item(report, i);

    return item ? item->error : NULL;
}

static gboolean
secret_referenced(GHashTable *refs, const nv_host_volume_secret *secret)
{
    g_autofree char *by_usage = g_strconcat(NV_SECRET_REFS_USAGE_PREFIX, secret->volume_id, NULL);

    return g_hash_table_contains(refs, secret->uuid) || g_hash_table_contains(refs, by_usage);
}

/* Remove one orphan secret under its volume's lock, after checking again
 * that nothing references it: an attach holds the lock from its first look
 * at the secret to the end, so a secret it has just defined is either
 * referenced by now or the attach has rolled it back. */
static gboolean
remove_secret(nv_driver *driver, const nv_host_volume_secret *secret, gboolean *removed,
              GError **error)
{
    g_autoptr(nv_volume_lock) lock = NULL;
    g_autoptr(GHashTable) refs = NULL;
    g_autoptr(GError) local = NULL;

    *removed = FALSE;
    lock = nv_volume_lock_acquire(driver->conf->oslo_concurrency.lock_path, secret->volume_id,
                                  NV_VOLUME_LOCK_TIMEOUT_MS, error);
    if (!lock)
        return FALSE;
    refs = nv_secret_refs_collect(driver->host, NULL, error);
    if (!refs)
        return FALSE;
    if (secret_referenced(refs, secret))
        return TRUE;
    if (!nv_host_delete_secret_by_uuid(driver->host, secret->uuid, &local)) {
        if (g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND))
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    *removed = TRUE;
    return TRUE;
}

/* TRUE when one of @sources (disk source paths) is the block device
 * @devno: a disk names the mapping's /dev/mapper path, or the device_path
 * an encryptor pointed at it. */
static gboolean
mapping_used(GHashTable *sources, dev_t devno)
{
    GHashTableIter iter;
    gpointer path;

    g_hash_table_iter_init(&iter, sources);
    while (g_hash_table_iter_next(&iter, &path, NULL)) {
        struct stat st;

        if (stat(path, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devno)
            return TRUE;
    }
    return FALSE;
}

static reconcile_item *
add_item(nv_reconcile_report *report, nv_reconcile_kind kind, const char *name,
         const char *volume_id)
{
    reconcile_item *item = g_new0(reconcile_item, 1);

    item->kind = kind;
    item->name = g_strdup(name);
    item->volume_id = g_strdup(volume_id);
    g_ptr_array_add(report->items, item);
    return item;
}

nv_reconcile_report *
nv_driver_reconcile(nv_driver *driver, gboolean dry_run, GError **error)
{
    g_autoptr(nv_reconcile_report) report = g_new0(nv_reconcile_report, 1);
    g_autoptr(GHashTable) refs = NULL;
    g_autoptr(GHashTable) sources = NULL;
    g_autoptr(GPtrArray) secrets = NULL;
    g_autoptr(GPtrArray) mappings = NULL;

    g_return_val_if_fail(driver != NULL, NULL);
    report->items = g_ptr_array_new_with_free_func((GDestroyNotify)reconcile_item_free);
    secrets = nv_host_list_volume_secrets(driver->host, error);
    if (!secrets || !nv_domain_refs_collect(driver->host, NULL, &refs, &sources, error))
        return NULL;
    mappings = nv_crypt_list_mappings(SYSFS_ROOT, error);
    if (!mappings)
        return NULL;

    for (guint i = 0; i < secrets->len; i++) {
        const nv_host_volume_secret *secret = g_ptr_array_index(secrets, i);
        g_autoptr(GError) local = NULL;
        reconcile_item *item;

        if (secret_referenced(refs, secret))
            continue;
        item = add_item(report, NV_RECONCILE_SECRET, secret->uuid, secret->volume_id);
        if (!dry_run && !remove_secret(driver, secret, &item->removed, &local))
            item->error = g_strdup(local->message);
    }
    for (guint i = 0; i < mappings->len; i++) {
        const nv_crypt_mapping *mapping = g_ptr_array_index(mappings, i);
        g_autoptr(GError) local = NULL;
        reconcile_item *item;

        if (mapping_used(sources, mapping->devno))
            continue;
        item = add_item(report, NV_RECONCILE_MAPPING, mapping->name, NULL);
        if (dry_run)
            continue;
        if (nv_crypt_close_mapping_by_name(mapping->name, &local))
            item->removed = TRUE;
        else
            item->error = g_strdup(local->message);
    }
    return g_steal_pointer(&report);
}
