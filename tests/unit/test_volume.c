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

Test(volume_block, serial_falls_back_to_volume_id)
{
    g_autoptr(nv_connection_info) info =
        parse_json("{\"driver_volume_type\": \"local\", \"data\": {\"volume_id\": \"vol-1\", "
                   "\"device_path\": \"/dev/sdb\"}}");
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, NULL);

    cr_assert_str_eq(disk->serial, "vol-1");
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

Test(volume_nfs, device_path_from_connect_wins)
{
    g_autoptr(nv_connection_info) info = parse_json(
        "{\"driver_volume_type\": \"nfs\", \"serial\": \"vol-1\", \"data\": {\"export\": "
        "\"192.0.2.30:/srv/cinder\", \"name\": \"volume-vol-1\", \"device_path\": \"/mnt/x/v\"}}");
    g_autoptr(nv_disk_info) di = disk_info("vdb", NULL);
    g_autoptr(nv_disk_config) disk = get_config(info, di, NULL);

    cr_assert_str_eq(disk->source_path, "/mnt/x/v");
    cr_assert_str_eq(disk->driver_format, "raw");
}

Test(volume_nfs, missing_export_names_the_volume)
{
    assert_get_config_fails(
        "{\"driver_volume_type\": \"nfs\", \"serial\": \"vol-1\", \"data\": {\"name\": \"v\"}}",
        "connection_info: missing key 'data.export' for volume vol-1");
}

Test(volume_lookup, unsupported_type_fails)
{
    assert_get_config_fails(
        "{\"driver_volume_type\": \"rbd\", \"serial\": \"vol-1\", \"data\": {}}",
        "volume vol-1: unsupported driver_volume_type 'rbd'");
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
        { "storpool", "LibvirtVolumeDriver", TRUE },
        { "iscsi", "LibvirtISCSIVolumeDriver", TRUE },
        { "iser", "LibvirtISERVolumeDriver", TRUE },
        { "fibre_channel", "LibvirtFibreChannelVolumeDriver", TRUE },
        { "scaleio", "LibvirtScaleIOVolumeDriver", TRUE },
        { "nfs", "LibvirtNFSVolumeDriver", FALSE },
        { "file", "LibvirtFileVolumeDriver", FALSE },
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
    char message[128];
} disk_info_bad_case;

ParameterizedTestParameters(disk_info, rejects)
{
    static disk_info_bad_case cases[] = {
        { "/dev/", "", "mountpoint '/dev/': not a disk device name (e.g. /dev/vdb or vdb)" },
        { "", "", "mountpoint '': not a disk device name (e.g. /dev/vdb or vdb)" },
        { "dev/vdb", "", "mountpoint 'dev/vdb': not a disk device name (e.g. /dev/vdb or vdb)" },
        { "/dev/vd b", "",
          "mountpoint '/dev/vd b': not a disk device name (e.g. /dev/vdb or vdb)" },
        { "VDB", "", "mountpoint 'VDB': not a disk device name (e.g. /dev/vdb or vdb)" },
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

    nv_volume_set_encryption(disk, "d3a1c8e2-6f4b-4b7e-9a0d-1e2f3a4b5c6d");
    cr_assert_not_null(disk->encryption);
    cr_assert_str_eq(disk->encryption->format, "luks");
    cr_assert_str_eq(disk->encryption->secret_type, "passphrase");
    cr_assert_str_eq(disk->encryption->secret_uuid, "d3a1c8e2-6f4b-4b7e-9a0d-1e2f3a4b5c6d");
}

Test(set_encryption, replaces_previous_element)
{
    g_autoptr(nv_disk_config) disk = nv_disk_config_new();

    nv_volume_set_encryption(disk, "11111111-1111-4111-8111-111111111111");
    nv_volume_set_encryption(disk, "22222222-2222-4222-8222-222222222222");
    cr_assert_str_eq(disk->encryption->secret_uuid, "22222222-2222-4222-8222-222222222222");
}
