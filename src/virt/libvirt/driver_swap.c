/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Swap of an attached volume for another (LibvirtDriver.swap_volume,
 * _swap_volume): QEMU copies the guest-visible contents of the old volume
 * onto the new one and the guest is pivoted onto it, without the guest
 * noticing.
 *
 * Encrypted volumes are refused before anything happens.  Nova refuses a
 * natively decrypted LUKS volume on either side (NotImplementedError, nova
 * bug 1749418: libvirt's block copy cannot give the destination its own
 * <encryption>, so QEMU would write plaintext into it).  nvirt refuses the
 * dm-crypt encryptor case too: Nova would copy between two host mappings
 * it opens and closes around the copy, which nvirt does not port.
 *
 * As in Nova, a persistent domain is undefined around the copy (libvirt
 * runs a block copy only on a transient domain) and always defined again:
 * from its live XML after a pivot, so the persistent config names the new
 * volume, or from the saved persistent XML when the copy failed.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "virt/libvirt/api_priv.h"
#include "virt/libvirt/driver_priv.h"
#include "virt/libvirt/volume_lock.h"

/* The refusal for an encrypted volume; TRUE when @op's volume is not. */
static gboolean
check_not_encrypted(nv_driver *driver, const nv_volume_op *op, const nv_disk_config *disk,
                    const char *which, GError **error)
{
    const char *volume_id = op->info->volume_id;
    guint64 libvirt_version = 0, qemu_version = 0;
    nv_encryption_path path = NV_ENCRYPTION_PATH_NONE;

    if (disk && disk->encryption) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s (%s): QEMU decrypts it natively (<encryption> on disk '%s'); "
                    "swap-volume of natively decrypted LUKS volumes is not supported "
                    "(nova bug 1749418)",
                    volume_id, which, disk->target_dev);
        return FALSE;
    }
    if (!op->info->encrypted)
        return TRUE;
    if (op->meta) {
        if (!nv_driver_get_versions(driver, &libvirt_version, &qemu_version, error) ||
            !nv_driver_choose_encryption_path(op->meta, volume_id, libvirt_version, qemu_version,
                                              driver->conf->workarounds.disable_native_luksv1,
                                              &path, NULL, error))
            return FALSE;
        /* Nobody on this host decrypts it (back-end, no-op provider): to
         * QEMU it is a plain volume. */
        if (path == NV_ENCRYPTION_PATH_NONE)
            return TRUE;
    }
    if (nv_encryption_path_uses_secret(path))
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s (%s): QEMU decrypts it natively; swap-volume of natively "
                    "decrypted LUKS volumes is not supported (nova bug 1749418)",
                    volume_id, which);
    else if (path == NV_ENCRYPTION_PATH_ENCRYPTOR)
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s (%s): a dm-crypt encryptor decrypts it; swap-volume of "
                    "encrypted volumes is not supported",
                    volume_id, which);
    else
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s (%s) is encrypted; swap-volume of encrypted volumes is not "
                    "supported (natively decrypted LUKS: nova bug 1749418)",
                    volume_id, which);
    return FALSE;
}

/* @request with @mountpoint, for nv_volume_op_new(). */
static nv_volume_op *
swap_op_new(nv_driver *driver, const char *domain, const nv_volume_request *request,
            const char *mountpoint, GError **error)
{
    nv_volume_request copy;

    if (!nv_volume_request_check(request, error))
        return NULL;
    copy = *request;
    /* Nova's swap_volume derives the bus from the device name too. */
    copy.mountpoint = mountpoint;
    copy.disk_bus = NULL;
    /* Missing metadata is no error here: an encrypted volume is refused
     * with or without it. */
    return nv_volume_op_new(driver, domain, &copy, TRUE, error);
}

/* The old volume's disk at the mountpoint, from the live config. */
static gboolean
find_old_disk(const nv_volume_op *old, const nv_disk_config **disk, GError **error)
{
    const char *dev = old->disk_info->dev;
    const char *name = nv_guest_get_name(old->guest);

    *disk = nv_disks_find_by_target(old->disks->live_disks, dev);
    if (!*disk) {
        /* Nova: DiskNotFound */
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "volume %s: domain '%s' has no disk '%s'",
                    old->info->volume_id, name, dev);
        return FALSE;
    }
    if (((*disk)->serial && !nv_disk_serial_is_volume(*disk, old->info)) ||
        !nv_disk_config_same_source(*disk, old->disk)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: disk '%s' of domain '%s' is not this volume", old->info->volume_id,
                    dev, name);
        return FALSE;
    }
    return TRUE;
}

/* The new volume must be there and not attached to the domain already. */
static gboolean
check_new_volume(const nv_volume_op *new, const nv_guest_disks *disks, GError **error)
{
    const char *volume_id = new->info->volume_id;
    const GPtrArray *configs[] = { disks->live_disks, disks->persistent_disks };

    if (g_strcmp0(new->disk->source_type, "network") != 0 && new->host_path &&
        access(new->host_path, R_OK | W_OK) < 0) {
        int err = errno;

        g_set_error(error, NV_ERROR, err == ENOENT ? NV_ERROR_NOT_FOUND : NV_ERROR_FAILED,
                    "volume %s: '%s': %s", volume_id, new->host_path, g_strerror(err));
        return FALSE;
    }
    for (gsize c = 0; c < G_N_ELEMENTS(configs); c++) {
        for (guint i = 0; configs[c] && i < configs[c]->len; i++) {
            const nv_disk_config *disk = g_ptr_array_index(configs[c], i);

            if (nv_disk_serial_is_volume(disk, new->info) ||
                nv_disk_config_same_source(disk, new->disk)) {
                g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            "volume %s: already attached to domain '%s' at '%s'", volume_id,
                            nv_guest_get_name(new->guest),
                            disk->target_dev ? disk->target_dev : "?");
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* _swap_volume: copy, pivot, and define the domain again from what it is
 * now (or, when the copy failed, from what it was). */
static gboolean
copy_and_pivot(nv_guest *guest, const char *dev, const char *new_xml, GError **error)
{
    g_autofree char *saved = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(GError) define_error = NULL;
    gboolean persistent;
    gboolean copied;

    if (!nv_guest_is_persistent(guest, &persistent, error))
        return FALSE;
    if (persistent) {
        saved = nv_guest_get_secure_xml(guest, TRUE, error);
        if (!saved)
            return FALSE;
    }
    nv_guest_abort_block_job(guest, dev);
    /* KEEP_NVRAM where Nova deletes it for UEFI guests: the domain is
     * defined again at once and its variables must survive. */
    if (persistent && !nv_guest_undefine_keep_nvram(guest, error))
        return FALSE;

    copied = nv_guest_copy_disk_and_pivot(guest, dev, new_xml, &local);
    if (!persistent) {
        if (!copied)
            g_propagate_error(error, g_steal_pointer(&local));
        return copied;
    }
    /* After a pivot only the live XML is true: the saved one would bring
     * the old volume back at the next start. */
    xml = copied ? nv_guest_get_secure_xml(guest, FALSE, &local) : g_steal_pointer(&saved);
    if (!xml) {
        g_prefix_error(&local, "swapped, but the domain is left transient: ");
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!nv_guest_define(guest, xml, &define_error)) {
        if (local)
            g_warning("%s", define_error->message);
        else
            local = g_steal_pointer(&define_error);
    }
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    return TRUE;
}

/* Lock both volumes, in volume id order so that two swaps of the same pair
 * cannot deadlock. */
static gboolean
lock_both(nv_driver *driver, const char *a, const char *b, nv_volume_lock **first,
          nv_volume_lock **second, GError **error)
{
    const char *lock_path = driver->conf->oslo_concurrency.lock_path;

    if (strcmp(a, b) > 0) {
        const char *t = a;

        a = b;
        b = t;
    }
    *first = nv_volume_lock_acquire(lock_path, a, NV_VOLUME_LOCK_TIMEOUT_MS, error);
    if (!*first)
        return FALSE;
    *second = nv_volume_lock_acquire(lock_path, b, NV_VOLUME_LOCK_TIMEOUT_MS, error);
    return *second != NULL;
}

gboolean
nv_driver_swap_volume(nv_driver *driver, const char *domain, const char *mountpoint,
                      const nv_volume_request *old_volume, const nv_volume_request *new_volume,
                      GError **error)
{
    g_autoptr(nv_volume_op) old = NULL;
    g_autoptr(nv_volume_op) new = NULL;
    g_autoptr(nv_volume_lock) lock_a = NULL;
    g_autoptr(nv_volume_lock) lock_b = NULL;
    g_autofree char *new_xml = NULL;
    const nv_disk_config *old_disk = NULL;
    const char *name;

    g_return_val_if_fail(driver != NULL, FALSE);
    if (!mountpoint || !*mountpoint) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "swap-volume needs a mountpoint");
        return FALSE;
    }
    /* Every refusal that needs no look at the domain comes first. */
    old = swap_op_new(driver, domain, old_volume, mountpoint, error);
    if (!old || !check_not_encrypted(driver, old, NULL, "old", error))
        return FALSE;
    new = swap_op_new(driver, domain, new_volume, mountpoint, error);
    if (!new || !check_not_encrypted(driver, new, NULL, "new", error))
        return FALSE;
    if (!old->guest) {
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "domain '%s' not found", domain);
        return FALSE;
    }
    name = nv_guest_get_name(old->guest);
    if (g_strcmp0(old->info->volume_id, new->info->volume_id) == 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: swap-volume needs two different volumes", old->info->volume_id);
        return FALSE;
    }

    if (!lock_both(driver, old->info->volume_id, new->info->volume_id, &lock_a, &lock_b, error))
        return FALSE;
    old->disks = nv_guest_read_disks(old->guest, TRUE, error);
    if (!old->disks)
        return FALSE;
    if (!old->disks->live) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: domain '%s' is not running: swap-volume copies through QEMU",
                    old->info->volume_id, name);
        return FALSE;
    }
    if (!find_old_disk(old, &old_disk, error) ||
        !check_not_encrypted(driver, old, old_disk, "old", error) ||
        !check_new_volume(new, old->disks, error))
        return FALSE;

    /* Only the <source> and <driver type> of the new disk matter to the
     * copy; the persistent config is then the live one. */
    new_xml = nv_disk_config_to_xml(new->disk, error);
    if (!new_xml)
        return FALSE;
    g_message("volume %s: domain '%s': copying disk '%s' onto volume %s", old->info->volume_id,
              name, old->disk_info->dev, new->info->volume_id);
    return copy_and_pivot(old->guest, old->disk_info->dev, new_xml, error);
}
