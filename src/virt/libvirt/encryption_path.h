/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The encryption decision (nova/virt/libvirt/driver.py
 * _allow_native_luksv1, and the spec's version gate): pure functions, so
 * unit tests pin every branch without libvirt.
 */
#pragma once

#include <glib.h>

#include "virt/block_device.h"

G_BEGIN_DECLS

/* The spec's version gate (Nova 17-19 MIN_LIBVIRT_LUKS_VERSION /
 * MIN_QEMU_LUKS_VERSION), in libvirt's encoding
 * major * 1000000 + minor * 1000 + micro. */
#define NV_MIN_LIBVIRT_LUKS_VERSION 2002000
#define NV_MIN_QEMU_LUKS_VERSION    2006000

/* librbd decrypting LUKS2 on an rbd volume (<encryption format='luks2'
 * engine='librbd'>): libvirt 7.9.0 added the engine, QEMU 6.1.0 its rbd
 * driver's "encrypt", and that needs a librbd with rbd_encryption_load
 * (Ceph >= 16.1). */
#define NV_MIN_LIBVIRT_LIBRBD_LUKS2_VERSION 7009000
#define NV_MIN_QEMU_LIBRBD_LUKS2_VERSION    6001000
/* The first libvirt whose hot-plug adds the disk's key object before the
 * rbd node that needs it.  None yet: libvirt 9.0's
 * qemuBlockStorageSourceAttachApply adds it after, and QEMU refuses the
 * node ("No secret with id 'libvirt-N-format-encryption-secret0'"), so such
 * a disk can only be cold-plugged.  A libvirt that fixes the order only
 * needs its version here. */
#define NV_MIN_LIBVIRT_LIBRBD_LUKS2_HOTPLUG_VERSION G_MAXUINT64
/* The first QEMU that survives a block resize of a disk librbd decrypts.
 * None measured yet: QEMU 7.2 with Ceph 16.2.15's librbd aborts in
 * bdrv_check_qiov_request ("offset is negative: -15728640" for a 1 MiB
 * disk behind librbd's 16 MiB header), whatever size it is given, so a
 * live extend of such a disk would crash the guest.  A QEMU that fixes it
 * only needs its version here. */
#define NV_MIN_QEMU_LIBRBD_LUKS2_RESIZE_VERSION G_MAXUINT64

/* Who decrypts an encrypted volume. */
typedef enum {
    NV_ENCRYPTION_PATH_NONE,      /* nobody: not encrypted, no-op or back-end */
    NV_ENCRYPTION_PATH_NATIVE,    /* QEMU, with <encryption> and a libvirt secret */
    NV_ENCRYPTION_PATH_ENCRYPTOR, /* an os-brick style dm-crypt encryptor */
    NV_ENCRYPTION_PATH_LIBRBD,    /* librbd inside QEMU (LUKS2 on rbd), with a libvirt secret */
} nv_encryption_path;

/* "none", "native", "encryptor", "librbd".  Static string. */
const char *nv_encryption_path_name(nv_encryption_path path);

/* TRUE for the paths where QEMU decrypts with a libvirt volume secret
 * (NATIVE, LIBRBD). */
gboolean nv_encryption_path_uses_secret(nv_encryption_path path);

/* Decide how volume @volume_id with encryption metadata @meta (NULL or
 * empty: not encrypted) is decrypted on a host running @libvirt_version and
 * @qemu_version (libvirt's encoding):
 *
 * NATIVE iff the provider maps to LUKS v1 (Nova's _allow_native_luksv1),
 * [workarounds] disable_native_luksv1 is not set (@disable_native_luksv1),
 * QEMU >= 2.6.0 and libvirt >= 2.2.0 (the spec's gate; Nova 20 dropped it).
 * As in Nova, control_location does not matter for NATIVE.  Otherwise
 * ENCRYPTOR when os-brick would attach a real encryptor (a non-no-op
 * provider and control_location "front-end", any case), else NONE.
 *
 * On success *@path is set and, if @reason is non-NULL, *@reason gets a new
 * one-line string the caller owns saying which condition decided ("QEMU
 * 2.5.0 is older than 2.6.0", "[workarounds] disable_native_luksv1 is set",
 * "provider 'plain' is not LUKS v1", ...).  An unknown provider fails with
 * NV_ERROR_BAD_INPUT (see nv_encryptors_provider_to_format). */
gboolean nv_driver_choose_encryption_path(const nv_encryption_meta *meta, const char *volume_id,
                                          guint64 libvirt_version, guint64 qemu_version,
                                          gboolean disable_native_luksv1, nv_encryption_path *path,
                                          char **reason, GError **error);

/* Why QEMU may not decrypt a LUKS v1 volume on a host with these versions
 * (the operator's switch first, then QEMU, then libvirt), or NULL if it
 * may.  Caller frees. */
char *nv_native_luks_blocker(guint64 libvirt_version, guint64 qemu_version,
                             gboolean disable_native_luksv1);

/* Why librbd may not decrypt LUKS2 here (libvirt first, then QEMU, then
 * @librbd_encryption: QEMU's rbd driver offers encrypt.format luks2), or
 * NULL if it may.  Caller frees. */
char *nv_librbd_luks2_blocker(guint64 libvirt_version, guint64 qemu_version,
                              gboolean librbd_encryption);

/* Why a disk librbd decrypts cannot be hot-plugged into a running domain
 * with this libvirt, and what works instead, or NULL if it can.  Caller
 * frees. */
char *nv_librbd_luks2_hotplug_blocker(guint64 libvirt_version);

/* Why a running domain's disk that librbd decrypts cannot be resized with
 * this QEMU, and what works instead, or NULL if it can.  Caller frees. */
char *nv_librbd_luks2_resize_blocker(guint64 qemu_version);

/* For an rbd volume, after nv_driver_choose_encryption_path() chose *@path:
 * a LUKS2 volume (provider 'luks2') that would need a dm-crypt encryptor,
 * which an rbd volume cannot have, goes to librbd (LIBRBD) unless
 * nv_librbd_luks2_blocker() objects; then *@path stays ENCRYPTOR (the
 * caller refuses it) and *@reason, if non-NULL, is replaced by the
 * blocker.  Other paths and providers are left alone.  @meta must be the
 * metadata that chose *@path. */
void nv_driver_choose_rbd_encryption_path(const nv_encryption_meta *meta, guint64 libvirt_version,
                                          guint64 qemu_version, gboolean librbd_encryption,
                                          nv_encryption_path *path, char **reason);

G_END_DECLS
