/* SPDX-License-Identifier: Apache-2.0 */
/* LibvirtISCSIVolumeDriver and LibvirtISERVolumeDriver
 * (nova/virt/libvirt/volume/iscsi.py, iser.py): os-brick logs in and the
 * volume appears as a host block device. */
#include "virt/libvirt/volume/volume_priv.h"

static nv_disk_config *
iscsi_get_config(const nv_volume_driver *driver, const nv_connection_info *info,
                 const nv_disk_info *disk_info, const nv_conf *conf, GError **error)
{
    return nv_volume_block_get_config(info, disk_info, conf, TRUE, error);
}

const nv_volume_driver nv_volume_driver_iscsi = {
    .name = "LibvirtISCSIVolumeDriver",
    .is_block_dev = TRUE,
    .get_config = iscsi_get_config,
};

/* iSER only changes the connector's transport. */
const nv_volume_driver nv_volume_driver_iser = {
    .name = "LibvirtISERVolumeDriver",
    .is_block_dev = TRUE,
    .get_config = iscsi_get_config,
};
