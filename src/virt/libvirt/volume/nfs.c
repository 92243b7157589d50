/* SPDX-License-Identifier: Apache-2.0 */
/* LibvirtNFSVolumeDriver (nova/virt/libvirt/volume/nfs.py). */
#include "nvirt/error.h"
#include "virt/libvirt/volume/volume_priv.h"

static nv_disk_config *
nfs_get_config(const nv_volume_driver *driver, const nv_connection_info *info,
               const nv_disk_info *disk_info, const nv_conf *conf, GError **error)
{
    g_autoptr(nv_disk_config) disk = NULL;
    g_autofree char *path = NULL;
    g_autoptr(nv_conf) defaults = NULL;

    if (!conf)
        conf = defaults = nv_conf_new_default();
    /* Nova's connect_volume mounts the share and overwrites
     * data.device_path with MOUNT_BASE/md5(export)/name before get_config
     * reads it, so a device_path Cinder or an older host left behind never
     * decides which file QEMU opens: the path is always derived. */
    path = nv_volume_fs_device_path(info, conf->libvirt.nfs_mount_point_base, error);
    if (!path)
        return NULL;
    disk = nv_volume_base_get_config(info, disk_info, conf, error);
    if (!disk)
        return NULL;
    nv_volume_set_str(&disk->source_type, "file");
    disk->source_path = g_steal_pointer(&path);
    nv_volume_set_str(&disk->driver_format, info->format ? info->format : "raw");
    nv_volume_set_str(&disk->driver_io, "native");
    return g_steal_pointer(&disk);
}

const nv_volume_driver nv_volume_driver_nfs = {
    .name = "LibvirtNFSVolumeDriver",
    .is_block_dev = FALSE,
    .get_config = nfs_get_config,
};
