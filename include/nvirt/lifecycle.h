/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Instance lifecycle (LibvirtDriver.spawn, power_off, power_on, reboot,
 * resume_state_on_host_boot, destroy): an instance that boots with its encrypted volumes, keeps
 * them across restarts and leaves nothing behind when it goes. Included by <nvirt/nvirt.h>; include
 * that.
 *
 * The calls take Nova's block_device_info as JSON:
 *
 *   {"root_device_name": "/dev/vda",
 *    "block_device_mapping": [
 *      {"connection_info": {...Cinder's, as for nv_driver_attach_volume...},
 *       "encryption": {...Cinder's encryption metadata, or null...},
 *       "mount_device": "/dev/vda", "boot_index": 0, "disk_bus": "virtio",
 *       "device_type": "disk", "delete_on_termination": false}, ...]}
 *
 * Limits as for connection_info (1 MiB, 32 levels, no NUL, one object);
 * at most 64 entries; unknown keys are ignored.
 */
#pragma once

#include <glib.h>

#include "nvirt/error.h"
#include "nvirt/export.h"

G_BEGIN_DECLS

typedef struct nv_driver nv_driver;

/* What a spawn builds the domain from (nova.objects.Instance and its
 * flavor).  Opaque. */
typedef struct nv_instance nv_instance;

/* Parse an instance description (JSON object, NUL-terminated):
 *   {"name": "instance-0000002a", "uuid": "8a3c5b2e-...",
 *    "memory_mb": 512, "vcpus": 1, "machine_type": "pc",
 *    "kernel": "/path/vmlinuz", "initrd": "/path/initrd", "cmdline": "...",
 *    "console_log": "/path/console.log"}
 * name, uuid, memory_mb (1 to 2^30) and vcpus (1 to 4096) are required;
 * machine_type, kernel, initrd, cmdline and console_log are optional
 * (initrd and cmdline need kernel; kernel, initrd and console_log are
 * absolute paths; console_log puts the serial console in that file, as
 * Nova's console.log, instead of on a pty).  Returns a new
 * nv_instance the caller frees with nv_instance_free(), or NULL with
 * NV_ERROR_BAD_INPUT, one line starting "instance: " naming the key. */
NV_EXPORT nv_instance *nv_instance_new_from_json(const char *json, GError **error);
/* Borrowed from @instance. */
NV_EXPORT const char *nv_instance_get_name(const nv_instance *instance);
NV_EXPORT const char *nv_instance_get_uuid(const nv_instance *instance);
NV_EXPORT void nv_instance_free(nv_instance *instance);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_instance, nv_instance_free)

/* Spawn @instance with the volumes of @block_device_info (JSON, see above;
 * borrowed), as LibvirtDriver.spawn does for a boot from volume: every
 * entry is parsed and checked first (a bad one refuses the whole spawn
 * before anything changes); then, each under its volume's lock, every
 * volume is connected and its decryption prepared as an attach prepares it
 * (a persistent private libvirt secret for QEMU, reused when one exists,
 * or a dm-crypt encryptor; a provably blank volume is formatted LUKS1)
 * BEFORE the domain XML is built.  Disks get <boot order> from boot_index
 * (ascending; -1 or null: not bootable).  The domain is then defined
 * persistent and started, with a serial console on a pty (or in the
 * instance's console_log file).
 *
 * On any failure everything this call created is undone, newest first: the
 * domain (destroyed and undefined), the secrets it created (by UUID), the
 * mappings it opened, the LUKS headers it wrote; secrets that existed
 * before are left.  NV_ERROR_BAD_INPUT for bad input or a domain of that
 * name or UUID that exists already; NV_ERROR_BUSY for a volume lock held
 * too long; NV_ERROR_LIBVIRT, NV_ERROR_WRONG_PASSPHRASE and the attach
 * errors otherwise, each one line naming the volume or the instance. */
NV_EXPORT gboolean nv_driver_spawn(nv_driver *driver, const nv_instance *instance,
                                   const char *block_device_info, GError **error);

/* Destroy domain @name (LibvirtDriver.destroy with destroy_secrets true):
 * stop it if it runs, then for every volume of @block_device_info (JSON,
 * borrowed; the encryption metadata is needed only to close encryptors)
 * disconnect it, delete its volume secret and close its encryptor, then
 * undefine the persistent domain.  Volumes with delete_on_termination are
 * left to the caller, as Nova leaves them to the compute manager.  A domain
 * that does not exist is no error: the host side is cleaned up all the
 * same, so destroy can be repeated after a failure.  NV_ERROR_BAD_INPUT for
 * bad input; NV_ERROR_LIBVIRT and the cleanup errors otherwise (the first
 * failure stops the call; calling it again continues). */
NV_EXPORT gboolean nv_driver_destroy(nv_driver *driver, const char *name,
                                     const char *block_device_info, GError **error);

/* Stop domain @name (LibvirtDriver.power_off without a clean-shutdown
 * timeout: virDomainDestroy).  Its volumes stay connected and their
 * secrets defined, so power-on needs no key manager for natively decrypted
 * volumes.  Stopped already: success.  NV_ERROR_NOT_FOUND when there is no
 * such domain; NV_ERROR_LIBVIRT otherwise. */
/* Check @block_device_info (JSON, borrowed) as every lifecycle call parses
 * it: at most 1 MiB and 32 levels of nesting, no NUL byte, nothing after
 * the object, each entry's connection_info and encryption as an attach
 * checks them.  For a caller that reads the document itself (nvirt
 * migrate): call this first, so hostile input never reaches another JSON
 * parser.  NV_ERROR_BAD_INPUT with one line saying what is wrong. */
NV_EXPORT gboolean nv_block_device_info_validate(const char *block_device_info, GError **error);

NV_EXPORT gboolean nv_driver_power_off(nv_driver *driver, const char *name, GError **error);

/* Start domain @name again with the volumes of @block_device_info (JSON,
 * borrowed), as LibvirtDriver.power_on does through _hard_reboot: the
 * domain is stopped if it runs, each volume torn down with its secret kept
 * (an encryptor's mapping is closed), the domain XML rebuilt from its
 * persistent definition with the volume disks from @block_device_info
 * (boot order from boot_index), every volume reconnected - an existing
 * volume secret is reused without asking the key manager (nova bug
 * 1905701), an encryptor re-opened - and the domain redefined and started.
 * On failure what the reconnect created (a secret that had to be made
 * again, a mapping) is undone and the domain stays defined, shut off.
 * NV_ERROR_NOT_FOUND when there is no such domain; NV_ERROR_BAD_INPUT for
 * bad input or a transient domain; the errors of nv_driver_spawn()
 * otherwise (the key manager's when a secret is missing and no key can be
 * had), one line naming the volume or the domain. */
NV_EXPORT gboolean nv_driver_power_on(nv_driver *driver, const char *name,
                                      const char *block_device_info, GError **error);

/* LibvirtDriver.reboot with reboot_type HARD: exactly nv_driver_power_on()
 * for a domain that may be running. */
NV_EXPORT gboolean nv_driver_hard_reboot(nv_driver *driver, const char *name,
                                         const char *block_device_info, GError **error);

/* LibvirtDriver.resume_state_on_host_boot, for the compute service's start
 * after a libvirtd restart or a host reboot, without a request context: a
 * domain @name that is running, paused, suspended or in no state is left
 * alone (after a libvirtd restart QEMU runs on with its volumes); one that
 * is shut off or crashed gets nv_driver_hard_reboot() with
 * @block_device_info (JSON, borrowed).  Natively decrypted volumes start
 * again with no key manager at all: their persistent libvirt secrets
 * outlive libvirtd and the host (nova bug 1905701).  Encryptor volumes are
 * re-opened, which needs their key.  Errors as nv_driver_power_on():
 * NV_ERROR_NOT_FOUND when there is no such domain (nvirt cannot rebuild an
 * undefined one), NV_ERROR_CONFIG "volume ID: [key_manager] fixed_key is
 * not set" when a volume's secret is gone and no key can be had. */
NV_EXPORT gboolean nv_driver_resume_state_on_host_boot(nv_driver *driver, const char *name,
                                                       const char *block_device_info,
                                                       GError **error);

G_END_DECLS
