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

/* nv_luks_probe() of the volume already open as @fd (libblkid reads @fd,
 * libcryptsetup opens @path).  When a LUKS header was found and @loaded is
 * not NULL, *@loaded is the handle with it loaded (caller closes; its
 * messages go to the debug log until nv_crypt_log_attach()). */
gboolean nv_luks_probe_fd(const char *path, int fd, nv_luks_probe_result *out,
                          struct crypt_device **loaded, GError **error);

/* What nv_luks_ensure() would decide on a raw volume, without formatting
 * or locking for write: FALSE with the refusal it would give, TRUE when it
 * would accept or format the volume. */
gboolean nv_luks_assess(const char *volume_id, const char *path, nv_luks_type want_type,
                        nv_luks_ensure_flags flags, const char *cipher, guint key_size_bits,
                        GError **error);

G_END_DECLS
