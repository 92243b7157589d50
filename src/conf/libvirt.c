/* SPDX-License-Identifier: Apache-2.0 */
/* [libvirt] options nvirt reads: nova/conf/libvirt.py. */
#include <stddef.h>

#include "conf/conf.h"
#include "conf/options.h"

/* Nova's choices, so that any nova.conf loads; nvirt itself only defines
 * kvm and qemu (TCG) domains. */
static const char *const virt_types[] = { "kvm", "lxc", "qemu", "parallels", NULL };

static const char *const timeout_actions[] = { "abort", "force_complete", NULL };

static const nv_conf_opt opts[] = {
    {
        .name = "virt_type",
        .type = NV_CONF_TYPE_ENUM,
        .default_value = "kvm",
        .choices = virt_types,
        .offset = offsetof(nv_conf, libvirt.virt_type),
        /* Nova's help; its related options list is cut to the options nvirt
         * has. */
        .help = "Describes the virtualization type (or so called domain type) libvirt should\n"
                "use.\n"
                "\n"
                "The choice of this type must match the underlying virtualization strategy\n"
                "you have chosen for this host.\n"
                "\n"
                "Related options:\n"
                "\n"
                "* ``connection_uri``: depends on this\n",
    },
    {
        .name = "connection_uri",
        .type = NV_CONF_TYPE_STRING,
        .default_value = "",
        .offset = offsetof(nv_conf, libvirt.connection_uri),
        .help = "Overrides the default libvirt URI of the chosen virtualization type.\n"
                "\n"
                "If set, nvirt will use this URI to connect to libvirt.\n"
                "\n"
                "Possible values:\n"
                "\n"
                "* An URI like ``qemu:///system``.\n"
                "\n"
                "  This is only necessary if the URI differs to the commonly known URIs\n"
                "  for the chosen virtualization type.\n"
                "\n"
                "Related options:\n"
                "\n"
                "* ``virt_type``: Influences what is used as default value here.\n",
    },
    {
        /* A ListOpt in Nova; kept as the comma-separated string it is
         * written as and split where it is used (nv_volume_get_config).
         * Nova's help. */
        .name = "disk_cachemodes",
        .type = NV_CONF_TYPE_STRING,
        .default_value = "",
        .offset = offsetof(nv_conf, libvirt.disk_cachemodes),
        .help = "Specific cache modes to use for different disk types.\n"
                "\n"
                "For example: file=directsync,block=none,network=writeback\n"
                "\n"
                "For local or direct-attached storage, it is recommended that you use\n"
                "writethrough (default) mode, as it ensures data integrity and has acceptable\n"
                "I/O performance for applications running in the guest, especially for read\n"
                "operations. However, caching mode none is recommended for remote NFS storage,\n"
                "because direct I/O operations (O_DIRECT) perform better than synchronous I/O\n"
                "operations (with O_SYNC). Caching mode none effectively turns all guest I/O\n"
                "operations into direct I/O operations on the host, which is the NFS client in\n"
                "this environment.\n"
                "\n"
                "Possible cache modes:\n"
                "\n"
                "* default: \"It Depends\" -- For Nova-managed disks, ``none``, if the host\n"
                "  file system is capable of Linux's 'O_DIRECT' semantics; otherwise\n"
                "  ``writeback``.  For volume drivers, the default is driver-dependent:\n"
                "  ``none`` for everything except for SMBFS and Virtuzzo (which use\n"
                "  ``writeback``).\n"
                "* none: With caching mode set to none, the host page cache is disabled, but\n"
                "  the disk write cache is enabled for the guest. In this mode, the write\n"
                "  performance in the guest is optimal because write operations bypass the host\n"
                "  page cache and go directly to the disk write cache. If the disk write cache\n"
                "  is battery-backed, or if the applications or storage stack in the guest\n"
                "  transfer data properly (either through fsync operations or file system\n"
                "  barriers), then data integrity can be ensured. However, because the host\n"
                "  page cache is disabled, the read performance in the guest would not be as\n"
                "  good as in the modes where the host page cache is enabled, such as\n"
                "  writethrough mode. Shareable disk devices, like for a multi-attachable block\n"
                "  storage volume, will have their cache mode set to 'none' regardless of\n"
                "  configuration.\n"
                "* writethrough: With caching set to writethrough mode, the host page cache is\n"
                "  enabled, but the disk write cache is disabled for the guest. Consequently,\n"
                "  this caching mode ensures data integrity even if the applications and storage\n"
                "  stack in the guest do not transfer data to permanent storage properly (either\n"
                "  through fsync operations or file system barriers). Because the host page\n"
                "  cache is enabled in this mode, the read performance for applications running\n"
                "  in the guest is generally better. However, the write performance might be\n"
                "  reduced because the disk write cache is disabled.\n"
                "* writeback: With caching set to writeback mode, both the host page\n"
                "  cache and the disk write cache are enabled for the guest. Because of\n"
                "  this, the I/O performance for applications running in the guest is\n"
                "  good, but the data is not protected in a power failure. As a result,\n"
                "  this caching mode is recommended only for temporary data where\n"
                "  potential data loss is not a concern.\n"
                "  NOTE: Certain backend disk mechanisms may provide safe\n"
                "  writeback cache semantics. Specifically those that bypass the host\n"
                "  page cache, such as QEMU's integrated RBD driver. Ceph documentation\n"
                "  recommends setting this to writeback for maximum performance while\n"
                "  maintaining data safety.\n"
                "* directsync: Like \"writethrough\", but it bypasses the host page cache.\n"
                "* unsafe: Caching mode of unsafe ignores cache transfer operations\n"
                "  completely. As its name implies, this caching mode should be used only for\n"
                "  temporary data where data loss is not a concern. This mode can be useful for\n"
                "  speeding up guest installations, but you should switch to another caching\n"
                "  mode in production environments.\n",
    },
    {
        .name = "device_detach_timeout",
        .type = NV_CONF_TYPE_INT,
        .default_value = "20",
        .min = 1,
        .offset = offsetof(nv_conf, libvirt.device_detach_timeout),
        /* Nova's help. */
        .help = "Maximum number of seconds the driver waits for the success or the failure\n"
                "event from libvirt for a given device detach attempt before it re-trigger the\n"
                "detach.\n"
                "\n"
                "Related options:\n"
                "\n"
                "* ``device_detach_attempts``\n",
    },
    {
        .name = "device_detach_attempts",
        .type = NV_CONF_TYPE_INT,
        .default_value = "8",
        .min = 1,
        .offset = offsetof(nv_conf, libvirt.device_detach_attempts),
        /* Nova's help. */
        .help = "Maximum number of attempts the driver tries to detach a device in libvirt.\n"
                "\n"
                "Related options:\n"
                "\n"
                "* ``device_detach_timeout``\n",
    },
    {
        /* libvirt_volume_nfs_opts in Nova. */
        .name = "nfs_mount_point_base",
        .type = NV_CONF_TYPE_STRING,
        .default_value = "$state_path/mnt",
        .offset = offsetof(nv_conf, libvirt.nfs_mount_point_base),
        /* Nova's second sentence names its Python module directory, which is
         * what its state_path defaults to; say what nvirt does instead. */
        .help = "Directory where the NFS volume is mounted on the compute node.\n"
                "The default is the 'mnt' directory under ``[DEFAULT] state_path``.\n"
                "\n"
                "NFS provides shared storage for the OpenStack Block Storage service.\n"
                "\n"
                "Possible values:\n"
                "\n"
                "* A string representing absolute path of mount point.\n",
    },
    {
        /* libvirt_volume_net_opts in Nova; Nova's help. */
        .name = "rbd_user",
        .type = NV_CONF_TYPE_STRING,
        .offset = offsetof(nv_conf, libvirt.rbd_user),
        .help = "The RADOS client name for accessing rbd(RADOS Block Devices) volumes.\n"
                "\n"
                "Libvirt will refer to this user when connecting and authenticating with\n"
                "the Ceph RBD server.\n",
    },
    {
        .name = "rbd_secret_uuid",
        .type = NV_CONF_TYPE_STRING,
        .offset = offsetof(nv_conf, libvirt.rbd_secret_uuid),
        .help = "The libvirt UUID of the secret for the rbd_user volumes.\n",
    },
    {
        /* Nova had this ListOpt for glusterfs (removed with it in Nova 17);
         * nvirt reuses the name for the one protocol QEMU can open instead
         * of a host connector here: iSCSI through QEMU's libiscsi. */
        .name = "qemu_allowed_storage_drivers",
        .type = NV_CONF_TYPE_STRING,
        .default_value = "",
        .offset = offsetof(nv_conf, libvirt.qemu_allowed_storage_drivers),
        .help = "Protocols listed here will be accessed directly from QEMU.\n"
                "\n"
                "If iscsi is present in qemu_allowed_storage_drivers, iSCSI volumes are\n"
                "attached as network disks that QEMU's own initiator logs in to, instead of\n"
                "block devices the host's initiator has attached. Such volumes have no\n"
                "host device, so only QEMU can decrypt them (native LUKS).\n"
                "\n"
                "Possible values:\n"
                "\n"
                "* A comma-separated list; the only protocol nvirt knows is ``iscsi``.\n",
    },
    {
        /* nvirt's own: Nova hands the volume to QEMU unchecked.  The default
         * is NV_LUKS_DEFAULT_MAX_PBKDF2_ITERATIONS (encryptors/luks_format.h;
         * test_conf checks they agree). */
        .name = "volume_luks_max_unlock_iterations",
        .type = NV_CONF_TYPE_INT,
        .default_value = "50000000",
        .min = 0,
        .offset = offsetof(nv_conf, libvirt.volume_luks_max_unlock_iterations),
        .help = "The most PBKDF2 iterations a keyslot of an existing LUKS1 volume may ask for\n"
                "before the volume is handed to QEMU to decrypt.\n"
                "\n"
                "The LUKS header is written by whoever formatted the volume, possibly a\n"
                "tenant, and QEMU derives the key from the passphrase in its main loop:\n"
                "a header asking for an absurd cost (2^31 iterations) would hang the\n"
                "domain for many minutes, with every other call on it failing. A volume\n"
                "whose keyslot asks for more is refused before anything is changed, with\n"
                "a message giving the count found and this bound.\n"
                "\n"
                "The default is about 5 times what cryptsetup's 2 second benchmark gives\n"
                "on a current server core (about 10 s of unlock); volumes nvirt formats\n"
                "use cryptsetup's benchmark and stay well below it.\n"
                "\n"
                "Possible values:\n"
                "\n"
                "* 0: no bound.\n"
                "* A positive integer: the largest iteration count accepted.\n",
    },
    {
        .name = "live_migration_scheme",
        .type = NV_CONF_TYPE_STRING,
        .offset = offsetof(nv_conf, libvirt.live_migration_scheme),
        /* Nova's help, its related options cut to the ones nvirt has. */
        .help = "URI scheme for live migration used by the source of live migration traffic.\n"
                "\n"
                "Override the default libvirt live migration scheme (which is dependent on\n"
                "virt_type). If this option is set to None, nvirt will automatically choose a\n"
                "sensible default based on the hypervisor. It is not recommended that you change\n"
                "this unless you are very sure that hypervisor supports a particular scheme.\n"
                "\n"
                "Related options:\n"
                "\n"
                "* ``virt_type``: This option is meaningful only when ``virt_type`` is set to\n"
                "  `kvm` or `qemu`.\n"
                "* ``live_migration_uri``: If ``live_migration_uri`` value is not None, the\n"
                "  scheme used for live migration is taken from ``live_migration_uri`` instead.\n",
    },
    {
        .name = "live_migration_inbound_addr",
        .type = NV_CONF_TYPE_STRING,
        .offset = offsetof(nv_conf, libvirt.live_migration_inbound_addr),
        .help = "IP address used as the live migration address for this host.\n"
                "\n"
                "This option indicates the IP address which should be used as the target for\n"
                "live migration traffic when migrating to this hypervisor. This metadata is then\n"
                "used by the source of the live migration traffic to construct a migration URI.\n"
                "nvirt also makes the destination QEMU listen on this address only.\n"
                "\n"
                "If this option is set to None, the hostname of the migration target compute\n"
                "node will be used.\n",
    },
    {
        .name = "live_migration_uri",
        .type = NV_CONF_TYPE_STRING,
        .offset = offsetof(nv_conf, libvirt.live_migration_uri),
        /* Deprecated in Nova (15.0.0), still read there; nvirt uses a value
         * without "%s" as it is, which Python's "uri % dest" would refuse. */
        .help = "Live migration target URI used by the source of live migration traffic.\n"
                "\n"
                "Override the default libvirt live migration target URI (which is dependent\n"
                "on virt_type). Any included \"%s\" is replaced with the migration target\n"
                "hostname; a URI without \"%s\" is used as it is.\n"
                "\n"
                "If this option is set to None (which is the default), nvirt will automatically\n"
                "generate the `live_migration_uri` value based on only 2 supported `virt_type`\n"
                "in following list:\n"
                "\n"
                "* 'kvm': 'qemu+tcp://%s/system'\n"
                "* 'qemu': 'qemu+tcp://%s/system'\n"
                "\n"
                "Related options:\n"
                "\n"
                "* ``live_migration_scheme``: If ``live_migration_uri`` is not set, the scheme\n"
                "  used for live migration is taken from ``live_migration_scheme`` instead.\n",
    },
    {
        .name = "keepalive_interval",
        .type = NV_CONF_TYPE_INT,
        .default_value = "5",
        .min = 0,
        .offset = offsetof(nv_conf, libvirt.keepalive_interval),
        .help = "Seconds of silence on the libvirt connection after which nvirt sends a\n"
                "keepalive message (virConnectSetKeepAlive, what virsh's -k sets).\n"
                "\n"
                "When ``keepalive_count`` of them in a row go unanswered, libvirt closes the\n"
                "connection, and a call waiting on a libvirtd that stopped answering fails\n"
                "instead of blocking for ever. Keepalive needs a libvirt event loop running in\n"
                "the process: the nvirt command runs one; a program that links libnvirt runs\n"
                "its own (virEventRegisterDefaultImpl, then virEventRunDefaultImpl in a\n"
                "thread, as Nova's host.py does) before it opens the driver, or keepalive\n"
                "stays off. It does not bound a call libvirtd itself waits on (a QEMU that\n"
                "stopped answering its monitor): libvirtd still answers the probes.\n"
                "\n"
                "Possible values:\n"
                "\n"
                "* 0: no keepalive.\n"
                "* A positive integer: the interval in seconds.\n"
                "\n"
                "Related options:\n"
                "\n"
                "* keepalive_count\n",
    },
    {
        .name = "keepalive_count",
        .type = NV_CONF_TYPE_INT,
        .default_value = "6",
        .min = 1,
        .offset = offsetof(nv_conf, libvirt.keepalive_count),
        .help = "How many keepalive messages in a row may go unanswered before libvirt closes\n"
                "the connection; with ``keepalive_interval`` it bounds how long a dead libvirtd\n"
                "goes unnoticed (by default 5 s x 6, about 30 s, as virsh).\n"
                "\n"
                "Related options:\n"
                "\n"
                "* keepalive_interval\n",
    },
    {
        .name = "live_migration_bandwidth",
        .type = NV_CONF_TYPE_INT,
        .default_value = "0",
        .min = 0,
        .offset = offsetof(nv_conf, libvirt.live_migration_bandwidth),
        /* Nova's help. */
        .help = "Maximum bandwidth(in MiB/s) to be used during migration.\n"
                "\n"
                "If set to 0, the hypervisor will choose a suitable default. Some hypervisors\n"
                "do not support this feature and will return an error if bandwidth is not 0.\n"
                "Please refer to the libvirt documentation for further details.\n",
    },
    {
        .name = "live_migration_completion_timeout",
        .type = NV_CONF_TYPE_INT,
        .default_value = "800",
        .min = 0,
        .offset = offsetof(nv_conf, libvirt.live_migration_completion_timeout),
        /* Nova's help, its related options cut to the ones nvirt has. */
        .help = "Time to wait, in seconds, for migration to successfully complete transferring\n"
                "data before aborting the operation.\n"
                "\n"
                "Value is per GiB of guest RAM to be transferred (nvirt does not migrate\n"
                "disks), with lower bound of a minimum of 2 GiB. Set to 0 to disable timeouts.\n"
                "\n"
                "Related options:\n"
                "\n"
                "* live_migration_timeout_action\n",
    },
    {
        .name = "live_migration_timeout_action",
        .type = NV_CONF_TYPE_ENUM,
        .default_value = "abort",
        .choices = timeout_actions,
        .offset = offsetof(nv_conf, libvirt.live_migration_timeout_action),
        /* Nova's help; nvirt does not switch to post-copy, so force_complete
         * always pauses. */
        .help = "This option will be used to determine what action will be taken against a\n"
                "VM after ``live_migration_completion_timeout`` expires. By default, the live\n"
                "migrate operation will be aborted after completion timeout. If it is set to\n"
                "``force_complete``, nvirt pauses the VM so that the migration completes (nvirt\n"
                "does not switch to post-copy); a migration that fails after that resumes the\n"
                "VM on the source.\n"
                "\n"
                "Related options:\n"
                "\n"
                "* live_migration_completion_timeout\n",
    },
};

const nv_conf_section nv_conf_libvirt_section = {
    .name = "libvirt",
    .opts = opts,
    .n_opts = G_N_ELEMENTS(opts),
};

const char *
nv_conf_libvirt_uri(const nv_conf *conf)
{
    const char *type = conf->libvirt.virt_type;

    if (conf->libvirt.connection_uri && *conf->libvirt.connection_uri)
        return conf->libvirt.connection_uri;
    if (g_strcmp0(type, "lxc") == 0)
        return "lxc:///";
    if (g_strcmp0(type, "parallels") == 0)
        return "parallels:///system";
    return "qemu:///system";
}
