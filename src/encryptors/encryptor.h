/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Volume encryptors: host-side dm-crypt decryption of a volume
 * (os_brick/encryptors), the spec's fallback when QEMU cannot decrypt a
 * volume natively.
 *
 * One implementation per provider, as in os-brick: luks.c (LuksEncryptor,
 * Luks2Encryptor), cryptsetup.c (CryptsetupEncryptor, plain dm-crypt) and
 * nop.c (NoOpEncryptor).  They drive dm-crypt through libcryptsetup, never
 * through the cryptsetup binary.
 *
 * Attach opens a dm-crypt mapping named crypt-<basename(device_path)> over
 * the volume and turns device_path into a symlink to /dev/mapper/<name>, so
 * whatever is handed device_path (libvirt's <source dev=...>) reads the
 * plaintext.  Detach closes the mapping and puts the original device back at
 * device_path.
 */
#pragma once

#include <glib.h>

#include "encryptors/providers.h"
#include "util/secure.h"

G_BEGIN_DECLS

typedef struct nv_encryptor nv_encryptor;

/* The encryptor for one attached volume.
 *
 * @provider is mapped with the alias table (nv_encryptors_provider_to_format;
 * unknown: NV_ERROR_BAD_INPUT).  A @control_location other than "front-end"
 * (case-insensitive; NULL included), or a provider that maps to none, gives
 * the no-op encryptor, whose operations succeed and touch nothing.
 *
 * luks, luks2 and plain need @device_path (else NV_ERROR_UNSUPPORTED
 * "volume VOLID: encryption not supported for this volume type").  The
 * mapping is named crypt-<basename(@device_path)>, or <basename> when a
 * crypt mapping of that older name is already active (os-brick bug 1439869).
 *
 * @cipher ("aes-xts-plain64", cryptsetup --cipher syntax) and
 * @key_size_bits are the volume type's; NULL / 0 for cryptsetup's defaults.
 * They are used when a luks/luks2 volume is formatted and whenever a plain
 * mapping is opened.
 *
 * All strings are copied.  Caller owns the result; free with
 * nv_encryptor_free().  Nothing is touched on the host until attach. */
nv_encryptor *nv_encryptor_new(const char *volume_id, const char *device_path, const char *provider,
                               const char *control_location, const char *cipher,
                               guint key_size_bits, GError **error);

/* NULL is a no-op.  Does not detach. */
void nv_encryptor_free(nv_encryptor *enc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_encryptor, nv_encryptor_free)

/* The format this encryptor implements (NV_ENCRYPTION_FORMAT_NONE: no-op). */
nv_encryption_format nv_encryptor_format(const nv_encryptor *enc);

/* dm-crypt mapping name; NULL for the no-op encryptor.  Borrowed. */
const char *nv_encryptor_mapping_name(const nv_encryptor *enc);

/* device_path as given to nv_encryptor_new(); NULL for a no-op encryptor
 * made without one.  Borrowed. */
const char *nv_encryptor_device_path(const nv_encryptor *enc);

/* Format new LUKS volumes with PBKDF2-SHA256 of exactly @iterations instead
 * of libcryptsetup's benchmarked default (argon2id for LUKS2).  For tests
 * and slow emulated guests only; 0 restores the default. */
void nv_encryptor_set_pbkdf2_iterations(nv_encryptor *enc, guint32 iterations);

/* Open the mapping with @passphrase (borrowed; the hex of the volume key)
 * and point device_path at /dev/mapper/<name>.
 *
 * luks/luks2: a volume that the safe probe (nv_luks_probe) finds blank is
 * first formatted (LUKS1 for luks, LUKS2 for luks2); a volume with another
 * signature is refused (NV_ERROR_UNSUPPORTED), a probe failure is passed on
 * (NV_ERROR_CRYPT); any LUKS version opens.  A passphrase that opens no
 * keyslot fails with NV_ERROR_WRONG_PASSPHRASE and leaves no mapping.
 * plain: opens as `cryptsetup create --key-file=-` would.
 *
 * Already attached (the mapping is active over this device): succeeds and
 * only re-points device_path.  A device-mapper device of the mapping's name
 * that is not a crypt mapping, or a crypt mapping over another device:
 * NV_ERROR_UNSUPPORTED.  On failure nothing is left open and device_path is
 * unchanged. */
gboolean nv_encryptor_attach(nv_encryptor *enc, const nv_secure_buf *passphrase, GError **error);

/* Close the mapping and make device_path the original device again (a
 * symlink to it, or the device node itself when device_path was the node).
 * A mapping that is not active is success (idempotent, as os-brick accepts
 * cryptsetup's exit code 4).  A mapping of that name that is not a crypt
 * mapping: NV_ERROR_UNSUPPORTED, nothing touched. */
gboolean nv_encryptor_detach(nv_encryptor *enc, GError **error);

/* After the volume grew: resize the mapping to the device and store the
 * decrypted size in bytes in *@decrypted_size.  @passphrase (borrowed) is
 * needed when the volume key lives in the kernel keyring (LUKS2).
 * luks/luks2: a mapping that is not active fails with NV_ERROR_NOT_FOUND.
 * plain: NV_ERROR_UNSUPPORTED, as os-brick's CryptsetupEncryptor.  The no-op
 * encryptor succeeds, touches nothing and reports 0 (unknown). */
gboolean nv_encryptor_extend(nv_encryptor *enc, const nv_secure_buf *passphrase,
                             guint64 *decrypted_size, GError **error);

G_END_DECLS
