/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encryptor selection (os_brick/encryptors/__init__.py get_volume_encryptor)
 * and what the dm-crypt encryptors share: the mapping name, the symlink swap
 * at device_path and closing the mapping (os_brick/encryptors/cryptsetup.py).
 */
#include "encryptors/encryptor_priv.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "encryptors/crypt_util.h"
#include "nvirt/error.h"

#define MAPPER_DIR "/dev/mapper"

/* libcryptsetup gives every mapping it activates a device-mapper UUID
 * "CRYPT-<TYPE>-..."; verity and integrity devices share the prefix but are
 * not dm-crypt. */
static gboolean
is_crypt_uuid(const char *uuid)
{
    return g_str_has_prefix(uuid, "CRYPT-") && !g_str_has_prefix(uuid, "CRYPT-VERITY-") &&
           !g_str_has_prefix(uuid, "CRYPT-INTEGRITY-");
}

/* Contents of a one-line sysfs attribute, trailing newline removed. */
static char *
read_sysfs_line(const char *path)
{
    char *contents = NULL;

    if (!g_file_get_contents(path, &contents, NULL, NULL))
        return NULL;
    return g_strchomp(contents);
}

static gboolean
parse_devno(const char *text, dev_t *devno)
{
    unsigned int maj, min;

    if (!text || sscanf(text, "%u:%u", &maj, &min) != 2)
        return FALSE;
    *devno = makedev(maj, min);
    return TRUE;
}

/* The one device under a mapping (its sysfs "slaves"). */
static void
lookup_backing(const char *dm_dir, nv_mapping_info *info)
{
    g_autofree char *slaves = g_build_filename(dm_dir, "slaves", NULL);
    g_autoptr(GDir) dir = g_dir_open(slaves, 0, NULL);
    const char *entry;
    g_autofree char *only = NULL;
    int count = 0;

    if (!dir)
        return;
    while ((entry = g_dir_read_name(dir))) {
        count++;
        g_free(only);
        only = g_strdup(entry);
    }
    if (count == 1) {
        g_autofree char *dev_attr = g_build_filename(slaves, only, "dev", NULL);
        g_autofree char *dev = read_sysfs_line(dev_attr);

        if (parse_devno(dev, &info->backing_devno))
            g_strlcpy(info->backing_name, only, sizeof(info->backing_name));
    }
}

gboolean
nv_mapping_lookup(const char *sysfs_root, const char *name, nv_mapping_info *info, GError **error)
{
    g_autofree char *block = g_build_filename(sysfs_root, "block", NULL);
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) dir = NULL;
    const char *entry;

    memset(info, 0, sizeof(*info));
    info->state = NV_MAPPING_INACTIVE;
    dir = g_dir_open(block, 0, &local);
    if (!dir) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "cannot list device-mapper devices: %s",
                    local->message);
        return FALSE;
    }
    while ((entry = g_dir_read_name(dir))) {
        g_autofree char *dm_dir = NULL;
        g_autofree char *name_attr = NULL;
        g_autofree char *dm_name = NULL;
        g_autofree char *uuid_attr = NULL;
        g_autofree char *uuid = NULL;
        g_autofree char *dev_attr = NULL;
        g_autofree char *dev = NULL;

        if (!g_str_has_prefix(entry, "dm-"))
            continue;
        dm_dir = g_build_filename(block, entry, NULL);
        name_attr = g_build_filename(dm_dir, "dm", "name", NULL);
        dm_name = read_sysfs_line(name_attr);
        if (g_strcmp0(dm_name, name) != 0)
            continue;

        uuid_attr = g_build_filename(dm_dir, "dm", "uuid", NULL);
        uuid = read_sysfs_line(uuid_attr);
        dev_attr = g_build_filename(dm_dir, "dev", NULL);
        dev = read_sysfs_line(dev_attr);
        parse_devno(dev, &info->devno);
        info->state = uuid && is_crypt_uuid(uuid) ? NV_MAPPING_CRYPT : NV_MAPPING_OTHER;
        lookup_backing(dm_dir, info);
        return TRUE;
    }
    return TRUE;
}

char *
nv_encryptor_default_mapping_name(const char *device_path)
{
    g_autofree char *base = g_path_get_basename(device_path);

    /* os-brick bug 1439869: a bare basename can clash with a multipath
     * device's name in /dev/mapper. */
    return g_strdup_printf("crypt-%s", base);
}

static nv_encryptor *
encryptor_alloc(const nv_encryptor_ops *ops, nv_encryption_format format, const char *volume_id,
                const char *device_path, const char *cipher, guint key_size_bits)
{
    nv_encryptor *enc = g_new0(nv_encryptor, 1);

    enc->ops = ops;
    enc->format = format;
    enc->volume_id = g_strdup(volume_id ? volume_id : "(unknown)");
    enc->device_path = g_strdup(device_path);
    enc->cipher = g_strdup(cipher);
    enc->key_size_bits = key_size_bits;
    enc->sysfs_root = g_strdup("/sys");
    return enc;
}

void
nv_encryptor_set_sysfs_root(nv_encryptor *enc, const char *root)
{
    g_free(enc->sysfs_root);
    enc->sysfs_root = g_strdup(root);
}

nv_encryptor *
nv_encryptor_new(const char *volume_id, const char *device_path, const char *provider,
                 const char *control_location, const char *cipher, guint key_size_bits,
                 GError **error)
{
    g_autoptr(nv_encryptor) enc = NULL;
    g_autofree char *base = NULL;
    nv_encryption_format format;
    const nv_encryptor_ops *ops;
    nv_mapping_info old;

    /* os-brick maps the provider only for front-end encryption: with
     * encryption done by the back end, any provider gets the no-op. */
    if (!nv_encryptors_is_front_end(control_location))
        return encryptor_alloc(&nv_nop_encryptor_ops, NV_ENCRYPTION_FORMAT_NONE, volume_id,
                               device_path, cipher, key_size_bits);
    if (!nv_encryptors_provider_to_format(provider, volume_id, &format, error))
        return NULL;
    switch (format) {
    case NV_ENCRYPTION_FORMAT_NONE:
        return encryptor_alloc(&nv_nop_encryptor_ops, format, volume_id, device_path, cipher,
                               key_size_bits);
    case NV_ENCRYPTION_FORMAT_LUKS:
    case NV_ENCRYPTION_FORMAT_LUKS2:
        ops = &nv_luks_encryptor_ops;
        break;
    case NV_ENCRYPTION_FORMAT_PLAIN:
    default:
        ops = &nv_plain_encryptor_ops;
        break;
    }

    /* Network volumes (rbd, ...) have no host device to put dm-crypt on
     * (os-brick's VolumeEncryptionNotSupported). */
    if (!device_path || !*device_path) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: encryption not supported for this volume type",
                    volume_id ? volume_id : "(unknown)");
        return NULL;
    }
    if (key_size_bits % 8 != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: key size %u is not a multiple of 8 bits",
                    volume_id ? volume_id : "(unknown)", key_size_bits);
        return NULL;
    }
    base = g_path_get_basename(device_path);
    if (!g_path_is_absolute(device_path) || g_str_equal(base, G_DIR_SEPARATOR_S) ||
        g_str_equal(base, ".") || g_str_equal(base, "..") || strlen(base) > 120) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: device_path '%s' is not an absolute path to a device",
                    volume_id ? volume_id : "(unknown)", device_path);
        return NULL;
    }

    enc = encryptor_alloc(ops, format, volume_id, device_path, cipher, key_size_bits);
    enc->mapping_name = nv_encryptor_default_mapping_name(device_path);
    /* Nova before the crypt- prefix named the mapping after the device:
     * keep using such a mapping so it can still be detached (rolling
     * upgrade, as os-brick does). */
    if (!nv_mapping_lookup("/sys", base, &old, error))
        return NULL;
    if (old.state == NV_MAPPING_CRYPT) {
        g_debug("volume %s: using the older mapping name %s", enc->volume_id, base);
        g_free(enc->mapping_name);
        enc->mapping_name = g_steal_pointer(&base);
    }
    return g_steal_pointer(&enc);
}

void
nv_encryptor_free(nv_encryptor *enc)
{
    if (!enc)
        return;
    g_free(enc->volume_id);
    g_free(enc->device_path);
    g_free(enc->mapping_name);
    g_free(enc->cipher);
    g_free(enc->sysfs_root);
    g_free(enc);
}

nv_encryption_format
nv_encryptor_format(const nv_encryptor *enc)
{
    return enc->format;
}

const char *
nv_encryptor_mapping_name(const nv_encryptor *enc)
{
    return enc->mapping_name;
}

const char *
nv_encryptor_device_path(const nv_encryptor *enc)
{
    return enc->device_path;
}

void
nv_encryptor_set_pbkdf2_iterations(nv_encryptor *enc, guint32 iterations)
{
    enc->pbkdf2_iterations = iterations;
}

gboolean
nv_encryptor_attach(nv_encryptor *enc, const nv_secure_buf *passphrase, GError **error)
{
    return enc->ops->attach(enc, passphrase, error);
}

gboolean
nv_encryptor_detach(nv_encryptor *enc, GError **error)
{
    return enc->ops->detach(enc, error);
}

gboolean
nv_encryptor_extend(nv_encryptor *enc, const nv_secure_buf *passphrase, guint64 *decrypted_size,
                    GError **error)
{
    *decrypted_size = 0;
    return enc->ops->extend(enc, passphrase, decrypted_size, error);
}

gboolean
nv_encryptor_prepare_attach(nv_encryptor *enc, char **device, gboolean *already_open,
                            GError **error)
{
    nv_mapping_info info;
    struct stat st;
    char *real;

    *device = NULL;
    *already_open = FALSE;
    if (!nv_mapping_lookup(enc->sysfs_root, enc->mapping_name, &info, error))
        return FALSE;
    if (info.state == NV_MAPPING_OTHER) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: device-mapper name %s is taken by a device that is not a "
                    "crypt mapping",
                    enc->volume_id, enc->mapping_name);
        return FALSE;
    }
    if (stat(enc->device_path, &st) < 0) {
        int err = errno;

        g_set_error(error, NV_ERROR, err == ENOENT ? NV_ERROR_NOT_FOUND : NV_ERROR_FAILED,
                    "volume %s: device %s: %s", enc->volume_id, enc->device_path, g_strerror(err));
        return FALSE;
    }
    if (info.state == NV_MAPPING_CRYPT) {
        /* Attached before (device_path points at the mapping) or opened by
         * someone else over this very device: reuse it. */
        /* Only a block device can be the mapping or its backing device: a
         * regular file has st_rdev 0, which would match a backing device
         * number that could not be read (0) and have its path replaced by
         * a link to the mapping. */
        if (S_ISBLK(st.st_mode) && st.st_rdev != 0 &&
            (st.st_rdev == info.devno || st.st_rdev == info.backing_devno)) {
            *already_open = TRUE;
            return TRUE;
        }
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: crypt mapping %s is already open over another device (%s)",
                    enc->volume_id, enc->mapping_name,
                    *info.backing_name ? info.backing_name : "unknown");
        return FALSE;
    }
    /* os-brick opens realpath(device_path): the node, not the symlink. */
    real = realpath(enc->device_path, NULL);
    if (!real) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "volume %s: cannot resolve device %s: %s",
                    enc->volume_id, enc->device_path, g_strerror(errno));
        return FALSE;
    }
    *device = g_strdup(real);
    free(real);
    return TRUE;
}

gboolean
nv_encryptor_is_block_device(const char *device)
{
    struct stat st;

    return stat(device, &st) == 0 && S_ISBLK(st.st_mode);
}

gboolean
nv_encryptor_require_block_device(nv_encryptor *enc, const char *device, GError **error)
{
    struct stat st;

    if (stat(device, &st) < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "volume %s: device %s: %s", enc->volume_id,
                    device, g_strerror(errno));
        return FALSE;
    }
    /* libcryptsetup would put a loop device under an image file, which
     * detach could not put back at device_path. */
    if (!S_ISBLK(st.st_mode)) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: device %s is not a block device", enc->volume_id, device);
        return FALSE;
    }
    return TRUE;
}

/* Put a new directory entry at device_path: a symlink to @target, or (when
 * @target is NULL) a block device node @devno.  Made under a temporary name
 * beside it and renamed over it, so device_path never goes missing. */
static gboolean
replace_device_path(nv_encryptor *enc, const char *target, dev_t devno, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(enc->device_path);
    g_autofree char *base = g_path_get_basename(enc->device_path);
    g_autofree char *tmp = g_strdup_printf("%s/.%s.nvirt-tmp", dir, base);
    int r;

    if (unlink(tmp) < 0 && errno != ENOENT) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "volume %s: cannot remove stale %s: %s",
                    enc->volume_id, tmp, g_strerror(errno));
        return FALSE;
    }
    r = target ? symlink(target, tmp) : mknod(tmp, S_IFBLK | 0660, devno);
    if (r < 0 || rename(tmp, enc->device_path) < 0) {
        int err = errno;

        unlink(tmp);
        if (target)
            g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "volume %s: cannot point %s at %s: %s",
                        enc->volume_id, enc->device_path, target, g_strerror(err));
        else
            g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                        "volume %s: cannot restore device node %s (%u:%u): %s", enc->volume_id,
                        enc->device_path, major(devno), minor(devno), g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

gboolean
nv_encryptor_link_mapping(nv_encryptor *enc, GError **error)
{
    g_autofree char *target = g_build_filename(MAPPER_DIR, enc->mapping_name, NULL);

    return replace_device_path(enc, target, 0, error);
}

gboolean
nv_encryptor_activate(nv_encryptor *enc, struct crypt_device *cd, const char *device,
                      const char *what, const nv_secure_buf *passphrase, const nv_crypt_log *log,
                      GError **error)
{
    int r;

    r = crypt_activate_by_passphrase(cd, enc->mapping_name, CRYPT_ANY_SLOT,
                                     nv_secure_buf_str(passphrase), nv_secure_buf_len(passphrase),
                                     0);
    if (r == -EPERM) {
        g_set_error(error, NV_ERROR, NV_ERROR_WRONG_PASSPHRASE,
                    "volume %s: passphrase does not open any keyslot of %s", enc->volume_id,
                    device);
        return FALSE;
    }
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: cannot open %s as %s %s: %s%s",
                    enc->volume_id, device, what, enc->mapping_name, g_strerror(-r), detail);
        return FALSE;
    }
    return TRUE;
}

void
nv_encryptor_rollback_open(nv_encryptor *enc)
{
    g_autoptr(GError) local = NULL;
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    int r;

    nv_crypt_log_begin(&log);
    cd = nv_crypt_open_by_name(enc->mapping_name, enc->volume_id, &log, &local);
    if (!cd) {
        g_warning("%s (after a failed attach)", local->message);
    } else if ((r = crypt_deactivate(cd, enc->mapping_name)) < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_warning("volume %s: cannot close mapping %s after a failed attach: %s%s", enc->volume_id,
                  enc->mapping_name, g_strerror(-r), detail);
    }
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
}

/* Undo the symlink swap after the mapping closed: device_path becomes the
 * backing device again, if it still is our symlink to the mapping. */
static gboolean
restore_device_path(nv_encryptor *enc, const nv_mapping_info *info, GError **error)
{
    g_autofree char *ours = g_build_filename(MAPPER_DIR, enc->mapping_name, NULL);
    g_autofree char *link = NULL;
    g_autofree char *node = NULL;
    struct stat st;

    link = g_file_read_link(enc->device_path, NULL);
    if (!link || !g_str_equal(link, ours)) {
        /* Not a symlink to the mapping (udev rewrote it, or the volume was
         * never linked): nothing of ours to undo. */
        return TRUE;
    }
    if (info->backing_devno == 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "volume %s: mapping %s closed but its device is unknown: %s still points "
                    "at it",
                    enc->volume_id, enc->mapping_name, enc->device_path);
        return FALSE;
    }
    /* device_path was a symlink to the kernel's node (/dev/disk/by-path/...
     * -> /dev/sdb): point it there again.  When device_path was that node
     * itself, os-brick's `ln --symbolic --force` replaced it: make the node
     * again. */
    node = g_build_filename("/dev", info->backing_name, NULL);
    if (!g_str_equal(node, enc->device_path) && stat(node, &st) == 0 && S_ISBLK(st.st_mode) &&
        st.st_rdev == info->backing_devno)
        return replace_device_path(enc, node, 0, error);
    return replace_device_path(enc, NULL, info->backing_devno, error);
}

gboolean
nv_encryptor_close_mapping(nv_encryptor *enc, GError **error)
{
    struct crypt_device *cd = NULL;
    nv_mapping_info info;
    nv_crypt_log log;
    gboolean ok = FALSE;
    int r;

    if (!nv_mapping_lookup(enc->sysfs_root, enc->mapping_name, &info, error))
        return FALSE;
    switch (info.state) {
    case NV_MAPPING_INACTIVE:
        /* os-brick accepts `cryptsetup luksClose` exit code 4: detach is
         * idempotent. */
        g_debug("volume %s: mapping %s is not active", enc->volume_id, enc->mapping_name);
        return TRUE;
    case NV_MAPPING_OTHER:
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: device-mapper device %s is not a crypt mapping: not closing it",
                    enc->volume_id, enc->mapping_name);
        return FALSE;
    case NV_MAPPING_CRYPT:
        break;
    }

    nv_crypt_log_begin(&log);
    cd = nv_crypt_open_by_name(enc->mapping_name, enc->volume_id, &log, error);
    if (!cd)
        goto out;
    r = crypt_deactivate(cd, enc->mapping_name);
    if (r < 0 && r != -ENODEV) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, r == -EBUSY ? NV_ERROR_FAILED : NV_ERROR_CRYPT,
                    "volume %s: cannot close mapping %s: %s%s", enc->volume_id, enc->mapping_name,
                    g_strerror(-r), detail);
        goto out;
    }
    ok = restore_device_path(enc, &info, error);

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return ok;
}
