/* SPDX-License-Identifier: Apache-2.0 */
/* LibvirtScaleIOVolumeDriver (nova/virt/libvirt/volume/scaleio.py). */
#include "virt/libvirt/volume/volume_priv.h"

static nv_disk_config *
scaleio_get_config(const nv_volume_driver *driver, const nv_connection_info *info,
                   const nv_disk_info *disk_info, const nv_conf *conf, GError **error)
{
    return nv_volume_block_get_config(info, disk_info, conf, TRUE, error);
}

const nv_volume_driver nv_volume_driver_scaleio = {
    .name = "LibvirtScaleIOVolumeDriver",
    .is_block_dev = TRUE,
    .get_config = scaleio_get_config,
};
