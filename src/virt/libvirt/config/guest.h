/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <domain> (LibvirtConfigGuest): the part of a guest nvirt builds itself to
 * spawn an instance: name, uuid, memory, vcpus, os (machine type, direct
 * kernel boot) and devices (disks with their boot order and encryption,
 * controllers, serial consoles).
 */
#pragma once

#include <glib.h>

#include "virt/libvirt/config/disk.h"

G_BEGIN_DECLS

/* <controller type= index= model=/> (LibvirtConfigGuestController) */
typedef struct {
    char *type;  /* "scsi", "virtio-serial", "usb", "pci", ... (required) */
    char *index; /* NULL: libvirt numbers it */
    char *model; /* "virtio-scsi", ... */
} nv_controller_config;

/* <serial>/<console> (LibvirtConfigGuestSerial / ...Console) */
typedef struct {
    char *element;     /* "serial" or "console" */
    char *type;        /* "pty" or "file" */
    char *source_path; /* file: the log file; pty: only parsed from live XML */
    char *target_port; /* NULL: none */
} nv_chardev_config;

typedef struct {
    char *virt_type; /* <domain type=>: "qemu" or "kvm" (required) */
    char *uuid;
    char *name;            /* required */
    guint64 memory_kib;    /* <memory> in KiB, > 0 */
    guint vcpus;           /* <vcpu>, > 0 */
    char *os_type;         /* "hvm" (required) */
    char *os_arch;         /* <type arch=>, NULL: host's */
    char *os_machine_type; /* <type machine=>, NULL: libvirt's default */
    char *os_kernel;       /* direct kernel boot; NULL: none */
    char *os_initrd;
    char *os_cmdline;
    GPtrArray *disks;       /* nv_disk_config *, owned, device order; never NULL */
    GPtrArray *controllers; /* nv_controller_config *, owned; never NULL */
    GPtrArray *chardevs;    /* nv_chardev_config *, owned; never NULL */
} nv_guest_config;

/* A guest with Nova's defaults (virt type "qemu", os type "hvm", 500 MiB,
 * 1 vcpu) and no devices.  Never NULL; free with nv_guest_config_free(). */
nv_guest_config *nv_guest_config_new(void);
void nv_guest_config_free(nv_guest_config *guest);
/* Append a device.  _add_disk takes ownership of @disk; the others copy
 * their arguments (each may be NULL = attribute absent, except @type). */
void nv_guest_config_add_disk(nv_guest_config *guest, nv_disk_config *disk);
void nv_guest_config_add_controller(nv_guest_config *guest, const char *type, const char *index,
                                    const char *model);
void nv_guest_config_add_chardev(nv_guest_config *guest, const char *element, const char *type,
                                 const char *source_path, const char *target_port);
/* <domain> in LibvirtConfigGuest.format_dom order (uuid, name, memory, vcpu,
 * os, devices: disks, controllers, serials/consoles).  Caller owns.
 * NV_ERROR_BAD_INPUT naming the field for a missing name/virt type/os type,
 * zero memory or vcpus, initrd or cmdline without kernel, a controller
 * without type, a chardev that is not a pty/file serial/console or a file
 * without path, any disk nv_disk_config_to_xml() refuses, two disks with
 * one target dev, or text that is not valid XML. */
char *nv_guest_config_to_xml(const nv_guest_config *guest, GError **error);
/* Reads defined or live domain XML; elements nvirt does not model
 * (features, clock, interfaces, ...) are skipped.  Caller owns.
 * NV_ERROR_BAD_INPUT for malformed XML, a DOCTYPE, a root other than
 * <domain>, or memory / vcpu that are not a positive decimal number
 * (memory in a unit other than KiB included). */
nv_guest_config *nv_guest_config_parse(const char *xml, GError **error);
gboolean nv_guest_config_equal(const nv_guest_config *a, const nv_guest_config *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_guest_config, nv_guest_config_free)

G_END_DECLS
