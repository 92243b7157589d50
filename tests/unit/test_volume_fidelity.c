/* SPDX-License-Identifier: Apache-2.0 */
/* Volume drivers where the differential suite (tests/nova/) found nvirt
 * and Nova 26 apart: rbd hosts/ports, StorPool's io mode, the NFS path,
 * [libvirt] disk_cachemodes.  Each test names the Nova code it follows. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "nvirt/error.h"
#include "support.h"
#include "virt/libvirt/volume/volume.h"

static nv_disk_config *
config_of(const char *json)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(json, -1, &error);
    g_autoptr(nv_disk_info) di = NULL;
    nv_disk_config *disk;

    cr_assert_not_null(info, "%s", error ? error->message : "");
    di = nv_disk_info_new("vdb", NULL, &error);
    cr_assert_not_null(di);
    disk = nv_volume_get_config(info, di, NULL, &error);
    cr_assert_not_null(disk, "%s: %s", json, error ? error->message : "");
    return disk;
}

static nv_disk_host *
host_at(const nv_disk_config *disk, guint i)
{
    return g_ptr_array_index(disk->source_hosts, i);
}

/* config.py format_dom: zip(source_hosts, source_ports); Nova's own
 * test_migration.py fixture has 2 hosts and 3 ports. */
Test(volume_rbd, hosts_and_ports_are_zipped)
{
    g_autoptr(nv_disk_config) disk =
        config_of("{\"driver_volume_type\": \"rbd\", \"serial\": \"v\", \"data\": {\"name\": "
                  "\"p/v\", \"hosts\": [\"a\", \"b\"], \"ports\": [\"1\", \"2\", \"3\"]}}");

    cr_assert_eq(disk->source_hosts->len, 2);
    cr_assert_str_eq(host_at(disk, 1)->name, "b");
    cr_assert_str_eq(host_at(disk, 1)->port, "2");
}

Test(volume_rbd, extra_hosts_are_dropped)
{
    g_autoptr(nv_disk_config) disk =
        config_of("{\"driver_volume_type\": \"rbd\", \"serial\": \"v\", \"data\": {\"name\": "
                  "\"p/v\", \"hosts\": [\"a\", \"b\", \"c\"], \"ports\": [6789]}}");

    cr_assert_eq(disk->source_hosts->len, 1);
    cr_assert_str_eq(host_at(disk, 0)->name, "a");
    cr_assert_str_eq(host_at(disk, 0)->port, "6789");
}

/* No ports: zip() is empty, librbd reads the monitors from ceph.conf. */
Test(volume_rbd, no_ports_means_no_hosts)
{
    g_autoptr(nv_disk_config) disk = config_of(
        "{\"driver_volume_type\": \"rbd\", \"serial\": \"v\", \"data\": {\"name\": \"p/v\", "
        "\"hosts\": [\"a\", \"b\"]}}");

    cr_assert_eq(disk->source_hosts->len, 0);
}

Test(volume_rbd, null_port_writes_no_port)
{
    g_autoptr(nv_disk_config) disk = config_of(
        "{\"driver_volume_type\": \"rbd\", \"serial\": \"v\", \"data\": {\"name\": \"p/v\", "
        "\"hosts\": [\"a\", \"b\"], \"ports\": [null, \"6790\"]}}");

    cr_assert_eq(disk->source_hosts->len, 2);
    cr_assert_null(host_at(disk, 0)->port);
    cr_assert_str_eq(host_at(disk, 1)->port, "6790");
}

/* LibvirtStorPoolVolumeDriver.get_config sets driver_io = "native". */
Test(volume_storpool, io_is_native)
{
    g_autoptr(nv_disk_config) disk =
        config_of("{\"driver_volume_type\": \"storpool\", \"serial\": \"v\", \"data\": "
                  "{\"device_path\": \"/dev/storpool/v\"}}");

    cr_assert_str_eq(disk->source_type, "block");
    cr_assert_str_eq(disk->driver_io, "native");
}

/* ---- the path the host reads the volume through ------------------------- */

typedef struct {
    char json[200];
    char path[96]; /* "" = NULL without error */
} host_path_case;

ParameterizedTestParameters(volume_host_path, follows_connect_volume)
{
    static host_path_case cases[] = {
        { "{\"driver_volume_type\": \"local\", \"serial\": \"v\", \"data\": {\"device_path\": "
          "\"/dev/sdb\"}}",
          "/dev/sdb" },
        { "{\"driver_volume_type\": \"nfs\", \"serial\": \"v\", \"data\": {\"export\": "
          "\"192.0.2.30:/srv/cinder\", \"name\": \"volume-vol-1\", \"device_path\": \"/old\"}}",
          "/srv/nova/mnt/48d65d9ba9cec8c2c00276c7bf825e18/volume-vol-1" },
        { "{\"driver_volume_type\": \"rbd\", \"serial\": \"v\", \"data\": {\"name\": \"p/v\", "
          "\"device_path\": \"/dev/rbd0\"}}",
          "" },
    };
    return cr_make_param_array(host_path_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(host_path_case *c, volume_host_path, follows_connect_volume)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(c->json, -1, &error);
    g_autofree char *path = NULL;

    cr_assert_not_null(info);
    g_free(conf->libvirt.nfs_mount_point_base);
    conf->libvirt.nfs_mount_point_base = g_strdup("/srv/nova/mnt");
    path = nv_volume_get_host_path(info, conf, &error);
    cr_assert_null(error, "%s", error ? error->message : "");
    if (c->path[0])
        cr_assert_str_eq(path, c->path);
    else
        cr_assert_null(path);
}

Test(volume_host_path, block_without_device_path_names_the_volume)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(
        "{\"driver_volume_type\": \"iscsi\", \"serial\": \"vol-3\", \"data\": {}}", -1, &error);
    g_autofree char *path = NULL;

    cr_assert_not_null(info);
    path = nv_volume_get_host_path(info, NULL, &error);
    cr_assert_null(path);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message,
                     "connection_info: missing key 'data.device_path' for volume vol-3");
}

/* os-brick's plain encryptor works on the mounted NFS file in Nova; the
 * file exists once the share is mounted, data.device_path or not. */
Test(volume_host_path, nfs_encryptor_needs_no_device_path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(
        "{\"driver_volume_type\": \"nfs\", \"serial\": \"v\", \"data\": {\"export\": \"h:/e\", "
        "\"name\": \"volume-v\"}}",
        -1, &error);

    cr_assert_not_null(info);
    cr_assert(nv_volume_check_encryptor_supported(info, NULL, &error), "%s",
              error ? error->message : "");
}

/* ---- [libvirt] disk_cachemodes (LibvirtDriver._set_cache_mode) ---------- */

typedef struct {
    char source_type[8];
    char io[8]; /* "" = none */
    gboolean shareable;
    char modes[64]; /* comma-separated list, as nova.conf's ListOpt */
    char cache[16];
    char expected_io[8]; /* "" = none */
} cache_case;

ParameterizedTestParameters(volume_cache_mode, follows_set_cache_mode)
{
    static cache_case cases[] = {
        { "block", "", FALSE, "", "none", "" },
        { "block", "", FALSE, "block=writeback", "writeback", "" },
        { "file", "", FALSE, "block=writeback", "none", "" },
        { "network", "", FALSE, "file=unsafe,network=writethrough", "writethrough", "" },
        /* the last entry for a type wins, as in Nova's dict */
        { "block", "", FALSE, "block=unsafe,block=directsync", "directsync", "" },
        /* invalid modes are skipped, not fatal */
        { "block", "", FALSE, "block=fast", "none", "" },
        { "block", "", FALSE, "block", "none", "" },
        /* shareable (multiattach) disks are never cached */
        { "block", "", TRUE, "block=writeback", "none", "" },
        /* nova bug 1841363: io=native needs O_DIRECT */
        { "block", "native", FALSE, "block=writeback", "writeback", "threads" },
        { "block", "native", FALSE, "block=directsync", "directsync", "native" },
        { "file", "native", FALSE, "", "none", "native" },
    };
    return cr_make_param_array(cache_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(cache_case *c, volume_cache_mode, follows_set_cache_mode)
{
    g_autoptr(nv_disk_config) disk = nv_disk_config_new();
    g_auto(GStrv) modes = g_strsplit(c->modes, ",", -1);

    g_free(disk->source_type);
    disk->source_type = g_strdup(c->source_type);
    disk->driver_cache = g_strdup("none");
    disk->driver_io = c->io[0] ? g_strdup(c->io) : NULL;
    disk->shareable = c->shareable;

    nv_volume_set_cache_mode(disk, c->modes[0] ? (const char *const *)modes : NULL);
    cr_assert_str_eq(disk->driver_cache, c->cache, "%s %s", c->source_type, c->modes);
    if (c->expected_io[0])
        cr_assert_str_eq(disk->driver_io, c->expected_io);
    else
        cr_assert_null(disk->driver_io);
}
