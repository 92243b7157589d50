/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Safe LUKS probe and format for volumes (the native path and the LUKS
 * encryptors).
 *
 * Nova formats a volume on first attach when os-brick's is_luks() says "not
 * LUKS" (cinder bug 1739442).  is_luks() treats ANY probe failure as "not
 * LUKS", so an I/O error or a busy device gets formatted over: data loss.
 * Here only a clean probe that finds no signature at all (nv_luks_probe()
 * kind BLANK) may lead to a format; every failure is an error, and a device
 * carrying any other signature (file system, partition table, RAID member,
 * a LUKS header libcryptsetup cannot load) is never touched.
 *
 * This file and encryptors.c are the only users of libcryptsetup/libblkid.
 */
#pragma once

#include <glib.h>

#include "util/secure.h"

G_BEGIN_DECLS

typedef enum {
    NV_LUKS_PROBE_BLANK, /* no signature in any area libblkid probes */
    NV_LUKS_PROBE_LUKS1, /* LUKS1 header libcryptsetup loads */
    NV_LUKS_PROBE_LUKS2, /* LUKS2 header libcryptsetup loads */
    NV_LUKS_PROBE_OTHER, /* another signature: see nv_luks_probe_result.signature */
} nv_luks_probe_kind;

typedef struct {
    nv_luks_probe_kind kind;
    /* libblkid's name for what was found: "crypto_LUKS" for LUKS1/2, the
     * superblock TYPE ("ext4", "swap", ...) or the partition table PTTYPE
     * ("dos", "gpt") for OTHER; "" for BLANK. */
    char signature[64];
} nv_luks_probe_result;

typedef enum {
    NV_LUKS_TYPE_LUKS1,
    NV_LUKS_TYPE_LUKS2,
} nv_luks_type;

/* Probe @path (block device or regular file) and fill @out.
 *
 * Read-only, with one exception libcryptsetup makes on every crypt_load (and
 * so also `cryptsetup isLuks`, what os-brick probes with): a LUKS2 header
 * whose one copy is damaged is rewritten from the intact copy.
 *
 * Fails with NV_ERROR_CRYPT (message names @path) when the device cannot be
 * opened or read, when libblkid finds ambiguous signatures, or when libblkid
 * sees a LUKS header that libcryptsetup cannot load (or vice versa).  On
 * failure @out is left as kind BLANK but must not be used. */
gboolean nv_luks_probe(const char *path, nv_luks_probe_result *out, GError **error);

/* Short name of a probe kind for messages: "blank", "LUKS1", "LUKS2", "other". */
const char *nv_luks_probe_kind_to_string(nv_luks_probe_kind kind);

/* Format @path as LUKS (@type; the native path always asks for LUKS1, os-brick
 * bug 1831994) and add @passphrase to the first free keyslot.
 *
 * Probes first and refuses unless the volume is BLANK:
 *   NV_ERROR_UNSUPPORTED "volume PATH carries a ext4 signature and no LUKS
 *   header: refusing to format", or "volume PATH already carries a LUKS1
 *   header: refusing to format"; probe errors are passed on unchanged.
 *
 * @cipher: "CIPHER-MODE" as cryptsetup --cipher takes it ("aes-xts-plain64"),
 *   or NULL for cryptsetup's default (aes-xts-plain64).
 * @key_size_bits: volume key size, a multiple of 8; 0 for cryptsetup's default
 *   (256, doubled for XTS which splits the key in two: 512).
 * @pbkdf2_iterations: 0 for libcryptsetup's benchmarked default PBKDF (what
 *   production uses: ~2 s per unlock); otherwise PBKDF2-SHA256 with exactly
 *   this many iterations and no benchmark (tests; LUKS1 needs >= 1000).
 *
 * Bad @cipher / @key_size_bits: NV_ERROR_BAD_INPUT; libcryptsetup failures:
 * NV_ERROR_CRYPT with libcryptsetup's last message.  @passphrase is borrowed. */
gboolean nv_luks_format(const char *path, nv_luks_type type, const char *cipher,
                        guint key_size_bits, const nv_secure_buf *passphrase,
                        guint32 pbkdf2_iterations, GError **error);

/* Check that @passphrase opens a keyslot of the LUKS volume at @path, without
 * device-mapper (crypt_activate_by_passphrase with no name).  Costs one PBKDF
 * run per keyslot tried (~2 s with default parameters), so attach does not
 * call it every time.
 *
 * Errors: NV_ERROR_WRONG_PASSPHRASE "volume PATH: passphrase does not open any
 * keyslot"; NV_ERROR_CRYPT when @path cannot be read or has no LUKS header.
 * @passphrase is borrowed. */
gboolean nv_luks_check_passphrase(const char *path, const nv_secure_buf *passphrase,
                                  GError **error);

G_END_DECLS
