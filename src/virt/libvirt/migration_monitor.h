/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The source side of a live migration while it runs
 * (LibvirtDriver._live_migration_monitor): virDomainMigrateToURI3 blocks
 * until the guest has moved or the migration failed, for as long as the
 * guest dirties memory faster than the link carries it.  nvirt runs it in a
 * worker thread on the same connection and watches the clock, as Nova
 * does: after [libvirt] live_migration_completion_timeout seconds per GiB
 * of guest RAM (at least 2 GiB), while libvirt reports the migration job
 * running, it aborts the job (virDomainAbortJob) or, for
 * live_migration_timeout_action = force_complete, pauses the guest so the
 * copy converges (nvirt never switches to post-copy).  An aborted
 * migration leaves the guest running here as it was; a paused one whose
 * migration fails anyway is resumed here.
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

G_BEGIN_DECLS

/* Nova's completion timeout in seconds: int(@per_gib * data_gb), data_gb
 * being @memory_kib in GiB (a fraction), at least 2; 0 (no bound) when
 * @per_gib is 0.  nvirt migrates no disk, so only RAM counts. */
guint64 nv_migration_completion_timeout(guint per_gib, guint64 memory_kib);

typedef enum {
    NV_MIGRATION_TIMEOUT_ABORT,
    NV_MIGRATION_TIMEOUT_FORCE_COMPLETE,
} nv_migration_timeout_action;

/* What the timeout did to a migration. */
typedef enum {
    NV_MIGRATION_RAN,     /* finished (or failed) before the timeout */
    NV_MIGRATION_ABORTED, /* the timeout aborted the job */
    NV_MIGRATION_PAUSED,  /* the timeout paused the guest to let it finish */
} nv_migration_outcome;

/* Migrate @dom with virDomainMigrateToURI3(@uri, @params, @flags), bounded
 * by @timeout_s (0 = none) and @action.  Returns the call's result; on
 * failure *@err is libvirt's error (free with virFreeError).  *@outcome
 * says what the timeout did. */
int nv_migration_run(virDomainPtr dom, const char *uri, virTypedParameterPtr params, int nparams,
                     unsigned int flags, guint64 timeout_s, nv_migration_timeout_action action,
                     nv_migration_outcome *outcome, virErrorPtr *err);

G_END_DECLS
