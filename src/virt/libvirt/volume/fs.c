/* SPDX-License-Identifier: Apache-2.0 */
/* LibvirtBaseFileSystemVolumeDriver (nova/virt/libvirt/volume/fs.py): where
 * a volume on a mounted share appears on the host. */
#include "nvirt/error.h"
#include "virt/libvirt/volume/volume_priv.h"

char *
nv_volume_fs_device_path(const nv_connection_info *info, const char *mount_point_base,
                         GError **error)
{
    g_autofree char *share_hash = NULL;

    if (!info->export || !*info->export) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "connection_info: missing key 'data.export' for volume %s", info->volume_id);
        return NULL;
    }
    if (!info->name || !*info->name) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "connection_info: missing key 'data.name' for volume %s", info->volume_id);
        return NULL;
    }
    /* _get_mount_path: utils.get_hash_str(export) is the MD5 hex of the
     * UTF-8 export; it names the mount point, it protects nothing. */
    share_hash = g_compute_checksum_for_string(G_CHECKSUM_MD5, info->export, -1);
    return g_build_filename(mount_point_base, share_hash, info->name, NULL);
}
