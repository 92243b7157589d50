/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A libvirt domain: device attach/detach and live disk lookup
 * (nova/virt/libvirt/guest.py).
 *
 * Only this module changes a domain's devices.  Errors are GError: a domain
 * that does not exist is NV_ERROR_NOT_FOUND "domain 'NAME' not found"; libvirt
 * failures are NV_ERROR_LIBVIRT "domain 'NAME': ...".
 */
#pragma once

#include <glib.h>

#include "virt/libvirt/config.h"
#include "virt/libvirt/host.h"

G_BEGIN_DECLS

typedef struct nv_guest nv_guest;

/* How long nv_guest_detach_disk() waits for a live disk to leave the domain
 * when the caller passes 0 (Nova waits for the device-removed event up to
 * [libvirt] device_detach_timeout, 20 s by default). */
#define NV_GUEST_DETACH_TIMEOUT_MS 20000

/* Look up the domain @name on @host (Host.get_guest).  Returns a new guest
 * the caller frees with nv_guest_free(); it keeps its own reference to the
 * connection, so it may outlive @host. */
nv_guest *nv_guest_lookup(nv_host *host, const char *name, GError **error);

/* NULL is a no-op. */
void nv_guest_free(nv_guest *guest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_guest, nv_guest_free)

/* The domain name.  Borrowed. */
const char *nv_guest_get_name(const nv_guest *guest);

/* The libvirt domain, for calls this module does not wrap (migration).
 * Borrowed: valid until nv_guest_free(). */
virDomainPtr nv_guest_get_domain(nv_guest *guest);

/* *@persistent = TRUE when the domain is defined (has a persistent config),
 * FALSE for a transient one (created, not defined), which has only a live
 * config.  Asked once (virDomainIsPersistent), when first needed: attach
 * and detach ask only when libvirt refuses a change to the persistent
 * config.  NV_ERROR_LIBVIRT "domain 'NAME': persistence: ...". */
gboolean nv_guest_is_persistent(nv_guest *guest, gboolean *persistent, GError **error);

/* *@live = TRUE when the domain is running or paused: the states in which
 * Nova also changes the live config (driver.attach_volume). */
gboolean nv_guest_is_live(nv_guest *guest, gboolean *live, GError **error);

/* The domain's state, a virDomainState (virDomainGetState), for a caller
 * that tells more states apart than nv_guest_is_live() does. */
gboolean nv_guest_get_state(nv_guest *guest, int *state, GError **error);

/* The domain XML: live (@inactive FALSE; for a shut-off domain libvirt
 * returns the persistent one) or persistent (@inactive TRUE).  Caller frees. */
char *nv_guest_get_xml(nv_guest *guest, gboolean inactive, GError **error);

/* Attach @device_xml (e.g. nv_disk_config_to_xml()) to the persistent config
 * when the domain is defined and to the live one when it is running or
 * paused (Guest.attach_device with persistent=..., live=...): a transient
 * domain gets a live-only device. */
gboolean nv_guest_attach_device(nv_guest *guest, const char *device_xml, GError **error);

/* The disk with <target dev=@target_dev> as the live XML describes it
 * (Guest.get_disk), including its <encryption> and alias.  Caller frees.
 * NV_ERROR_NOT_FOUND "domain 'NAME': no disk with target dev 'DEV'". */
nv_disk_config *nv_guest_get_disk(nv_guest *guest, const char *target_dev, GError **error);

/* The same from the persistent config (what the domain gets at its next
 * start).  Caller frees; NV_ERROR_NOT_FOUND as nv_guest_get_disk(). */
nv_disk_config *nv_guest_get_persistent_disk(nv_guest *guest, const char *target_dev,
                                             GError **error);

/* Detach the disk @target_dev from the persistent config and, if the domain
 * is running or paused, from the live one, then wait up to @timeout_ms (0:
 * NV_GUEST_DETACH_TIMEOUT_MS) until the live XML no longer has it: libvirt
 * returning 0 does not mean the guest let go (virtio-blk without a guest OS
 * never does).  Errors: NV_ERROR_NOT_FOUND "domain 'NAME': no disk with
 * target dev 'DEV'" when neither config has it; NV_ERROR_FAILED "domain
 * 'NAME': disk 'DEV' not removed within N ms" on timeout (the persistent
 * config has already lost it then, as in Nova); NV_ERROR_LIBVIRT. */
gboolean nv_guest_detach_disk(nv_guest *guest, const char *target_dev, guint timeout_ms,
                              GError **error);

/* As nv_guest_detach_disk(), for @disk as the caller has just read it with
 * nv_guest_get_disk(): the domain XML is not read again before the detach
 * (a full read and parse per config, ~1-2 ms with 100 disks).  Errors as
 * nv_guest_detach_disk(); a disk that has already left both configs is a
 * libvirt error here, since the caller just saw it. */
gboolean nv_guest_detach_found_disk(nv_guest *guest, const nv_disk_config *disk, guint timeout_ms,
                                    GError **error);

/* Both configs' disks as one attach or detach sees them, read once. */
typedef struct {
    gboolean live;               /* active (running, paused, ...): id= in the live XML */
    GPtrArray *live_disks;       /* nv_disk_config *; NULL when not live */
    GPtrArray *persistent_disks; /* nv_disk_config *; NULL when known transient or unread */
    gboolean persistent_unread;  /* live, not known transient, persistent config not read */
} nv_guest_disks;

void nv_guest_disks_free(nv_guest_disks *disks);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_guest_disks, nv_guest_disks_free)

/* Read the state and each config of @guest once: one XML read and one
 * streaming parse per config (guest_disks.h).  The live read gives the
 * state too; for an inactive domain it is the persistent config, and the
 * only read.  Whether an active domain is defined is not asked: its
 * inactive XML is read as its persistent config (for a transient domain
 * that is the live config again).  With @want_persistent FALSE the persistent config of a
 * running domain is left unread (persistent_unread) until
 * nv_guest_read_persistent_disks(): a detach that finds its disk live needs
 * only the live config.  Caller frees. */
nv_guest_disks *nv_guest_read_disks(nv_guest *guest, gboolean want_persistent, GError **error);

/* Read the persistent config left unread by nv_guest_read_disks(); a no-op
 * when there is none to read. */
gboolean nv_guest_read_persistent_disks(nv_guest *guest, nv_guest_disks *disks, GError **error);

/* As nv_guest_attach_device(), for the configs @disks says exist, without
 * reading the state again. */
gboolean nv_guest_attach_device_to(nv_guest *guest, const nv_guest_disks *disks,
                                   const char *device_xml, GError **error);

/* Detach @disk (one of @disks, or a disk with the same target) from every
 * config of @disks that has its target: the persistent one first, then the
 * live one, re-sending the live request up to @attempts times and waiting
 * up to @timeout_ms after each ([libvirt] device_detach_attempts and
 * device_detach_timeout).  NV_ERROR_FAILED "domain 'NAME': disk 'DEV' not
 * removed after N requests of M ms each" when it never leaves; the caller
 * then keeps the host side (secret, mapping) for the disk still in use. */
gboolean nv_guest_detach_disk_from(nv_guest *guest, const nv_guest_disks *disks,
                                   const nv_disk_config *disk, guint attempts, guint timeout_ms,
                                   GError **error);

/* ---- Block devices: resize and copy (guest.py BlockDevice) ------------- */

/* The capacity in bytes QEMU gives the guest for disk @target_dev
 * (virDomainGetBlockInfo): for a natively decrypted LUKS disk the size of
 * the plaintext.  NV_ERROR_LIBVIRT naming the domain and the disk. */
gboolean nv_guest_get_disk_capacity(nv_guest *guest, const char *target_dev, guint64 *capacity,
                                    GError **error);

/* Resize the running domain's disk @target_dev to @size bytes as the guest
 * sees it (BlockDevice.resize: virDomainBlockResize, bytes).  For a LUKS
 * disk QEMU grows the image to @size plus its payload offset. */
gboolean nv_guest_resize_disk(nv_guest *guest, const char *target_dev, guint64 size,
                              GError **error);

/* The domain XML including secure parts (get_xml_desc(dump_sensitive=True)):
 * what redefining the domain needs.  Caller frees; key material is never in
 * it (nvirt's volume secrets are separate libvirt objects). */
char *nv_guest_get_secure_xml(nv_guest *guest, gboolean inactive, GError **error);

/* Undefine the domain, keeping its NVRAM (it is defined again at once, see
 * nv_guest_define()); a running domain goes on as a transient one. */
gboolean nv_guest_undefine_keep_nvram(nv_guest *guest, GError **error);

/* Define @xml (the same domain) as its persistent config
 * (Host.write_instance_config). */
gboolean nv_guest_define(nv_guest *guest, const char *xml, GError **error);

/* End any block job on @target_dev without pivoting; none is not an error
 * (BlockDevice.abort_job, idempotent). */
void nv_guest_abort_block_job(nv_guest *guest, const char *target_dev);

/* Copy the guest-visible contents of @target_dev onto the existing storage
 * @dest_disk_xml describes (a <disk>; virDomainBlockCopy with
 * VIR_DOMAIN_BLOCK_COPY_REUSE_EXT), wait until the mirror is ready and pivot
 * the guest onto it (VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT), as Nova's
 * _swap_volume.  libvirt refuses a copy on a persistent domain: undefine it
 * first.  Waits as long as the copy takes (Nova has no bound either).  On
 * failure the job is aborted and the guest keeps its old disk;
 * NV_ERROR_LIBVIRT naming the domain and the disk. */
gboolean nv_guest_copy_disk_and_pivot(nv_guest *guest, const char *target_dev,
                                      const char *dest_disk_xml, GError **error);

G_END_DECLS
