/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <disk> (LibvirtConfigGuestDisk) with its <encryption> and <address>.
 */
#pragma once

#include <glib.h>

#include "virt/libvirt/config/address.h"
#include "virt/libvirt/config/encryption.h"

G_BEGIN_DECLS

/* <host name='...' port='...'/> or <host transport='unix' socket='...'/> */
typedef struct {
    char *name;
    char *port;
    char *transport; /* NULL (tcp) or "unix" */
    char *socket;
} nv_disk_host;

/* <iotune> children; each NULL when absent (Nova's disk_*_sec fields). */
typedef enum {
    NV_IOTUNE_READ_BYTES_SEC,
    NV_IOTUNE_READ_IOPS_SEC,
    NV_IOTUNE_WRITE_BYTES_SEC,
    NV_IOTUNE_WRITE_IOPS_SEC,
    NV_IOTUNE_TOTAL_BYTES_SEC,
    NV_IOTUNE_TOTAL_IOPS_SEC,
    NV_IOTUNE_READ_BYTES_SEC_MAX,
    NV_IOTUNE_WRITE_BYTES_SEC_MAX,
    NV_IOTUNE_TOTAL_BYTES_SEC_MAX,
    NV_IOTUNE_READ_IOPS_SEC_MAX,
    NV_IOTUNE_WRITE_IOPS_SEC_MAX,
    NV_IOTUNE_TOTAL_IOPS_SEC_MAX,
    NV_IOTUNE_SIZE_IOPS_SEC,
    NV_IOTUNE_LAST
} nv_iotune_field;

/* Element name of an iotune field ("read_bytes_sec", ...). */
const char *nv_iotune_field_name(nv_iotune_field field);

/* <disk> (LibvirtConfigGuestDisk) */
typedef struct {
    char *source_type;   /* "file", "block", "network" */
    char *source_device; /* "disk", "cdrom", "lun" */

    char *driver_name;   /* "qemu" */
    char *driver_format; /* "raw", "qcow2" (the <driver type=> attribute) */
    char *driver_cache;
    char *driver_io;
    char *driver_discard;

    char *source_path;       /* file= (file) or dev= (block) */
    char *source_protocol;   /* network: "rbd", "iscsi", "nbd", ... */
    char *source_name;       /* network: "pool/volume", iqn/lun, export */
    GPtrArray *source_hosts; /* nv_disk_host *, owned; never NULL */

    char *auth_username;
    char *auth_secret_type; /* "ceph", "iscsi" */
    char *auth_secret_uuid;

    char *target_dev; /* "vdb" */
    char *target_bus; /* "virtio", "scsi", "usb", "sata", "ide" */

    char *serial; /* volume id */
    char *iotune[NV_IOTUNE_LAST];
    /* <blockio> attributes (bytes, as given); no element when both NULL */
    char *logical_block_size;
    char *physical_block_size;
    gboolean readonly;
    gboolean shareable;
    char *boot_order; /* <boot order='N'/> */
    nv_device_address *address;
    char *alias; /* <alias name='...'/>, only ever parsed from live XML */

    nv_disk_encryption *encryption; /* last child of <disk>; NULL = none */
} nv_disk_config;

/* A disk with Nova's defaults (source_type "file", source_device "disk"),
 * everything else absent.  Never NULL; free with nv_disk_config_free(). */
nv_disk_config *nv_disk_config_new(void);
/* Deep copy; caller owns.  @disk must not be NULL. */
nv_disk_config *nv_disk_config_copy(const nv_disk_config *disk);
void nv_disk_config_free(nv_disk_config *disk);
/* Append a host; @port, @transport, @socket may be NULL. */
void nv_disk_config_add_host(nv_disk_config *disk, const char *name, const char *port,
                             const char *transport, const char *socket);
/* <disk> in LibvirtConfigGuestDisk.format_dom order (driver, source, auth,
 * target, serial, iotune, blockio, readonly, shareable, boot, address,
 * encryption);
 * alias is never written.  Caller owns.  NV_ERROR_BAD_INPUT naming the field
 * for an unsupported source type, missing target dev, network without
 * protocol, incomplete host/auth/address/encryption, or text that is not
 * valid XML. */
char *nv_disk_config_to_xml(const nv_disk_config *disk, GError **error);
/* Accepts live domain XML disks: unknown elements/attributes are skipped;
 * <auth>/<encryption> are read at disk level or inside <source>; addresses
 * other than pci/drive give address NULL.  Caller owns.  NV_ERROR_BAD_INPUT
 * for malformed XML, a DOCTYPE, or a root other than <disk>. */
nv_disk_config *nv_disk_config_parse(const char *xml, GError **error);
gboolean nv_disk_config_equal(const nv_disk_config *a, const nv_disk_config *b);

/* Give @disk the native LUKS element <encryption format='luks'><secret
 * type='passphrase' uuid=@secret_uuid/></encryption>, replacing any
 * (LibvirtDriver._attach_encryptor's native branch).  The driver core
 * calls it once the volume secret exists. */
void nv_disk_config_set_luks_encryption(nv_disk_config *disk, const char *secret_uuid);

/* Turn the element nv_disk_config_set_luks_encryption() gave @disk into
 * <encryption format='luks2' engine='librbd'>: librbd inside QEMU decrypts
 * a LUKS2 rbd volume (libvirt >= 7.9.0).  The secret stays. */
void nv_disk_config_set_librbd_encryption(nv_disk_config *disk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_disk_config, nv_disk_config_free)

G_END_DECLS
