/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LibvirtNetVolumeDriver (nova/virt/libvirt/volume/net.py): volumes QEMU
 * opens itself over the network, with no host device: rbd (librbd), nbd,
 * and iscsi through QEMU's libiscsi initiator (Nova Queens' net.py handled
 * that protocol too, for hosts that mapped iscsi to this driver).
 *
 * With no host device the cryptsetup encryptors cannot run, so the only way
 * to decrypt such a volume on this host is QEMU's native LUKS (spec:
 * "native LUKS for rbd is possible because QEMU decrypts without a host
 * device"); nv_volume_check_encryptor_supported() refuses the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "virt/libvirt/volume/volume_priv.h"

/* libvirt's default when a <host> has no port: the mon's msgr v1 port. */
#define CEPH_MON_DEFAULT_PORT "6789"

static gboolean
missing_key(const nv_connection_info *info, const char *key, GError **error)
{
    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                "connection_info: missing key 'data.%s' for %s volume %s", key,
                info->driver_volume_type, info->volume_id);
    return FALSE;
}

/* rbd: LibvirtConfigGuestDisk.format_dom zips data.hosts with
 * data.ports, so extras on either side are dropped (Nova's own migration
 * fixture has 2 hosts and 3 ports) and no ports means no <host> at all:
 * librbd then finds the monitors in ceph.conf.  A null port writes no port
 * attribute (libvirt's default, 6789). */
static void
add_rbd_hosts(nv_disk_config *disk, const nv_connection_info *info)
{
    guint n = MIN(info->hosts->len, info->ports->len);

    if (info->hosts->len != info->ports->len)
        g_message("rbd volume %s: %u data.hosts but %u data.ports; using the first %u pairs",
                  info->volume_id, info->hosts->len, info->ports->len, n);
    for (guint i = 0; i < n; i++)
        nv_disk_config_add_host(disk, g_ptr_array_index(info->hosts, i),
                                g_ptr_array_index(info->ports, i), NULL, NULL);
}

/* _set_auth_config_rbd: Cinder's auth values win over nova.conf's; a
 * connection made before Cinder sent secret_uuid (Ocata) falls back to
 * [libvirt] rbd_user and rbd_secret_uuid together. */
static gboolean
set_auth_config_rbd(nv_disk_config *disk, const nv_connection_info *info, const nv_conf *conf,
                    GError **error)
{
    const char *conf_user = conf ? conf->libvirt.rbd_user : NULL;
    const char *conf_uuid = conf ? conf->libvirt.rbd_secret_uuid : NULL;
    gboolean conf_has_uuid = conf_uuid && *conf_uuid;

    if (info->auth_enabled) {
        if (!info->auth_username || !*info->auth_username)
            return missing_key(info, "auth_username", error);
        if (info->secret_uuid && *info->secret_uuid) {
            nv_volume_set_str(&disk->auth_username, info->auth_username);
            nv_volume_set_str(&disk->auth_secret_uuid, info->secret_uuid);
        } else if (conf_has_uuid) {
            nv_volume_set_str(&disk->auth_username, conf_user);
            nv_volume_set_str(&disk->auth_secret_uuid, conf_uuid);
        } else {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "rbd volume %s: auth_enabled but no secret uuid in data.secret_uuid or "
                        "[libvirt] rbd_secret_uuid",
                        info->volume_id);
            return FALSE;
        }
    } else if (conf_has_uuid) {
        /* Nova warns that this fallback works by accident and will go. */
        nv_volume_set_str(&disk->auth_username, conf_user);
        nv_volume_set_str(&disk->auth_secret_uuid, conf_uuid);
    } else {
        return TRUE;
    }

    /* Nova would write username=None; libvirt needs a cephx user. */
    if (!disk->auth_username || !*disk->auth_username) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "rbd volume %s: [libvirt] rbd_secret_uuid is used but [libvirt] rbd_user is "
                    "not set",
                    info->volume_id);
        return FALSE;
    }
    /* Cinder always sends "ceph" here. */
    nv_volume_set_str(&disk->auth_secret_type, info->secret_type ? info->secret_type : "ceph");
    return TRUE;
}

static gboolean
rbd_config(nv_disk_config *disk, const nv_connection_info *info, const nv_conf *conf,
           GError **error)
{
    /* No hosts is fine: librbd then finds the monitors in ceph.conf. */
    if (!info->name || !*info->name)
        return missing_key(info, "name", error);
    nv_volume_set_str(&disk->source_name, info->name);
    add_rbd_hosts(disk, info);
    return set_auth_config_rbd(disk, info, conf, error);
}

static gboolean
nbd_config(nv_disk_config *disk, const nv_connection_info *info, GError **error)
{
    const char *socket = nv_connection_info_get_data_string(info, "socket");

    /* No name: the server's default export. */
    nv_volume_set_str(&disk->source_name, info->name);
    if (socket && *socket) {
        if (info->hosts->len > 0) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "connection_info: nbd volume %s has both data.socket and data.hosts",
                        info->volume_id);
            return FALSE;
        }
        if (!g_path_is_absolute(socket)) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "connection_info: nbd volume %s: data.socket '%s' is not an absolute "
                        "path",
                        info->volume_id, socket);
            return FALSE;
        }
        nv_disk_config_add_host(disk, NULL, NULL, "unix", socket);
        return TRUE;
    }
    if (info->hosts->len == 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "connection_info: missing key 'data.hosts' or 'data.socket' for nbd volume %s",
                    info->volume_id);
        return FALSE;
    }
    /* libvirt's schema and QEMU's nbd client take exactly one server, and
     * at most one port for it (none: NBD's 10809). */
    if (info->hosts->len > 1 || info->ports->len > 1) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "connection_info: nbd volume %s has %u data.hosts and %u data.ports but an "
                    "nbd disk has one server",
                    info->volume_id, info->hosts->len, info->ports->len);
        return FALSE;
    }
    nv_disk_config_add_host(disk, g_ptr_array_index(info->hosts, 0),
                            info->ports->len ? g_ptr_array_index(info->ports, 0) : NULL, NULL,
                            NULL);
    return TRUE;
}

/* Split "HOST:PORT" or "[V6]:PORT" (utils.parse_server_string). */
static gboolean
parse_portal(const char *portal, char **host, char **port)
{
    const char *colon;

    if (portal[0] == '[') {
        const char *end = strchr(portal, ']');

        if (!end || end[1] != ':')
            return FALSE;
        *host = g_strndup(portal + 1, end - portal - 1);
        colon = end + 1;
    } else {
        colon = strrchr(portal, ':');
        if (!colon || strchr(portal, ':') != colon)
            return FALSE;
        *host = g_strndup(portal, colon - portal);
    }
    *port = g_strdup(colon + 1);
    if (**host && **port && strspn(*port, "0123456789") == strlen(*port))
        return TRUE;
    g_clear_pointer(host, g_free);
    g_clear_pointer(port, g_free);
    return FALSE;
}

/* Cinder's iSCSI target as QEMU's initiator wants it: name IQN/LUN, one
 * host from target_portal (Queens' net.py). */
static gboolean
iscsi_config(nv_disk_config *disk, const nv_connection_info *info, GError **error)
{
    JsonNode *lun = json_object_get_member(info->data, "target_lun");
    const char *iqn = nv_connection_info_get_data_string(info, "target_iqn");
    const char *portal = nv_connection_info_get_data_string(info, "target_portal");
    const char *auth_method = nv_connection_info_get_data_string(info, "auth_method");
    g_autofree char *host = NULL;
    g_autofree char *port = NULL;

    if (!iqn || !*iqn)
        return missing_key(info, "target_iqn", error);
    if (!lun || !JSON_NODE_HOLDS_VALUE(lun) || json_node_get_value_type(lun) != G_TYPE_INT64 ||
        json_node_get_int(lun) < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "connection_info: key 'data.target_lun' must be a non-negative integer for "
                    "iscsi volume %s",
                    info->volume_id);
        return FALSE;
    }
    if (!portal || !*portal)
        return missing_key(info, "target_portal", error);
    if (!parse_portal(portal, &host, &port)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "connection_info: iscsi volume %s: data.target_portal '%s' is not HOST:PORT",
                    info->volume_id, portal);
        return FALSE;
    }

    disk->source_name = g_strdup_printf("%s/%" G_GINT64_FORMAT, iqn, json_node_get_int(lun));
    nv_disk_config_add_host(disk, host, port, NULL, NULL);
    nv_volume_set_str(&disk->driver_io, "native");

    if (auth_method && g_ascii_strcasecmp(auth_method, "CHAP") == 0) {
        /* Queens' net.py put auth_password into an iscsi libvirt secret
         * itself; here only the host module touches secrets, so the
         * caller defines it and passes its uuid. */
        if (!info->auth_username || !*info->auth_username)
            return missing_key(info, "auth_username", error);
        if (!info->secret_uuid || !*info->secret_uuid)
            return missing_key(info, "secret_uuid", error);
        nv_volume_set_str(&disk->auth_username, info->auth_username);
        nv_volume_set_str(&disk->auth_secret_type, "iscsi");
        nv_volume_set_str(&disk->auth_secret_uuid, info->secret_uuid);
    }
    return TRUE;
}

nv_disk_config *
nv_volume_net_get_config(const nv_connection_info *info, const nv_disk_info *disk_info,
                         const nv_conf *conf, GError **error)
{
    g_autoptr(nv_disk_config) disk = nv_volume_base_get_config(info, disk_info, conf, error);
    const char *protocol = info->driver_volume_type;
    gboolean ok;

    if (!disk)
        return NULL;
    nv_volume_set_str(&disk->source_type, "network");
    nv_volume_set_str(&disk->source_protocol, protocol);

    if (strcmp(protocol, "rbd") == 0) {
        ok = rbd_config(disk, info, conf, error);
    } else if (strcmp(protocol, "nbd") == 0) {
        ok = nbd_config(disk, info, error);
    } else if (strcmp(protocol, "iscsi") == 0) {
        ok = iscsi_config(disk, info, error);
    } else {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: protocol '%s' is not supported by LibvirtNetVolumeDriver",
                    info->volume_id, protocol);
        ok = FALSE;
    }
    return ok ? g_steal_pointer(&disk) : NULL;
}

/* One TCP connect to @name:@port, bounded by @timeout_ms.  0 or an errno. */
static int
probe_tcp(const char *name, const char *port, guint timeout_ms)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *addrs = NULL;
    int err = EHOSTUNREACH;
    int rc;

    rc = getaddrinfo(name, port, &hints, &addrs);
    if (rc != 0)
        return rc == EAI_SYSTEM ? errno : EHOSTUNREACH;
    for (struct addrinfo *a = addrs; a && err; a = a->ai_next) {
        int fd =
            socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        socklen_t len = sizeof(err);

        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            err = 0;
        } else if (errno != EINPROGRESS) {
            err = errno;
        } else {
            rc = poll(&pfd, 1, (int)timeout_ms);
            if (rc == 0)
                err = ETIMEDOUT;
            else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        }
        close(fd);
    }
    freeaddrinfo(addrs);
    return err;
}

gboolean
nv_volume_net_check_monitors(const nv_disk_config *disk, const char *volume_id, guint timeout_ms,
                             GError **error)
{
    g_autoptr(GString) tried = g_string_new(NULL);
    int err = 0;

    if (g_strcmp0(disk->source_protocol, "rbd") != 0 || disk->source_hosts->len == 0)
        return TRUE;
    for (guint i = 0; i < disk->source_hosts->len; i++) {
        const nv_disk_host *host = g_ptr_array_index(disk->source_hosts, i);
        const char *port = host->port ? host->port : CEPH_MON_DEFAULT_PORT;

        err = probe_tcp(host->name, port, timeout_ms);
        if (err == 0)
            return TRUE;
        g_string_append_printf(tried, "%s%s:%s", i ? ", " : "", host->name, port);
    }
    g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                "volume %s: no Ceph monitor answers at %s (%s); QEMU would wait minutes for one",
                volume_id, tried->str, g_strerror(err));
    return FALSE;
}

static nv_disk_config *
net_get_config(const nv_volume_driver *driver, const nv_connection_info *info,
               const nv_disk_info *disk_info, const nv_conf *conf, GError **error)
{
    return nv_volume_net_get_config(info, disk_info, conf, error);
}

const nv_volume_driver nv_volume_driver_net = {
    .name = "LibvirtNetVolumeDriver",
    .is_block_dev = FALSE,
    .get_config = net_get_config,
};
