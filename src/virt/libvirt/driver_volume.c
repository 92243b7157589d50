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
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "encryptors/encryptor.h"
#include "encryptors/luks_format.h"
#include "nvirt/error.h"
#include "virt/libvirt/driver_priv.h"
#include "virt/libvirt/secret_refs.h"
#include "virt/libvirt/volume/volume.h"
#include "virt/libvirt/volume_lock.h"

nv_volume_lock *
nv_volume_op_lock(nv_driver *driver, const nv_volume_op *op, GError **error)
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
                    const nv_secure_buf *passphrase, nv_volume_undo *undo, GError **error)
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
                         nv_volume_undo *undo, GError **error)
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
attach_encryptor(nv_driver *driver, const nv_volume_op *op, nv_volume_undo *undo, GError **error)
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

/* A disk librbd decrypts cannot be hot-plugged by every libvirt
 * (nv_librbd_luks2_hotplug_blocker): refuse a live attach before anything
 * changes, saying what works. */
static gboolean
check_librbd_hotplug(nv_driver *driver, const nv_volume_op *op, GError **error)
{
    guint64 libvirt_version, qemu_version;
    g_autofree char *why = NULL;

    if (!nv_driver_get_versions(driver, &libvirt_version, &qemu_version, error))
        return FALSE;
    why = nv_librbd_luks2_hotplug_blocker(libvirt_version);
    if (!why)
        return TRUE;
    g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                "volume %s: cannot attach LUKS2 rbd volume to running domain '%s': %s",
                op->info->volume_id, nv_guest_get_name(op->guest), why);
    return FALSE;
}

/* What librbd inside QEMU says (through libvirt's blockdev-add error) when
 * it cannot open an rbd image, as one line naming the volume and the image
 * with libvirt's words after it.  NULL for other errors. */
static GError *
classify_rbd_error(const nv_volume_op *op, const GError *error)
{
    const char *volume_id = op->info->volume_id;
    const char *image = op->disk->source_name;
    const char *msg = error->message;

    /* QEMU's luks driver on an image without a LUKS header: Nova never
     * formats an rbd volume (no host device), Cinder formats encrypted
     * ones when it creates them. */
    if (strstr(msg, "Volume is not in LUKS format"))
        return g_error_new(NV_ERROR, NV_ERROR_BAD_INPUT,
                           "volume %s: rbd image %s is not LUKS (blank?); Nova does not format rbd "
                           "volumes, Cinder formats encrypted ones when it creates them: %s",
                           volume_id, image, msg);
    /* Provider 'luks' on a LUKS2 header: QEMU's luks driver reads LUKS1
     * only; librbd reads LUKS2, which needs the metadata to say so. */
    if (strstr(msg, "LUKS version 2 is not supported"))
        return g_error_new(NV_ERROR, NV_ERROR_UNSUPPORTED,
                           "volume %s: rbd image %s has a LUKS2 header, which QEMU's luks driver "
                           "cannot open; librbd can when the volume type's provider is 'luks2': %s",
                           volume_id, image, msg);
    if (strstr(msg, "No such file or directory") &&
        (strstr(msg, "error opening pool") || strstr(msg, "error reading header")))
        return g_error_new(NV_ERROR, NV_ERROR_NOT_FOUND, "volume %s: rbd image %s not found: %s",
                           volume_id, image, msg);
    if (strstr(msg, "Operation not permitted") || strstr(msg, "Permission denied"))
        return g_error_new(NV_ERROR, NV_ERROR_FAILED,
                           "volume %s: cephx user '%s' may not open rbd image %s: %s", volume_id,
                           op->disk->auth_username ? op->disk->auth_username : "", image, msg);
    return NULL;
}

/* QEMU's refusal of a key, as libvirt passes it on, gets its own code so a
 * caller can tell "wrong key" from "libvirt broke". */
void
nv_driver_classify_attach_error(GError *error)
{
    if (error && error->domain == NV_ERROR && error->code == NV_ERROR_LIBVIRT &&
        strstr(error->message, "Invalid password, cannot unlock any keyslot"))
        error->code = NV_ERROR_WRONG_PASSPHRASE;
}

/* For one volume's attach: nv_driver_classify_attach_error(), the wrong key
 * named after its volume, and librbd's refusals of an rbd image on their
 * own lines. */
static void
classify_attach_error(const nv_volume_op *op, GError **error)
{
    GError *rbd;

    nv_driver_classify_attach_error(*error);
    if (!*error || (*error)->domain != NV_ERROR)
        return;
    if ((*error)->code == NV_ERROR_WRONG_PASSPHRASE) {
        g_prefix_error(error, "volume %s: its key does not open it: ", op->info->volume_id);
        return;
    }
    if ((*error)->code != NV_ERROR_LIBVIRT || g_strcmp0(op->disk->source_protocol, "rbd") != 0)
        return;
    rbd = classify_rbd_error(op, *error);
    if (rbd) {
        g_error_free(*error);
        *error = rbd;
    }
}

/* A failure here is logged: the caller reports the error that made it
 * roll back. */
void
nv_volume_undo_roll_back(nv_driver *driver, const nv_volume_op *op, nv_volume_undo *undo)
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

void
nv_volume_undo_clear(nv_volume_undo *undo)
{
    g_clear_pointer(&undo->secret_uuid, g_free);
    g_clear_pointer(&undo->header_uuid, g_free);
    g_clear_pointer(&undo->encryptor, nv_encryptor_free);
}

gboolean
nv_volume_op_connect(nv_driver *driver, nv_volume_op *op, nv_volume_undo *undo, GError **error)
{
    g_autofree char *secret_uuid = NULL;
    /* A network disk is opened by QEMU itself, not through a host path. */
    gboolean is_network = g_strcmp0(op->disk->source_type, "network") == 0;

    if (!is_network && !connect_volume(op, error))
        return FALSE;
    if (is_network && !nv_volume_net_check_monitors(op->disk, op->info->volume_id,
                                                    NV_CEPH_MON_PROBE_TIMEOUT_MS, error))
        return FALSE;
    if (nv_encryption_path_uses_secret(op->path)) {
        secret_uuid = attach_native_encryption(driver, op, is_network, undo, error);
        if (!secret_uuid)
            return FALSE;
        nv_disk_config_set_luks_encryption(op->disk, secret_uuid);
        if (op->path == NV_ENCRYPTION_PATH_LIBRBD)
            nv_disk_config_set_librbd_encryption(op->disk);
    } else if (op->path == NV_ENCRYPTION_PATH_ENCRYPTOR) {
        /* nova bug 1812945: an encryptor that fails leaves nothing behind. */
        if (!attach_encryptor(driver, op, undo, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
nv_driver_attach_volume(nv_driver *driver, const char *domain, const nv_volume_request *request,
                        GError **error)
{
    g_autoptr(nv_volume_op) op = NULL;
    g_autoptr(nv_volume_lock) lock = NULL;
    g_autofree char *xml = NULL;
    nv_volume_undo undo = { 0 };
    g_autoptr(GError) local = NULL;

    g_return_val_if_fail(driver != NULL, FALSE);

    /* Everything that can be checked without changing anything comes
     * first: bad input, a missing domain, a busy target or a volume already
     * attached never leave a trace. */
    op = nv_volume_op_new(driver, domain, request, FALSE, error);
    if (!op || !nv_volume_op_decide(driver, op, error))
        return FALSE;
    lock = nv_volume_op_lock(driver, op, error);
    if (!lock || !nv_volume_op_check_attach(op, error))
        return FALSE;
    if (op->path == NV_ENCRYPTION_PATH_LIBRBD && op->disks->live &&
        !check_librbd_hotplug(driver, op, error))
        return FALSE;
    if (!nv_volume_op_connect(driver, op, &undo, &local))
        goto fail;

    xml = nv_disk_config_to_xml(op->disk, &local);
    if (!xml || !nv_guest_attach_device_to(op->guest, op->disks, xml, &local)) {
        classify_attach_error(op, &local);
        goto fail;
    }
    nv_volume_undo_clear(&undo);
    return TRUE;

fail:
    nv_volume_undo_roll_back(driver, op, &undo);
    nv_volume_undo_clear(&undo);
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
    lock = nv_volume_op_lock(driver, op, error);
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
    /* Multi-attach (issue 13): one volume secret serves every domain the
     * volume is attached to, so it stays while another domain's live or
     * persistent config names it (Nova deletes it at the first detach and
     * the other domain cannot start again).  The volume lock serialises
     * this with attaches of the volume. */
    if (secret) {
        char secret_uuid[VIR_UUID_STRING_BUFLEN];
        gboolean in_use = FALSE;

        if (virSecretGetUUIDString(secret, secret_uuid) < 0) {
            g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "volume %s: secret UUID: %s", volume_id,
                        virGetLastErrorMessage());
            return FALSE;
        }
        if (!nv_secret_refs_in_use(driver->host, secret_uuid, domain, &in_use, error))
            return FALSE;
        if (in_use) {
            g_message("volume %s: secret %s is still used by another domain: kept", volume_id,
                      secret_uuid);
            return TRUE;
        }
    }
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
