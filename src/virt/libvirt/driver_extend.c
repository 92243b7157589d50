/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Extend of an attached volume (LibvirtDriver.extend_volume,
 * _resize_attached_encrypted_volume, _resize_attached_volume).
 *
 * Cinder has grown the volume already; what is left is to make the guest
 * see it: QEMU's block resize of the disk to the size the guest should
 * have.  A natively decrypted LUKS disk gets the new size minus the LUKS
 * payload offset (the header and keyslots are not the guest's), a disk an
 * encryptor decrypts gets the size of its resized mapping, any other disk
 * the new size.  An rbd image's header is read on the cluster through
 * qemu-img (driver_extend_rbd.c); a disk librbd decrypts is not resized
 * live where QEMU would abort (encryption_path.h).  A domain that is
 * neither running nor paused is left alone, as Nova leaves it: QEMU reads
 * the size when it next opens the volume.
 *
 * Like attach and detach, it runs under the volume's lock and checks
 * everything before it changes anything: an unknown domain, a volume the
 * domain does not have, or a new size that would shrink the guest's disk
 * or that the volume on the host does not have, change nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encryptors/encryptor.h"
#include "encryptors/luks_format.h"
#include "nvirt/error.h"
#include "virt/libvirt/api_priv.h"
#include "virt/libvirt/driver_priv.h"
#include "virt/libvirt/volume_lock.h"

typedef struct {
    nv_connection_info *info;
    nv_encryption_meta *meta; /* NULL: not encrypted, or not given */
    char *host_path;          /* NULL for a network disk */
    nv_guest *guest;
    nv_guest_disks *disks;
    const nv_disk_config *disk; /* borrowed from @disks */
} extend_op;

static void
extend_op_clear(extend_op *op)
{
    nv_connection_info_free(op->info);
    nv_encryption_meta_free(op->meta);
    g_free(op->host_path);
    nv_guest_disks_free(op->disks);
    nv_guest_free(op->guest);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(extend_op, extend_op_clear)

static gboolean
parse_request(nv_driver *driver, const char *domain, const nv_volume_request *request,
              guint64 new_size, extend_op *op, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!nv_volume_request_check(request, error))
        return FALSE;
    if (!request->connection_info) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "an extend request needs connection_info");
        return FALSE;
    }
    op->info = nv_connection_info_parse(request->connection_info, -1, error);
    if (!op->info)
        return FALSE;
    /* As Nova, metadata counts only for a volume connection_info says is
     * encrypted. */
    if (op->info->encrypted && request->encryption) {
        op->meta = nv_encryption_meta_parse(request->encryption, -1, op->info->volume_id, error);
        if (!op->meta)
            return FALSE;
    }
    if (new_size == 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "volume %s: the new size must not be 0",
                    op->info->volume_id);
        return FALSE;
    }
    op->host_path = nv_volume_get_host_path(op->info, driver->conf, &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!domain || !*domain) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "volume %s: no domain given",
                    op->info->volume_id);
        return FALSE;
    }
    op->guest = nv_guest_lookup(driver->host, domain, error);
    return op->guest != NULL;
}

/* The volume's disk in @disks: at @target when the caller names one, else
 * the disk whose serial names the volume or whose source is the volume's
 * host path (Nova matches by device_path, and by serial when there is none). */
static const nv_disk_config *
find_volume_disk(const GPtrArray *disks, const extend_op *op, const char *target)
{
    if (!disks)
        return NULL;
    if (target)
        return nv_disks_find_by_target(disks, target);
    for (guint i = 0; i < disks->len; i++) {
        const nv_disk_config *disk = g_ptr_array_index(disks, i);

        if (nv_disk_serial_is_volume(disk, op->info) ||
            (op->host_path && g_strcmp0(disk->source_path, op->host_path) == 0))
            return disk;
    }
    return NULL;
}

static gboolean
find_disk(extend_op *op, const char *mountpoint, GError **error)
{
    const char *target = NULL;

    if (mountpoint && *mountpoint)
        target = g_str_has_prefix(mountpoint, "/dev/") ? mountpoint + 5 : mountpoint;
    op->disks = nv_guest_read_disks(op->guest, TRUE, error);
    if (!op->disks)
        return FALSE;
    op->disk = find_volume_disk(op->disks->live_disks, op, target);
    if (!op->disk)
        op->disk = find_volume_disk(op->disks->persistent_disks, op, target);
    if (!op->disk) {
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "volume %s: not attached to domain '%s'",
                    op->info->volume_id, nv_guest_get_name(op->guest));
        return FALSE;
    }
    if (target && op->disk->serial && !nv_disk_serial_is_volume(op->disk, op->info)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: disk '%s' of domain '%s' is volume %s, not this one",
                    op->info->volume_id, target, nv_guest_get_name(op->guest), op->disk->serial);
        return FALSE;
    }
    return TRUE;
}

/* The size of the file or block device at @path. */
static gboolean
host_size(const char *volume_id, const char *path, guint64 *size, GError **error)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    gboolean ok = FALSE;

    if (fd < 0 || fstat(fd, &st) < 0) {
        int err = errno;

        g_set_error(error, NV_ERROR, err == ENOENT ? NV_ERROR_NOT_FOUND : NV_ERROR_FAILED,
                    "volume %s: '%s': %s", volume_id, path, g_strerror(err));
    } else if (S_ISREG(st.st_mode)) {
        *size = (guint64)st.st_size;
        ok = TRUE;
    } else if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, size) == 0) {
        ok = TRUE;
    } else {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: '%s' is not a file or block device whose size can be read",
                    volume_id, path);
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

/* The volume must have grown on the host to at least @new_size: QEMU would
 * otherwise grow a file volume itself, or fail on a block device. */
static gboolean
check_host_size(const extend_op *op, guint64 new_size, GError **error)
{
    guint64 size = 0;

    if (!op->host_path)
        return TRUE;
    if (!host_size(op->info->volume_id, op->host_path, &size, error))
        return FALSE;
    if (size < new_size) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: new size %" G_GUINT64_FORMAT
                    " bytes is larger than '%s' (%" G_GUINT64_FORMAT
                    " bytes): extend the volume first",
                    op->info->volume_id, new_size, op->host_path, size);
        return FALSE;
    }
    return TRUE;
}

/* An rbd disk QEMU or librbd decrypts (nova bug 1913575): the guest gets
 * the image after the LUKS1 payload offset or librbd's LUKS2 header area,
 * both read from the cluster (driver_extend_rbd.c). */
static gboolean
rbd_guest_size(nv_driver *driver, const extend_op *op, guint64 new_size, guint64 *guest_size,
               GError **error)
{
    const char *volume_id = op->info->volume_id;
    guint64 image_size = 0, offset = 0;

    if (g_strcmp0(op->disk->encryption->engine, "librbd") == 0) {
        g_autoptr(nv_secure_buf) passphrase = NULL;
        g_autofree char *why = NULL;
        guint64 libvirt_version, qemu_version;
        nv_keymgr *keymgr;

        if (!nv_driver_get_versions(driver, &libvirt_version, &qemu_version, error))
            return FALSE;
        why = nv_librbd_luks2_resize_blocker(qemu_version);
        if (why) {
            g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                        "volume %s: cannot resize LUKS2 rbd disk '%s' of running domain '%s': %s",
                        volume_id, op->disk->target_dev, nv_guest_get_name(op->guest), why);
            return FALSE;
        }
        if (!op->meta) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "volume %s: librbd decrypts its disk, and reading the size it decrypts "
                        "to needs the encryption metadata",
                        volume_id);
            return FALSE;
        }
        keymgr = nv_driver_keymgr(driver, error);
        if (!keymgr)
            return FALSE;
        passphrase =
            nv_keymgr_get_volume_passphrase(keymgr, volume_id, op->meta->encryption_key_id, error);
        if (!passphrase || !nv_extend_rbd_librbd_sizes(volume_id, op->disk, passphrase, &image_size,
                                                       &offset, error))
            return FALSE;
    } else if (!nv_extend_rbd_luks_sizes(volume_id, op->disk, &image_size, &offset, error)) {
        return FALSE;
    }
    if (image_size < new_size) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: new size %" G_GUINT64_FORMAT
                    " bytes is larger than rbd image %s (%" G_GUINT64_FORMAT
                    " bytes): extend the volume first",
                    volume_id, new_size, op->disk->source_name, image_size);
        return FALSE;
    }
    if (new_size <= offset) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: new size %" G_GUINT64_FORMAT
                    " bytes leaves nothing after its LUKS header (%" G_GUINT64_FORMAT " bytes)",
                    volume_id, new_size, offset);
        return FALSE;
    }
    *guest_size = new_size - offset;
    return TRUE;
}

static gboolean
is_rbd_disk(const nv_disk_config *disk)
{
    return g_strcmp0(disk->source_type, "network") == 0 &&
           g_strcmp0(disk->source_protocol, "rbd") == 0;
}

/* _resize_attached_encrypted_volume, native branch: the guest gets what
 * follows the LUKS payload offset, read from the header with
 * libcryptsetup (Nova reads it from qemu-img info). */
static gboolean
native_guest_size(nv_driver *driver, const extend_op *op, guint64 new_size, guint64 *guest_size,
                  GError **error)
{
    const char *volume_id = op->info->volume_id;
    guint64 offset = 0;

    if (is_rbd_disk(op->disk) && g_strcmp0(op->disk->driver_format, "qcow2") != 0)
        return rbd_guest_size(driver, op, new_size, guest_size, error);
    if (!op->host_path || g_strcmp0(op->disk->driver_format, "qcow2") == 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: extend of a natively decrypted %s is not supported", volume_id,
                    op->host_path ? "qcow2 image" : "network disk");
        return FALSE;
    }
    if (!check_host_size(op, new_size, error) ||
        !nv_luks_get_payload_offset(volume_id, op->host_path, &offset, error))
        return FALSE;
    if (new_size <= offset) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: new size %" G_GUINT64_FORMAT
                    " bytes leaves nothing after its LUKS payload offset (%" G_GUINT64_FORMAT
                    " bytes)",
                    volume_id, new_size, offset);
        return FALSE;
    }
    *guest_size = new_size - offset;
    return TRUE;
}

/* _resize_attached_encrypted_volume, encryptor branch: resize the dm-crypt
 * mapping to the grown device; the guest gets the mapping's size. */
static gboolean
encryptor_guest_size(nv_driver *driver, const extend_op *op, guint64 *guest_size, GError **error)
{
    const char *volume_id = op->info->volume_id;
    const nv_encryption_meta *meta = op->meta;
    g_autoptr(nv_encryptor) encryptor = NULL;
    g_autoptr(nv_secure_buf) passphrase = NULL;
    nv_keymgr *keymgr;
    guint64 size = 0;

    encryptor =
        nv_encryptor_new(volume_id, op->host_path, meta->provider, meta->control_location,
                         meta->cipher, meta->has_key_size ? (guint)meta->key_size : 0, error);
    if (!encryptor)
        return FALSE;
    if (nv_encryptor_format(encryptor) == NV_ENCRYPTION_FORMAT_NONE) {
        *guest_size = 0; /* nobody on this host decrypts it: the caller's size */
        return TRUE;
    }
    /* os-brick's extend_volume asks the key manager too: a LUKS2 mapping
     * keeps its volume key in the kernel keyring and resizing needs it. */
    keymgr = nv_driver_keymgr(driver, error);
    if (!keymgr)
        return FALSE;
    passphrase = nv_keymgr_get_volume_passphrase(keymgr, volume_id, meta->encryption_key_id, error);
    if (!passphrase || !nv_encryptor_extend(encryptor, passphrase, &size, error))
        return FALSE;
    if (size == 0) {
        /* Nova: VolumeExtendFailed "Encryptor extend failed." */
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "volume %s: the encryptor did not report the decrypted size", volume_id);
        return FALSE;
    }
    *guest_size = size;
    return TRUE;
}

/* The size the guest's disk must get, for a running or paused domain. */
static gboolean
guest_size_for(nv_driver *driver, const extend_op *op, guint64 new_size, guint64 *guest_size,
               GError **error)
{
    const char *volume_id = op->info->volume_id;

    if (op->disk->encryption)
        return native_guest_size(driver, op, new_size, guest_size, error);
    if (op->info->encrypted) {
        if (!op->meta) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "volume %s: its disk has no <encryption>, so an encryptor decrypts it, "
                        "and resizing that needs the encryption metadata",
                        volume_id);
            return FALSE;
        }
        if (!op->host_path) {
            g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                        "volume %s: encryption not supported for this volume type", volume_id);
            return FALSE;
        }
        if (!encryptor_guest_size(driver, op, guest_size, error))
            return FALSE;
        if (*guest_size)
            return TRUE;
    }
    /* _resize_attached_volume: the whole volume is the guest's. */
    if (!check_host_size(op, new_size, error))
        return FALSE;
    *guest_size = new_size;
    return TRUE;
}

gboolean
nv_driver_extend_volume(nv_driver *driver, const char *domain, const nv_volume_request *request,
                        guint64 new_size, guint64 *guest_size, GError **error)
{
    g_auto(extend_op) op = { 0 };
    g_autoptr(nv_volume_lock) lock = NULL;
    const char *volume_id;
    const char *dev;
    guint64 current = 0, size = 0;

    g_return_val_if_fail(driver != NULL, FALSE);
    if (guest_size)
        *guest_size = 0;
    if (!parse_request(driver, domain, request, new_size, &op, error))
        return FALSE;
    volume_id = op.info->volume_id;
    lock = nv_volume_lock_acquire(driver->conf->oslo_concurrency.lock_path, volume_id,
                                  NV_VOLUME_LOCK_TIMEOUT_MS, error);
    if (!lock || !find_disk(&op, request->mountpoint, error))
        return FALSE;
    dev = op.disk->target_dev;

    if (!op.disks->live) {
        g_message("volume %s: domain '%s' is not running: its disk is not resized", volume_id,
                  nv_guest_get_name(op.guest));
        /* The encryptor's mapping, if any, is resized when it is next
         * opened; a size the volume does not have is refused all the same. */
        return op.disk->encryption || !op.info->encrypted ? check_host_size(&op, new_size, error)
                                                          : TRUE;
    }
    if (!nv_disks_find_by_target(op.disks->live_disks, dev)) {
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND,
                    "volume %s: domain '%s' runs without its disk '%s'", volume_id,
                    nv_guest_get_name(op.guest), dev);
        return FALSE;
    }
    /* Nothing has changed yet for the native and plain cases; an encryptor
     * resizes its mapping only to the device's own size, which loses no
     * data. */
    if (!nv_guest_get_disk_capacity(op.guest, dev, &current, error) ||
        !guest_size_for(driver, &op, new_size, &size, error))
        return FALSE;
    if (size < current) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: new size %" G_GUINT64_FORMAT " bytes would shrink disk '%s' of "
                    "domain '%s' from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT " bytes",
                    volume_id, new_size, dev, nv_guest_get_name(op.guest), current, size);
        return FALSE;
    }
    if (!nv_guest_resize_disk(op.guest, dev, size, error))
        return FALSE;
    if (guest_size)
        *guest_size = size;
    return TRUE;
}
