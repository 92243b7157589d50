/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Nova's block_device_info (nova/virt/driver.py get_block_device_info): the
 * volumes an instance boots with, as spawn, power-on, reboot and destroy
 * get them.  Parsed from JSON with the limits of block_device.h; each
 * entry's connection_info and encryption are parsed by the parsers of a
 * single attach, so a volume reads the same whichever call brings it.
 */
#pragma once

#include <glib.h>

#include "virt/block_device.h"

G_BEGIN_DECLS

/* At most this many volumes per instance (Nova's max_local_block_devices
 * is per image; a virtio bus has 32 slots, scsi more). */
#define NV_BDM_MAX_ENTRIES 64
/* boot_index: -1 (or null / absent) = not bootable, else 0 to this. */
#define NV_BDM_MAX_BOOT_INDEX 1024

/* One entry of block_device_mapping (DriverVolumeBlockDevice). */
typedef struct {
    nv_connection_info *connection_info; /* never NULL */
    /* The volume's Cinder encryption metadata ("encryption"); NULL when
     * absent or null.  Kept even when connection_info says the volume is
     * not encrypted: the driver ignores it then, as Nova never fetches it. */
    nv_encryption_meta *encryption;
    char *mount_device; /* "/dev/vda"; checked as a disk target by the driver */
    gint boot_index;    /* -1: not bootable */
    char *disk_bus;     /* NULL: from the device name */
    char *device_type;  /* "disk" (the only one a volume gets here) */
    gboolean delete_on_termination;
} nv_bdm;

typedef struct {
    char *root_device_name; /* NULL when absent or null */
    GPtrArray *mappings;    /* nv_bdm *, owned, in document order; never NULL */
} nv_block_device_info;

/* Parse a block_device_info JSON document of @len bytes (-1:
 * NUL-terminated).  Caller owns the result.  NV_ERROR_BAD_INPUT, one line
 * starting "block_device_info: " and naming the entry
 * ("block_device_mapping[2]: missing key 'mount_device'"), for a document
 * over the limits, a key of the wrong type, a boot_index out of range, two
 * entries with one boot_index, mount_device or volume id, or an entry's
 * connection_info or encryption that its own parser refuses (that message
 * follows the entry's name). */
nv_block_device_info *nv_block_device_info_parse(const char *json, gssize len, GError **error);
void nv_block_device_info_free(nv_block_device_info *bdi);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_block_device_info, nv_block_device_info_free)

G_END_DECLS
