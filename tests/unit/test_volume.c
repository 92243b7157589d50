/* SPDX-License-Identifier: Apache-2.0 */
/* Volume drivers' get_config (virt/libvirt/volume/), after Nova's
 * test_volume.py, test_iscsi.py and test_nfs.py. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "nvirt/error.h"
#include "support.h"
#include "virt/libvirt/volume/volume.h"

#define VOL_BLOCK "5c2f6bd0-8e0a-4c5e-9d1c-2b6c4d9a7f10"
#define VOL_ISCSI "1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a"

static nv_connection_info *
parse_json(const char *json)
{
    g_autoptr(GError) error = NULL;
    nv_connection_info *info = nv_connection_info_parse(json, -1, &error);

    cr_assert_not_null(info, "%s", error ? error->message : "");
    return info;
}

static nv_connection_info *
parse_fixture(const char *name)
{
    g_autofree char *json = nv_test_data_read(name);

    return parse_json(json);
}

static nv_disk_info *
disk_info(const char *mountpoint, const char *bus)
{
    g_autoptr(GError) error = NULL;
    nv_disk_info *di = nv_disk_info_new(mountpoint, bus, &error);

    cr_assert_not_null(di, "%s", error ? error->message : "");
    return di;
}

static nv_disk_config *
get_config(const nv_connection_info *info, const nv_disk_info *di, const nv_conf *conf)
{
    g_autoptr(GError) error = NULL;
    nv_disk_config *disk = nv_volume_get_config(info, di, conf, &error);

    cr_assert_not_null(disk, "%s", error ? error->message : "");
    return disk;
}

static void
assert_get_config_fails(const char *json, const char *message)
{
    g_autoptr(nv_connection_info) info = parse_json(json);
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_disk_config) disk = nv_volume_get_config(info, di, NULL, &error);

    cr_assert_null(disk);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message, message);
}

Test(volume_block, local_volume_is_a_block_disk)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/block-luks.json");
    g_autoptr(nv_disk_info) di = disk_info("/dev/vdb", NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, NULL);

    cr_assert_str_eq(disk->source_type, "block");
    cr_assert_str_eq(disk->source_device, "disk");
    cr_assert_str_eq(disk->source_path, "/dev/sdb");
    cr_assert_str_eq(disk->driver_name, "qemu");
    cr_assert_str_eq(disk->driver_format, "raw");
    cr_assert_str_eq(disk->driver_cache, "none");
    cr_assert_null(disk->driver_io);
    cr_assert_null(disk->driver_discard);
    cr_assert_str_eq(disk->target_dev, "vdb");
    cr_assert_str_eq(disk->target_bus, "virtio");
    cr_assert_str_eq(disk->serial, VOL_BLOCK);
    cr_assert_not(disk->readonly);
    cr_assert_not(disk->shareable);
    cr_assert_null(disk->address);
    for (int i = 0; i < NV_IOTUNE_LAST; i++)
        cr_assert_null(disk->iotune[i]);
}

/* The volume driver never decides about encryption (spec work item 1:
 * the driver core adds <encryption> once the secret exists). */
Test(volume_block, encrypted_volume_gets_no_encryption_from_the_driver)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/block-luks.json");
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, NULL);

    cr_assert(info->encrypted);
    cr_assert_null(disk->encryption);
}

Test(volume_block, missing_device_path_names_the_volume)
{
    assert_get_config_fails(
        "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"vol-1\"}}",
        "connection_info: missing key 'data.device_path' for volume vol-1");
}

/* Nova copies connection_info['serial'] as it is: none, or null, means
 * no <serial> (the volume id is not substituted). */
Test(volume_block, no_serial_without_connection_info_serial)
{
    const char *docs[] = {
        "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"vol-1\", "
        "\"device_path\": \"/dev/sdb\"}}",
        "{\"driver_volume_type\": \"local\", \"serial\": null, \"data\": {\"volume_id\": "
        "\"vol-1\", \"device_path\": \"/dev/sdb\"}}",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(docs); i++) {
        g_autoptr(nv_connection_info) info = parse_json(docs[i]);
        g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
        g_autoptr(nv_disk_config) disk = get_config(info, di, NULL);

        cr_assert_null(disk->serial, "%s", docs[i]);
    }
}

/* iscsi, fibre_channel and scaleio add driver_io='native'. */
Test(volume_iscsi, full_connection_info)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/iscsi-full.json");
    g_autoptr(nv_disk_info) di = disk_info("/dev/sdb", NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, NULL);

    cr_assert_str_eq(disk->source_type, "block");
    cr_assert_str_eq(disk->source_path, info->device_path);
    cr_assert_str_eq(disk->driver_io, "native");
    cr_assert_str_eq(disk->target_bus, "scsi");
    cr_assert_str_eq(disk->serial, VOL_ISCSI);
    cr_assert(disk->readonly);
    cr_assert(disk->shareable);
    cr_assert_str_eq(disk->driver_cache, "none");
    cr_assert_str_eq(disk->driver_discard, "unmap");
}

Test(volume_iscsi, qos_specs_become_iotune)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/iscsi-full.json");
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, NULL);

    cr_assert_str_eq(disk->iotune[NV_IOTUNE_TOTAL_BYTES_SEC], "1048576");
    cr_assert_str_eq(disk->iotune[NV_IOTUNE_READ_IOPS_SEC], "500");
    for (int i = 0; i < NV_IOTUNE_LAST; i++) {
        if (i != NV_IOTUNE_TOTAL_BYTES_SEC && i != NV_IOTUNE_READ_IOPS_SEC)
            cr_assert_null(disk->iotune[i], "%s", nv_iotune_field_name(i));
    }
}

Test(volume_iscsi, bad_qos_value_names_the_key)
{
    assert_get_config_fails(
        "{\"driver_volume_type\": \"iscsi\", \"data\": {\"volume_id\": \"vol-1\", "
        "\"device_path\": \"/dev/sdb\", \"qos_specs\": {\"total_iops_sec\": \"fast\"}}}",
        "connection_info: key 'data.qos_specs.total_iops_sec' must be a non-negative integer for "
        "volume vol-1");
}

Test(volume_base, invalid_access_mode_fails)
{
    assert_get_config_fails(
        "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"vol-1\", "
        "\"device_path\": \"/dev/sdb\", \"access_mode\": \"rx\"}}",
        "volume vol-1: invalid access_mode 'rx' (expected 'ro' or 'rw')");
}

/* test_libvirt_volume_driver_blockio: data.logical_block_size and
 * physical_block_size become <blockio>, for every volume type (rbd here);
 * a JSON integer is taken as its digits, null as absent. */
Test(volume_base, block_sizes_become_blockio)
{
    g_autoptr(nv_connection_info) both =
        parse_json("{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"vol-1\", "
                   "\"device_path\": \"/dev/sdb\", \"logical_block_size\": \"512\", "
                   "\"physical_block_size\": 4096}}");
    g_autoptr(nv_connection_info) logical =
        parse_json("{\"driver_volume_type\": \"rbd\", \"data\": {\"volume_id\": \"vol-1\", "
                   "\"name\": \"volumes/v\", \"logical_block_size\": \"4096\", "
                   "\"physical_block_size\": null}}");
    g_autoptr(nv_connection_info) none =
        parse_json("{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"vol-1\", "
                   "\"device_path\": \"/dev/sdb\"}}");
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) both_disk = get_config(both, di, NULL);
    g_autoptr(nv_disk_config) logical_disk = get_config(logical, di, NULL);
    g_autoptr(nv_disk_config) none_disk = get_config(none, di, NULL);

    cr_assert_str_eq(both_disk->logical_block_size, "512");
    cr_assert_str_eq(both_disk->physical_block_size, "4096");
    cr_assert_str_eq(logical_disk->logical_block_size, "4096");
    cr_assert_null(logical_disk->physical_block_size);
    cr_assert_null(none_disk->logical_block_size);
    cr_assert_null(none_disk->physical_block_size);
}

Test(volume_base, bad_block_size_names_the_key)
{
    assert_get_config_fails(
        "{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"vol-1\", "
        "\"device_path\": \"/dev/sdb\", \"physical_block_size\": \"4k\"}}",
        "connection_info: key 'data.physical_block_size' must be a non-negative integer for "
        "volume vol-1");
}

/* driver.py _get_volume_config ends with _set_cache_mode over [libvirt]
 * disk_cachemodes, a ListOpt: items split on commas and stripped. */
Test(volume_base, get_config_applies_disk_cachemodes)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();
    g_autoptr(nv_connection_info) iscsi = parse_fixture("cinder/iscsi-full.json");
    g_autoptr(nv_connection_info) rbd = parse_fixture("cinder/rbd.json");
    g_autoptr(nv_disk_info) vdb = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) block_default = NULL;
    g_autoptr(nv_disk_config) block = NULL;
    g_autoptr(nv_disk_config) network = NULL;

    /* iscsi-full.json is multiattach, and shareable disks stay uncached. */
    iscsi->multiattach = FALSE;
    block_default = get_config(iscsi, vdb, conf);
    cr_assert_str_eq(block_default->driver_cache, "none");
    cr_assert_str_eq(block_default->driver_io, "native");

    g_free(conf->libvirt.disk_cachemodes);
    conf->libvirt.disk_cachemodes = g_strdup("file=unsafe, block=writethrough ,,");
    block = get_config(iscsi, vdb, conf);
    cr_assert_str_eq(block->driver_cache, "writethrough");
    /* nova bug 1841363: no O_DIRECT, so no io='native'. */
    cr_assert_str_eq(block->driver_io, "threads");

    network = get_config(rbd, vdb, conf);
    cr_assert_str_eq(network->source_type, "network");
    cr_assert_str_eq(network->driver_cache, "none");
}

/* nova bug 1792077: a SCSI unit pins the address on controller 0. */
Test(volume_base, scsi_unit_sets_drive_address)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/block-luks.json");
    g_autoptr(nv_disk_info) di = disk_info("sdc", NULL);
    g_autoptr(nv_disk_config) disk = NULL;

    di->unit = 5;
    disk = get_config(info, di, NULL);
    cr_assert_not_null(disk->address);
    cr_assert_str_eq(disk->address->type, "drive");
    cr_assert_str_eq(disk->address->controller, "0");
    cr_assert_str_eq(disk->address->unit, "5");
}

Test(volume_base, virtio_ignores_unit)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/block-luks.json");
    g_autoptr(nv_disk_info) di = disk_info("vdc", NULL);
    g_autoptr(nv_disk_config) disk = NULL;

    di->unit = 5;
    disk = get_config(info, di, NULL);
    cr_assert_null(disk->address);
}

/* driver_name is only set for the QEMU backends. */
Test(volume_base, lxc_gets_no_driver_name)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/block-luks.json");
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) disk = NULL;

    g_free(conf->libvirt.virt_type);
    conf->libvirt.virt_type = g_strdup("lxc");
    disk = get_config(info, di, conf);
    cr_assert_null(disk->driver_name);
}

Test(volume_file, file_volume_is_a_file_disk)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/file.json");
    g_autoptr(nv_disk_info) di = disk_info("vdc", NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, NULL);

    cr_assert_str_eq(disk->source_type, "file");
    cr_assert_str_eq(disk->source_path, "/var/lib/nvirt/volumes/volume-9a8b7c6d.img");
    cr_assert_str_eq(disk->driver_format, "raw");
    cr_assert_null(disk->driver_io);
}

Test(volume_file, data_format_is_honoured)
{
    g_autoptr(nv_connection_info) info = parse_json(
        "{\"driver_volume_type\": \"file\", \"serial\": \"vol-1\", \"data\": {\"device_path\": "
        "\"/images/v.qcow2\", \"format\": \"qcow2\"}}");
    g_autoptr(nv_disk_info) di = disk_info("vdc", NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, NULL);

    cr_assert_str_eq(disk->driver_format, "qcow2");
}

Test(volume_file, missing_device_path_names_the_volume)
{
    assert_get_config_fails(
        "{\"driver_volume_type\": \"file\", \"serial\": \"vol-1\", \"data\": {}}",
        "connection_info: missing key 'data.device_path' for volume vol-1");
}

/* LibvirtBaseFileSystemVolumeDriver._get_device_path:
 * BASE/md5(export)/name; md5 of "192.0.2.30:/srv/cinder" from hashlib. */
Test(volume_nfs, device_path_derived_from_export)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();
    g_autoptr(nv_connection_info) info = parse_json(
        "{\"driver_volume_type\": \"nfs\", \"serial\": \"vol-1\", \"data\": {\"export\": "
        "\"192.0.2.30:/srv/cinder\", \"name\": \"volume-vol-1\", \"format\": \"qcow2\"}}");
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) disk = NULL;

    g_free(conf->libvirt.nfs_mount_point_base);
    conf->libvirt.nfs_mount_point_base = g_strdup("/var/lib/nvirt/mnt");
    disk = get_config(info, di, conf);
    cr_assert_str_eq(disk->source_type, "file");
    cr_assert_str_eq(disk->source_path,
                     "/var/lib/nvirt/mnt/48d65d9ba9cec8c2c00276c7bf825e18/volume-vol-1");
    cr_assert_str_eq(disk->driver_format, "qcow2");
    cr_assert_str_eq(disk->driver_io, "native");
}

/* Nova's connect_volume overwrites data.device_path with the path under
 * [libvirt] nfs_mount_point_base before get_config reads it, so a stale
 * device_path (another host's mount, an older base) never decides which
 * file QEMU opens; the driver core prepares the same file through
 * nv_volume_get_host_path() (volume_host_path::follows_connect_volume). */
Test(volume_nfs, stale_device_path_is_recomputed)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();
    g_autoptr(nv_connection_info) same = parse_json(
        "{\"driver_volume_type\": \"nfs\", \"serial\": \"vol-1\", \"data\": {\"export\": "
        "\"192.0.2.30:/srv/cinder\", \"name\": \"volume-vol-1\", \"device_path\": "
        "\"/srv/nova/mnt/48d65d9ba9cec8c2c00276c7bf825e18/volume-vol-1\"}}");
    g_autoptr(nv_connection_info) stale = parse_json(
        "{\"driver_volume_type\": \"nfs\", \"serial\": \"vol-1\", \"data\": {\"export\": "
        "\"192.0.2.30:/srv/cinder\", \"name\": \"volume-vol-1\", \"device_path\": \"/mnt/x/v\"}}");
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) same_disk = NULL;
    g_autoptr(nv_disk_config) stale_disk = NULL;

    g_free(conf->libvirt.nfs_mount_point_base);
    conf->libvirt.nfs_mount_point_base = g_strdup("/srv/nova/mnt");
    same_disk = get_config(same, di, conf);
    cr_assert_str_eq(same_disk->source_path,
                     "/srv/nova/mnt/48d65d9ba9cec8c2c00276c7bf825e18/volume-vol-1");
    cr_assert_str_eq(same_disk->driver_format, "raw");

    stale_disk = get_config(stale, di, conf);
    cr_assert_str_eq(stale_disk->source_type, "file");
    cr_assert_str_eq(stale_disk->source_path,
                     "/srv/nova/mnt/48d65d9ba9cec8c2c00276c7bf825e18/volume-vol-1");
}

Test(volume_nfs, missing_export_names_the_volume)
{
    assert_get_config_fails(
        "{\"driver_volume_type\": \"nfs\", \"serial\": \"vol-1\", \"data\": {\"name\": \"v\"}}",
        "connection_info: missing key 'data.export' for volume vol-1");
}

/* sheepdog went with Nova 17; it must not fall through to another driver. */
Test(volume_lookup, unsupported_type_fails)
{
    assert_get_config_fails(
        "{\"driver_volume_type\": \"sheepdog\", \"serial\": \"vol-1\", \"data\": {}}",
        "volume vol-1: unsupported driver_volume_type 'sheepdog'");
}

typedef struct {
    char type[16];
    char driver[40];
    gboolean is_block_dev;
} lookup_case;

ParameterizedTestParameters(volume_lookup, maps_type_to_nova_driver)
{
    static lookup_case cases[] = {
        { "local", "LibvirtVolumeDriver", TRUE },
        { "nvmeof", "LibvirtVolumeDriver", TRUE },
        { "lightos", "LibvirtVolumeDriver", TRUE },
        { "storpool", "LibvirtStorPoolVolumeDriver", TRUE },
        { "iscsi", "LibvirtISCSIVolumeDriver", TRUE },
        { "iser", "LibvirtISERVolumeDriver", TRUE },
        { "fibre_channel", "LibvirtFibreChannelVolumeDriver", TRUE },
        { "scaleio", "LibvirtScaleIOVolumeDriver", TRUE },
        { "nfs", "LibvirtNFSVolumeDriver", FALSE },
        { "file", "LibvirtFileVolumeDriver", FALSE },
        { "rbd", "LibvirtNetVolumeDriver", FALSE },
        { "nbd", "LibvirtNetVolumeDriver", FALSE },
    };
    return cr_make_param_array(lookup_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(lookup_case *c, volume_lookup, maps_type_to_nova_driver)
{
    g_autofree char *json = g_strdup_printf(
        "{\"driver_volume_type\": \"%s\", \"serial\": \"v\", \"data\": {}}", c->type);
    g_autoptr(nv_connection_info) info = parse_json(json);
    g_autoptr(GError) error = NULL;
    const nv_volume_driver *driver = nv_volume_driver_lookup(info, &error);

    cr_assert_not_null(driver, "%s: %s", c->type, error ? error->message : "");
    cr_assert_str_eq(driver->name, c->driver);
    cr_assert_eq(driver->is_block_dev, c->is_block_dev);
}

typedef struct {
    char mountpoint[16];
    char bus[8]; /* "" = derive */
    char dev[8];
    char expected_bus[8];
} disk_info_case;

ParameterizedTestParameters(disk_info, accepts)
{
    static disk_info_case cases[] = {
        { "/dev/vdb", "", "vdb", "virtio" }, { "vdb", "", "vdb", "virtio" },
        { "/dev/sdc", "", "sdc", "scsi" },   { "hda", "", "hda", "ide" },
        { "vdaa", "", "vdaa", "virtio" },    { "sdb", "sata", "sdb", "sata" },
        { "sdb", "usb", "sdb", "usb" },      { "xvdb", "virtio", "xvdb", "virtio" },
        { "vdzzz", "", "vdzzz", "virtio" },  { "ubda", "virtio", "ubda", "virtio" },
    };
    return cr_make_param_array(disk_info_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(disk_info_case *c, disk_info, accepts)
{
    g_autoptr(nv_disk_info) di = disk_info(c->mountpoint, c->bus[0] ? c->bus : NULL);

    cr_assert_str_eq(di->dev, c->dev);
    cr_assert_str_eq(di->bus, c->expected_bus);
    cr_assert_str_eq(di->type, "disk");
    cr_assert_eq(di->unit, -1);
}

typedef struct {
    char mountpoint[16];
    char bus[8];
    char message[160];
} disk_info_bad_case;

ParameterizedTestParameters(disk_info, rejects)
{
    static disk_info_bad_case cases[] = {
        { "/dev/", "",
          "mountpoint '/dev/': not a disk device name (vd, sd, hd, xvd, ubd or fd and 1 to 3 "
          "letters, e.g. /dev/vdb or vdb)" },
        { "", "",
          "mountpoint '': not a disk device name (vd, sd, hd, xvd, ubd or fd and 1 to 3 "
          "letters, e.g. /dev/vdb or vdb)" },
        { "dev/vdb", "",
          "mountpoint 'dev/vdb': not a disk device name (vd, sd, hd, xvd, ubd or fd and 1 to 3 "
          "letters, e.g. /dev/vdb or vdb)" },
        { "/dev/vd b", "",
          "mountpoint '/dev/vd b': not a disk device name (vd, sd, hd, xvd, ubd or fd and 1 to 3 "
          "letters, e.g. /dev/vdb or vdb)" },
        { "VDB", "",
          "mountpoint 'VDB': not a disk device name (vd, sd, hd, xvd, ubd or fd and 1 to 3 "
          "letters, e.g. /dev/vdb or vdb)" },
        { "/dev/xvdb", "",
          "mountpoint '/dev/xvdb': cannot determine the disk bus of 'xvdb' (use a vd, sd or hd "
          "device name, or give the bus)" },
        { "vdb", "xen",
          "disk bus 'xen' for mountpoint 'vdb' is not supported (virtio, scsi, sata, ide, usb)" },
        { "fda", "fdc",
          "disk bus 'fdc' for mountpoint 'fda' is not supported (virtio, scsi, sata, ide, usb)" },
    };
    return cr_make_param_array(disk_info_bad_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(disk_info_bad_case *c, disk_info, rejects)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_disk_info) di = nv_disk_info_new(c->mountpoint, c->bus[0] ? c->bus : NULL, &error);

    cr_assert_null(di);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message, c->message);
}

Test(disk_info, free_null_is_noop)
{
    nv_disk_info_free(NULL);
}

Test(set_encryption, adds_native_luks_element)
{
    g_autoptr(nv_disk_config) disk = nv_disk_config_new();

    nv_disk_config_set_luks_encryption(disk, "d3a1c8e2-6f4b-4b7e-9a0d-1e2f3a4b5c6d");
    cr_assert_not_null(disk->encryption);
    cr_assert_str_eq(disk->encryption->format, "luks");
    cr_assert_str_eq(disk->encryption->secret_type, "passphrase");
    cr_assert_str_eq(disk->encryption->secret_uuid, "d3a1c8e2-6f4b-4b7e-9a0d-1e2f3a4b5c6d");
}

Test(set_encryption, replaces_previous_element)
{
    g_autoptr(nv_disk_config) disk = nv_disk_config_new();

    nv_disk_config_set_luks_encryption(disk, "11111111-1111-4111-8111-111111111111");
    nv_disk_config_set_luks_encryption(disk, "22222222-2222-4222-8222-222222222222");
    cr_assert_str_eq(disk->encryption->secret_uuid, "22222222-2222-4222-8222-222222222222");
}

/* ---- network volumes (net.c, LibvirtNetVolumeDriver) ---------------------- */

#define SECRET_UUID "c7a5fdbd-edaf-9455-926a-d65c16db1809"

/* Defaults plus the [libvirt] options the network drivers read; NULL
 * leaves an option at its default. */
static nv_conf *
net_conf(const char *rbd_user, const char *rbd_secret_uuid, const char *qemu_drivers)
{
    nv_conf *conf = nv_conf_new_default();

    if (rbd_user)
        nv_test_set_str(&conf->libvirt.rbd_user, rbd_user);
    if (rbd_secret_uuid)
        nv_test_set_str(&conf->libvirt.rbd_secret_uuid, rbd_secret_uuid);
    if (qemu_drivers)
        nv_test_set_str(&conf->libvirt.qemu_allowed_storage_drivers, qemu_drivers);
    return conf;
}

static char *
disk_to_xml(const nv_disk_config *disk)
{
    g_autoptr(GError) error = NULL;
    char *xml = nv_disk_config_to_xml(disk, &error);

    cr_assert_not_null(xml, "%s", error ? error->message : "");
    return xml;
}

static void
assert_valid_disk_xml(const char *xml)
{
    g_autofree char *output = NULL;

    cr_assert_eq(nv_test_validate_disk_xml(xml, &output), 0, "%s\n%s", output, xml);
}

typedef struct {
    char fixture[40];
    char mountpoint[8];
    char qemu_drivers[8]; /* [libvirt] qemu_allowed_storage_drivers */
    gboolean luks;        /* native LUKS: nv_disk_config_set_luks_encryption(SECRET_UUID) */
    char golden[40];
} net_golden_case;

ParameterizedTestParameters(volume_net, matches_golden_and_libvirt_schema)
{
    static net_golden_case cases[] = {
        { "cinder/rbd.json", "vdb", "", FALSE, "volume/rbd.xml" },
        { "cinder/nbd-unix.json", "vdc", "", TRUE, "volume/nbd-unix-luks.xml" },
        { "cinder/nbd-tcp.json", "vdc", "", FALSE, "volume/nbd-tcp.xml" },
        { "cinder/iscsi-qemu.json", "sdb", "iscsi", TRUE, "volume/iscsi-qemu-luks.xml" },
    };
    return cr_make_param_array(net_golden_case, cases, G_N_ELEMENTS(cases));
}

/* Byte-exact: this is what goes to virDomainAttachDeviceFlags. */
ParameterizedTest(net_golden_case *c, volume_net, matches_golden_and_libvirt_schema)
{
    g_autoptr(nv_conf) conf = net_conf(NULL, NULL, c->qemu_drivers);
    g_autoptr(nv_connection_info) info = parse_fixture(c->fixture);
    g_autoptr(nv_disk_info) di = disk_info(c->mountpoint, NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, conf);
    g_autofree char *golden = nv_test_data_read(c->golden);
    g_autofree char *xml = NULL;

    if (c->luks)
        nv_disk_config_set_luks_encryption(disk, SECRET_UUID);
    xml = disk_to_xml(disk);
    cr_assert_str_eq(xml, golden, "%s", c->golden);
    assert_valid_disk_xml(xml);
}

/* Cinder's rbd connection without auth and nova.conf without a secret:
 * librbd goes without cephx, libvirt gets no <auth>. */
Test(volume_net, rbd_without_auth_has_no_auth_element)
{
    g_autoptr(nv_connection_info) info =
        parse_json("{\"driver_volume_type\": \"rbd\", \"serial\": \"vol-1\", \"data\": "
                   "{\"name\": \"volumes/volume-1\", \"hosts\": [], \"ports\": []}}");
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, NULL);

    cr_assert_str_eq(disk->source_type, "network");
    cr_assert_str_eq(disk->source_protocol, "rbd");
    cr_assert_str_eq(disk->source_name, "volumes/volume-1");
    cr_assert_eq(disk->source_hosts->len, 0);
    cr_assert_null(disk->auth_username);
    cr_assert_null(disk->auth_secret_type);
    cr_assert_null(disk->auth_secret_uuid);
}

typedef struct {
    char auth[128];       /* data keys spliced in after "name" */
    char conf_user[16];   /* "" = unset */
    char conf_uuid[40];   /* "" = unset */
    char username[16];    /* expected; "" = no <auth> */
    char secret_uuid[40]; /* expected */
} rbd_auth_case;

ParameterizedTestParameters(volume_net, rbd_auth_follows_nova)
{
    static rbd_auth_case cases[] = {
        /* Cinder's values win over nova.conf's. */
        { "\"auth_enabled\": true, \"auth_username\": \"cinder\", \"secret_type\": \"ceph\", "
          "\"secret_uuid\": \"11111111-1111-4111-8111-111111111111\"",
          "nova", "22222222-2222-4222-8222-222222222222", "cinder",
          "11111111-1111-4111-8111-111111111111" },
        /* Pre-Ocata connection: no secret_uuid from Cinder, user and uuid
         * both from nova.conf. */
        { "\"auth_enabled\": true, \"auth_username\": \"cinder\", \"secret_type\": \"ceph\", "
          "\"secret_uuid\": null",
          "nova", "22222222-2222-4222-8222-222222222222", "nova",
          "22222222-2222-4222-8222-222222222222" },
        /* auth disabled in Cinder but a nova.conf secret: Nova's
         * deprecated fallback. */
        { "\"auth_enabled\": false", "nova", "22222222-2222-4222-8222-222222222222", "nova",
          "22222222-2222-4222-8222-222222222222" },
        { "\"auth_enabled\": false", "nova", "", "", "" },
    };
    return cr_make_param_array(rbd_auth_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(rbd_auth_case *c, volume_net, rbd_auth_follows_nova)
{
    g_autoptr(nv_conf) conf = net_conf(c->conf_user[0] ? c->conf_user : NULL,
                                       c->conf_uuid[0] ? c->conf_uuid : NULL, NULL);
    g_autofree char *json = g_strdup_printf(
        "{\"driver_volume_type\": \"rbd\", \"serial\": \"vol-1\", \"data\": {\"name\": "
        "\"volumes/volume-1\", %s}}",
        c->auth);
    g_autoptr(nv_connection_info) info = parse_json(json);
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, conf);

    if (!c->username[0]) {
        cr_assert_null(disk->auth_username);
        cr_assert_null(disk->auth_secret_uuid);
        return;
    }
    cr_assert_str_eq(disk->auth_username, c->username);
    cr_assert_str_eq(disk->auth_secret_type, "ceph");
    cr_assert_str_eq(disk->auth_secret_uuid, c->secret_uuid);
}

Test(volume_net, iscsi_stays_a_host_block_device_unless_qemu_may_open_it)
{
    g_autoptr(nv_conf) conf = net_conf(NULL, NULL, "gluster, iscsi");
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/iscsi-full.json");
    g_autoptr(nv_disk_info) di = disk_info("sdb", NULL);
    g_autoptr(nv_disk_config) host_disk = get_config(info, di, NULL);
    g_autoptr(nv_disk_config) qemu_disk = get_config(info, di, conf);

    cr_assert_str_eq(host_disk->source_type, "block");
    cr_assert_str_eq(qemu_disk->source_type, "network");
    cr_assert_str_eq(qemu_disk->source_protocol, "iscsi");
    cr_assert_str_eq(qemu_disk->source_name, "iqn.2010-10.org.openstack:volume-1d2c3b4a/1");
    cr_assert_null(qemu_disk->source_path);
    cr_assert_str_eq(qemu_disk->driver_io, "native");
    /* The base driver's options carry over. */
    cr_assert(qemu_disk->readonly);
    cr_assert(qemu_disk->shareable);
    cr_assert_str_eq(qemu_disk->iotune[NV_IOTUNE_TOTAL_BYTES_SEC], "1048576");
}

typedef struct {
    char conf[48]; /* "user|uuid|qemu_drivers", "" parts = unset */
    char json[240];
    char message[200];
} net_bad_case;

ParameterizedTestParameters(volume_net, rejects)
{
    static net_bad_case cases[] = {
        { "", "{\"driver_volume_type\": \"rbd\", \"serial\": \"v1\", \"data\": {}}",
          "connection_info: missing key 'data.name' for rbd volume v1" },
        { "",
          "{\"driver_volume_type\": \"rbd\", \"serial\": \"v1\", \"data\": {\"name\": \"p/v\", "
          "\"auth_enabled\": true, \"auth_username\": \"cinder\"}}",
          "rbd volume v1: auth_enabled but no secret uuid in data.secret_uuid or [libvirt] "
          "rbd_secret_uuid" },
        { "",
          "{\"driver_volume_type\": \"rbd\", \"serial\": \"v1\", \"data\": {\"name\": \"p/v\", "
          "\"auth_enabled\": true, \"secret_uuid\": \"" SECRET_UUID "\"}}",
          "connection_info: missing key 'data.auth_username' for rbd volume v1" },
        { "|" SECRET_UUID "|",
          "{\"driver_volume_type\": \"rbd\", \"serial\": \"v1\", \"data\": {\"name\": \"p/v\"}}",
          "rbd volume v1: [libvirt] rbd_secret_uuid is used but [libvirt] rbd_user is not set" },
        { "", "{\"driver_volume_type\": \"nbd\", \"serial\": \"v1\", \"data\": {\"name\": \"e\"}}",
          "connection_info: missing key 'data.hosts' or 'data.socket' for nbd volume v1" },
        { "",
          "{\"driver_volume_type\": \"nbd\", \"serial\": \"v1\", \"data\": {\"socket\": "
          "\"/run/s.sock\", \"hosts\": [\"h\"]}}",
          "connection_info: nbd volume v1 has both data.socket and data.hosts" },
        { "",
          "{\"driver_volume_type\": \"nbd\", \"serial\": \"v1\", \"data\": {\"hosts\": "
          "[\"h1\", \"h2\"]}}",
          "connection_info: nbd volume v1 has 2 data.hosts and 0 data.ports but an nbd disk has "
          "one server" },
        { "",
          "{\"driver_volume_type\": \"nbd\", \"serial\": \"v1\", \"data\": {\"socket\": "
          "\"s.sock\"}}",
          "connection_info: nbd volume v1: data.socket 's.sock' is not an absolute path" },
        { "||iscsi",
          "{\"driver_volume_type\": \"iscsi\", \"serial\": \"v1\", \"data\": {\"target_lun\": 1, "
          "\"target_portal\": \"h:3260\"}}",
          "connection_info: missing key 'data.target_iqn' for iscsi volume v1" },
        { "||iscsi",
          "{\"driver_volume_type\": \"iscsi\", \"serial\": \"v1\", \"data\": {\"target_iqn\": "
          "\"iqn.x\", \"target_lun\": \"1\", \"target_portal\": \"h:3260\"}}",
          "connection_info: key 'data.target_lun' must be a non-negative integer for iscsi "
          "volume v1" },
        { "||iscsi",
          "{\"driver_volume_type\": \"iscsi\", \"serial\": \"v1\", \"data\": {\"target_iqn\": "
          "\"iqn.x\", \"target_lun\": 1}}",
          "connection_info: missing key 'data.target_portal' for iscsi volume v1" },
        { "||iscsi",
          "{\"driver_volume_type\": \"iscsi\", \"serial\": \"v1\", \"data\": {\"target_iqn\": "
          "\"iqn.x\", \"target_lun\": 1, \"target_portal\": \"2001:db8::1:3260\"}}",
          "connection_info: iscsi volume v1: data.target_portal '2001:db8::1:3260' is not "
          "HOST:PORT" },
        { "||iscsi",
          "{\"driver_volume_type\": \"iscsi\", \"serial\": \"v1\", \"data\": {\"target_iqn\": "
          "\"iqn.x\", \"target_lun\": 1, \"target_portal\": \"h:3260\", \"auth_method\": "
          "\"CHAP\", \"auth_username\": \"u\", \"auth_password\": \"p\"}}",
          "connection_info: missing key 'data.secret_uuid' for iscsi volume v1" },
    };
    return cr_make_param_array(net_bad_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(net_bad_case *c, volume_net, rejects)
{
    g_auto(GStrv) parts = g_strsplit(c->conf, "|", 3);
    g_autoptr(nv_conf) conf = net_conf(parts[0] && parts[0][0] ? parts[0] : NULL,
                                       parts[0] && parts[1] && parts[1][0] ? parts[1] : NULL,
                                       parts[0] && parts[1] && parts[2] ? parts[2] : NULL);
    g_autoptr(nv_connection_info) info = parse_json(c->json);
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_disk_config) disk = nv_volume_get_config(info, di, conf, &error);

    cr_assert_null(disk);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT), "%s",
              error ? error->message : "no error");
    cr_assert_str_eq(error->message, c->message);
}

/* ---- the cryptsetup fallback needs a host device --------------------------- */

typedef struct {
    char fixture[32];
    char qemu_drivers[8];
    gboolean supported;
} encryptor_case;

ParameterizedTestParameters(encryptor_supported, needs_a_host_device)
{
    static encryptor_case cases[] = {
        { "cinder/block-luks.json", "", TRUE }, { "cinder/file.json", "", TRUE },
        { "cinder/iscsi-full.json", "", TRUE }, { "cinder/iscsi-full.json", "iscsi", FALSE },
        { "cinder/rbd.json", "", FALSE },       { "cinder/nbd-unix.json", "", FALSE },
        { "cinder/nbd-tcp.json", "", FALSE },   { "cinder/iscsi-qemu.json", "iscsi", FALSE },
    };
    return cr_make_param_array(encryptor_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(encryptor_case *c, encryptor_supported, needs_a_host_device)
{
    g_autoptr(nv_conf) conf = net_conf(NULL, NULL, c->qemu_drivers);
    g_autoptr(nv_connection_info) info = parse_fixture(c->fixture);
    g_autoptr(GError) error = NULL;
    gboolean ok = nv_volume_check_encryptor_supported(info, conf, &error);

    cr_assert_eq(ok, c->supported, "%s: %s", c->fixture, error ? error->message : "");
    if (!ok)
        cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED));
}

/* Nova's VolumeEncryptionNotSupported, naming the volume and type. */
Test(encryptor_supported, rbd_message_names_volume_and_type)
{
    g_autoptr(nv_connection_info) info = parse_fixture("cinder/rbd.json");
    g_autoptr(GError) error = NULL;

    cr_assert_not(nv_volume_check_encryptor_supported(info, NULL, &error));
    cr_assert_str_eq(error->message,
                     "volume 7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908: volume encryption is not "
                     "supported for rbd volume: QEMU opens it without a host device, so only "
                     "native LUKS can decrypt it");
}

/* rbd_volume_local_attach leaves a host device behind, but the guest still
 * gets the network disk: a dm-crypt mapping would not be in its path. */
Test(encryptor_supported, rbd_with_a_device_path_is_still_refused)
{
    g_autoptr(nv_connection_info) info =
        parse_json("{\"driver_volume_type\": \"rbd\", \"serial\": \"vol-1\", \"data\": {\"name\": "
                   "\"volumes/volume-1\", \"device_path\": \"/dev/rbd0\"}}");
    g_autoptr(GError) error = NULL;

    cr_assert_not(nv_volume_check_encryptor_supported(info, NULL, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNSUPPORTED));
}

Test(encryptor_supported, block_volume_without_device_path_names_the_key)
{
    g_autoptr(nv_connection_info) info =
        parse_json("{\"driver_volume_type\": \"local\", \"serial\": \"vol-1\", \"data\": {}}");
    g_autoptr(GError) error = NULL;

    cr_assert_not(nv_volume_check_encryptor_supported(info, NULL, &error));
    cr_assert_str_eq(error->message,
                     "volume vol-1: volume encryption is not supported for local volume without "
                     "data.device_path (the cryptsetup encryptors need a host device)");
}

/* ---- matrix: every type x {no encryption, native LUKS} --------------------- */

typedef struct {
    char fixture[32];
    char mountpoint[8];
    char qemu_drivers[8];
    char source_type[8];
    gboolean luks;
} matrix_case;

ParameterizedTestParameters(volume_matrix, disk_xml_is_valid_and_carries_encryption)
{
    static matrix_case cases[] = {
        { "cinder/block-luks.json", "vdb", "", "block", FALSE },
        { "cinder/block-luks.json", "vdb", "", "block", TRUE },
        { "cinder/file.json", "vdb", "", "file", FALSE },
        { "cinder/file.json", "vdb", "", "file", TRUE },
        { "cinder/iscsi-full.json", "sdb", "", "block", FALSE },
        { "cinder/iscsi-full.json", "sdb", "", "block", TRUE },
        { "cinder/iscsi-full.json", "sdb", "iscsi", "network", FALSE },
        { "cinder/iscsi-full.json", "sdb", "iscsi", "network", TRUE },
        { "cinder/rbd.json", "vdb", "", "network", FALSE },
        { "cinder/rbd.json", "vdb", "", "network", TRUE },
        { "cinder/nbd-unix.json", "vdb", "", "network", FALSE },
        { "cinder/nbd-unix.json", "vdb", "", "network", TRUE },
        { "cinder/nbd-tcp.json", "vdb", "", "network", FALSE },
        { "cinder/nbd-tcp.json", "vdb", "", "network", TRUE },
    };
    return cr_make_param_array(matrix_case, cases, G_N_ELEMENTS(cases));
}

/* The XML is valid for libvirt's schema with and without <encryption>, and
 * parsing it back gives the same disk (so detach, which reads the live
 * disk, sees the <encryption> the attach wrote). */
ParameterizedTest(matrix_case *c, volume_matrix, disk_xml_is_valid_and_carries_encryption)
{
    g_autoptr(nv_conf) conf = net_conf(NULL, NULL, c->qemu_drivers);
    g_autoptr(nv_connection_info) info = parse_fixture(c->fixture);
    g_autoptr(nv_disk_info) di = disk_info(c->mountpoint, NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, conf);
    g_autoptr(nv_disk_config) parsed = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    cr_assert_str_eq(disk->source_type, c->source_type);
    if (c->luks)
        nv_disk_config_set_luks_encryption(disk, SECRET_UUID);
    xml = disk_to_xml(disk);
    assert_valid_disk_xml(xml);

    parsed = nv_disk_config_parse(xml, &error);
    cr_assert_not_null(parsed, "%s", error ? error->message : "");
    cr_assert(nv_disk_config_equal(parsed, disk), "%s", xml);
    if (c->luks) {
        cr_assert_not_null(parsed->encryption);
        cr_assert_str_eq(parsed->encryption->format, "luks");
        cr_assert_str_eq(parsed->encryption->secret_uuid, SECRET_UUID);
    } else {
        cr_assert_null(parsed->encryption);
    }
}
