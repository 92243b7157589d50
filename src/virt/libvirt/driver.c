/* SPDX-License-Identifier: Apache-2.0 */
/* Driver core (nova/virt/libvirt/driver.py): the handle, what the host
 * offers, and the checks every attach and detach starts with.  Attach and
 * detach themselves are in driver_volume.c. */
#include "virt/libvirt/driver.h"

#include <string.h>

#include "nvirt/error.h"
#include "virt/libvirt/api_priv.h"
#include "virt/libvirt/driver_priv.h"
#include "virt/libvirt/volume/volume.h"

/* ------------------------------------------------------------------------ */
/* The driver handle and host information                                   */
/* ------------------------------------------------------------------------ */

nv_driver *
nv_driver_open_files(const char *const *config_files, const char *config_dir,
                     const char *connect_uri, GPtrArray **warnings, GError **error)
{
    g_autoptr(nv_conf) conf = NULL;
    const char *uri;
    nv_driver *driver;

    if ((config_files && config_files[0]) || config_dir)
        conf = nv_conf_load_files(config_files, config_dir, warnings, error);
    else
        conf = nv_conf_new_default();
    if (!conf)
        return NULL;

    uri = connect_uri && *connect_uri ? connect_uri : nv_conf_libvirt_uri(conf);
    driver = g_new0(nv_driver, 1);
    driver->librbd_luks2 = -1;
    driver->conf = g_steal_pointer(&conf);
    driver->host = nv_host_open(uri, error);
    if (!driver->host) {
        nv_driver_free(driver);
        return NULL;
    }
    if (driver->conf->libvirt.keepalive_interval > 0)
        nv_host_set_keepalive(driver->host, driver->conf->libvirt.keepalive_interval,
                              (guint)driver->conf->libvirt.keepalive_count);
    return driver;
}

nv_driver *
nv_driver_open(const char *config_file, const char *connect_uri, GPtrArray **warnings,
               GError **error)
{
    const char *files[] = { config_file, NULL };

    return nv_driver_open_files(config_file ? files : NULL, NULL, connect_uri, warnings, error);
}

void
nv_driver_free(nv_driver *driver)
{
    if (!driver)
        return;
    nv_keymgr_free(driver->keymgr);
    nv_secure_buf_unref(driver->auth_token);
    nv_host_free(driver->host);
    nv_conf_free(driver->conf);
    g_free(driver);
}

gboolean
nv_driver_get_versions(nv_driver *driver, guint64 *libvirt_version, guint64 *qemu_version,
                       GError **error)
{
    if (!driver->have_versions) {
        if (!nv_host_get_lib_version(driver->host, &driver->libvirt_version, error) ||
            !nv_host_get_hypervisor_version(driver->host, &driver->qemu_version, error))
            return FALSE;
        driver->have_versions = TRUE;
    }
    *libvirt_version = driver->libvirt_version;
    *qemu_version = driver->qemu_version;
    return TRUE;
}

gboolean
nv_driver_get_librbd_luks2(nv_driver *driver)
{
    /* The same QEMU block module (block-rbd.so, linked to the host's
     * librbd) serves qemu-img and the emulator; no Ceph library is loaded
     * into this process. */
    const char *argv[] = { "qemu-img", "create", "-f", "rbd", "-o", "help", NULL };
    g_autofree char *out = NULL;
    int status = -1;

    if (driver->librbd_luks2 < 0) {
        driver->librbd_luks2 = g_spawn_sync(NULL, (char **)argv, NULL,
                                            G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                            NULL, &out, NULL, &status, NULL) &&
                               g_spawn_check_wait_status(status, NULL) && out &&
                               strstr(out, "encrypt.format") && strstr(out, "'luks2'");
    }
    return driver->librbd_luks2 > 0;
}

nv_host_info *
nv_driver_get_host_info(nv_driver *driver, GError **error)
{
    g_autoptr(nv_host_info) info = g_new0(nv_host_info, 1);

    if (!nv_driver_get_versions(driver, &info->libvirt_version, &info->qemu_version, error))
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
    info->rbd_luks2_reason = nv_librbd_luks2_blocker(info->libvirt_version, info->qemu_version,
                                                     nv_driver_get_librbd_luks2(driver));
    info->rbd_luks2 = info->rbd_luks2_reason == NULL;
    if (info->rbd_luks2) {
        g_autofree char *hotplug = nv_librbd_luks2_hotplug_blocker(info->libvirt_version);

        info->rbd_luks2_reason =
            hotplug ? g_strdup_printf("librbd decrypts LUKS2 on rbd, cold-plug only: %s", hotplug)
                    : g_strdup("librbd decrypts LUKS2 on rbd");
    }
    return g_steal_pointer(&info);
}

/* ------------------------------------------------------------------------ */
/* Preparing an attach: everything that can be checked before acting        */
/* ------------------------------------------------------------------------ */

void
nv_volume_op_free(nv_volume_op *op)
{
    if (!op)
        return;
    nv_connection_info_free(op->info);
    nv_encryption_meta_free(op->meta);
    nv_disk_info_free(op->disk_info);
    nv_disk_config_free(op->disk);
    g_free(op->host_path);
    nv_guest_disks_free(op->disks);
    nv_guest_free(op->guest);
    g_free(op->reason);
    g_free(op);
}

nv_volume_op *
nv_volume_op_new_parsed(nv_driver *driver, nv_connection_info *info, nv_encryption_meta *meta,
                        const char *mountpoint, const char *disk_bus, gboolean require_meta,
                        GError **error)
{
    g_autoptr(nv_volume_op) op = g_new0(nv_volume_op, 1);
    g_autoptr(GError) local = NULL;

    op->info = info;
    /* Encryption metadata is used only when connection_info says the
     * volume is encrypted, as Nova fetches it only then
     * (encryptors.get_encryption_metadata). */
    if (info->encrypted)
        op->meta = meta;
    else
        nv_encryption_meta_free(meta);
    if (info->encrypted && !op->meta && require_meta) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: connection_info says the volume is encrypted but no "
                    "encryption metadata was given",
                    op->info->volume_id);
        return NULL;
    }
    op->disk_info = nv_disk_info_new_for_volume(op->info->volume_id, mountpoint, disk_bus, error);
    if (!op->disk_info)
        return NULL;
    op->disk = nv_volume_get_config(op->info, op->disk_info, driver->conf, error);
    if (!op->disk)
        return NULL;
    op->is_rbd = g_strcmp0(op->disk->source_type, "network") == 0 &&
                 g_strcmp0(op->disk->source_protocol, "rbd") == 0;
    op->host_path = nv_volume_get_host_path(op->info, driver->conf, &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    return g_steal_pointer(&op);
}

nv_volume_op *
nv_volume_op_new(nv_driver *driver, const char *domain, const nv_volume_request *request,
                 gboolean detach, GError **error)
{
    g_autoptr(nv_volume_op) op = NULL;
    g_autoptr(nv_connection_info) info = NULL;
    g_autoptr(nv_encryption_meta) meta = NULL;
    g_autoptr(GError) local = NULL;

    if (!nv_volume_request_check(request, error))
        return NULL;
    if (!request->connection_info || !request->mountpoint) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "a volume request needs connection_info and a mountpoint");
        return NULL;
    }
    info = nv_connection_info_parse(request->connection_info, -1, error);
    if (!info)
        return NULL;
    if (info->encrypted && request->encryption) {
        meta = nv_encryption_meta_parse(request->encryption, -1, info->volume_id, error);
        if (!meta)
            return NULL;
    }
    op = nv_volume_op_new_parsed(driver, g_steal_pointer(&info), g_steal_pointer(&meta),
                                 request->mountpoint, request->disk_bus, !detach, error);
    if (!op)
        return NULL;
    if (!domain || !*domain) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "volume %s: no domain given",
                    op->info->volume_id);
        return NULL;
    }
    op->guest = nv_guest_lookup(driver->host, domain, &local);
    if (!op->guest && !(detach && g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND))) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    return g_steal_pointer(&op);
}

gboolean
nv_volume_op_decide(nv_driver *driver, nv_volume_op *op, GError **error)
{
    guint64 libvirt_version, qemu_version;

    if (!nv_driver_get_versions(driver, &libvirt_version, &qemu_version, error))
        return FALSE;
    if (!nv_driver_choose_encryption_path(
            op->meta, op->info->volume_id, libvirt_version, qemu_version,
            driver->conf->workarounds.disable_native_luksv1, &op->path, &op->reason, error))
        return FALSE;
    if (op->is_rbd && op->path == NV_ENCRYPTION_PATH_ENCRYPTOR)
        nv_driver_choose_rbd_encryption_path(op->meta, libvirt_version, qemu_version,
                                             nv_driver_get_librbd_luks2(driver), &op->path,
                                             &op->reason);

    /* os-brick's encryptors work on a host block device: a volume the guest
     * reads as a network disk (rbd, nbd, iSCSI through QEMU) cannot take
     * that path (VolumeEncryptionNotSupported). */
    if (op->path == NV_ENCRYPTION_PATH_ENCRYPTOR &&
        !nv_volume_check_encryptor_supported(op->info, driver->conf, error))
        return FALSE;
    return TRUE;
}

/* TRUE when @disk, found in a domain, is this volume's by its serial:
 * connection_info's serial (what Nova writes into <serial>) or the volume
 * id. */
gboolean
nv_disk_serial_is_volume(const nv_disk_config *disk, const nv_connection_info *info)
{
    return disk->serial && (g_strcmp0(disk->serial, info->volume_id) == 0 ||
                            g_strcmp0(disk->serial, info->serial) == 0);
}

/* The disk of @disks (other than at @skip_dev) that already holds the
 * volume of @op, by serial or by source, or NULL. */
static const nv_disk_config *
find_volume_disk(const GPtrArray *disks, const nv_volume_op *op)
{
    if (!disks)
        return NULL;
    for (guint i = 0; i < disks->len; i++) {
        const nv_disk_config *disk = g_ptr_array_index(disks, i);

        if (nv_disk_serial_is_volume(disk, op->info) || nv_disk_config_same_source(disk, op->disk))
            return disk;
    }
    return NULL;
}

gboolean
nv_volume_op_check_attach(nv_volume_op *op, GError **error)
{
    const char *volume_id = op->info->volume_id;
    const char *dev = op->disk_info->dev;
    const char *name = nv_guest_get_name(op->guest);
    const nv_disk_config *found;

    op->disks = nv_guest_read_disks(op->guest, TRUE, error);
    if (!op->disks)
        return FALSE;
    if (nv_disks_find_by_target(op->disks->live_disks, dev)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: domain '%s' already has a disk at '%s'", volume_id, name, dev);
        return FALSE;
    }
    if (nv_disks_find_by_target(op->disks->persistent_disks, dev)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: domain '%s' already has a disk at '%s' in its persistent config",
                    volume_id, name, dev);
        return FALSE;
    }
    found = find_volume_disk(op->disks->live_disks, op);
    if (!found)
        found = find_volume_disk(op->disks->persistent_disks, op);
    if (found) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: already attached to domain '%s' at '%s'", volume_id, name,
                    found->target_dev ? found->target_dev : "?");
        return FALSE;
    }
    return TRUE;
}

void
nv_driver_set_auth_token(nv_driver *driver, const char *token)
{
    g_clear_pointer(&driver->auth_token, nv_secure_buf_unref);
    if (token && *token)
        driver->auth_token = nv_secure_buf_new_from(token, strlen(token));
    if (driver->keymgr)
        nv_keymgr_set_auth_token(driver->keymgr, driver->auth_token);
}

nv_keymgr *
nv_driver_keymgr(nv_driver *driver, GError **error)
{
    if (!driver->keymgr) {
        driver->keymgr = nv_keymgr_new_from_conf(driver->conf, error);
        if (driver->keymgr && driver->auth_token)
            nv_keymgr_set_auth_token(driver->keymgr, driver->auth_token);
    }
    return driver->keymgr;
}

nv_attach_plan *
nv_driver_plan_attach(nv_driver *driver, const char *domain, const nv_volume_request *request,
                      GError **error)
{
    g_autoptr(nv_volume_op) op = NULL;
    g_autoptr(nv_attach_plan) plan = NULL;
    g_autofree char *existing_uuid = NULL;

    op = nv_volume_op_new(driver, domain, request, FALSE, error);
    if (!op || !nv_volume_op_decide(driver, op, error) || !nv_volume_op_check_attach(op, error))
        return NULL;

    plan = nv_attach_plan_new(op->info, op->meta, op->path, op->reason);
    /* Only the native path uses a volume secret: one left over from an
     * earlier native attach does not make an encryptor attach native. */
    if (nv_encryption_path_uses_secret(op->path)) {
        if (!nv_host_find_volume_secret(driver->host, op->info->volume_id, &existing_uuid, error))
            return NULL;
        if (existing_uuid) {
            plan->reuses_secret = TRUE;
            nv_disk_config_set_luks_encryption(op->disk, existing_uuid);
        } else {
            g_autofree char *uuid = g_uuid_string_random();

            plan->secret_xml = nv_host_volume_secret_xml(op->info->volume_id, uuid, error);
            if (!plan->secret_xml)
                return NULL;
            nv_disk_config_set_luks_encryption(op->disk, uuid);
        }
        if (op->path == NV_ENCRYPTION_PATH_LIBRBD)
            nv_disk_config_set_librbd_encryption(op->disk);
    }
    plan->disk_xml = nv_disk_config_to_xml(op->disk, error);
    if (!plan->disk_xml)
        return NULL;
    return g_steal_pointer(&plan);
}
