/* SPDX-License-Identifier: Apache-2.0 */
/* The volume driver implementations, one file each, for the table in volume.c. */
#pragma once

#include "virt/libvirt/volume/volume.h"

G_BEGIN_DECLS

extern const nv_volume_driver nv_volume_driver_block;         /* volume.c */
extern const nv_volume_driver nv_volume_driver_storpool;      /* volume.c */
extern const nv_volume_driver nv_volume_driver_iscsi;         /* iscsi.c */
extern const nv_volume_driver nv_volume_driver_iser;          /* iscsi.c */
extern const nv_volume_driver nv_volume_driver_fibre_channel; /* fibrechannel.c */
extern const nv_volume_driver nv_volume_driver_scaleio;       /* scaleio.c */
extern const nv_volume_driver nv_volume_driver_nfs;           /* nfs.c */
extern const nv_volume_driver nv_volume_driver_file;          /* file.c */
extern const nv_volume_driver nv_volume_driver_net;           /* net.c */

/* The source of a host block device the connector found
 * (LibvirtVolumeDriver.get_config); @io_native for the drivers that add
 * driver_io='native' (iscsi, fibre_channel, scaleio). */
nv_disk_config *nv_volume_block_get_config(const nv_connection_info *info,
                                           const nv_disk_info *disk_info, const nv_conf *conf,
                                           gboolean io_native, GError **error);

/* LibvirtNetVolumeDriver.get_config: a <disk type='network'> whose protocol
 * is @info's driver_volume_type (rbd, nbd, iscsi).  Returns a new disk
 * config, or NULL with NV_ERROR_BAD_INPUT naming the volume, its type and
 * the missing or bad key. */
nv_disk_config *nv_volume_net_get_config(const nv_connection_info *info,
                                         const nv_disk_info *disk_info, const nv_conf *conf,
                                         GError **error);

/* LibvirtBaseFileSystemVolumeDriver._get_device_path: the file a mounted
 * share's volume appears as, MOUNT_BASE/md5(export)/name.  Returns a new
 * string, or NULL with NV_ERROR_BAD_INPUT naming the missing key. */
char *nv_volume_fs_device_path(const nv_connection_info *info, const char *mount_point_base,
                               GError **error);

/* Replace an owned string field of a config object (nv_disk_config_new
 * fills some with defaults). */
static inline void
nv_volume_set_str(char **field, const char *value)
{
    g_free(*field);
    *field = g_strdup(value);
}

G_END_DECLS
