/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Volume drivers (the modules of nova/virt/libvirt/volume/): one per
 * driver_volume_type, each turning Cinder's connection_info into the <disk>
 * config the guest gets.
 *
 * Only the part of a driver that needs no host is here (get_config); the
 * connector side (connect_volume / disconnect_volume) is the host's.  A
 * driver never decides about encryption: the driver core adds the
 * <encryption> element (nv_disk_config_set_luks_encryption) when QEMU decrypts.
 */
#pragma once

#include <glib.h>

#include "conf/conf.h"
#include "virt/block_device.h"
#include "virt/libvirt/config.h"

G_BEGIN_DECLS

/* Where the volume goes in the guest (the disk_info dict of
 * nova/virt/libvirt/blockinfo.py). */
typedef struct {
    char *dev;  /* "vdb" (no /dev/) */
    char *bus;  /* "virtio", "scsi", "sata", "ide", "usb" */
    char *type; /* "disk" */
    int unit;   /* SCSI unit on controller 0; -1: libvirt picks the address */
} nv_disk_info;

/* Build a disk_info from a mountpoint ("/dev/vdb" or "vdb", as
 * block_device.strip_dev accepts) and an optional @bus (NULL: derived from
 * the name as blockinfo.get_disk_bus_for_disk_dev does: vd -> virtio,
 * sd -> scsi, hd -> ide).  The name must be one libvirt accepts as a disk
 * target: a virDiskNameParse prefix (vd, sd, hd, xvd, ubd, fd) and 1 to 3
 * lowercase letters, no partition digits.  Fails with NV_ERROR_BAD_INPUT,
 * one line naming volume @volume_id (may be NULL) and the mountpoint or
 * bus, quoted and cut (util/quote.h).  Returns a new nv_disk_info the
 * caller owns. */
nv_disk_info *nv_disk_info_new_for_volume(const char *volume_id, const char *mountpoint,
                                          const char *bus, GError **error);

/* nv_disk_info_new_for_volume() without a volume to name. */
nv_disk_info *nv_disk_info_new(const char *mountpoint, const char *bus, GError **error);
void nv_disk_info_free(nv_disk_info *disk_info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_disk_info, nv_disk_info_free)

typedef struct nv_volume_driver nv_volume_driver;

/* One volume driver: what LibvirtBaseVolumeDriver subclasses override. */
struct nv_volume_driver {
    const char *name;      /* Nova's class name, for messages and logs */
    gboolean is_block_dev; /* LibvirtBaseVolumeDriver.is_block_dev */
    /* Returns a new disk config the caller owns, or NULL with an error. */
    nv_disk_config *(*get_config)(const nv_volume_driver *driver, const nv_connection_info *info,
                                  const nv_disk_info *disk_info, const nv_conf *conf,
                                  GError **error);
};

/* The driver for @info's driver_volume_type (driver.py VOLUME_DRIVERS and
 * _get_volume_driver).  Static, never freed.  Unknown types fail with
 * NV_ERROR_BAD_INPUT "volume VOLID: unsupported driver_volume_type 'X'". */
const nv_volume_driver *nv_volume_driver_lookup(const nv_connection_info *info, GError **error);

/* Look the driver up, call its get_config and apply [libvirt]
 * disk_cachemodes (nv_volume_set_cache_mode), as driver.py
 * _get_volume_config does.  @conf may be NULL (built-in defaults).  Returns
 * a new disk config the caller owns, without <encryption>. */
nv_disk_config *nv_volume_get_config(const nv_connection_info *info, const nv_disk_info *disk_info,
                                     const nv_conf *conf, GError **error);

/* LibvirtBaseVolumeDriver.get_config: driver, target, serial, blockio,
 * iotune, readonly, discard, shareable, SCSI address.  Drivers call it first and
 * then set the source.  Returns a new disk config the caller owns. */
nv_disk_config *nv_volume_base_get_config(const nv_connection_info *info,
                                          const nv_disk_info *disk_info, const nv_conf *conf,
                                          GError **error);

/* data.device_path, or NULL with NV_ERROR_BAD_INPUT "connection_info:
 * missing key 'data.device_path' for volume VOLID".  Borrowed. */
const char *nv_volume_require_device_path(const nv_connection_info *info, GError **error);

/* The path on the host the volume is read through, as Nova's
 * connect_volume leaves it in data.device_path: for nfs always
 * MOUNT_BASE/md5(data.export)/data.name from [libvirt]
 * nfs_mount_point_base (a stale data.device_path is ignored), for the
 * other host-attached types data.device_path.  NULL without an error for
 * network disks (rbd, nbd, QEMU-initiator iscsi), which have none.  NULL
 * with NV_ERROR_BAD_INPUT naming the missing key and the volume otherwise.
 * @conf may be NULL (defaults).  Returns a new string the caller owns.  The
 * driver core probes, formats and opens encryptors on this path. */
char *nv_volume_get_host_path(const nv_connection_info *info, const nv_conf *conf, GError **error);

/* LibvirtDriver._set_cache_mode: a shareable disk gets cache "none";
 * otherwise the last valid "SOURCE_TYPE=MODE" entry of @disk_cachemodes
 * (Nova's [libvirt] disk_cachemodes list, NULL-terminated, may be NULL)
 * whose SOURCE_TYPE is @disk's source type ("file", "block", "network")
 * sets its cache.  Entries with a mode outside Nova's VALID_DISK_CACHEMODES
 * are skipped with a warning, as Nova does.  Then io "native" falls back
 * to "threads" unless the cache is "none" or "directsync" (nova bug
 * 1841363). */
void nv_volume_set_cache_mode(nv_disk_config *disk, const char *const *disk_cachemodes);

/* TRUE when an iscsi volume is opened by QEMU's own initiator (a network
 * disk) rather than attached on the host: "iscsi" is listed in @conf's
 * [libvirt] qemu_allowed_storage_drivers.  @conf may be NULL (defaults:
 * FALSE). */
gboolean nv_volume_uses_qemu_initiator(const nv_connection_info *info, const nv_conf *conf);

/* Whether the cryptsetup encryptors (the spec's fallback) can decrypt this
 * volume for the guest: only a volume the guest reads through a host device
 * (data.device_path).  rbd, nbd and QEMU-initiator iscsi volumes are network
 * disks QEMU opens itself, so never.  FALSE with NV_ERROR_UNSUPPORTED naming
 * the volume and its type (Nova's VolumeEncryptionNotSupported), or the
 * lookup's NV_ERROR_BAD_INPUT for an unknown type; the driver core calls it
 * before it changes anything. */
gboolean nv_volume_check_encryptor_supported(const nv_connection_info *info, const nv_conf *conf,
                                             GError **error);

/* For an rbd disk that names its monitors (<host> elements): TRUE once one
 * of them accepts a TCP connection within @timeout_ms.  librbd inside QEMU
 * waits client_mount_timeout (300 s) for an unreachable monitor, in
 * blockdev-add, with the domain's monitor held, so the driver core asks
 * first.  Other disks, and rbd disks whose monitors come from ceph.conf:
 * TRUE without a probe.  FALSE with NV_ERROR_FAILED naming the volume and
 * every address tried. */
/* How long a Ceph monitor has to accept a TCP connection before an rbd
 * operation is refused (nv_volume_net_check_monitors). */
#define NV_CEPH_MON_PROBE_TIMEOUT_MS 5000

gboolean nv_volume_net_check_monitors(const nv_disk_config *disk, const char *volume_id,
                                      guint timeout_ms, GError **error);

G_END_DECLS
