/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "file": a volume that is a plain image file on the host (nvirt's own
 * type; Nova's nearest is LibvirtNFSVolumeDriver once mounted).  It is what
 * the functional tests attach, since the test hosts have no device-mapper
 * and QEMU opens a LUKS image file as readily as a block device.
 */
#include "virt/libvirt/volume/volume_priv.h"

static nv_disk_config *
file_get_config(const nv_volume_driver *driver, const nv_connection_info *info,
                const nv_disk_info *disk_info, const nv_conf *conf, GError **error)
{
    g_autoptr(nv_disk_config) disk = NULL;
    const char *device_path = nv_volume_require_device_path(info, error);

    if (!device_path)
        return NULL;
    disk = nv_volume_base_get_config(info, disk_info, conf, error);
    if (!disk)
        return NULL;
    nv_volume_set_str(&disk->source_type, "file");
    nv_volume_set_str(&disk->source_path, device_path);
    if (info->format) {
        nv_volume_set_str(&disk->driver_format, info->format);
    }
    return g_steal_pointer(&disk);
}

const nv_volume_driver nv_volume_driver_file = {
    .name = "LibvirtFileVolumeDriver",
    .is_block_dev = FALSE,
    .get_config = file_get_config,
};
