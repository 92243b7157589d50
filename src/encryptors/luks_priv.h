/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What luks_format.c (the probe) shares with luks_ensure.c (the format).
 * Internal to src/encryptors/.
 */
#pragma once

#include <glib.h>
#include <libcryptsetup.h>

#include "encryptors/luks_format.h"

G_BEGIN_DECLS

/* First bytes of every qcow2 image (docs/interop/qcow2.txt in QEMU). */
#define NV_QCOW2_MAGIC "QFI\xfb"

/* luks_volume.c */

/* A callee's error naming only the path ("volume PATH: ...") rewritten to
 * name the volume too ("volume VOLID: PATH: ..."); a no-op when @volume_id
 * is @path or *@error is unset. */
void nv_luks_name_volume(const char *volume_id, const char *path, GError **error);

/* open(@path, @flags | O_CLOEXEC | O_NONBLOCK), then refuse anything but a
 * block device or regular file.  EBUSY (an O_EXCL open of a claimed block
 * device) is NV_ERROR_FAILED "volume PATH is in use by another process
 * ...", other failures NV_ERROR_CRYPT.  Returns the fd or -1. */
int nv_luks_open_volume(const char *path, int flags, GError **error);

/* pread() all of @len bytes at @offset; past the end reads as zeros.
 * NV_ERROR_CRYPT "volume PATH: cannot read it: ..." on failure. */
gboolean nv_luks_read_at(const char *path, int fd, void *buf, gsize len, guint64 offset,
                         GError **error);

/* Whether @fd starts with NV_QCOW2_MAGIC. */
gboolean nv_luks_has_qcow2_magic(const char *path, int fd, gboolean *is_qcow2, GError **error);

/* The size in bytes of the volume open as @fd (a file or block device). */
gboolean nv_luks_volume_size(const char *volume_id, const char *path, int fd, guint64 *size,
                             GError **error);

/* Whether [@start, @end) of @fd reads as zeros. */
gboolean nv_luks_region_is_zero(const char *path, int fd, guint64 start, guint64 end,
                                gboolean *zero, GError **error);

/* The volume open for reading with a shared OFD lock over all of it: what
 * it reads is not in the middle of somebody's format (which holds the write
 * lock).  Waits up to 2 s for a write lock to go away, then
 * NV_ERROR_FAILED "volume VOLID: PATH is locked by another process".
 * Returns the fd or -1; closing it releases the lock. */
int nv_luks_open_shared(const char *volume_id, const char *path, GError **error);

/* The volume open for writing with exclusive access: O_EXCL for a block
 * device (EBUSY while mounted, mapped or claimed) and an OFD write lock over
 * all of it, which conflicts with the shared locks QEMU holds on the images
 * it has open and with nv_luks_open_shared(); same bounded wait.  Returns
 * the fd or -1; closing it releases both. */
int nv_luks_open_exclusive(const char *volume_id, const char *path, GError **error);

/* pwrite() all of @len bytes at @offset, then fsync(). */
gboolean nv_luks_write_at(const char *volume_id, const char *path, int fd, const void *data,
                          gsize len, guint64 offset, GError **error);

/* TRUE when @path is a qcow2 image (magic QFI\xfb, version 2 or 3) whose
 * crypt_method is LUKS; else NV_ERROR_UNSUPPORTED naming what it is. */
gboolean nv_luks_check_qcow2_luks(const char *volume_id, const char *path, GError **error);

/* luks_format.c */

/* nv_luks_probe() of the volume already open as @fd (libblkid reads @fd,
 * libcryptsetup opens @path).  When a LUKS header was found and @loaded is
 * not NULL, *@loaded is the handle with it loaded (caller closes; its
 * messages go to the debug log until nv_crypt_log_attach()). */
gboolean nv_luks_probe_fd(const char *path, int fd, nv_luks_probe_result *out,
                          struct crypt_device **loaded, GError **error);

/* luks_ensure.c */

/* What nv_luks_ensure() would decide on a raw volume, without formatting
 * or locking for write: FALSE with the refusal it would give, TRUE when it
 * would accept or format the volume. */
gboolean nv_luks_assess(const char *volume_id, const char *path, nv_luks_type want_type,
                        nv_luks_ensure_flags flags, const char *cipher, guint key_size_bits,
                        GError **error);

G_END_DECLS
