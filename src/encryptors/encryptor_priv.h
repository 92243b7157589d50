/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the encryptor implementations (luks.c, cryptsetup.c, nop.c) share
 * with the selection and mapping code in encryptor.c.  Internal to
 * src/encryptors/ and its unit tests.
 */
#pragma once

#include <sys/types.h>

#include "encryptors/crypt_util.h"
#include "encryptors/encryptor.h"

G_BEGIN_DECLS

typedef struct {
    const char *name; /* os-brick class name, for messages */
    gboolean (*attach)(nv_encryptor *enc, const nv_secure_buf *passphrase, GError **error);
    gboolean (*detach)(nv_encryptor *enc, GError **error);
    gboolean (*extend)(nv_encryptor *enc, const nv_secure_buf *passphrase, guint64 *decrypted_size,
                       GError **error);
} nv_encryptor_ops;

struct nv_encryptor {
    const nv_encryptor_ops *ops;
    nv_encryption_format format;
    char *volume_id;
    char *device_path;   /* os-brick's symlink_path; NULL only for no-op */
    char *mapping_name;  /* NULL for no-op */
    char *cipher;        /* NULL: cryptsetup's default for the format */
    guint key_size_bits; /* 0: cryptsetup's default */
    guint32 pbkdf2_iterations;
    char *sysfs_root; /* "/sys"; a fake tree in unit tests */
};

extern const nv_encryptor_ops nv_luks_encryptor_ops;  /* luks and luks2 */
extern const nv_encryptor_ops nv_plain_encryptor_ops; /* cryptsetup.c */
extern const nv_encryptor_ops nv_nop_encryptor_ops;

/* State of a device-mapper device by name, read from sysfs
 * (/sys/block/dm-N/dm/{name,uuid}, .../slaves). */
typedef enum {
    NV_MAPPING_INACTIVE,
    NV_MAPPING_CRYPT, /* a dm-crypt mapping made by libcryptsetup */
    NV_MAPPING_OTHER, /* taken by another kind of device-mapper device */
} nv_mapping_state;

typedef struct {
    nv_mapping_state state;
    dev_t devno;           /* the mapping's own device number */
    dev_t backing_devno;   /* its one underlying device; 0 if not exactly one */
    char backing_name[64]; /* kernel name of the underlying device ("vda") */
} nv_mapping_info;

/* Look @name up among the active device-mapper devices.  @sysfs_root is
 * "/sys" outside tests.  Fails (NV_ERROR_CRYPT) only when sysfs cannot be
 * read; a host without device-mapper has no mappings. */
gboolean nv_mapping_lookup(const char *sysfs_root, const char *name, nv_mapping_info *info,
                           GError **error);

/* The mapping name os-brick derives from @device_path: crypt-<basename>. */
char *nv_encryptor_default_mapping_name(const char *device_path);

/* Read device-mapper state under @root instead of /sys from now on (unit
 * tests build a fake tree; nothing else calls this). */
void nv_encryptor_set_sysfs_root(nv_encryptor *enc, const char *root);

/* Shared by luks.c and cryptsetup.c. */

/* The device to open: @enc's device_path resolved (realpath), with the
 * mapping checked: *@already_open is set (and *@device left NULL) when the
 * mapping is active and device_path already points at it or at its backing
 * device.  Refuses a mapping name taken by a non-crypt device or by a
 * mapping over another device, and a device_path that does not exist
 * (NV_ERROR_NOT_FOUND).  Does not require a block device: luks.c looks at
 * an image file first, so a file system on it is reported as such. */
gboolean nv_encryptor_prepare_attach(nv_encryptor *enc, char **device, gboolean *already_open,
                                     GError **error);

/* Whether @device (a path) is a block device; FALSE when it cannot be
 * stat()ed. */
gboolean nv_encryptor_is_block_device(const char *device);

/* NV_ERROR_UNSUPPORTED "volume VOLID: device DEV is not a block device"
 * unless @device is one: dm-crypt mappings go on block devices only. */
gboolean nv_encryptor_require_block_device(nv_encryptor *enc, const char *device, GError **error);

/* Point device_path at /dev/mapper/<name> (atomically, by rename). */
gboolean nv_encryptor_link_mapping(nv_encryptor *enc, GError **error);

/* Activate @enc's mapping over @device from the loaded or formatted @cd with
 * @passphrase (crypt_activate_by_passphrase).  A passphrase that opens no
 * keyslot (-EPERM, LUKS only) is NV_ERROR_WRONG_PASSPHRASE; any other failure
 * NV_ERROR_CRYPT "volume VOLID: cannot open DEVICE as @what NAME: ...", with
 * the detail collected in @log. */
gboolean nv_encryptor_activate(nv_encryptor *enc, struct crypt_device *cd, const char *device,
                               const char *what, const nv_secure_buf *passphrase,
                               const nv_crypt_log *log, GError **error);

/* Deactivate the mapping after a failed attach step; keeps @error's first
 * error. */
void nv_encryptor_rollback_open(nv_encryptor *enc);

/* Close and restore, for luks and plain alike. */
gboolean nv_encryptor_close_mapping(nv_encryptor *enc, GError **error);

G_END_DECLS
