/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-volume external lock: one attach, detach or rollback of a volume at
 * a time on this host, whichever process or driver handle runs it.
 *
 * Nova serialises work on one instance in the compute manager and os-brick
 * takes external (file) locks under [oslo_concurrency] lock_path; nvirt is a
 * library that several processes may use at once, so it takes its own
 * external lock, an flock(2) on LOCK_PATH/nvirt-volume-VOLUME_ID, held from
 * the first look at the volume's secret to the end of the operation or its
 * rollback.  flock locks belong to the open file description, so two driver
 * handles in one process exclude each other too; the kernel drops the lock
 * when its holder dies, so a crash never leaves a volume locked.  Lock
 * files are never removed (removing one would let a third process lock a
 * new file while the second still waits on the old one).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct nv_volume_lock nv_volume_lock;

/* How long nv_volume_lock_acquire() waits for another holder by default. */
#define NV_VOLUME_LOCK_TIMEOUT_MS (300 * 1000)

/* The lock file's name for @volume_id: "nvirt-volume-" + the id when it is
 * made of letters, digits, '-', '_' and '.' only (Cinder's UUIDs), else the
 * id with every other byte replaced by '_' + "-" + the SHA-256 of the id, so
 * two ids never share a file and no id escapes @lock_dir.  Caller frees. */
char *nv_volume_lock_file_name(const char *volume_id);

/* Take the lock of @volume_id under @lock_dir (created 0700 with its parents
 * when missing), waiting up to @timeout_ms for a holder to let go.  Errors:
 * NV_ERROR_BUSY "volume V: another operation on it holds LOCKFILE; gave up
 * after N s"; NV_ERROR_FAILED naming the file when it cannot be created or
 * locked.  Release with nv_volume_lock_release(). */
nv_volume_lock *nv_volume_lock_acquire(const char *lock_dir, const char *volume_id,
                                       guint timeout_ms, GError **error);

/* Release and free; NULL is a no-op. */
void nv_volume_lock_release(nv_volume_lock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_volume_lock, nv_volume_lock_release)

G_END_DECLS
