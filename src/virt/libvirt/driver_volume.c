/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attach and detach of one volume (LibvirtDriver.attach_volume,
 * detach_volume, _connect_volume, _attach_encryptor, _detach_encryptor).
 *
 * Each runs under the volume's external lock (volume_lock.h), from the first
 * look at its secret to the end of the operation or its rollback, and checks
 * everything it can before it changes anything: the domain's two configs are
 * read once, and every check shares that read.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "encryptors/encryptor.h"
#include "encryptors/luks_format.h"
#include "nvirt/error.h"
#include "virt/libvirt/driver_priv.h"
#include "virt/libvirt/volume/volume.h"
#include "virt/libvirt/volume_lock.h"

static nv_volume_lock *
lock_volume(nv_driver *driver, const nv_volume_op *op, GError **error)
{
    return nv_volume_lock_acquire(driver->conf->oslo_concurrency.lock_path, op->info->volume_id,
                                  NV_VOLUME_LOCK_TIMEOUT_MS, error);
}

/* ------------------------------------------------------------------------ */
/* Attach                                                                   */
/* ------------------------------------------------------------------------ */

/* _connect_volume.  The volume types here get their host device or file
 * from Cinder already connected, so there is nothing to log in to; what is
 * left is to make sure what QEMU will open is there before the domain or the
 * host secrets are touched. */
static gboolean
connect_volume(const nv_volume_op *op, GError **error)
{
    const char *path = op->host_path;

    if (!path)
        return TRUE;
    if (access(path, R_OK) < 0) {
        int err = errno;

        g_set_error(error, NV_ERROR, err == ENOENT ? NV_ERROR_NOT_FOUND : NV_ERROR_FAILED,
                    "volume %s: '%s': %s", op->info->volume_id, path, g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

/* What a failed attach has to undo: only what this call created. */
typedef struct {
    char *secret_uuid;       /* the secret this call defined */
    char *header_uuid;       /* the LUKS header this call wrote on the volume */
    nv_encryptor *encryptor; /* the mapping this call opened */
} attach_undo;

/* The part of _attach_encryptor that prepares the volume itself, on the
 * file or device QEMU will open (for NFS the file derived from the export,
 * which data.device_path need not name).  nv_luks_ensure() owns the rules:
 * a provably blank raw volume is formatted as LUKS1 (cinder bug 1739442;
 * never LUKS2, os-brick bug 1831994), a LUKS1 volume or a qcow2 image with
 * qcow2-internal LUKS is left to QEMU (which checks the passphrase when it
 * opens it), anything else is refused.  An existing raw LUKS1 volume is
 * first checked against [libvirt] volume_luks_max_unlock_iterations. */
static gboolean
prepare_luks_volume(const nv_driver *driver, const nv_volume_op *op,
                    const nv_secure_buf *passphrase, attach_undo *undo, GError **error)
{
    nv_image_format format =
        g_strcmp0(op->disk->driver_format, "qcow2") == 0 ? NV_IMAGE_QCOW2 : NV_IMAGE_RAW;
    nv_luks_ensure_result result;

    if (!nv_luks_ensure(op->info->volume_id, op->host_path, format, NV_LUKS_TYPE_LUKS1,
                        NV_LUKS_ENSURE_NONE, op->meta->cipher,
                        op->meta->has_key_size ? (guint)op->meta->key_size : 0, passphrase, 0,
                        &result, error))
        return FALSE;
    if (result.formatted) {
        undo->header_uuid = g_strdup(result.header_uuid);
        return TRUE;
    }
    /* A header this call did not write may ask any PBKDF cost, and QEMU
     * derives the key in its main loop: 2^31 iterations hang the domain for
     * many minutes (issue 12).  Refuse it before the secret exists or the
     * disk is attached; reading the keyslots costs one header load.  Only a
     * raw LUKS1 volume has a header libcryptsetup reads (qcow2 keeps its
     * own inside the image). */
    if (format == NV_IMAGE_RAW && result.found == NV_LUKS_FOUND_LUKS1 &&
        driver->conf->libvirt.volume_luks_max_unlock_iterations > 0) {
        const nv_luks_unlock_bound bound = {
            .max_pbkdf2_iterations =
                (guint64)driver->conf->libvirt.volume_luks_max_unlock_iterations,
            .max_argon2_memory_kib = NV_LUKS_DEFAULT_MAX_ARGON2_MEMORY_KIB,
            .max_argon2_cost = NV_LUKS_DEFAULT_MAX_ARGON2_COST,
        };

        return nv_luks_check_unlock_cost(op->info->volume_id, op->host_path, &bound, error);
    }
    return TRUE;
}

/* A secret found for the volume is reused without asking the key manager
 * (what lets power-on and host-boot resume work), unless it has no value
 * or is one a crash left unfinished (nvirt's secrets are ephemeral until
 * their value is set and they are redefined persistent, see
 * nv_host_create_volume_secret()).  Reusing that would only make QEMU fail
 * (or lose the secret at the next libvirtd restart), so it is deleted and
 * created again.
 * *@uuid is set to NULL when the secret was deleted. */
static gboolean
check_reused_secret(nv_driver *driver, const char *volume_id, char **uuid, GError **error)
{
    g_autoptr(GError) local = NULL;
    gboolean has_value = FALSE;

    if (!nv_host_volume_secret_has_value(driver->host, volume_id, &has_value, &local)) {
        /* Private secrets (nvirt's finished ones) cannot be read, and were
         * made private only once their value was set. */
        if (!g_error_matches(local, NV_ERROR, NV_ERROR_UNSUPPORTED)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        has_value = TRUE;
    }
    if (has_value)
        return TRUE;
    g_message("volume %s: libvirt secret %s has no value: creating it again", volume_id, *uuid);
    if (!nv_host_delete_secret_by_uuid(driver->host, *uuid, &local) &&
        !g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    g_clear_pointer(uuid, g_free);
    return TRUE;
}

/* The native branch of _attach_encryptor.  Returns the UUID of the volume
 * secret (caller frees); what this call created goes into @undo. */
static char *
attach_native_encryption(nv_driver *driver, const nv_volume_op *op, gboolean is_network,
                         attach_undo *undo, GError **error)
{
    const char *volume_id = op->info->volume_id;
    g_autofree char *uuid = NULL;
    g_autoptr(nv_secure_buf) passphrase = NULL;
    nv_keymgr *keymgr;

    if (!nv_host_find_volume_secret(driver->host, volume_id, &uuid, error))
        return NULL;
    if (uuid && !check_reused_secret(driver, volume_id, &uuid, error))
        return NULL;
    if (uuid)
        return g_steal_pointer(&uuid);

    keymgr = nv_driver_keymgr(driver, error);
    if (!keymgr)
        return NULL;
    passphrase =
        nv_keymgr_get_volume_passphrase(keymgr, volume_id, op->meta->encryption_key_id, error);
    if (!passphrase)
        return NULL;
    /* Only a volume QEMU reads through a host file or device can be probed
     * and formatted here; a network disk (rbd, nbd, iSCSI through QEMU's
     * initiator) is opened by QEMU alone. */
    if (!is_network && op->host_path && !prepare_luks_volume(driver, op, passphrase, undo, error))
        return NULL;
    uuid = nv_host_create_volume_secret(driver->host, volume_id, NULL, passphrase, error);
    if (!uuid)
        return NULL;
    undo->secret_uuid = g_strdup(uuid);
    return g_steal_pointer(&uuid);
}

/* The os-brick encryptor for @op's volume (a no-op one when the provider or
 * control_location says nobody on this host decrypts).  Caller frees. */
static nv_encryptor *
volume_encryptor(const nv_volume_op *op, GError **error)
{
    const nv_encryption_meta *meta = op->meta;

    return nv_encryptor_new(op->info->volume_id, op->host_path, meta->provider,
                            meta->control_location, meta->cipher,
                            meta->has_key_size ? (guint)meta->key_size : 0, error);
}

/* The fallback branch of _attach_encryptor: open the dm-crypt mapping and
 * point device_path at it, so the <disk> libvirt gets is the decrypted
 * device. */
static gboolean
attach_encryptor(nv_driver *driver, const nv_volume_op *op, attach_undo *undo, GError **error)
{
    g_autoptr(nv_encryptor) encryptor = NULL;
    g_autoptr(nv_secure_buf) passphrase = NULL;
    nv_keymgr *keymgr;

    encryptor = volume_encryptor(op, error);
    if (!encryptor)
        return FALSE;
    keymgr = nv_driver_keymgr(driver, error);
    if (!keymgr)
        return FALSE;
    passphrase = nv_keymgr_get_volume_passphrase(keymgr, op->info->volume_id,
                                                 op->meta->encryption_key_id, error);
    if (!passphrase || !nv_encryptor_attach(encryptor, passphrase, error))
        return FALSE;
    undo->encryptor = g_steal_pointer(&encryptor);
    return TRUE;
}

/* QEMU's refusal of a key, as libvirt passes it on, gets its own code so a
 * caller can tell "wrong key" from "libvirt broke". */
static void
classify_attach_error(GError *error)
{
    if (error && error->domain == NV_ERROR && error->code == NV_ERROR_LIBVIRT &&
        strstr(error->message, "Invalid password, cannot unlock any keyslot"))
        error->code = NV_ERROR_WRONG_PASSPHRASE;
}

/* Undo, newest first, what @undo records.  A failure here is logged: the
 * caller reports the error that made it roll back. */
static void
roll_back(nv_driver *driver, const nv_volume_op *op, attach_undo *undo)
{
    const char *volume_id = op->info->volume_id;

    if (undo->encryptor) {
        g_autoptr(GError) cleanup = NULL;

        if (!nv_encryptor_detach(undo->encryptor, &cleanup))
            g_warning("volume %s: rollback: %s", volume_id, cleanup->message);
    }
    if (undo->secret_uuid) {
        g_autoptr(GError) cleanup = NULL;

        if (!nv_host_delete_secret_by_uuid(driver->host, undo->secret_uuid, &cleanup))
            g_warning("volume %s: rollback: %s", volume_id, cleanup->message);
    }
    if (undo->header_uuid) {
        g_autoptr(GError) cleanup = NULL;

        if (!nv_luks_unformat(volume_id, op->host_path, undo->header_uuid, &cleanup))
            g_warning("volume %s: rollback: %s", volume_id, cleanup->message);
    }
}

static void
attach_undo_clear(attach_undo *undo)
{
    g_free(undo->secret_uuid);
    g_free(undo->header_uuid);
    nv_encryptor_free(undo->encryptor);
}

gboolean
nv_driver_attach_volume(nv_driver *driver, const char *domain, const nv_volume_request *request,
                        GError **error)
{
    g_autoptr(nv_volume_op) op = NULL;
    g_autoptr(nv_volume_lock) lock = NULL;
    g_autofree char *secret_uuid = NULL;
    g_autofree char *xml = NULL;
    attach_undo undo = { 0 };
    gboolean is_network;
    g_autoptr(GError) local = NULL;

    g_return_val_if_fail(driver != NULL, FALSE);

    /* Everything that can be checked without changing anything comes
     * first: bad input, a missing domain, a busy target or a volume already
     * attached never leave a trace. */
    op = nv_volume_op_new(driver, domain, request, FALSE, error);
    if (!op || !nv_volume_op_decide(driver, op, error))
        return FALSE;
    lock = lock_volume(driver, op, error);
    if (!lock || !nv_volume_op_check_attach(op, error))
        return FALSE;
    /* A network disk is opened by QEMU itself, not through a host path. */
    is_network = g_strcmp0(op->disk->source_type, "network") == 0;
    if (!is_network && !connect_volume(op, error))
        return FALSE;

    if (op->path == NV_ENCRYPTION_PATH_NATIVE) {
        secret_uuid = attach_native_encryption(driver, op, is_network, &undo, &local);
        if (!secret_uuid)
            goto fail;
        nv_volume_set_encryption(op->disk, secret_uuid);
    } else if (op->path == NV_ENCRYPTION_PATH_ENCRYPTOR) {
        /* nova bug 1812945: an encryptor that fails leaves nothing behind. */
        if (!attach_encryptor(driver, op, &undo, &local))
            goto fail;
    }

    xml = nv_disk_config_to_xml(op->disk, &local);
    if (!xml || !nv_guest_attach_device_to(op->guest, op->disks, xml, &local)) {
        classify_attach_error(local);
        goto fail;
    }
    attach_undo_clear(&undo);
    return TRUE;

fail:
    roll_back(driver, op, &undo);
    attach_undo_clear(&undo);
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Detach                                                                   */
/* ------------------------------------------------------------------------ */

/* The disk at the request's target, live config first (what QEMU uses),
 * else the persistent one; NULL when neither has it or there is no domain.
 * Disks are matched by target, as Nova's Guest.get_disk. */
static gboolean
detach_find_disk(nv_volume_op *op, const nv_disk_config **disk, GError **error)
{
    *disk = NULL;
    if (!op->disks)
        return TRUE;
    *disk = nv_disks_find_by_target(op->disks->live_disks, op->disk_info->dev);
    if (*disk)
        return TRUE;
    if (!nv_guest_read_persistent_disks(op->guest, op->disks, error))
        return FALSE;
    *disk = nv_disks_find_by_target(op->disks->persistent_disks, op->disk_info->dev);
    return TRUE;
}

/* A disk at the target that is another volume's (its serial names another
 * volume, or its source is other storage) is never detached. */
static gboolean
check_disk_is_volume(const nv_volume_op *op, const nv_disk_config *disk, GError **error)
{
    const nv_connection_info *info = op->info;
    gboolean other_serial = disk->serial && !nv_disk_serial_is_volume(disk, info);
    gboolean other_source =
        (disk->source_path || disk->source_name) && !nv_disk_config_same_source(disk, op->disk);

    if (!other_serial && !other_source)
        return TRUE;
    if (other_serial)
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: disk '%s' of domain '%s' is volume %s, not this one",
                    info->volume_id, op->disk_info->dev, nv_guest_get_name(op->guest),
                    disk->serial);
    else
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: disk '%s' of domain '%s' is '%s', not this volume", info->volume_id,
                    op->disk_info->dev, nv_guest_get_name(op->guest),
                    disk->source_path ? disk->source_path : disk->source_name);
    return FALSE;
}

/* The encryptor that may hold a mapping of this volume, or NULL (with
 * @error unset) when none can: not encrypted, no host device, or metadata
 * that names no dm-crypt encryptor.  Versions 0 never choose native: the
 * caller has decided that already. */
static gboolean
detach_encryptor(nv_volume_op *op, gboolean disk_says_encryptor, nv_encryptor **encryptor,
                 GError **error)
{
    *encryptor = NULL;
    if (!op->info->encrypted || !op->host_path)
        return TRUE;
    if (!op->meta) {
        if (!disk_says_encryptor)
            return TRUE;
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: its disk has no <encryption>, so an encryptor decrypted it, "
                    "and closing that needs the encryption metadata",
                    op->info->volume_id);
        return FALSE;
    }
    if (!nv_driver_choose_encryption_path(op->meta, op->info->volume_id, 0, 0, FALSE, &op->path,
                                          &op->reason, error))
        return FALSE;
    if (op->path != NV_ENCRYPTION_PATH_ENCRYPTOR)
        return TRUE;
    *encryptor = volume_encryptor(op, error);
    return *encryptor != NULL;
}

gboolean
nv_driver_detach_volume(nv_driver *driver, const char *domain, const nv_volume_request *request,
                        GError **error)
{
    g_autoptr(nv_volume_op) op = NULL;
    g_autoptr(nv_volume_lock) lock = NULL;
    g_autoptr(nv_encryptor) encryptor = NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(virSecret) secret = NULL;
    const nv_disk_config *disk;
    const char *volume_id;
    gboolean native;

    g_return_val_if_fail(driver != NULL, FALSE);
    op = nv_volume_op_new(driver, domain, request, TRUE, error);
    if (!op)
        return FALSE;
    volume_id = op->info->volume_id;
    lock = lock_volume(driver, op, error);
    if (!lock)
        return FALSE;
    /* A domain that is gone (destroyed and undefined) is a disk that is
     * gone: the host side is cleaned up all the same, as Nova does when
     * it catches InstanceNotFound. */
    if (op->guest) {
        op->disks = nv_guest_read_disks(op->guest, FALSE, error);
        if (!op->disks)
            return FALSE;
    }
    if (!detach_find_disk(op, &disk, error))
        return FALSE;
    if (disk && !check_disk_is_volume(op, disk, error))
        return FALSE;

    /* Decide how the volume was decrypted before anything changes.  The
     * spec: the disk config decides; <encryption> means QEMU decrypted it
     * (delete the secret), none means an encryptor did (close it).  Only
     * when the disk has gone does the volume secret decide. */
    if (!nv_host_lookup_volume_secret(driver->host, volume_id, &secret, error))
        return FALSE;
    native = disk ? disk->encryption != NULL : secret != NULL;
    if (!(disk && native) && !detach_encryptor(op, disk != NULL, &encryptor, error))
        return FALSE;

    /* nova bug 1642628: the device leaves the domain before its key does.
     * A disk that never leaves keeps its secret and its mapping. */
    if (disk) {
        guint timeout_ms = (guint)driver->conf->libvirt.device_detach_timeout * 1000;
        guint attempts = (guint)driver->conf->libvirt.device_detach_attempts;

        if (!nv_guest_detach_disk_from(op->guest, op->disks, disk, attempts, timeout_ms, error))
            return FALSE;
    } else {
        if (op->guest)
            g_message("volume %s: domain '%s' has no disk '%s': cleaning up the host only",
                      volume_id, nv_guest_get_name(op->guest), op->disk_info->dev);
        else
            g_message("volume %s: the domain does not exist: cleaning up the host only", volume_id);
    }

    /* Closing a mapping that is not open is success. */
    if (encryptor && !nv_encryptor_detach(encryptor, error))
        return FALSE;
    /* A secret left over next to a disk an encryptor decrypted is stale
     * (an earlier native attach): it goes too, so no passphrase stays in
     * libvirt's store for a volume this host no longer uses. */
    if (secret && !nv_host_undefine_secret(driver->host, secret, &local) &&
        !g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    return TRUE;
}
