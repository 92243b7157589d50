/* SPDX-License-Identifier: Apache-2.0 */
/* LibvirtISCSIVolumeDriver and LibvirtISERVolumeDriver
 * (nova/virt/libvirt/volume/iscsi.py, iser.py): os-brick logs in and the
 * volume appears as a host block device. */
#include <string.h>

#include "virt/libvirt/volume/volume_priv.h"

gboolean
nv_volume_uses_qemu_initiator(const nv_connection_info *info, const nv_conf *conf)
{
    g_auto(GStrv) protocols = NULL;

    if (strcmp(info->driver_volume_type, "iscsi") != 0 || !conf ||
        !conf->libvirt.qemu_allowed_storage_drivers)
        return FALSE;
    protocols = g_strsplit_set(conf->libvirt.qemu_allowed_storage_drivers, ", ", -1);
    return g_strv_contains((const char *const *)protocols, "iscsi");
}

/* A host-attached volume is the block device os-brick found; with
 * qemu_allowed_storage_drivers = iscsi, QEMU logs in itself
 * (LibvirtNetVolumeDriver, as Queens' net.py did for iscsi). */
static nv_disk_config *
iscsi_get_config(const nv_volume_driver *driver, const nv_connection_info *info,
                 const nv_disk_info *disk_info, const nv_conf *conf, GError **error)
{
    if (nv_volume_uses_qemu_initiator(info, conf))
        return nv_volume_net_get_config(info, disk_info, conf, error);
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
