/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Instance lifecycle (LibvirtDriver.spawn, destroy/cleanup with
 * destroy_secrets=True, power_off, power_on, reboot, and
 * resume_state_on_host_boot).
 *
 * spawn connects every volume and prepares its decryption with the same
 * per-volume steps as an attach (nv_volume_op_connect(): host path check,
 * volume secret found or created, a provably blank volume formatted, or a
 * dm-crypt mapping opened), under each volume's lock, BEFORE the domain XML
 * is built: the <encryption> of each disk names a secret that exists by the
 * time libvirt sees it (nova-behaviour.md, "Lifecycle").  Whatever fails,
 * what this call created is undone, newest first.
 */
#include <string.h>

#include "nvirt/error.h"
#include "virt/block_device_info.h"
#include "virt/instance.h"
#include "virt/libvirt/driver_priv.h"
#include "virt/libvirt/guest_lifecycle.h"

/* One volume of the instance, and what connecting it created. */
typedef struct {
    nv_volume_op *op;
    gint boot_index;
    gboolean delete_on_termination;
    nv_volume_lock *lock;
    nv_volume_undo undo;
} lifecycle_volume;

static void
lifecycle_volume_free(gpointer data)
{
    lifecycle_volume *vol = data;

    nv_volume_undo_clear(&vol->undo);
    nv_volume_lock_release(vol->lock);
    nv_volume_op_free(vol->op);
    g_free(vol);
}

/* Every entry of @json as a volume op, parsed and checked before anything
 * changes.  @spawn: encrypted volumes need their metadata and get an
 * encryption path decided for this host. */
static GPtrArray *
lifecycle_volumes_new(nv_driver *driver, const char *json, gboolean spawn, GError **error)
{
    g_autoptr(nv_block_device_info) bdi = NULL;
    g_autoptr(GPtrArray) vols = NULL;

    if (!json) {
        g_set_error_literal(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            "block_device_info: no document given");
        return NULL;
    }
    bdi = nv_block_device_info_parse(json, -1, error);
    if (!bdi)
        return NULL;
    vols = g_ptr_array_new_with_free_func(lifecycle_volume_free);
    for (guint i = 0; i < bdi->mappings->len; i++) {
        nv_bdm *bdm = g_ptr_array_index(bdi->mappings, i);
        lifecycle_volume *vol = g_new0(lifecycle_volume, 1);

        g_ptr_array_add(vols, vol);
        vol->boot_index = bdm->boot_index;
        vol->delete_on_termination = bdm->delete_on_termination;
        vol->op = nv_volume_op_new_parsed(driver, g_steal_pointer(&bdm->connection_info),
                                          g_steal_pointer(&bdm->encryption), bdm->mount_device,
                                          bdm->disk_bus, spawn, error);
        if (!vol->op || (spawn && !nv_volume_op_decide(driver, vol->op, error)))
            return NULL;
        /* "/dev/vda" and "vda" are one target. */
        for (guint j = 0; j < i; j++) {
            const lifecycle_volume *other = g_ptr_array_index(vols, j);

            if (g_str_equal(other->op->disk_info->dev, vol->op->disk_info->dev)) {
                g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            "volume %s: target '%s' is also volume %s's", vol->op->info->volume_id,
                            vol->op->disk_info->dev, other->op->info->volume_id);
                return NULL;
            }
        }
    }
    return g_steal_pointer(&vols);
}

static gint
compare_volume_ids(gconstpointer a, gconstpointer b)
{
    const lifecycle_volume *va = *(lifecycle_volume *const *)a;
    const lifecycle_volume *vb = *(lifecycle_volume *const *)b;

    return strcmp(va->op->info->volume_id, vb->op->info->volume_id);
}

/* Each volume's lock, taken in volume id order so that two calls sharing
 * volumes cannot wait for each other. */
static gboolean
lock_volumes(nv_driver *driver, const GPtrArray *vols, GError **error)
{
    /* Borrowed pointers: g_ptr_array_copy() would copy the free function. */
    g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new(vols->len);

    for (guint i = 0; i < vols->len; i++)
        g_ptr_array_add(sorted, g_ptr_array_index(vols, i));
    g_ptr_array_sort(sorted, compare_volume_ids);
    for (guint i = 0; i < sorted->len; i++) {
        lifecycle_volume *vol = g_ptr_array_index(sorted, i);

        vol->lock = nv_volume_op_lock(driver, vol->op, error);
        if (!vol->lock)
            return FALSE;
    }
    return TRUE;
}

static gint
compare_boot_index(gconstpointer a, gconstpointer b)
{
    const lifecycle_volume *va = *(lifecycle_volume *const *)a;
    const lifecycle_volume *vb = *(lifecycle_volume *const *)b;

    return (va->boot_index > vb->boot_index) - (va->boot_index < vb->boot_index);
}

/* _connect_volume for every volume, in document order; what each created
 * stays in its undo.  A message that does not name the volume (the key
 * manager's) gets its id in front. */
static gboolean
connect_volumes(nv_driver *driver, GPtrArray *vols, GError **error)
{
    for (guint i = 0; i < vols->len; i++) {
        lifecycle_volume *vol = g_ptr_array_index(vols, i);

        if (!nv_volume_op_connect(driver, vol->op, &vol->undo, error)) {
            if (!g_str_has_prefix((*error)->message, "volume "))
                g_prefix_error(error, "volume %s: ", vol->op->info->volume_id);
            return FALSE;
        }
    }
    return TRUE;
}

/* <boot order> 1, 2, ... in ascending boot_index; -1 boots from nothing
 * (boot_index values need not be contiguous, order values are). */
static void
assign_boot_order(const GPtrArray *vols)
{
    g_autoptr(GPtrArray) bootable = g_ptr_array_new();
    guint order = 0;

    for (guint i = 0; i < vols->len; i++) {
        lifecycle_volume *vol = g_ptr_array_index(vols, i);

        if (vol->boot_index >= 0)
            g_ptr_array_add(bootable, vol);
    }
    g_ptr_array_sort(bootable, compare_boot_index);
    for (guint i = 0; i < bootable->len; i++) {
        lifecycle_volume *vol = g_ptr_array_index(bootable, i);

        g_free(vol->op->disk->boot_order);
        vol->op->disk->boot_order = g_strdup_printf("%u", ++order);
    }
}

/* LibvirtDriver._get_guest_config, for what an nv_instance says. */
static char *
build_domain_xml(nv_driver *driver, const nv_instance *instance, const GPtrArray *vols,
                 GError **error)
{
    g_autoptr(nv_guest_config) guest = nv_guest_config_new();
    gboolean scsi = FALSE;

    g_free(guest->virt_type);
    guest->virt_type = g_strdup(driver->conf->libvirt.virt_type);
    guest->name = g_strdup(instance->name);
    guest->uuid = g_strdup(instance->uuid);
    guest->memory_kib = instance->memory_mb * 1024;
    guest->vcpus = instance->vcpus;
    guest->os_machine_type = g_strdup(instance->machine_type);
    guest->os_kernel = g_strdup(instance->kernel);
    guest->os_initrd = g_strdup(instance->initrd);
    guest->os_cmdline = g_strdup(instance->cmdline);
    for (guint i = 0; i < vols->len; i++) {
        const lifecycle_volume *vol = g_ptr_array_index(vols, i);

        nv_guest_config_add_disk(guest, nv_disk_config_copy(vol->op->disk));
        scsi = scsi || g_strcmp0(vol->op->disk_info->bus, "scsi") == 0;
    }
    /* Nova's hw_scsi_model default for volumes on a scsi bus. */
    if (scsi)
        nv_guest_config_add_controller(guest, "scsi", "0", "virtio-scsi");
    /* _create_consoles: a serial port on a pty, or logging to the file
     * the instance names (Nova's console.log without a serial proxy). */
    if (instance->console_log)
        nv_guest_config_add_chardev(guest, "serial", "file", instance->console_log, "0");
    else
        nv_guest_config_add_chardev(guest, "serial", "pty", NULL, "0");
    return nv_guest_config_to_xml(guest, error);
}

/* Undo, newest first: the domain, then each volume's secret, mapping and
 * header in reverse order.  Failures are logged; the caller reports the
 * error that made it roll back. */
static void
roll_back_spawn(nv_driver *driver, const char *name, gboolean defined, GPtrArray *vols)
{
    if (defined) {
        g_autoptr(GError) cleanup = NULL;

        if (!nv_guest_power_off(driver->host, name, &cleanup) ||
            !nv_guest_undefine(driver->host, name, &cleanup))
            g_warning("instance %s: rollback: %s", name, cleanup->message);
    }
    for (guint i = vols->len; i > 0; i--) {
        lifecycle_volume *vol = g_ptr_array_index(vols, i - 1);

        nv_volume_undo_roll_back(driver, vol->op, &vol->undo);
        nv_volume_undo_clear(&vol->undo);
    }
}

gboolean
nv_driver_spawn(nv_driver *driver, const nv_instance *instance, const char *block_device_info,
                GError **error)
{
    g_autoptr(GPtrArray) vols = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *xml = NULL;
    gboolean exists = FALSE;
    gboolean defined = FALSE;

    g_return_val_if_fail(driver != NULL && instance != NULL, FALSE);

    /* Everything checkable without a change comes first: bad input, or a
     * domain that exists already, leaves no trace. */
    vols = lifecycle_volumes_new(driver, block_device_info, TRUE, error);
    if (!vols)
        return FALSE;
    if (!nv_guest_exists(driver->host, instance->name, instance->uuid, &exists, error))
        return FALSE;
    if (exists) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "instance %s: a domain with this name or uuid %s exists already",
                    instance->name, instance->uuid);
        return FALSE;
    }
    if (!lock_volumes(driver, vols, error))
        return FALSE;

    if (!connect_volumes(driver, vols, &local))
        goto fail;
    assign_boot_order(vols);
    xml = build_domain_xml(driver, instance, vols, &local);
    if (!xml)
        goto fail;
    if (!nv_guest_define_and_start(driver->host, instance->name, xml, &defined, &local)) {
        nv_driver_classify_attach_error(local);
        goto fail;
    }
    for (guint i = 0; i < vols->len; i++)
        nv_volume_undo_clear(&((lifecycle_volume *)g_ptr_array_index(vols, i))->undo);
    return TRUE;

fail:
    roll_back_spawn(driver, instance->name, defined, vols);
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Destroy                                                                  */
/* ------------------------------------------------------------------------ */

/* _disconnect_volume for one volume of a stopped domain: close its
 * encryptor when one decrypted it, and (@destroy_secrets) delete its volume
 * secret.  @disk: the volume's disk in the persistent config (NULL
 * when the domain or the disk has gone): its <encryption> says QEMU
 * decrypted it; without one the secret decides, as a detach decides.  The
 * volume types here have nothing to log out of: disconnecting them is
 * releasing what nvirt opened on them. */
static gboolean
disconnect_volume(nv_driver *driver, nv_volume_op *op, const nv_disk_config *disk,
                  gboolean destroy_secrets, GError **error)
{
    const char *volume_id = op->info->volume_id;
    g_autofree char *secret_uuid = NULL;
    g_autoptr(GError) local = NULL;
    gboolean native;

    if (!nv_host_find_volume_secret(driver->host, volume_id, &secret_uuid, error))
        return FALSE;
    native = disk ? disk->encryption != NULL : secret_uuid != NULL;
    if (!native && op->info->encrypted && op->host_path && op->meta) {
        g_autoptr(nv_encryptor) encryptor = NULL;
        g_autofree char *reason = NULL;
        nv_encryption_path path;

        /* Versions 0: native was not chosen, so the metadata says which
         * encryptor (or none) holds the mapping.  op->path stays this
         * host's decision for a reconnect. */
        if (!nv_driver_choose_encryption_path(op->meta, volume_id, 0, 0, FALSE, &path, &reason,
                                              error))
            return FALSE;
        if (path == NV_ENCRYPTION_PATH_ENCRYPTOR) {
            encryptor = nv_encryptor_new(
                volume_id, op->host_path, op->meta->provider, op->meta->control_location,
                op->meta->cipher, op->meta->has_key_size ? (guint)op->meta->key_size : 0, error);
            /* Closing a mapping that is not open is success. */
            if (!encryptor || !nv_encryptor_detach(encryptor, error))
                return FALSE;
        }
    }
    if (destroy_secrets && secret_uuid &&
        !nv_host_delete_secret_by_uuid(driver->host, secret_uuid, &local) &&
        !g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    return TRUE;
}

/* The domain's disks as its persistent config has them (what its volumes
 * were started with); NULL in *@disks when there is no domain. */
static gboolean
read_domain_disks(nv_guest *guest, GPtrArray **disks, GError **error)
{
    g_autofree char *xml = NULL;
    gboolean persistent;

    *disks = NULL;
    if (!guest)
        return TRUE;
    if (!nv_guest_is_persistent(guest, &persistent, error))
        return FALSE;
    xml = nv_guest_get_xml(guest, persistent, error);
    if (!xml)
        return FALSE;
    *disks = nv_domain_parse_disks(xml, error);
    return *disks != NULL;
}

/* @vol's disk in @disks (by target), or NULL: a disk at the target that
 * is another volume's says nothing about this one. */
static const nv_disk_config *
volume_disk(const GPtrArray *disks, const lifecycle_volume *vol)
{
    const nv_disk_config *disk = nv_disks_find_by_target(disks, vol->op->disk_info->dev);

    if (disk && disk->serial && !nv_disk_serial_is_volume(disk, vol->op->info))
        return NULL;
    return disk;
}

gboolean
nv_driver_destroy(nv_driver *driver, const char *name, const char *block_device_info,
                  GError **error)
{
    g_autoptr(GPtrArray) vols = NULL;
    g_autoptr(GPtrArray) disks = NULL;
    g_autoptr(GError) local = NULL;
    nv_guest *guest = NULL;
    gboolean ok = FALSE;

    g_return_val_if_fail(driver != NULL, FALSE);
    if (!name || !*name) {
        g_set_error_literal(error, NV_ERROR, NV_ERROR_BAD_INPUT, "destroy: no domain given");
        return FALSE;
    }
    vols = lifecycle_volumes_new(driver, block_device_info, FALSE, error);
    if (!vols)
        return FALSE;
    /* A domain that has gone already is no error: the host side is
     * cleaned up all the same (Nova's destroy after InstanceNotFound). */
    guest = nv_guest_lookup(driver->host, name, &local);
    if (!guest && !g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!read_domain_disks(guest, &disks, error) || !lock_volumes(driver, vols, error))
        goto out;
    /* The volumes' keys leave only once QEMU has let go of them. */
    if (guest && !nv_guest_power_off(driver->host, name, error))
        goto out;
    for (guint i = 0; i < vols->len; i++) {
        lifecycle_volume *vol = g_ptr_array_index(vols, i);
        const nv_disk_config *disk = volume_disk(disks, vol);

        if (!disconnect_volume(driver, vol->op, disk, TRUE, error))
            goto out;
        if (vol->delete_on_termination)
            g_message("volume %s: delete_on_termination is left to the caller",
                      vol->op->info->volume_id);
    }
    if (guest && !nv_guest_undefine(driver->host, name, error))
        goto out;
    ok = TRUE;
out:
    nv_guest_free(guest);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Power                                                                    */
/* ------------------------------------------------------------------------ */

gboolean
nv_driver_power_off(nv_driver *driver, const char *name, GError **error)
{
    g_return_val_if_fail(driver != NULL, FALSE);
    if (!name || !*name) {
        g_set_error_literal(error, NV_ERROR, NV_ERROR_BAD_INPUT, "power-off: no domain given");
        return FALSE;
    }
    /* The volumes stay connected and their secrets defined: power-on
     * finds them. */
    return nv_guest_power_off(driver->host, name, error);
}

/* The domain's persistent config with its volume disks rebuilt from
 * block_device_info (_get_guest_xml): every disk that is one of the
 * volumes' (by target or serial) is replaced, the others are kept. */
static char *
rebuild_domain_xml(nv_guest *guest, const GPtrArray *vols, GError **error)
{
    g_autofree char *xml = nv_guest_get_xml(guest, TRUE, error);
    g_autoptr(nv_guest_config) config = NULL;
    g_autoptr(GPtrArray) old = NULL;
    gboolean scsi = FALSE, have_scsi = FALSE;

    if (!xml)
        return NULL;
    config = nv_guest_config_parse(xml, error);
    if (!config)
        return NULL;
    old = g_steal_pointer(&config->disks);
    config->disks = g_ptr_array_new_with_free_func((GDestroyNotify)nv_disk_config_free);
    for (guint i = 0; i < old->len; i++) {
        nv_disk_config *disk = g_ptr_array_index(old, i);
        gboolean volume = FALSE;

        for (guint j = 0; j < vols->len && !volume; j++) {
            const lifecycle_volume *vol = g_ptr_array_index(vols, j);

            volume = g_strcmp0(disk->target_dev, vol->op->disk_info->dev) == 0 ||
                     nv_disk_serial_is_volume(disk, vol->op->info);
        }
        if (!volume)
            nv_guest_config_add_disk(config, nv_disk_config_copy(disk));
    }
    for (guint i = 0; i < vols->len; i++) {
        const lifecycle_volume *vol = g_ptr_array_index(vols, i);

        nv_guest_config_add_disk(config, nv_disk_config_copy(vol->op->disk));
        scsi = scsi || g_strcmp0(vol->op->disk_info->bus, "scsi") == 0;
    }
    for (guint i = 0; i < config->controllers->len; i++) {
        const nv_controller_config *ctrl = g_ptr_array_index(config->controllers, i);

        have_scsi = have_scsi || g_strcmp0(ctrl->type, "scsi") == 0;
    }
    if (scsi && !have_scsi)
        nv_guest_config_add_controller(config, "scsi", "0", "virtio-scsi");
    return nv_guest_config_to_xml(config, error);
}

/* LibvirtDriver._hard_reboot, which power_on also is: tear down with the
 * secrets kept (destroy_secrets=False: encryptors closed, nova bug
 * 1724573), rebuild the XML from block_device_info, reconnect every volume
 * (an existing volume secret is reused without asking the key manager,
 * nova bug 1905701), define and start.  What the reconnect created (a
 * secret that had gone, a mapping) is undone on failure; the domain stays
 * defined. */
static gboolean
restart_instance(nv_driver *driver, const char *what, const char *name,
                 const char *block_device_info, GError **error)
{
    g_autoptr(GPtrArray) vols = NULL;
    g_autoptr(GPtrArray) disks = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *xml = NULL;
    nv_guest *guest = NULL;
    gboolean persistent = FALSE;
    gboolean defined = FALSE;
    gboolean ok = FALSE;

    g_return_val_if_fail(driver != NULL, FALSE);
    if (!name || !*name) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: no domain given", what);
        return FALSE;
    }
    vols = lifecycle_volumes_new(driver, block_device_info, TRUE, error);
    if (!vols)
        return FALSE;
    guest = nv_guest_lookup(driver->host, name, error);
    if (!guest)
        return FALSE;
    if (!nv_guest_is_persistent(guest, &persistent, error))
        goto out;
    if (!persistent) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "domain '%s' is not persistent: %s rebuilds a defined domain", name, what);
        goto out;
    }
    if (!read_domain_disks(guest, &disks, error) || !lock_volumes(driver, vols, error) ||
        !nv_guest_power_off(driver->host, name, error))
        goto out;
    for (guint i = 0; i < vols->len; i++) {
        lifecycle_volume *vol = g_ptr_array_index(vols, i);

        if (!disconnect_volume(driver, vol->op, volume_disk(disks, vol), FALSE, error))
            goto out;
    }
    if (!connect_volumes(driver, vols, &local))
        goto fail;
    assign_boot_order(vols);
    xml = rebuild_domain_xml(guest, vols, &local);
    if (!xml)
        goto fail;
    if (!nv_guest_define_and_start(driver->host, name, xml, &defined, &local)) {
        nv_driver_classify_attach_error(local);
        goto fail;
    }
    for (guint i = 0; i < vols->len; i++)
        nv_volume_undo_clear(&((lifecycle_volume *)g_ptr_array_index(vols, i))->undo);
    ok = TRUE;
    goto out;

fail:
    /* The domain keeps a definition (its old one, or the rebuilt one when
     * only the start failed): never roll it back to nothing. */
    roll_back_spawn(driver, name, FALSE, vols);
    g_propagate_error(error, g_steal_pointer(&local));
out:
    nv_guest_free(guest);
    return ok;
}

gboolean
nv_driver_power_on(nv_driver *driver, const char *name, const char *block_device_info,
                   GError **error)
{
    return restart_instance(driver, "power-on", name, block_device_info, error);
}

gboolean
nv_driver_hard_reboot(nv_driver *driver, const char *name, const char *block_device_info,
                      GError **error)
{
    return restart_instance(driver, "hard reboot", name, block_device_info, error);
}

/* Nova's ignored_states (power_state RUNNING, SUSPENDED, NOSTATE, PAUSED),
 * in libvirt's terms: a domain in one of them is left alone. */
static gboolean
state_is_up(int state)
{
    switch (state) {
    case VIR_DOMAIN_NOSTATE:
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED:
        return TRUE;
    default:
        return FALSE;
    }
}

gboolean
nv_driver_resume_state_on_host_boot(nv_driver *driver, const char *name,
                                    const char *block_device_info, GError **error)
{
    g_autoptr(nv_guest) guest = NULL;
    int state = VIR_DOMAIN_NOSTATE;

    g_return_val_if_fail(driver != NULL, FALSE);
    if (!name || !*name) {
        g_set_error_literal(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            "resume-guests-state: no domain given");
        return FALSE;
    }
    /* Nova asks the power state first and does nothing to a guest that is
     * up: after a libvirtd restart QEMU kept running with its secrets. */
    guest = nv_guest_lookup(driver->host, name, error);
    if (!guest || !nv_guest_get_state(guest, &state, error))
        return FALSE;
    if (state_is_up(state))
        return TRUE;
    g_clear_pointer(&guest, nv_guest_free);
    /* Shut off or crashed (QEMU died with the host): _hard_reboot.  The
     * volumes' persistent secrets survived, so natively decrypted volumes
     * need no key manager; dm-crypt mappings are opened again. */
    return restart_instance(driver, "resume-guests-state", name, block_device_info, error);
}

gboolean
nv_block_device_info_validate(const char *block_device_info, GError **error)
{
    g_autoptr(nv_block_device_info) bdi = NULL;

    if (!block_device_info) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "block_device_info: none given");
        return FALSE;
    }
    bdi = nv_block_device_info_parse(block_device_info, -1, error);
    return bdi != NULL;
}
