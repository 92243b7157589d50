/* SPDX-License-Identifier: Apache-2.0 */
/* Driver core (nova/virt/libvirt/driver.py). */
#include "virt/libvirt/driver.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "encryptors/encryptor.h"
#include "encryptors/encryptors.h"
#include "encryptors/luks_format.h"
#include "keymgr/keymgr.h"
#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "virt/libvirt/config.h"
#include "virt/libvirt/guest.h"
#include "virt/libvirt/host.h"
#include "virt/libvirt/volume/volume.h"

/* ------------------------------------------------------------------------ */
/* The driver handle and host information                                   */
/* ------------------------------------------------------------------------ */

struct nv_driver {
    nv_conf *conf;
    nv_host *host;
    nv_keymgr *keymgr; /* created on first use: only attaches that decrypt need it */
};

nv_driver *
nv_driver_open(const char *config_file, const char *connect_uri, GPtrArray **warnings,
               GError **error)
{
    g_autoptr(nv_conf) conf = NULL;
    const char *uri;
    nv_driver *driver;

    if (config_file)
        conf = nv_conf_load(config_file, warnings, error);
    else
        conf = nv_conf_new_default();
    if (!conf)
        return NULL;

    uri = connect_uri ? connect_uri : conf->libvirt.connection_uri;
    driver = g_new0(nv_driver, 1);
    driver->conf = g_steal_pointer(&conf);
    driver->host = nv_host_open(uri, error);
    if (!driver->host) {
        nv_driver_free(driver);
        return NULL;
    }
    return driver;
}

void
nv_driver_free(nv_driver *driver)
{
    if (!driver)
        return;
    nv_keymgr_free(driver->keymgr);
    nv_host_free(driver->host);
    nv_conf_free(driver->conf);
    g_free(driver);
}

void
nv_host_info_free(nv_host_info *info)
{
    if (!info)
        return;
    g_free(info->reason);
    g_free(info);
}

static gboolean
get_versions(nv_driver *driver, guint64 *libvirt_version, guint64 *qemu_version, GError **error)
{
    return nv_host_get_lib_version(driver->host, libvirt_version, error) &&
           nv_host_get_hypervisor_version(driver->host, qemu_version, error);
}

nv_host_info *
nv_driver_get_host_info(nv_driver *driver, GError **error)
{
    g_autoptr(nv_host_info) info = g_new0(nv_host_info, 1);

    if (!get_versions(driver, &info->libvirt_version, &info->qemu_version, error))
        return NULL;
    info->reason = nv_native_luks_blocker(info->libvirt_version, info->qemu_version,
                                          driver->conf->workarounds.disable_native_luksv1);
    info->native_luks = info->reason == NULL;
    if (info->native_luks) {
        g_autofree char *qemu = nv_version_to_string(info->qemu_version);
        g_autofree char *libvirt = nv_version_to_string(info->libvirt_version);

        info->reason =
            g_strdup_printf("QEMU %s and libvirt %s decrypt LUKS v1 natively", qemu, libvirt);
    }
    return g_steal_pointer(&info);
}

/* ------------------------------------------------------------------------ */
/* Preparing an attach: everything that can be checked before acting        */
/* ------------------------------------------------------------------------ */

/* One attach or detach request, parsed and checked. */
typedef struct {
    nv_connection_info *info;
    nv_encryption_meta *meta; /* NULL: not encrypted */
    nv_disk_info *disk_info;
    nv_guest *guest;
    nv_encryption_path path;
    char *reason;
} volume_op;

static void
volume_op_free(volume_op *op)
{
    if (!op)
        return;
    nv_connection_info_free(op->info);
    nv_encryption_meta_free(op->meta);
    nv_disk_info_free(op->disk_info);
    nv_guest_free(op->guest);
    g_free(op->reason);
    g_free(op);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(volume_op, volume_op_free)

/* Parse the request and look up the domain.  Encryption metadata is used
 * only when connection_info says the volume is encrypted, as Nova fetches
 * it only then (encryptors.get_encryption_metadata). */
static volume_op *
volume_op_new(nv_driver *driver, const char *domain, const nv_volume_request *request,
              GError **error)
{
    g_autoptr(volume_op) op = g_new0(volume_op, 1);

    if (!request || !request->connection_info || !request->mountpoint) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "a volume request needs connection_info and a mountpoint");
        return NULL;
    }
    op->info = nv_connection_info_parse(request->connection_info, -1, error);
    if (!op->info)
        return NULL;
    if (op->info->encrypted) {
        if (!request->encryption) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "volume %s: connection_info says the volume is encrypted but no "
                        "encryption metadata was given",
                        op->info->volume_id);
            return NULL;
        }
        op->meta = nv_encryption_meta_parse(request->encryption, -1, op->info->volume_id, error);
        if (!op->meta)
            return NULL;
    }
    op->disk_info = nv_disk_info_new(request->mountpoint, request->disk_bus, error);
    if (!op->disk_info)
        return NULL;
    if (!domain || !*domain) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "volume %s: no domain given",
                    op->info->volume_id);
        return NULL;
    }
    op->guest = nv_guest_lookup(driver->host, domain, error);
    if (!op->guest)
        return NULL;
    return g_steal_pointer(&op);
}

static gboolean
volume_op_decide(nv_driver *driver, volume_op *op, GError **error)
{
    guint64 libvirt_version, qemu_version;

    if (!get_versions(driver, &libvirt_version, &qemu_version, error))
        return FALSE;
    if (!nv_driver_choose_encryption_path(
            op->meta, op->info->volume_id, libvirt_version, qemu_version,
            driver->conf->workarounds.disable_native_luksv1, &op->path, &op->reason, error))
        return FALSE;

    /* os-brick's encryptors work on a host block device: a volume the guest
     * reads as a network disk (rbd, nbd, iSCSI through QEMU) cannot take
     * that path (VolumeEncryptionNotSupported). */
    if (op->path == NV_ENCRYPTION_PATH_ENCRYPTOR &&
        !nv_volume_check_encryptor_supported(op->info, driver->conf, error))
        return FALSE;
    return TRUE;
}

/* The disk config the volume driver builds (spec work item 1), and a check
 * that the target is free, so a clash fails before anything is created. */
static nv_disk_config *
volume_op_disk_config(nv_driver *driver, volume_op *op, GError **error)
{
    g_autoptr(nv_disk_config) disk = NULL;
    g_autoptr(nv_disk_config) existing = NULL;
    g_autoptr(GError) local = NULL;

    disk = nv_volume_get_config(op->info, op->disk_info, driver->conf, error);
    if (!disk)
        return NULL;

    existing = nv_guest_get_disk(op->guest, op->disk_info->dev, &local);
    if (existing) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: domain '%s' already has a disk at '%s'", op->info->volume_id,
                    nv_guest_get_name(op->guest), op->disk_info->dev);
        return NULL;
    }
    if (!g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    return g_steal_pointer(&disk);
}

static nv_keymgr *
driver_keymgr(nv_driver *driver, GError **error)
{
    if (!driver->keymgr)
        driver->keymgr = nv_keymgr_new_from_conf(driver->conf, error);
    return driver->keymgr;
}

void
nv_attach_plan_free(nv_attach_plan *plan)
{
    if (!plan)
        return;
    g_free(plan->volume_id);
    g_free(plan->encryption_path);
    g_free(plan->reason);
    g_free(plan->disk_xml);
    g_free(plan->secret_xml);
    g_free(plan);
}

nv_attach_plan *
nv_driver_plan_attach(nv_driver *driver, const char *domain, const nv_volume_request *request,
                      GError **error)
{
    g_autoptr(volume_op) op = NULL;
    g_autoptr(nv_disk_config) disk = NULL;
    g_autoptr(nv_attach_plan) plan = NULL;
    g_autofree char *existing_uuid = NULL;

    op = volume_op_new(driver, domain, request, error);
    if (!op || !volume_op_decide(driver, op, error))
        return NULL;
    disk = volume_op_disk_config(driver, op, error);
    if (!disk)
        return NULL;
    if (!nv_host_find_volume_secret(driver->host, op->info->volume_id, &existing_uuid, error))
        return NULL;

    plan = g_new0(nv_attach_plan, 1);
    plan->volume_id = g_strdup(op->info->volume_id);
    plan->encryption_path = g_strdup(nv_encryption_path_name(op->path));
    plan->reason = g_strdup(op->reason);
    if (existing_uuid) {
        plan->reuses_secret = TRUE;
        nv_volume_set_encryption(disk, existing_uuid);
    } else if (op->path == NV_ENCRYPTION_PATH_NATIVE) {
        g_autofree char *uuid = g_uuid_string_random();

        plan->secret_xml = nv_host_volume_secret_xml(op->info->volume_id, uuid, error);
        if (!plan->secret_xml)
            return NULL;
        nv_volume_set_encryption(disk, uuid);
    }
    plan->disk_xml = nv_disk_config_to_xml(disk, error);
    if (!plan->disk_xml)
        return NULL;
    return g_steal_pointer(&plan);
}

/* ------------------------------------------------------------------------ */
/* Attach (LibvirtDriver.attach_volume, _connect_volume, _attach_encryptor)  */
/* ------------------------------------------------------------------------ */

/* _connect_volume.  The volume types here get their host device or file
 * from Cinder already connected (data.device_path), so there is nothing to
 * log in to; what is left is to make sure the device is there before the
 * domain or the host secrets are touched. */
static gboolean
connect_volume(volume_op *op, GError **error)
{
    const char *path = op->info->device_path;

    if (!path)
        return TRUE;
    if (access(path, R_OK) < 0) {
        int err = errno;

        g_set_error(error, NV_ERROR, err == ENOENT ? NV_ERROR_NOT_FOUND : NV_ERROR_FAILED,
                    "volume %s: device_path '%s': %s", op->info->volume_id, path, g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

/* The part of _attach_encryptor that prepares the volume itself: a blank
 * volume is formatted as LUKS1, a LUKS1 volume is left to QEMU (which checks
 * the passphrase when it opens it: checking it here too would cost a second
 * PBKDF run, ~2 s at cryptsetup's default cost), anything else is refused.
 * Nova formats whenever `cryptsetup isLuks` fails, for any reason; here only
 * a clean probe that finds no signature at all may lead to a format. */
static gboolean
prepare_luks_volume(volume_op *op, const nv_secure_buf *passphrase, GError **error)
{
    const char *path = op->info->device_path;
    const char *volume_id = op->info->volume_id;
    nv_luks_probe_result probe;
    g_autoptr(GError) local = NULL;

    if (!nv_luks_probe(path, &probe, &local)) {
        g_set_error(error, NV_ERROR, local->code, "volume %s: %s", volume_id, local->message);
        return FALSE;
    }
    switch (probe.kind) {
    case NV_LUKS_PROBE_LUKS1:
        return TRUE;
    case NV_LUKS_PROBE_LUKS2:
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: '%s' is LUKS2, which QEMU does not decrypt natively; its "
                    "encryption provider should be 'luks2'",
                    volume_id, path);
        return FALSE;
    case NV_LUKS_PROBE_OTHER:
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: '%s' carries a %s signature and no LUKS header: refusing to "
                    "format it",
                    volume_id, path, probe.signature);
        return FALSE;
    case NV_LUKS_PROBE_BLANK:
        break;
    }

    /* cinder bug 1739442: the first attach of a new encrypted volume formats
     * it.  Always LUKS1 (os-brick bug 1831994: cryptsetup >= 2.1 would pick
     * LUKS2, which QEMU cannot open). */
    g_message("volume %s: '%s' is blank: formatting it as LUKS1", volume_id, path);
    if (!nv_luks_format(path, NV_LUKS_TYPE_LUKS1, op->meta->cipher,
                        op->meta->has_key_size ? (guint)op->meta->key_size : 0, passphrase, 0,
                        &local)) {
        g_set_error(error, NV_ERROR, local->code, "volume %s: %s", volume_id, local->message);
        return FALSE;
    }
    return TRUE;
}

/* A secret found for the volume is reused without asking the key manager
 * (what lets power-on and host-boot resume work).  One Nova created
 * (private='no') can be checked for a value; an empty one would only make
 * QEMU fail later, after the domain was touched. */
static gboolean
check_reused_secret(nv_driver *driver, const char *volume_id, const char *uuid, GError **error)
{
    g_autoptr(GError) local = NULL;
    gboolean has_value = FALSE;

    if (!nv_host_volume_secret_has_value(driver->host, volume_id, &has_value, &local)) {
        /* Private secrets (ours) cannot be read, and cannot lack a value:
         * nv_host_create_volume_secret() undefines them if setting it fails. */
        if (!g_error_matches(local, NV_ERROR, NV_ERROR_UNSUPPORTED)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        has_value = TRUE;
    }
    if (!has_value) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "volume %s: libvirt secret %s exists but has no value; undefine it or set "
                    "its value before attaching",
                    volume_id, uuid);
        return FALSE;
    }
    return TRUE;
}

/* The native branch of _attach_encryptor.  Returns the UUID of the volume
 * secret (caller frees) and sets *@created when this call defined it, so
 * the caller knows what to roll back. */
static char *
attach_native_encryption(nv_driver *driver, volume_op *op, gboolean is_network, gboolean *created,
                         GError **error)
{
    const char *volume_id = op->info->volume_id;
    g_autofree char *uuid = NULL;
    g_autoptr(nv_secure_buf) passphrase = NULL;
    nv_keymgr *keymgr;

    *created = FALSE;
    if (!nv_host_find_volume_secret(driver->host, volume_id, &uuid, error))
        return NULL;
    if (uuid) {
        if (!check_reused_secret(driver, volume_id, uuid, error))
            return NULL;
        return g_steal_pointer(&uuid);
    }

    keymgr = driver_keymgr(driver, error);
    if (!keymgr)
        return NULL;
    passphrase =
        nv_keymgr_get_volume_passphrase(keymgr, volume_id, op->meta->encryption_key_id, error);
    if (!passphrase)
        return NULL;
    /* Only a volume QEMU reads through the host's device_path can be probed
     * and formatted here; a network disk (rbd, nbd, iSCSI through QEMU's
     * initiator) may carry a device_path the guest never reads. */
    if (op->info->device_path && !is_network && !prepare_luks_volume(op, passphrase, error))
        return NULL;
    uuid = nv_host_create_volume_secret(driver->host, volume_id, NULL, passphrase, error);
    if (!uuid)
        return NULL;
    *created = TRUE;
    return g_steal_pointer(&uuid);
}

/* The os-brick encryptor for @op's volume (a no-op one when the provider or
 * control_location says nobody on this host decrypts).  Caller frees. */
static nv_encryptor *
volume_encryptor(volume_op *op, GError **error)
{
    const nv_encryption_meta *meta = op->meta;

    return nv_encryptor_new(op->info->volume_id, op->info->device_path, meta->provider,
                            meta->control_location, meta->cipher,
                            meta->has_key_size ? (guint)meta->key_size : 0, error);
}

/* The fallback branch of _attach_encryptor: open the dm-crypt mapping and
 * point device_path at it, so the <disk> libvirt gets is the decrypted
 * device.  Returns the attached encryptor (caller frees), for rollback. */
static nv_encryptor *
attach_encryptor(nv_driver *driver, volume_op *op, GError **error)
{
    g_autoptr(nv_encryptor) encryptor = NULL;
    g_autoptr(nv_secure_buf) passphrase = NULL;
    nv_keymgr *keymgr;

    encryptor = volume_encryptor(op, error);
    if (!encryptor)
        return NULL;
    keymgr = driver_keymgr(driver, error);
    if (!keymgr)
        return NULL;
    passphrase = nv_keymgr_get_volume_passphrase(keymgr, op->info->volume_id,
                                                 op->meta->encryption_key_id, error);
    if (!passphrase || !nv_encryptor_attach(encryptor, passphrase, error))
        return NULL;
    return g_steal_pointer(&encryptor);
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

gboolean
nv_driver_attach_volume(nv_driver *driver, const char *domain, const nv_volume_request *request,
                        GError **error)
{
    g_autoptr(volume_op) op = NULL;
    g_autoptr(nv_disk_config) disk = NULL;
    g_autofree char *secret_uuid = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(nv_encryptor) encryptor = NULL;
    gboolean created_secret = FALSE;
    gboolean is_network;
    g_autoptr(GError) local = NULL;

    g_return_val_if_fail(driver != NULL, FALSE);

    /* Everything that can be checked without changing anything comes
     * first: bad input, a missing domain or a busy target never leave a
     * trace. */
    op = volume_op_new(driver, domain, request, error);
    if (!op || !volume_op_decide(driver, op, error))
        return FALSE;
    disk = volume_op_disk_config(driver, op, error);
    if (!disk)
        return FALSE;
    /* A network disk is opened by QEMU itself, not through device_path. */
    is_network = g_strcmp0(disk->source_type, "network") == 0;
    if (!is_network && !connect_volume(op, error))
        return FALSE;

    if (op->path == NV_ENCRYPTION_PATH_NATIVE) {
        secret_uuid = attach_native_encryption(driver, op, is_network, &created_secret, &local);
        if (!secret_uuid)
            goto fail;
        nv_volume_set_encryption(disk, secret_uuid);
    } else if (op->path == NV_ENCRYPTION_PATH_ENCRYPTOR) {
        /* nova bug 1812945: an encryptor that fails leaves nothing behind. */
        encryptor = attach_encryptor(driver, op, &local);
        if (!encryptor)
            goto fail;
    }

    xml = nv_disk_config_to_xml(disk, &local);
    if (!xml || !nv_guest_attach_device(op->guest, xml, &local)) {
        classify_attach_error(local);
        goto fail;
    }
    return TRUE;

fail:
    /* Only what this call created is undone: a reused secret belongs to an
     * earlier attach.  A volume formatted above stays formatted (it was
     * blank, and the next attach would format it again anyway). */
    if (created_secret) {
        g_autoptr(GError) cleanup = NULL;

        if (!nv_host_delete_volume_secret(driver->host, op->info->volume_id, &cleanup))
            g_warning("volume %s: rollback: %s", op->info->volume_id, cleanup->message);
    }
    if (encryptor) {
        g_autoptr(GError) cleanup = NULL;

        if (!nv_encryptor_detach(encryptor, &cleanup))
            g_warning("volume %s: rollback: %s", op->info->volume_id, cleanup->message);
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Detach (LibvirtDriver.detach_volume, _disconnect_volume, _detach_encryptor) */
/* ------------------------------------------------------------------------ */

gboolean
nv_driver_detach_volume(nv_driver *driver, const char *domain, const nv_volume_request *request,
                        GError **error)
{
    g_autoptr(volume_op) op = NULL;
    g_autoptr(nv_disk_config) disk = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *secret_uuid = NULL;
    const char *volume_id;
    const char *dev;
    g_autoptr(nv_encryptor) encryptor = NULL;
    gboolean native;
    gboolean persistent_only = FALSE;

    g_return_val_if_fail(driver != NULL, FALSE);
    op = volume_op_new(driver, domain, request, error);
    if (!op)
        return FALSE;
    volume_id = op->info->volume_id;
    dev = op->disk_info->dev;

    /* The live config first (what QEMU uses); a disk that is only in the
     * persistent config of a running domain is detached from there. */
    disk = nv_guest_get_disk(op->guest, dev, &local);
    if (!disk && g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
        g_clear_error(&local);
        disk = nv_guest_get_persistent_disk(op->guest, dev, &local);
        persistent_only = disk != NULL;
    }
    if (!disk && !g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (disk && disk->serial && g_strcmp0(disk->serial, volume_id) != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: disk '%s' of domain '%s' is volume %s, not this one", volume_id,
                    dev, nv_guest_get_name(op->guest), disk->serial);
        return FALSE;
    }

    /* Decide how the volume was decrypted before anything changes.  The
     * spec: <encryption> in the guest's disk config means QEMU decrypted
     * it; current Nova asks libvirt for a volume secret instead.  Either
     * signal means native, so a volume attached natively before an
     * upgrade, or one whose disk has already gone, is still cleaned up.
     * Without both, an encryptor did it, whatever this host's versions are
     * now: hence versions 0 below, which never choose native. */
    if (!nv_host_find_volume_secret(driver->host, volume_id, &secret_uuid, error))
        return FALSE;
    native = (disk && disk->encryption) || secret_uuid;
    if (!native) {
        if (!nv_driver_choose_encryption_path(op->meta, volume_id, 0, 0, FALSE, &op->path,
                                              &op->reason, error))
            return FALSE;
        /* nova bugs 1821696, 1917619: an encrypted volume without a
         * device_path can only have been decrypted by QEMU. */
        if (op->path == NV_ENCRYPTION_PATH_ENCRYPTOR && op->info->device_path) {
            encryptor = volume_encryptor(op, error);
            if (!encryptor)
                return FALSE;
        }
    }

    /* nova bug 1642628: the device leaves the domain before its key does. */
    if (disk) {
        guint timeout_ms = (guint)driver->conf->libvirt.device_detach_timeout * 1000;
        gboolean ok = persistent_only
                          ? nv_guest_detach_disk(op->guest, dev, timeout_ms, error)
                          : nv_guest_detach_found_disk(op->guest, disk, timeout_ms, error);

        if (!ok)
            return FALSE;
    } else {
        g_message("volume %s: domain '%s' has no disk '%s' any more: cleaning up the host only",
                  volume_id, nv_guest_get_name(op->guest), dev);
    }

    /* Closing a mapping that is not open is success, so a disk that had
     * already gone is cleaned up too. */
    if (encryptor && !nv_encryptor_detach(encryptor, error))
        return FALSE;

    if (native) {
        g_clear_error(&local);
        if (!nv_host_delete_volume_secret(driver->host, volume_id, &local) &&
            !g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
    }
    return TRUE;
}
