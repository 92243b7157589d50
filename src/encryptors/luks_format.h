/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Safe LUKS probe, format and checks for volumes: the native path and the
 * LUKS encryptors both go through nv_luks_ensure(), the one place that
 * decides "probe, refuse or format".
 *
 * Nova formats a volume on first attach when os-brick's is_luks() says "not
 * LUKS" (cinder bug 1739442).  is_luks() treats ANY probe failure as "not
 * LUKS", so an I/O error or a busy device gets formatted over, and libblkid
 * knows no image formats, so a qcow2 image or raw data without a signature
 * "has no signature" too.  Here a volume is blank, and may be formatted,
 * only when all of these hold (issue 8, "one definition of blank"):
 *   - it is declared raw, and does not start with the qcow2 magic;
 *   - libblkid finds no signature and libcryptsetup finds no LUKS header;
 *   - the whole region the LUKS format would write (up to its payload
 *     offset: 2 MiB for LUKS1 with the default cipher, 16 MiB for LUKS2)
 *     reads as zeros, and the volume is larger than that by at least
 *     NV_LUKS_MIN_PAYLOAD.
 * A damaged LUKS magic, a file system libblkid does not know, a plain
 * dm-crypt volume: all are "non-zero data", refused.
 *
 * luks_format.c (probe, passphrase and unlock-cost checks), luks_ensure.c
 * (ensure, unformat) and luks_volume.c (locks, reads and writes, the qcow2
 * header) implement this header.  They, luks.c, cryptsetup.c, encryptor.c
 * and crypt_util.c are the users of libcryptsetup; luks_format.c alone uses
 * libblkid.
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
     * ("dos", "gpt") for OTHER, "qcow2" for an image with the qcow2 magic
     * (checked here: libblkid has no qcow2 prober); "" for BLANK. */
    char signature[64];
} nv_luks_probe_result;

typedef enum {
    NV_LUKS_TYPE_LUKS1,
    NV_LUKS_TYPE_LUKS2,
} nv_luks_type;

/* How the volume's bytes are read by whoever opens it: libvirt's
 * <driver type=...>, Cinder's data.format. */
typedef enum {
    NV_IMAGE_RAW,
    NV_IMAGE_QCOW2,
} nv_image_format;

/* A volume must be larger than the header region by at least this much to
 * be formatted: a LUKS volume with (almost) no payload is a mistake. */
#define NV_LUKS_MIN_PAYLOAD (1024 * 1024)

/* Probe @path (block device or regular file) and fill @out.  Read-only, a
 * quick look: it does not check the zero region (nv_luks_ensure() does).
 *
 * One exception to read-only, which libcryptsetup makes on every crypt_load
 * (and so also `cryptsetup isLuks`, what os-brick probes with): a LUKS2
 * header whose one copy is damaged is rewritten from the intact copy.
 *
 * A file starting with the qcow2 magic is OTHER with signature "qcow2" (the
 * probe looks at the bytes as raw; see nv_luks_ensure() for qcow2 images).
 *
 * Fails with NV_ERROR_CRYPT (message names @path) when the device cannot be
 * opened or read, when libblkid finds ambiguous signatures, or when libblkid
 * sees a LUKS header that libcryptsetup cannot load (or vice versa).  On
 * failure @out is left as kind BLANK but must not be used. */
gboolean nv_luks_probe(const char *path, nv_luks_probe_result *out, GError **error);

/* Short name of a probe kind for messages: "blank", "LUKS1", "LUKS2",
 * "other". */
const char *nv_luks_probe_kind_to_string(nv_luks_probe_kind kind);

typedef enum {
    NV_LUKS_ENSURE_NONE = 0,
    /* Accept an existing header of either LUKS version, as dm-crypt opens
     * both (the encryptors: os-brick's LuksEncryptor opens the LUKS2
     * volumes it formatted under provider luks before os-brick bug 1831994
     * was fixed).  Without it only @want_type is accepted: the native path
     * needs LUKS1, the one QEMU decrypts. */
    NV_LUKS_ENSURE_ANY_VERSION = 1 << 0,
} nv_luks_ensure_flags;

/* What nv_luks_ensure() accepted or made. */
typedef enum {
    NV_LUKS_FOUND_LUKS1,      /* a LUKS1 container (found or formatted) */
    NV_LUKS_FOUND_LUKS2,      /* a LUKS2 container (found or formatted) */
    NV_LUKS_FOUND_QCOW2_LUKS, /* a qcow2 image whose header says crypt_method LUKS */
} nv_luks_found;

/* "LUKS1", "LUKS2", "qcow2 LUKS". */
const char *nv_luks_found_to_string(nv_luks_found found);

typedef struct {
    gboolean formatted; /* this call wrote the LUKS header */
    /* The LUKS header's UUID when @found is LUKS1/LUKS2 (after a format: the
     * one written, to hand to nv_luks_unformat()); "" otherwise. */
    char header_uuid[40];
    nv_luks_found found; /* what the volume is now */
} nv_luks_ensure_result;

/* Make sure the volume @path (@volume_id names it in messages) is ready to
 * be opened as LUKS of @want_type: accept it as it is, format it if it is
 * blank (definition at the top of this file), or refuse it.
 *
 * @image_format NV_IMAGE_RAW:
 *   - a LUKS header of @want_type (of either version with
 *     NV_LUKS_ENSURE_ANY_VERSION): accepted, never reformatted (found
 *     LUKS1/LUKS2, formatted FALSE, header_uuid its UUID).  Otherwise
 *     refused: "volume V: PATH is LUKS2, which QEMU does not decrypt
 *     natively; its encryption provider should be 'luks2'".
 *   - blank: formatted as @want_type with @passphrase in keyslot 0 (found
 *     @want_type, formatted TRUE, header_uuid the new header's).
 *   - anything else refused, NV_ERROR_UNSUPPORTED, one line naming the
 *     volume and what was found: "volume V: PATH is a qcow2 image, not raw:
 *     refusing to format", "volume V: PATH carries a ext4 signature and no
 *     LUKS header: refusing to format", "volume V: non-zero data in the
 *     first 2 MiB of PATH and no LUKS header: refusing to format", "volume
 *     V: PATH (1 MiB) is too small for a LUKS1 header of 2 MiB and a
 *     payload: refusing to format".  Probe errors (NV_ERROR_CRYPT) as
 *     nv_luks_probe() reports them, prefixed "volume V: ".
 * @image_format NV_IMAGE_QCOW2: never formatted (libcryptsetup would write
 *   over the qcow2 header).  Accepted (found NV_LUKS_FOUND_QCOW2_LUKS) only when the qcow2
 *   header's magic is QFI\xfb and its crypt_method is 2 (LUKS), so libvirt's
 *   <encryption format='luks'> with <driver type='qcow2'> is qcow2-internal
 *   LUKS that QEMU decrypts; else refused ("volume V: PATH is a qcow2 image
 *   without LUKS encryption (crypt_method 0): refusing it", "volume V: PATH
 *   is not a qcow2 image: refusing it").  The few fixed big-endian fields are
 *   read here; no library on the host reads qcow2 headers (libblkid has no
 *   qcow2 prober) short of running qemu-img.
 *
 * Concurrency: the format happens only under exclusive access, and the
 * probe is repeated there before anything is written.  A block device is
 * opened O_EXCL (EBUSY while mounted, held by device-mapper or claimed by
 * another O_EXCL opener: NV_ERROR_FAILED "volume V: PATH is in use by
 * another process ..."), and the volume gets an OFD write lock over its
 * whole length, which conflicts with the shared OFD locks QEMU holds on the
 * images it has open: NV_ERROR_FAILED "volume V: PATH is locked by another
 * process" after a bounded wait of 2 s.  The first probe, and a volume that
 * needs no format, take only a shared OFD lock (compatible with QEMU's), so
 * a volume open in QEMU (a retry, a multi-attach) is still accepted, and no
 * probe reads a header while another process writes it.  The caller's
 * per-volume lock serialises nvirt's own operations; these locks are what
 * protects against everything else.
 *
 * Crash safety (issue 12): the header and keyslot are built in a private
 * memfd first (the PBKDF benchmark and the key derivation take seconds; a
 * kill there leaves the volume untouched), then the whole header region is
 * written onto the volume with one pwrite, header first, and fsync'd.  A
 * kill leaves the volume blank, complete, or, if the kernel cut that write
 * short (it stops a page-cache write between pages on SIGKILL; the 4 KiB
 * LUKS1 header page itself is whole or absent), with a header whose only
 * keyslot's key material is incomplete.  That last state cannot be opened
 * by anyone; nv_luks_ensure() recognises it (an all-zero 512-byte sector
 * inside the only active keyslot's random key material, and zeros from
 * there to the payload) and formats again.  After the write, crypt_load of
 * the volume must find the header with the new UUID, complete, or the
 * region is wiped again and the call fails.  (LUKS2: a kill inside the
 * first 16 KiB, the primary header, leaves a header refused as damaged.)
 * A power loss is another matter: disks promise sector atomicity only.
 *
 * @cipher: "CIPHER-MODE" as cryptsetup --cipher takes it ("aes-xts-plain64"),
 *   or NULL for cryptsetup's default (aes-xts-plain64).
 * @key_size_bits: volume key size, a multiple of 8; 0 for cryptsetup's
 *   default (256, doubled for XTS which splits the key in two: 512).
 * @pbkdf2_iterations: 0 for libcryptsetup's benchmarked default PBKDF (what
 *   production uses: ~2 s per unlock); otherwise PBKDF2-SHA256 with exactly
 *   this many iterations and no benchmark (tests; LUKS1 needs >= 1000).
 *
 * Bad @cipher / @key_size_bits: NV_ERROR_BAD_INPUT; libcryptsetup failures:
 * NV_ERROR_CRYPT with libcryptsetup's last message.  @passphrase is
 * borrowed.  @out is filled on success (zeroed on failure). */
gboolean nv_luks_ensure(const char *volume_id, const char *path, nv_image_format image_format,
                        nv_luks_type want_type, nv_luks_ensure_flags flags, const char *cipher,
                        guint key_size_bits, const nv_secure_buf *passphrase,
                        guint32 pbkdf2_iterations, nv_luks_ensure_result *out, GError **error);

/* Roll back a format nv_luks_ensure() did (@header_uuid from its result):
 * write zeros over the LUKS header region (up to the payload offset) again,
 * keyslot area first and the header last, so a kill leaves a header whose
 * keyslot is incomplete, which nv_luks_ensure() formats again.  Takes the
 * same exclusive access as the format.
 *
 * Refuses (NV_ERROR_UNSUPPORTED, nothing written) unless the volume carries
 * a LUKS header with exactly @header_uuid: "volume V: PATH carries LUKS
 * header UUID U, not the one this attach wrote (W): not wiping it", or "...
 * carries no LUKS header: not wiping it".  Locked: as nv_luks_ensure(). */
gboolean nv_luks_unformat(const char *volume_id, const char *path, const char *header_uuid,
                          GError **error);

/* The most a volume's keyslots may ask of an unlock (QEMU derives the key in
 * its main loop; the dm-crypt encryptors in this process).  A zero field
 * means "no bound" for that parameter. */
typedef struct {
    guint64 max_pbkdf2_iterations;
    guint32 max_argon2_memory_kib;
    guint64 max_argon2_cost; /* time cost (passes) x memory in KiB */
} nv_luks_unlock_bound;

/* Defaults: about 5 times what cryptsetup's 2 s default benchmark gives on
 * the reference host (AMD EPYC, 2 vCPUs; `cryptsetup benchmark`, 2.6.1):
 * PBKDF2-SHA256 4 760 844 iterations/s, so 2 s is ~9.5 million and the
 * bound 50 million (~10.5 s there).  argon2id 2 s: 4 passes over 246 375
 * KiB (~1 million KiB-passes/s), bound 5 GiB-passes (~10.6 s), and at most
 * 1 GiB of memory (libcryptsetup's own default maximum).  A volume made
 * with 2^31 PBKDF2 iterations (issue 12) would take ~7.5 minutes. */
#define NV_LUKS_DEFAULT_MAX_PBKDF2_ITERATIONS G_GUINT64_CONSTANT(50000000)
#define NV_LUKS_DEFAULT_MAX_ARGON2_MEMORY_KIB 1048576U
#define NV_LUKS_DEFAULT_MAX_ARGON2_COST       (G_GUINT64_CONSTANT(5) * 1048576U)

/* Refuse the LUKS volume at @path when any active keyslot's PBKDF costs more
 * than @bound allows (NULL: the defaults above), before it is handed to
 * QEMU or opened: NV_ERROR_UNSUPPORTED "volume V: keyslot 0 of PATH asks
 * for 2147483648 PBKDF2 iterations, more than the bound of 50000000:
 * refusing to unlock it".  No keyslot active, no LUKS header: NV_ERROR_CRYPT.
 * Reads the header only (crypt_keyslot_get_pbkdf). */
gboolean nv_luks_check_unlock_cost(const char *volume_id, const char *path,
                                   const nv_luks_unlock_bound *bound, GError **error);

/* The LUKS payload offset of the volume at @path in bytes, where the
 * encrypted data starts (what `qemu-img info` reports as payload-offset and
 * Nova subtracts from a grown volume's size before QEMU's block resize).
 * Reads the header only (crypt_load, any LUKS version).  No LUKS header or
 * an unreadable volume: NV_ERROR_CRYPT naming @volume_id and @path. */
gboolean nv_luks_get_payload_offset(const char *volume_id, const char *path, guint64 *offset,
                                    GError **error);

/* Deprecated, for driver.c until it calls nv_luks_ensure(): nv_luks_ensure()
 * on a raw volume, naming the volume by @path, that refuses a volume that
 * is LUKS already (NV_ERROR_UNSUPPORTED "volume PATH already carries a LUKS1
 * header: refusing to format"). */
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
