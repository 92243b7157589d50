/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libnvirt: live migration of a guest with encrypted volumes, and
 * reconciling a host's secrets (included by nvirt/nvirt.h).
 *
 * Nova splits a live migration over the two hosts, and so does nvirt: a
 * compute service calls each function on the host named in its name.
 *
 *   destination: data = nv_driver_pre_live_migration(dest, ...)
 *   source:      nv_driver_live_migration(src, ..., data, ...)
 *   success:     nv_driver_post_live_migration(src, ...)         (source)
 *   failure:     nv_driver_rollback_live_migration_at_destination(dest, data)
 *
 * Each host has its own libvirt secret for a natively decrypted volume,
 * under its own UUID; the destination creates its own before the
 * migration, the source rewrites the disks' secret UUIDs in the live and
 * persistent XML it sends, and the source's secret goes after success.
 */
#pragma once

#include <glib.h>

#include "nvirt/error.h"
#include "nvirt/export.h"
#include "nvirt/nvirt.h"

G_BEGIN_DECLS

/* What pre_live_migration prepared on the destination (the part of Nova's
 * LibvirtLiveMigrateData nvirt uses): per volume its id and the
 * destination's secret UUID, whether this call created that secret, and
 * the destination's [libvirt] live_migration_inbound_addr.  Opaque; strings
 * are owned by it. */
typedef struct nv_migrate_data nv_migrate_data;

/* The number of volumes, in the order given to pre_live_migration. */
NV_EXPORT guint nv_migrate_data_get_n_volumes(const nv_migrate_data *data);
/* Volume @i's id (Cinder's serial, what <serial> holds). */
NV_EXPORT const char *nv_migrate_data_get_volume_id(const nv_migrate_data *data, guint i);
/* Volume @i's secret UUID on the destination when QEMU decrypts it there,
 * else NULL (not encrypted, or a dm-crypt encryptor decrypts it). */
NV_EXPORT const char *nv_migrate_data_get_secret_uuid(const nv_migrate_data *data, guint i);
/* TRUE when pre_live_migration created that secret (rollback deletes it);
 * FALSE when it found one for the volume and reused it. */
NV_EXPORT gboolean nv_migrate_data_get_created_secret(const nv_migrate_data *data, guint i);
/* The destination's [libvirt] live_migration_inbound_addr, or NULL. */
NV_EXPORT const char *nv_migrate_data_get_target_connect_addr(const nv_migrate_data *data);

/* The data as one JSON object, to hand to the source host (no key
 * material: volume ids, UUIDs, an address).  Caller frees. */
NV_EXPORT char *nv_migrate_data_to_json(const nv_migrate_data *data);
/* Read what nv_migrate_data_to_json() wrote; NV_ERROR_BAD_INPUT for
 * anything else.  Mappings the destination opened are not in the JSON:
 * roll back with the data pre_live_migration returned. */
NV_EXPORT nv_migrate_data *nv_migrate_data_from_json(const char *json, GError **error);

NV_EXPORT void nv_migrate_data_free(nv_migrate_data *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_migrate_data, nv_migrate_data_free)

/* On the destination (LibvirtDriver.pre_live_migration): for each of the
 * @n_volumes requests of @volumes (connection_info, encryption metadata
 * when encrypted, mountpoint = the disk's target on the source), connect
 * the volume (its host path must be readable here) and set up what
 * decrypts it here, under the volume's lock: for a volume QEMU decrypts,
 * find the volume secret or create one (a new UUID, private, persistent)
 * with the passphrase from this driver's key manager; for one an encryptor
 * decrypts, open its dm-crypt mapping.  Nothing is formatted: a migrated
 * volume has its header already.  @domain must not exist here yet.
 * Returns the data for nv_driver_live_migration() (caller frees).  On
 * failure what this call created is undone and nothing is left behind.
 * Errors: NV_ERROR_BAD_INPUT (bad request, domain already here),
 * NV_ERROR_NOT_FOUND (volume path, or the key manager has no key),
 * NV_ERROR_LIBVIRT, NV_ERROR_BUSY. */
NV_EXPORT nv_migrate_data *nv_driver_pre_live_migration(nv_driver *driver, const char *domain,
                                                        const nv_volume_request *const *volumes,
                                                        gsize n_volumes, GError **error);

/* Flags of nv_driver_live_migration(). */
typedef enum {
    NV_MIGRATE_NONE = 0,
    /* VIR_MIGRATE_UNSAFE: migrate although libvirt cannot prove that the
     * storage is shared (local files both hosts see, as on one test host).
     * Without it such a migration is NV_ERROR_UNSUPPORTED naming this flag. */
    NV_MIGRATE_UNSAFE = 1 << 0,
} nv_migrate_flags;

/* On the source (LibvirtDriver._live_migration_operation): migrate the
 * running @domain to @dest, peer to peer and live
 * (virDomainMigrateToURI3, VIR_MIGRATE_LIVE | PEER2PEER | PERSIST_DEST |
 * UNDEFINE_SOURCE), with the destination's live and persistent XML
 * (VIR_MIGRATE_PARAM_DEST_XML, VIR_MIGRATE_PARAM_PERSIST_XML) built from the
 * source's migratable XML, each encrypted disk naming the destination's
 * secret from @data.  @dest is the destination's libvirt URI when it has
 * "://", else its host name, made into a URI from [libvirt]
 * live_migration_uri / live_migration_scheme as Nova does.  When @data has
 * a target_connect_addr, QEMU's stream goes to tcp://ADDR and the
 * destination QEMU listens on ADDR only.  [libvirt]
 * live_migration_bandwidth caps the stream (MiB/s); after
 * live_migration_completion_timeout seconds per GiB of guest RAM (at least
 * 2 GiB) the migration is aborted (NV_ERROR_TIMEOUT) or, with
 * live_migration_timeout_action = force_complete, the guest is paused so
 * that it completes (Nova's options and arithmetic; nvirt never switches to
 * post-copy).  On failure the guest keeps running here, with its disks and
 * secrets as they were (a guest paused by force_complete is resumed).
 * Errors: NV_ERROR_TIMEOUT (aborted after the completion timeout),
 * NV_ERROR_NOT_FOUND (no such domain), NV_ERROR_BAD_INPUT (not running; an
 * encrypted disk @data has no secret for), NV_ERROR_UNSUPPORTED (unsafe
 * without NV_MIGRATE_UNSAFE), NV_ERROR_WRONG_PASSPHRASE (the destination's
 * secret does not open the volume), NV_ERROR_LIBVIRT. */
NV_EXPORT gboolean nv_driver_live_migration(nv_driver *driver, const char *domain, const char *dest,
                                            const nv_migrate_data *data, unsigned int flags,
                                            GError **error);

/* On the source after a successful migration
 * (LibvirtDriver.post_live_migration): for each volume, under its lock,
 * delete the source's volume secret (unless another domain here still
 * references it: multi-attach) and close the source's dm-crypt mapping.
 * Every volume is tried; the first error is returned. */
NV_EXPORT gboolean nv_driver_post_live_migration(nv_driver *driver, const char *domain,
                                                 const nv_volume_request *const *volumes,
                                                 gsize n_volumes, GError **error);

/* On the destination after a failed migration
 * (LibvirtDriver.rollback_live_migration_at_destination): delete the
 * secrets @data says pre_live_migration created (by UUID, never one it
 * reused) and close the mappings it opened.  Every item is tried; the
 * first error is returned. */
NV_EXPORT gboolean nv_driver_rollback_live_migration_at_destination(nv_driver *driver,
                                                                    const nv_migrate_data *data,
                                                                    GError **error);

/* ------------------------------------------------------------------------ */
/* Reconcile                                                                */
/* ------------------------------------------------------------------------ */

/* What nv_driver_reconcile() found unused and what it did.  Opaque;
 * strings are owned by it. */
typedef struct nv_reconcile_report nv_reconcile_report;

typedef enum {
    NV_RECONCILE_SECRET,  /* a libvirt volume secret */
    NV_RECONCILE_MAPPING, /* a crypt-* dm-crypt mapping */
} nv_reconcile_kind;

NV_EXPORT guint nv_reconcile_report_get_n_items(const nv_reconcile_report *report);
NV_EXPORT nv_reconcile_kind nv_reconcile_report_get_kind(const nv_reconcile_report *report,
                                                         guint i);
/* The secret's UUID or the mapping's name. */
NV_EXPORT const char *nv_reconcile_report_get_name(const nv_reconcile_report *report, guint i);
/* The secret's volume (usage id); NULL for a mapping. */
NV_EXPORT const char *nv_reconcile_report_get_volume_id(const nv_reconcile_report *report, guint i);
/* TRUE when the item was removed (never in a dry run). */
NV_EXPORT gboolean nv_reconcile_report_get_removed(const nv_reconcile_report *report, guint i);
/* Why removing it failed, or NULL. */
NV_EXPORT const char *nv_reconcile_report_get_error(const nv_reconcile_report *report, guint i);
NV_EXPORT void nv_reconcile_report_free(nv_reconcile_report *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_reconcile_report, nv_reconcile_report_free)

/* List, then (unless @dry_run) remove, what nothing on this host uses:
 *  - libvirt secrets of usage type 'volume' that no domain references in
 *    its live or persistent config (running, paused, shut off or
 *    transient): e.g. one an attach that died after defining it left;
 *  - dm-crypt mappings named crypt-* that no domain's disk source is.
 * Secrets of other usage types (ceph, iscsi, tls, vtpm) and other
 * device-mapper devices are never touched.  Each removal takes the
 * volume's lock and checks the references again under it, so an attach
 * in progress keeps its new secret.  Returns the report (caller frees),
 * also when a removal failed (see nv_reconcile_report_get_error());
 * NULL with NV_ERROR_LIBVIRT / NV_ERROR_CRYPT when the host cannot be
 * read. */
NV_EXPORT nv_reconcile_report *nv_driver_reconcile(nv_driver *driver, gboolean dry_run,
                                                   GError **error);

G_END_DECLS
