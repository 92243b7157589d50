/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Libvirt XML config objects (nova/virt/libvirt/config.py).
 *
 * Spec work item: "Extend the LibvirtConfigGuestDisk class to configure the
 * encryption element of a disk device and to also create the required
 * Libvirt secret for the passphrase."  The disk config carries an optional
 * nv_disk_encryption (<encryption format='luks'><secret .../></encryption>),
 * and nv_secret_config is the <secret> document the host module defines
 * before setting the passphrase on it.
 *
 * Every object has _new, _free, _to_xml (a standalone document string the
 * caller owns) and _parse (from an XML string).  Field values are plain
 * strings, as in Nova, so a parsed object carries exactly what libvirt said;
 * NULL means "attribute/element absent".  This is the only module that
 * touches libxml2.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* <encryption format='luks'><secret type='passphrase' uuid='...'/></encryption>
 * (LibvirtConfigGuestDiskEncryption + ...EncryptionSecret) */
typedef struct {
    char *format;      /* "luks", "luks2" */
    char *engine;      /* NULL (libvirt picks QEMU), "qemu", "librbd" (libvirt >= 7.9) */
    char *secret_type; /* "passphrase" */
    char *secret_uuid;
} nv_disk_encryption;

nv_disk_encryption *nv_disk_encryption_new(const char *format, const char *secret_type,
                                           const char *secret_uuid);
nv_disk_encryption *nv_disk_encryption_copy(const nv_disk_encryption *enc);
void nv_disk_encryption_free(nv_disk_encryption *enc);
/* Standalone <encryption> document (caller owns; no <?xml?> declaration,
 * 2-space indent, final newline).  NV_ERROR_BAD_INPUT when format, secret
 * type or secret uuid is missing. */
char *nv_disk_encryption_to_xml(const nv_disk_encryption *enc, GError **error);
/* Caller owns the result.  NV_ERROR_BAD_INPUT for malformed XML, a DOCTYPE
 * or a root other than <encryption>; unknown content is ignored. */
nv_disk_encryption *nv_disk_encryption_parse(const char *xml, GError **error);
/* Field-by-field; NULL equals only NULL (same for the other _equal). */
gboolean nv_disk_encryption_equal(const nv_disk_encryption *a, const nv_disk_encryption *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_disk_encryption, nv_disk_encryption_free)

/* <host name='...' port='...'/> or <host transport='unix' socket='...'/> */
typedef struct {
    char *name;
    char *port;
    char *transport; /* NULL (tcp) or "unix" */
    char *socket;
} nv_disk_host;

/* <address type='pci' domain bus slot function/> or
 * <address type='drive' controller bus target unit/> */
typedef struct {
    char *type; /* "pci" or "drive" */
    /* pci */
    char *domain;
    char *slot;
    char *function;
    /* drive */
    char *controller;
    char *target;
    char *unit;
    /* both */
    char *bus;
} nv_device_address;

/* New addresses (LibvirtConfigGuestDeviceAddressPCI / ...Drive); every
 * argument may be NULL (attribute absent) and is copied.  Never NULL. */
nv_device_address *nv_device_address_new_pci(const char *domain, const char *bus, const char *slot,
                                             const char *function);
nv_device_address *nv_device_address_new_drive(const char *controller, const char *bus,
                                               const char *target, const char *unit);
nv_device_address *nv_device_address_copy(const nv_device_address *addr);
void nv_device_address_free(nv_device_address *addr);
gboolean nv_device_address_equal(const nv_device_address *a, const nv_device_address *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_device_address, nv_device_address_free)

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
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_disk_config, nv_disk_config_free)

/* <secret ephemeral= private=><uuid/><description/><usage type='volume'>
 * <volume>ID</volume></usage></secret> (LibvirtConfigSecret) */
typedef struct {
    gboolean ephemeral;
    gboolean private_; /* "private" is reserved in C++ headers */
    char *uuid;        /* NULL: libvirt picks one */
    char *description;
    char *usage_type; /* "volume" (also "ceph", "iscsi" for auth secrets) */
    char *usage_id;   /* volume id for usage type volume */
} nv_secret_config;

nv_secret_config *nv_secret_config_new(void);
void nv_secret_config_free(nv_secret_config *secret);
/* Order as LibvirtConfigSecret.format_dom: description, uuid, usage.  Caller
 * owns.  NV_ERROR_BAD_INPUT for a usage type other than volume, ceph, iscsi,
 * tls, vtpm, or a usage type without id (or the reverse). */
char *nv_secret_config_to_xml(const nv_secret_config *secret, GError **error);
/* Caller owns.  NV_ERROR_BAD_INPUT for malformed XML, a DOCTYPE, a root other
 * than <secret>, or ephemeral/private not "yes"/"no". */
nv_secret_config *nv_secret_config_parse(const char *xml, GError **error);
gboolean nv_secret_config_equal(const nv_secret_config *a, const nv_secret_config *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_secret_config, nv_secret_config_free)

/* Find the <disk> in a domain XML whose <target dev=> is @target_dev, or
 * whose <serial> is @serial when @target_dev is NULL.  Returns NULL with
 * NV_ERROR_NOT_FOUND when there is none (Guest.get_disk).  Caller owns the
 * result.  NV_ERROR_BAD_INPUT when both keys are NULL or the XML is not a
 * <domain> document. */
nv_disk_config *nv_domain_find_disk(const char *domain_xml, const char *target_dev,
                                    const char *serial, GError **error);

/* Every <disk> of a domain XML, in document order, parsed once (an attach or
 * detach checks targets, serials and sources against one read of each
 * config).  A GPtrArray of nv_disk_config the caller frees (never NULL on
 * success); errors as nv_domain_find_disk(). */
GPtrArray *nv_domain_parse_disks(const char *domain_xml, GError **error);

/* The disk of @disks (from nv_domain_parse_disks(); NULL = none) whose
 * <target dev=> is @target_dev, or NULL.  Borrowed. */
const nv_disk_config *nv_disks_find_by_target(const GPtrArray *disks, const char *target_dev);

/* TRUE when @a and @b name the same storage: the same file or block device
 * path, or the same network protocol and name.  A side without a source
 * never matches. */
gboolean nv_disk_config_same_source(const nv_disk_config *a, const nv_disk_config *b);

G_END_DECLS
