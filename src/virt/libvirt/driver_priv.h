/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What driver.c (the handle, host information, planning) and
 * driver_volume.c (attach and detach) share.  Not installed.
 */
#pragma once

#include <glib.h>

#include "conf/conf.h"
#include "encryptors/encryptor.h"
#include "keymgr/keymgr.h"
#include "nvirt/nvirt.h"
#include "virt/block_device.h"
#include "virt/libvirt/config.h"
#include "virt/libvirt/encryption_path.h"
#include "virt/libvirt/guest.h"
#include "virt/libvirt/host.h"
#include "virt/libvirt/volume/volume.h"
#include "virt/libvirt/volume_lock.h"

G_BEGIN_DECLS

struct nv_driver {
    nv_conf *conf;
    nv_host *host;
    /* Created on first use: only attaches that need a key create it, so an
     * attach reusing a volume secret works with the key manager down or
     * misconfigured (nova bug 1905701). */
    nv_keymgr *keymgr;
    nv_secure_buf *auth_token; /* nv_driver_set_auth_token(); NULL: none */
    /* The daemon's and QEMU's versions, read on first use: they change only
     * when libvirtd restarts, which also ends this handle's connection. */
    gboolean have_versions;
    guint64 libvirt_version;
    guint64 qemu_version;
    /* Whether QEMU's rbd driver decrypts LUKS2 (nv_driver_get_librbd_luks2):
     * -1 until asked. */
    int librbd_luks2;
};

/* TRUE when QEMU's rbd driver offers encrypt.format luks2, i.e. QEMU was
 * built with, and loads, a librbd that has rbd_encryption_load (Ceph >=
 * 16.1): `qemu-img create -f rbd -o help` lists it.  Asked once per
 * handle; a qemu-img that cannot run counts as FALSE. */
gboolean nv_driver_get_librbd_luks2(nv_driver *driver);

gboolean nv_driver_get_versions(nv_driver *driver, guint64 *libvirt_version, guint64 *qemu_version,
                                GError **error);
nv_keymgr *nv_driver_keymgr(nv_driver *driver, GError **error);

/* One attach or detach request, parsed, and what it found. */
typedef struct {
    nv_connection_info *info;
    nv_encryption_meta *meta; /* NULL: not encrypted, or (detach) not given */
    nv_disk_info *disk_info;
    nv_disk_config *disk; /* the <disk> the volume driver builds for the volume */
    /* What the host reads the volume through (nv_volume_get_host_path(): for
     * NFS the derived file, else data.device_path); NULL for a network
     * disk, or (detach only) when it cannot be derived. */
    char *host_path;
    nv_guest *guest;       /* NULL: (detach only) the domain does not exist */
    nv_guest_disks *disks; /* both configs, read once; NULL without a guest */
    nv_encryption_path path;
    char *reason;
    gboolean is_rbd; /* an rbd network disk (librbd may decrypt it) */
} nv_volume_op;

void nv_volume_op_free(nv_volume_op *op);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_volume_op, nv_volume_op_free)

/* Parse @request, build the volume's disk config and look up @domain.  For
 * an attach the encryption metadata is required when the volume is
 * encrypted and a missing domain is an error; for a detach both may be
 * missing (the secret is deleted all the same, as Nova does after
 * InstanceNotFound). */
nv_volume_op *nv_volume_op_new(nv_driver *driver, const char *domain,
                               const nv_volume_request *request, gboolean detach, GError **error);

/* TRUE when @disk's <serial> names this volume: connection_info's serial
 * (what Nova writes into <serial>) or the volume id. */
gboolean nv_disk_serial_is_volume(const nv_disk_config *disk, const nv_connection_info *info);

/* The volume part of nv_volume_op_new(), on a connection_info and
 * metadata already parsed (both owned by the op from now on, even when
 * this fails; @meta is dropped when the volume is not encrypted).  No
 * domain lookup: spawn builds the domain afterwards.  @require_meta: an
 * encrypted volume without metadata is an error (attach, spawn). */
nv_volume_op *nv_volume_op_new_parsed(nv_driver *driver, nv_connection_info *info,
                                      nv_encryption_meta *meta, const char *mountpoint,
                                      const char *disk_bus, gboolean require_meta, GError **error);

/* Choose native, encryptor or none for an attach on this host. */
gboolean nv_volume_op_decide(nv_driver *driver, nv_volume_op *op, GError **error);

/* Read both configs of the domain (once) and check that the attach can
 * happen: the target is free in the live and the persistent config, and
 * the volume is not attached already (same serial or same source). */
gboolean nv_volume_op_check_attach(nv_volume_op *op, GError **error);

/* What connecting a volume created, for its rollback: only what this call
 * created. */
typedef struct {
    char *secret_uuid;       /* the secret this call defined */
    char *header_uuid;       /* the LUKS header this call wrote on the volume */
    nv_encryptor *encryptor; /* the mapping this call opened */
} nv_volume_undo;

/* _connect_volume and the decryption half of _attach_encryptor, for a
 * decided op under its volume's lock: check the host path QEMU will open,
 * then (native) find or create the volume secret, formatting a provably
 * blank volume first, and set <encryption> on op->disk; or (encryptor)
 * open the dm-crypt mapping.  What it created goes into @undo, also on
 * failure. */
gboolean nv_volume_op_connect(nv_driver *driver, nv_volume_op *op, nv_volume_undo *undo,
                              GError **error);
/* Undo, newest first, what @undo records (failures are logged). */
void nv_volume_undo_roll_back(nv_driver *driver, const nv_volume_op *op, nv_volume_undo *undo);
/* Forget what @undo records (success: it stays). */
void nv_volume_undo_clear(nv_volume_undo *undo);

/* QEMU's refusal of a key, as libvirt passes it on, becomes
 * NV_ERROR_WRONG_PASSPHRASE. */
void nv_driver_classify_attach_error(GError *error);

/* The volume's external lock (volume_lock.h) for @op. */
nv_volume_lock *nv_volume_op_lock(nv_driver *driver, const nv_volume_op *op, GError **error);

/* driver_extend_rbd.c: for an rbd @disk (source "pool/image"), read by
 * `qemu-img info` as the disk's cephx user with the host's Ceph client
 * configuration: the image's size and, for LUKS1, the payload offset QEMU's
 * luks driver skips (no key needed), for LUKS2 the header area librbd
 * skips (librbd loads the encryption with @passphrase).  In bytes.
 * NV_ERROR_FAILED naming the volume and image when qemu-img fails. */
gboolean nv_extend_rbd_luks_sizes(const char *volume_id, const nv_disk_config *disk,
                                  guint64 *image_size, guint64 *payload_offset, GError **error);
gboolean nv_extend_rbd_librbd_sizes(const char *volume_id, const nv_disk_config *disk,
                                    const nv_secure_buf *passphrase, guint64 *image_size,
                                    guint64 *header_size, GError **error);

G_END_DECLS
