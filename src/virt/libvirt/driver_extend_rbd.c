/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the guest of an rbd disk sees after Cinder grew the image (nova
 * bug 1913575: _resize_attached_encrypted_volume reads the LUKS payload
 * offset with `qemu-img info` on rbd:POOL/VOL:id=USER, as there is no host
 * device to read a header from).
 *
 * qemu-img opens the image as the disk's cephx user with the host's Ceph
 * client configuration (CEPH_CONF or /etc/ceph/ceph.conf and its keyring),
 * as Nova's call does: the key in the operator's libvirt secret is private
 * and stays there.  The image is named in a json: filename built with
 * json-glib (no quoting of pool or image names by hand), and the disk's
 * monitors are passed as its servers.  The output is read with json-glib.
 *
 * - LUKS1 decrypted by QEMU: the payload offset from the luks driver's
 *   format-specific data, opened without its key (qemu-img info opens
 *   images with BDRV_O_NO_IO, so the luks driver reads the header only).
 * - LUKS2 decrypted by librbd: librbd's own decrypted size (the image size
 *   minus the data offset its LUKS2 header records; 16 MiB for a header
 *   `rbd encryption format` writes in Ceph 16), so nothing is hard-coded.
 *   librbd needs the passphrase to load the encryption: it goes to qemu-img
 *   on a pipe (--object secret,file=/dev/fd/3), never argv or a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "virt/libvirt/driver_priv.h"
#include "virt/libvirt/volume/volume.h"

/* The secret object's id in qemu-img's command line (no key in it). */
#define KEY_SECRET_ID "nvkey0"

/* The fd qemu-img reads the passphrase from. */
#define KEY_FD 3

/* How qemu-img opens the image: its LUKS1 header by QEMU's luks driver,
 * its bytes as they are, or decrypted by librbd. */
typedef enum {
    OPEN_LUKS,
    OPEN_RAW,
    OPEN_LIBRBD_LUKS2,
} open_mode;

static JsonNode *
rbd_node(const nv_disk_config *disk, open_mode mode)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_auto(GStrv) parts = g_strsplit(disk->source_name, "/", 2);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "driver");
    json_builder_add_string_value(b, mode == OPEN_LUKS ? "luks" : "raw");
    json_builder_set_member_name(b, "file");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "driver");
    json_builder_add_string_value(b, "rbd");
    json_builder_set_member_name(b, "pool");
    json_builder_add_string_value(b, parts[0]);
    json_builder_set_member_name(b, "image");
    json_builder_add_string_value(b, parts[1]);
    if (disk->auth_username) {
        json_builder_set_member_name(b, "user");
        json_builder_add_string_value(b, disk->auth_username);
    }
    if (disk->source_hosts->len > 0) {
        json_builder_set_member_name(b, "server");
        json_builder_begin_array(b);
        for (guint i = 0; i < disk->source_hosts->len; i++) {
            const nv_disk_host *host = g_ptr_array_index(disk->source_hosts, i);

            json_builder_begin_object(b);
            json_builder_set_member_name(b, "host");
            json_builder_add_string_value(b, host->name);
            json_builder_set_member_name(b, "port");
            json_builder_add_string_value(b, host->port ? host->port : "6789");
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
    }
    if (mode == OPEN_LIBRBD_LUKS2) {
        json_builder_set_member_name(b, "encrypt");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "format");
        json_builder_add_string_value(b, "luks2");
        json_builder_set_member_name(b, "key-secret");
        json_builder_add_string_value(b, KEY_SECRET_ID);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* A pipe whose read end holds @passphrase and end of file; the read end
 * through @read_fd. */
static gboolean
passphrase_pipe(const char *volume_id, const nv_secure_buf *passphrase, int *read_fd,
                GError **error)
{
    int fds[2];
    gsize len = nv_secure_buf_len(passphrase);
    ssize_t done;

    if (!g_unix_open_pipe(fds, FD_CLOEXEC, error)) {
        g_prefix_error(error, "volume %s: ", volume_id);
        return FALSE;
    }
    /* A passphrase is far below the pipe's capacity: no reader needed. */
    done = write(fds[1], nv_secure_buf_cdata(passphrase), len);
    close(fds[1]);
    if (done != (ssize_t)len) {
        close(fds[0]);
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "volume %s: passing the key to qemu-img: %s",
                    volume_id, done < 0 ? g_strerror(errno) : "short write");
        return FALSE;
    }
    *read_fd = fds[0];
    return TRUE;
}

/* `qemu-img info --output=json` of @disk's image, as a JSON object. */
static JsonNode *
rbd_image_info(const char *volume_id, const nv_disk_config *disk, open_mode mode,
               const nv_secure_buf *passphrase, GError **error)
{
    g_autoptr(JsonNode) node = NULL;
    g_autofree char *json = NULL;
    g_autofree char *filename = NULL;
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    JsonNode *root;

    /* librbd would wait client_mount_timeout (300 s) for a monitor that
     * does not answer: refuse in bounded time, as attach does. */
    if (!nv_volume_net_check_monitors(disk, volume_id, NV_CEPH_MON_PROBE_TIMEOUT_MS, error))
        return NULL;
    if (!disk->source_name || !strchr(disk->source_name, '/')) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: rbd disk source '%s' is not pool/image", volume_id,
                    disk->source_name ? disk->source_name : "");
        return NULL;
    }
    node = rbd_node(disk, mode);
    json = json_to_string(node, FALSE);
    filename = g_strconcat("json:", json, NULL);

    g_ptr_array_add(argv, "qemu-img");
    g_ptr_array_add(argv, "info");
    g_ptr_array_add(argv, "--output=json");
    g_ptr_array_add(argv, "--force-share");
    if (mode == OPEN_LIBRBD_LUKS2) {
        int fd = -1;

        if (!passphrase_pipe(volume_id, passphrase, &fd, error))
            return NULL;
        g_subprocess_launcher_take_fd(launcher, fd, KEY_FD);
        g_ptr_array_add(argv, "--object");
        g_ptr_array_add(argv, "secret,id=" KEY_SECRET_ID ",format=raw,file=/dev/fd/3");
    }
    g_ptr_array_add(argv, filename);
    g_ptr_array_add(argv, NULL);

    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, error);
    if (!proc || !g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, error)) {
        g_prefix_error(error, "volume %s: qemu-img info of rbd image %s: ", volume_id,
                       disk->source_name);
        return NULL;
    }
    if (!g_subprocess_get_successful(proc)) {
        g_strstrip(err);
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "volume %s: qemu-img info of rbd image %s: %s", volume_id, disk->source_name,
                    strchr(err, '\n') ? strrchr(err, '\n') + 1 : err);
        return NULL;
    }
    root = json_parser_load_from_data(parser, out, -1, error) ? json_parser_get_root(parser) : NULL;
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_clear_error(error);
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "volume %s: qemu-img info of rbd image %s printed no JSON object", volume_id,
                    disk->source_name);
        return NULL;
    }
    return json_node_copy(root);
}

/* A member of @object that must be a non-negative integer. */
static gboolean
get_size(JsonObject *object, const char *name, guint64 *value)
{
    JsonNode *node = object ? json_object_get_member(object, name) : NULL;

    if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
        json_node_get_int(node) < 0)
        return FALSE;
    *value = (guint64)json_node_get_int(node);
    return TRUE;
}

/* A member of @object that is an object, or NULL. */
static JsonObject *
get_object(JsonObject *object, const char *name)
{
    JsonNode *node = object ? json_object_get_member(object, name) : NULL;

    return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

gboolean
nv_extend_rbd_luks_sizes(const char *volume_id, const nv_disk_config *disk, guint64 *image_size,
                         guint64 *payload_offset, GError **error)
{
    g_autoptr(JsonNode) info = rbd_image_info(volume_id, disk, OPEN_LUKS, NULL, error);
    JsonObject *specific, *data = NULL;
    guint64 virtual_size = 0;

    if (!info)
        return FALSE;
    specific = get_object(json_node_get_object(info), "format-specific");
    if (specific &&
        g_strcmp0(json_object_get_string_member_with_default(specific, "type", ""), "luks") == 0)
        data = get_object(specific, "data");
    if (!get_size(data, "payload-offset", payload_offset) ||
        !get_size(json_node_get_object(info), "virtual-size", &virtual_size)) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "volume %s: qemu-img info of rbd image %s gives no LUKS payload offset",
                    volume_id, disk->source_name);
        return FALSE;
    }
    /* QEMU's luks driver: the guest gets the image after the offset. */
    *image_size = virtual_size + *payload_offset;
    return TRUE;
}

gboolean
nv_extend_rbd_librbd_sizes(const char *volume_id, const nv_disk_config *disk,
                           const nv_secure_buf *passphrase, guint64 *image_size,
                           guint64 *header_size, GError **error)
{
    g_autoptr(JsonNode) raw = rbd_image_info(volume_id, disk, OPEN_RAW, NULL, error);
    g_autoptr(JsonNode) decrypted = NULL;
    guint64 size = 0;

    if (!raw)
        return FALSE;
    decrypted = rbd_image_info(volume_id, disk, OPEN_LIBRBD_LUKS2, passphrase, error);
    if (!decrypted)
        return FALSE;
    if (!get_size(json_node_get_object(raw), "virtual-size", image_size) ||
        !get_size(json_node_get_object(decrypted), "virtual-size", &size) || size > *image_size) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "volume %s: qemu-img info of rbd image %s gives no sizes librbd decrypts to",
                    volume_id, disk->source_name);
        return FALSE;
    }
    *header_size = *image_size - size;
    return TRUE;
}
