/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LibvirtBaseVolumeDriver and LibvirtVolumeDriver
 * (nova/virt/libvirt/volume/volume.py), the driver table of driver.py
 * (VOLUME_DRIVERS) and blockinfo's disk bus rules.
 */
#include "virt/libvirt/volume/volume.h"

#include <string.h>

#include "nvirt/error.h"
#include "util/quote.h"
#include "virt/libvirt/volume/volume_priv.h"

/* driver.py VOLUME_DRIVERS, restricted to the types whose volume arrives
 * as a host block device or file, or that QEMU opens over the network.
 * nvmeof and lightos subclass LibvirtVolumeDriver without touching
 * get_config (storpool adds driver_io='native'); "file" is nvirt's own (a plain image file).  Nova
 * 26 maps only rbd to LibvirtNetVolumeDriver; nbd went with its own driver in Nova 16 but is still
 * a network disk libvirt and QEMU open natively. */
static const struct {
    const char *type;
    const nv_volume_driver *driver;
} volume_drivers[] = {
    { "local", &nv_volume_driver_block },
    { "nvmeof", &nv_volume_driver_block },
    { "lightos", &nv_volume_driver_block },
    { "storpool", &nv_volume_driver_storpool },
    { "iscsi", &nv_volume_driver_iscsi },
    { "iser", &nv_volume_driver_iser },
    { "fibre_channel", &nv_volume_driver_fibre_channel },
    { "scaleio", &nv_volume_driver_scaleio },
    { "nfs", &nv_volume_driver_nfs },
    { "file", &nv_volume_driver_file },
    { "rbd", &nv_volume_driver_net },
    { "nbd", &nv_volume_driver_net },
};

/* blockinfo.SUPPORTED_DEVICE_BUSES for qemu/kvm, without 'fdc': a volume
 * is never a floppy. */
static const char *const supported_buses[] = { "virtio", "scsi", "sata", "ide", "usb" };

/* blockinfo.get_disk_bus_for_disk_dev (Nova 26 dropped xvd -> xen). */
static const struct {
    const char *prefix;
    const char *bus;
} prefix_buses[] = {
    { "vd", "virtio" },
    { "sd", "scsi" },
    { "hd", "ide" },
};

/* The iotune children Nova copies from qos_specs (tune_opts). */
static const nv_iotune_field tune_opts[] = {
    NV_IOTUNE_TOTAL_BYTES_SEC,    NV_IOTUNE_READ_BYTES_SEC,      NV_IOTUNE_WRITE_BYTES_SEC,
    NV_IOTUNE_TOTAL_IOPS_SEC,     NV_IOTUNE_READ_IOPS_SEC,       NV_IOTUNE_WRITE_IOPS_SEC,
    NV_IOTUNE_READ_BYTES_SEC_MAX, NV_IOTUNE_READ_IOPS_SEC_MAX,   NV_IOTUNE_WRITE_BYTES_SEC_MAX,
    NV_IOTUNE_WRITE_IOPS_SEC_MAX, NV_IOTUNE_TOTAL_BYTES_SEC_MAX, NV_IOTUNE_TOTAL_IOPS_SEC_MAX,
    NV_IOTUNE_SIZE_IOPS_SEC,
};

void
nv_disk_info_free(nv_disk_info *disk_info)
{
    if (!disk_info)
        return;
    g_free(disk_info->dev);
    g_free(disk_info->bus);
    g_free(disk_info->type);
    g_free(disk_info);
}

/* The disk target prefixes libvirt's virDiskNameParse knows. */
static const char *const device_prefixes[] = { "vd", "sd", "hd", "xvd", "ubd", "fd" };

/* Letters after the prefix: libvirt takes any number (and partition digits
 * for other callers), but a guest has at most a few hundred disks, and
 * Nova's blockinfo generates at most "vdzzz" (generate_device_name). */
#define DEVICE_NAME_MAX_LETTERS 3

/* A disk target name libvirt accepts for a <target dev=...>: a prefix of
 * virDiskNameParse followed by 1 to DEVICE_NAME_MAX_LETTERS lowercase
 * letters, nothing else ("vdb", "sdaa"; not "vd", "vdb1", "vdzzzz"). */
static gboolean
is_device_name(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(device_prefixes); i++) {
        gsize prefix_len = strlen(device_prefixes[i]);
        const char *letters = name + prefix_len;
        gsize n;

        if (strncmp(name, device_prefixes[i], prefix_len) != 0)
            continue;
        for (n = 0; n <= DEVICE_NAME_MAX_LETTERS && g_ascii_islower(letters[n]); n++)
            ;
        return n >= 1 && n <= DEVICE_NAME_MAX_LETTERS && letters[n] == '\0';
    }
    return FALSE;
}

nv_disk_info *
nv_disk_info_new_for_volume(const char *volume_id, const char *mountpoint, const char *bus,
                            GError **error)
{
    g_autoptr(nv_disk_info) disk_info = NULL;
    g_autofree char *object = NULL;
    g_autofree char *quoted = NULL;
    g_autofree char *quoted_bus = NULL;
    const char *dev;
    gboolean bus_ok = FALSE;

    g_return_val_if_fail(mountpoint != NULL, NULL);

    /* Messages name the volume when it is known, and quote what came with
     * the request escaped and cut (a mountpoint may hold a newline or
     * megabytes). */
    object = volume_id ? g_strdup_printf("volume %s: ", volume_id) : g_strdup("");
    quoted = nv_quote(mountpoint);

    /* block_device.strip_dev: only a leading "/dev/" is removed. */
    dev = g_str_has_prefix(mountpoint, "/dev/") ? mountpoint + strlen("/dev/") : mountpoint;
    if (!is_device_name(dev)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "%smountpoint %s: not a disk device name (vd, sd, hd, xvd, ubd or fd and 1 to "
                    "%d letters, e.g. /dev/vdb or vdb)",
                    object, quoted, DEVICE_NAME_MAX_LETTERS);
        return NULL;
    }

    if (!bus) {
        for (gsize i = 0; i < G_N_ELEMENTS(prefix_buses) && !bus; i++) {
            if (g_str_has_prefix(dev, prefix_buses[i].prefix))
                bus = prefix_buses[i].bus;
        }
        if (!bus) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "%smountpoint %s: cannot determine the disk bus of '%s' (use a vd, sd "
                        "or hd device name, or give the bus)",
                        object, quoted, dev);
            return NULL;
        }
    }
    for (gsize i = 0; i < G_N_ELEMENTS(supported_buses); i++)
        bus_ok = bus_ok || strcmp(bus, supported_buses[i]) == 0;
    if (!bus_ok) {
        quoted_bus = nv_quote(bus);
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "%sdisk bus %s for mountpoint %s is not supported (virtio, scsi, sata, "
                    "ide, usb)",
                    object, quoted_bus, quoted);
        return NULL;
    }

    disk_info = g_new0(nv_disk_info, 1);
    disk_info->dev = g_strdup(dev);
    disk_info->bus = g_strdup(bus);
    disk_info->type = g_strdup("disk");
    disk_info->unit = -1;
    return g_steal_pointer(&disk_info);
}

nv_disk_info *
nv_disk_info_new(const char *mountpoint, const char *bus, GError **error)
{
    return nv_disk_info_new_for_volume(NULL, mountpoint, bus, error);
}

const nv_volume_driver *
nv_volume_driver_lookup(const nv_connection_info *info, GError **error)
{
    g_return_val_if_fail(info != NULL, NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(volume_drivers); i++) {
        if (strcmp(info->driver_volume_type, volume_drivers[i].type) == 0)
            return volume_drivers[i].driver;
    }
    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                "volume %s: unsupported driver_volume_type '%s'", info->volume_id,
                info->driver_volume_type);
    return NULL;
}

nv_disk_config *
nv_volume_get_config(const nv_connection_info *info, const nv_disk_info *disk_info,
                     const nv_conf *conf, GError **error)
{
    const nv_volume_driver *driver = nv_volume_driver_lookup(info, error);
    g_autoptr(nv_conf) defaults = NULL;
    g_autoptr(GPtrArray) modes = NULL;
    g_auto(GStrv) items = NULL;
    nv_disk_config *disk;

    if (!driver)
        return NULL;
    if (!conf)
        conf = defaults = nv_conf_new_default();
    disk = driver->get_config(driver, info, disk_info, conf, error);
    if (!disk)
        return NULL;

    /* driver.py _get_volume_config then applies [libvirt] disk_cachemodes,
     * a ListOpt: oslo.config splits it on commas and strips each item. */
    modes = g_ptr_array_new();
    if (conf->libvirt.disk_cachemodes)
        items = g_strsplit(conf->libvirt.disk_cachemodes, ",", -1);
    for (gsize i = 0; items && items[i]; i++) {
        g_strstrip(items[i]);
        if (*items[i])
            g_ptr_array_add(modes, items[i]);
    }
    g_ptr_array_add(modes, NULL);
    nv_volume_set_cache_mode(disk, (const char *const *)modes->pdata);
    return disk;
}

/* driver.py VALID_DISK_CACHEMODES. */
static const char *const valid_cache_modes[] = {
    "default", "none", "writethrough", "writeback", "directsync", "unsafe",
};

void
nv_volume_set_cache_mode(nv_disk_config *disk, const char *const *disk_cachemodes)
{
    const char *mode = NULL;

    g_return_if_fail(disk != NULL);

    /* A shareable (multiattach) disk must not be cached on the host. */
    if (disk->shareable) {
        nv_volume_set_str(&disk->driver_cache, "none");
    } else {
        /* LibvirtDriver.__init__ builds a dict: the last valid entry for a
         * source type wins, invalid modes are skipped with a warning. */
        for (gsize i = 0; disk_cachemodes && disk_cachemodes[i]; i++) {
            const char *entry = disk_cachemodes[i];
            const char *eq = strchr(entry, '=');
            const char *value = eq ? eq + 1 : "";
            gboolean valid = FALSE;

            for (gsize j = 0; j < G_N_ELEMENTS(valid_cache_modes); j++)
                valid = valid || strcmp(value, valid_cache_modes[j]) == 0;
            if (!valid) {
                g_warning("[libvirt] disk_cachemodes: ignoring '%s': invalid cache mode", entry);
                continue;
            }
            if (disk->source_type && eq && strlen(disk->source_type) == (gsize)(eq - entry) &&
                strncmp(entry, disk->source_type, eq - entry) == 0)
                mode = value;
        }
        if (mode)
            nv_volume_set_str(&disk->driver_cache, mode);
    }

    /* nova bug 1841363: io='native' needs O_DIRECT, which only the
     * none and directsync cache modes (or none set) give. */
    if (g_strcmp0(disk->driver_io, "native") == 0 && disk->driver_cache &&
        strcmp(disk->driver_cache, "none") != 0 && strcmp(disk->driver_cache, "directsync") != 0)
        nv_volume_set_str(&disk->driver_io, "threads");
}

/* A member of @obj (data.@where@key) as libvirt's schema wants it: a
 * non-negative integer, sent by Cinder as a JSON number or a string of
 * digits. */
static char *
integer_value(const nv_connection_info *info, JsonObject *obj, const char *where, const char *key,
              GError **error)
{
    JsonNode *node = json_object_get_member(obj, key);

    if (JSON_NODE_HOLDS_VALUE(node)) {
        GType type = json_node_get_value_type(node);

        if (type == G_TYPE_INT64 && json_node_get_int(node) >= 0)
            return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
        if (type == G_TYPE_STRING) {
            const char *s = json_node_get_string(node);
            gboolean digits = *s != '\0';

            for (const char *p = s; *p; p++)
                digits = digits && g_ascii_isdigit(*p);
            if (digits)
                return g_strdup(s);
        }
    }
    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                "connection_info: key 'data.%s%s' must be a non-negative integer for volume %s",
                where, key, info->volume_id);
    return NULL;
}

/* Support for block size tuning: Nova copies data.logical_block_size and
 * data.physical_block_size as given when the key is present; null is
 * None, which writes no attribute. */
static gboolean
block_size_value(const nv_connection_info *info, const char *key, char **out, GError **error)
{
    JsonNode *node = json_object_get_member(info->data, key);

    if (!node || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    *out = integer_value(info, info->data, "", key, error);
    return *out != NULL;
}

nv_disk_config *
nv_volume_base_get_config(const nv_connection_info *info, const nv_disk_info *disk_info,
                          const nv_conf *conf, GError **error)
{
    g_autoptr(nv_disk_config) disk = nv_disk_config_new();
    const char *virt_type = conf && conf->libvirt.virt_type ? conf->libvirt.virt_type : "kvm";

    g_return_val_if_fail(info != NULL && disk_info != NULL, NULL);

    nv_volume_set_str(&disk->source_device, disk_info->type);
    nv_volume_set_str(&disk->driver_format, "raw");
    nv_volume_set_str(&disk->driver_cache, "none");
    nv_volume_set_str(&disk->target_dev, disk_info->dev);
    nv_volume_set_str(&disk->target_bus, disk_info->bus);
    /* Nova copies connection_info['serial'], which DriverVolumeBlockDevice
     * sets to the volume id; without one (or with null) it writes none. */
    nv_volume_set_str(&disk->serial, info->serial);

    if (strcmp(virt_type, "qemu") == 0 || strcmp(virt_type, "kvm") == 0)
        nv_volume_set_str(&disk->driver_name, "qemu");

    if (!block_size_value(info, "logical_block_size", &disk->logical_block_size, error) ||
        !block_size_value(info, "physical_block_size", &disk->physical_block_size, error))
        return NULL;

    /* Keys outside tune_opts (e.g. "consumer") are ignored, as in Nova. */
    for (gsize i = 0; info->qos_specs && i < G_N_ELEMENTS(tune_opts); i++) {
        const char *key = nv_iotune_field_name(tune_opts[i]);

        if (!json_object_has_member(info->qos_specs, key))
            continue;
        disk->iotune[tune_opts[i]] = integer_value(info, info->qos_specs, "qos_specs.", key, error);
        if (!disk->iotune[tune_opts[i]])
            return NULL;
    }

    /* exception.InvalidVolumeAccessMode for anything but ro/rw. */
    if (info->access_mode && *info->access_mode) {
        if (strcmp(info->access_mode, "ro") != 0 && strcmp(info->access_mode, "rw") != 0) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "volume %s: invalid access_mode '%s' (expected 'ro' or 'rw')",
                        info->volume_id, info->access_mode);
            return NULL;
        }
        disk->readonly = strcmp(info->access_mode, "ro") == 0;
    }

    if (info->discard)
        nv_volume_set_str(&disk->driver_discard, "unmap");

    /* nova bug 1792077: only pin the address when a unit was assigned, so
     * one virtio-scsi controller can carry up to 256 disks. */
    if (strcmp(disk_info->bus, "scsi") == 0 && disk_info->unit >= 0) {
        g_autofree char *unit = g_strdup_printf("%d", disk_info->unit);

        nv_device_address_free(disk->address);
        disk->address = nv_device_address_new_drive("0", NULL, NULL, unit);
    }

    /* A shareable disk must not be cached on the host (driver_cache stays
     * "none", which _set_cache_mode enforces for shareable disks). */
    if (info->multiattach)
        disk->shareable = TRUE;

    return g_steal_pointer(&disk);
}

const char *
nv_volume_require_device_path(const nv_connection_info *info, GError **error)
{
    if (!info->device_path || !*info->device_path) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "connection_info: missing key 'data.device_path' for volume %s",
                    info->volume_id);
        return NULL;
    }
    return info->device_path;
}

nv_disk_config *
nv_volume_block_get_config(const nv_connection_info *info, const nv_disk_info *disk_info,
                           const nv_conf *conf, gboolean io_native, GError **error)
{
    g_autoptr(nv_disk_config) disk = NULL;
    const char *device_path = nv_volume_require_device_path(info, error);

    if (!device_path)
        return NULL;
    disk = nv_volume_base_get_config(info, disk_info, conf, error);
    if (!disk)
        return NULL;
    nv_volume_set_str(&disk->source_type, "block");
    nv_volume_set_str(&disk->source_path, device_path);
    if (io_native)
        nv_volume_set_str(&disk->driver_io, "native");
    return g_steal_pointer(&disk);
}

static nv_disk_config *
block_get_config(const nv_volume_driver *driver, const nv_connection_info *info,
                 const nv_disk_info *disk_info, const nv_conf *conf, GError **error)
{
    return nv_volume_block_get_config(info, disk_info, conf, FALSE, error);
}

const nv_volume_driver nv_volume_driver_block = {
    .name = "LibvirtVolumeDriver",
    .is_block_dev = TRUE,
    .get_config = block_get_config,
};

static nv_disk_config *
storpool_get_config(const nv_volume_driver *driver, const nv_connection_info *info,
                    const nv_disk_info *disk_info, const nv_conf *conf, GError **error)
{
    return nv_volume_block_get_config(info, disk_info, conf, TRUE, error);
}

/* LibvirtStorPoolVolumeDriver (nova/virt/libvirt/volume/storpool.py). */
const nv_volume_driver nv_volume_driver_storpool = {
    .name = "LibvirtStorPoolVolumeDriver",
    .is_block_dev = TRUE,
    .get_config = storpool_get_config,
};

gboolean
nv_volume_check_encryptor_supported(const nv_connection_info *info, const nv_conf *conf,
                                    GError **error)
{
    const nv_volume_driver *driver;

    g_return_val_if_fail(info != NULL, FALSE);

    driver = nv_volume_driver_lookup(info, error);
    if (!driver)
        return FALSE;
    /* A network disk is opened by QEMU itself: a dm-crypt mapping on the
     * host, even over a data.device_path left by a host attachment (rbd's
     * rbd_volume_local_attach), would not be what the guest reads. */
    if (driver == &nv_volume_driver_net || nv_volume_uses_qemu_initiator(info, conf)) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: volume encryption is not supported for %s volume: QEMU opens it "
                    "without a host device, so only native LUKS can decrypt it",
                    info->volume_id, info->driver_volume_type);
        return FALSE;
    }
    /* os-brick's encryptors: VolumeEncryptionNotSupported without a host
     * path.  An NFS volume has one once its share is mounted, derived from
     * the export (connect_volume), whatever data.device_path says. */
    if (driver == &nv_volume_driver_nfs) {
        g_autofree char *path = nv_volume_get_host_path(info, conf, error);

        return path != NULL;
    }
    if (!info->device_path || !*info->device_path) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: volume encryption is not supported for %s volume without "
                    "data.device_path (the cryptsetup encryptors need a host device)",
                    info->volume_id, info->driver_volume_type);
        return FALSE;
    }
    return TRUE;
}

char *
nv_volume_get_host_path(const nv_connection_info *info, const nv_conf *conf, GError **error)
{
    const nv_volume_driver *driver;
    g_autoptr(nv_conf) defaults = NULL;

    g_return_val_if_fail(info != NULL, NULL);

    driver = nv_volume_driver_lookup(info, error);
    if (!driver)
        return NULL;
    if (driver == &nv_volume_driver_net || nv_volume_uses_qemu_initiator(info, conf))
        return NULL;
    if (driver == &nv_volume_driver_nfs) {
        if (!conf)
            conf = defaults = nv_conf_new_default();
        return nv_volume_fs_device_path(info, conf->libvirt.nfs_mount_point_base, error);
    }
    return g_strdup(nv_volume_require_device_path(info, error));
}
