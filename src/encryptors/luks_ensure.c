/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nv_luks_ensure(): "probe, refuse or format" for the native path and the
 * LUKS encryptors, the replacement for os-brick's LuksEncryptor._is_luks() +
 * _format_volume() and Nova's _attach_encryptor format step; and
 * nv_luks_unformat() to roll a format back.  The rules are in luks_format.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encryptors/crypt_util.h"
#include "encryptors/luks_format.h"
#include "encryptors/luks_priv.h"
#include "nvirt/error.h"

/* cryptsetup's compiled-in LUKS defaults (cryptsetup --help, 2.6): volumes
 * are formatted with the volume type's cipher, and with these when it has
 * none, as `cryptsetup luksFormat` without --cipher/--key-size would. */
#define DEFAULT_CIPHER   "aes"
#define DEFAULT_MODE     "xts-plain64"
#define DEFAULT_KEY_BITS 256
#define DEFAULT_HASH     "sha256"

#define SECTOR_SIZE 512
#define PAGE        4096
#define READ_CHUNK  (1024 * 1024)
/* AF stripes of every LUKS1 keyslot and of LUKS2's "luks1" AF type. */
#define AF_STRIPES 4000
/* The private device the layout is computed on: larger than any LUKS1
 * header (4 MiB at most) and LUKS2's default 16 MiB. */
#define LAYOUT_DEVICE_SIZE (64 * 1024 * 1024)
typedef struct {
    const char *volume_id;
    const char *path;
    nv_luks_type type;
    nv_luks_ensure_flags flags;
    char *cipher;
    char *mode;
    guint key_bits;
    guint32 pbkdf2_iterations;
    /* From the layout (computed on first need): the header region, i.e. the
     * payload offset in bytes; 0 until then. */
    guint64 payload;
} format_plan;

typedef enum {
    VERDICT_ACCEPT, /* use as it is: out->found says what it is */
    VERDICT_FORMAT, /* blank (or our own interrupted format): format it */
} assess_verdict;

static void
plan_clear(format_plan *plan)
{
    g_clear_pointer(&plan->cipher, g_free);
    g_clear_pointer(&plan->mode, g_free);
}

static const char *
crypt_type_of(nv_luks_type type)
{
    return type == NV_LUKS_TYPE_LUKS2 ? CRYPT_LUKS2 : CRYPT_LUKS1;
}

/* "2 MiB", "1028 KiB", "1000 bytes". */
static char *
size_text(guint64 bytes)
{
    if (bytes && bytes % (1024 * 1024) == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT " MiB", bytes / (1024 * 1024));
    if (bytes && bytes % 1024 == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT " KiB", bytes / 1024);
    return g_strdup_printf("%" G_GUINT64_FORMAT " bytes", bytes);
}

static gboolean
plan_init(format_plan *plan, const char *volume_id, const char *path, nv_luks_type type,
          nv_luks_ensure_flags flags, const char *cipher, guint key_size_bits,
          guint32 pbkdf2_iterations, GError **error)
{
    memset(plan, 0, sizeof(*plan));
    plan->volume_id = volume_id;
    plan->path = path;
    plan->type = type;
    plan->flags = flags;
    plan->pbkdf2_iterations = pbkdf2_iterations;
    if (!cipher) {
        plan->cipher = g_strdup(DEFAULT_CIPHER);
        plan->mode = g_strdup(DEFAULT_MODE);
    } else if (!nv_crypt_split_cipher(volume_id, cipher, &plan->cipher, &plan->mode, error)) {
        return FALSE;
    }
    if (key_size_bits % 8 != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: key size %u is not a multiple of 8 bits", volume_id, key_size_bits);
        plan_clear(plan);
        return FALSE;
    }
    if (key_size_bits == 0) {
        /* cryptsetup doubles the default for XTS, which splits the key in
         * two halves. */
        key_size_bits = DEFAULT_KEY_BITS;
        if (g_str_has_prefix(plan->mode, "xts-"))
            key_size_bits *= 2;
    }
    plan->key_bits = key_size_bits;
    return TRUE;
}

/* A private device for libcryptsetup to format: a memfd, which nobody else
 * can open and which vanishes with this process. */
static int
private_device(const format_plan *plan, guint64 size, char **dev_path, GError **error)
{
    int fd = memfd_create("nvirt-luks-header", MFD_CLOEXEC);

    if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
        int err = errno;

        if (fd >= 0)
            close(fd);
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: cannot make a private device for the LUKS header: %s",
                    plan->volume_id, g_strerror(err));
        return -1;
    }
    *dev_path = g_strdup_printf("/proc/self/fd/%d", fd);
    return fd;
}

/* Format a private device as @plan says.  With @passphrase NULL, only the
 * layout is wanted (sets plan->payload): the cheapest PBKDF and no keyslot.
 * Otherwise the real header with @passphrase in a keyslot: returns the memfd
 * holding it (caller closes) and its UUID in @uuid. */
static int
build_header(format_plan *plan, const nv_secure_buf *passphrase, char *uuid, gsize uuid_len,
             GError **error)
{
    guint32 iterations = passphrase ? plan->pbkdf2_iterations : 1000;
    struct crypt_params_luks1 luks1 = { .hash = DEFAULT_HASH };
    struct crypt_pbkdf_type pbkdf = {
        .type = CRYPT_KDF_PBKDF2,
        .hash = DEFAULT_HASH,
        .iterations = iterations,
        .flags = CRYPT_PBKDF_NO_BENCHMARK,
    };
    const char *crypt_type = crypt_type_of(plan->type);
    g_autofree char *dev_path = NULL;
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    guint64 payload;
    int fd;
    int r;

    /* A file has no I/O topology, so libcryptsetup aligns the payload to its
     * default 1 MiB, as `cryptsetup luksFormat` does on files and most
     * disks. */
    fd = private_device(plan, passphrase ? plan->payload + NV_LUKS_MIN_PAYLOAD : LAYOUT_DEVICE_SIZE,
                        &dev_path, error);
    if (fd < 0)
        return -1;
    nv_crypt_log_begin(&log);
    cd = nv_crypt_open(dev_path, &log, error);
    if (!cd)
        goto fail;
    if (iterations > 0 && (r = crypt_set_pbkdf_type(cd, &pbkdf)) < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: PBKDF2 with %u iterations rejected: %s%s", plan->volume_id,
                    iterations, g_strerror(-r), detail);
        goto fail;
    }
    /* Always an explicit type: cryptsetup >= 2.1 defaults to LUKS2, which
     * QEMU cannot open (os-brick bug 1831994). */
    r = crypt_format(cd, crypt_type, plan->cipher, plan->mode, NULL, NULL, plan->key_bits / 8,
                     plan->type == NV_LUKS_TYPE_LUKS1 ? (void *)&luks1 : NULL);
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: cannot format as %s with cipher %s-%s and a %u-bit key: %s%s",
                    plan->volume_id, crypt_type, plan->cipher, plan->mode, plan->key_bits,
                    g_strerror(-r), detail);
        goto fail;
    }
    payload = crypt_get_data_offset(cd) * SECTOR_SIZE;
    if (!passphrase) {
        plan->payload = payload;
        nv_crypt_close(cd);
        nv_crypt_log_end(&log);
        close(fd);
        return 0;
    }
    if (payload != plan->payload) {
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: the %s header came out %" G_GUINT64_FORMAT
                    " bytes long, not the %" G_GUINT64_FORMAT " checked",
                    plan->volume_id, crypt_type, payload, plan->payload);
        goto fail;
    }
    r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, nv_secure_buf_str(passphrase),
                                        nv_secure_buf_len(passphrase));
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: cannot add the passphrase keyslot to a new %s header: %s%s",
                    plan->volume_id, crypt_type, g_strerror(-r), detail);
        goto fail;
    }
    g_strlcpy(uuid, crypt_get_uuid(cd), uuid_len);
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return fd;

fail:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    close(fd);
    return -1;
}

static gboolean
plan_layout(format_plan *plan, GError **error)
{
    return plan->payload || build_header(plan, NULL, NULL, 0, error) == 0;
}

/* The state a kill during our header write (or unformat) leaves: exactly
 * one active keyslot, an all-zero 512-byte sector inside its key material
 * (which is random: AF-split, encrypted; 2^-4096 odds otherwise), and
 * zeros from there to the payload.  No passphrase opens such a volume, so
 * nothing was ever written through this header. */
static gboolean
interrupted_format(const char *path, int fd, struct crypt_device *cd, gboolean *interrupted,
                   GError **error)
{
    const char *type = crypt_get_type(cd);
    g_autofree guint8 *buf = NULL;
    guint64 offset = 0, length = 0, material;
    gboolean zero_sector = FALSE;
    gboolean rest_zero = FALSE;
    int slot = -1;
    int active = 0;
    int key_size;

    *interrupted = FALSE;
    for (int s = 0; s < crypt_keyslot_max(type); s++) {
        crypt_keyslot_info status = crypt_keyslot_status(cd, s);

        if (status == CRYPT_SLOT_ACTIVE || status == CRYPT_SLOT_ACTIVE_LAST) {
            active++;
            slot = s;
        }
    }
    if (active != 1 || crypt_keyslot_area(cd, slot, &offset, &length) < 0)
        return TRUE;
    key_size = crypt_keyslot_get_key_size(cd, slot);
    if (key_size <= 0)
        return TRUE;
    /* LUKS2 pads the area to 4 KiB: only the material counts. */
    material = ((guint64)key_size * AF_STRIPES + SECTOR_SIZE - 1) / SECTOR_SIZE * SECTOR_SIZE;
    material = MIN(material, length);
    buf = g_malloc(material);
    if (!nv_luks_read_at(path, fd, buf, material, offset, error))
        return FALSE;
    for (guint64 s = 0; s < material && !zero_sector; s += SECTOR_SIZE) {
        zero_sector = TRUE;
        for (guint64 i = s; i < MIN(s + SECTOR_SIZE, material); i++) {
            if (buf[i]) {
                zero_sector = FALSE;
                break;
            }
        }
    }
    if (!zero_sector)
        return TRUE;
    if (!nv_luks_region_is_zero(path, fd, offset + material,
                                crypt_get_data_offset(cd) * SECTOR_SIZE, &rest_zero, error))
        return FALSE;
    *interrupted = rest_zero;
    return TRUE;
}

static gboolean
accepts_version(const format_plan *plan, nv_luks_probe_kind kind)
{
    if (plan->flags & NV_LUKS_ENSURE_ANY_VERSION)
        return TRUE;
    return kind == (plan->type == NV_LUKS_TYPE_LUKS2 ? NV_LUKS_PROBE_LUKS2 : NV_LUKS_PROBE_LUKS1);
}

/* An existing LUKS header, loaded in @cd (borrowed): accept it, or format
 * again over our own interrupted format. */
static gboolean
assess_luks(format_plan *plan, int fd, nv_luks_probe_kind kind, struct crypt_device *cd,
            assess_verdict *verdict, nv_luks_ensure_result *out, GError **error)
{
    nv_crypt_log log;
    gboolean interrupted = FALSE;
    gboolean ok = FALSE;

    if (!accepts_version(plan, kind)) {
        if (kind == NV_LUKS_PROBE_LUKS2)
            g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                        "volume %s: %s is LUKS2, which QEMU does not decrypt natively; its "
                        "encryption provider should be 'luks2'",
                        plan->volume_id, plan->path);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                        "volume %s: %s is %s, not %s: refusing it", plan->volume_id, plan->path,
                        nv_luks_probe_kind_to_string(kind), crypt_type_of(plan->type));
        return FALSE;
    }
    nv_crypt_log_begin(&log);
    nv_crypt_log_attach(cd, &log);
    if (!interrupted_format(plan->path, fd, cd, &interrupted, error)) {
        nv_luks_name_volume(plan->volume_id, plan->path, error);
        goto out;
    }
    if (interrupted) {
        g_message("volume %s: %s carries the %s header of an interrupted format (its only "
                  "keyslot is incomplete, no passphrase opens it): formatting it again",
                  plan->volume_id, plan->path, crypt_get_type(cd));
        if (!plan_layout(plan, error))
            goto out;
        *verdict = VERDICT_FORMAT;
    } else {
        *verdict = VERDICT_ACCEPT;
        out->found = kind == NV_LUKS_PROBE_LUKS2 ? NV_LUKS_FOUND_LUKS2 : NV_LUKS_FOUND_LUKS1;
        g_strlcpy(out->header_uuid, crypt_get_uuid(cd) ? crypt_get_uuid(cd) : "",
                  sizeof(out->header_uuid));
    }
    ok = TRUE;

out:
    nv_crypt_log_attach(cd, NULL); /* @log ends here; @cd is the caller's */
    nv_crypt_log_end(&log);
    return ok;
}

/* No signature: blank only if big enough and zero over the header region. */
static gboolean
assess_unsigned(format_plan *plan, int fd, assess_verdict *verdict, GError **error)
{
    g_autofree char *region = NULL;
    guint64 size = 0;
    gboolean zero = FALSE;

    if (!plan_layout(plan, error) ||
        !nv_luks_volume_size(plan->volume_id, plan->path, fd, &size, error))
        return FALSE;
    region = size_text(plan->payload);
    if (!nv_luks_region_is_zero(plan->path, fd, 0, MIN(size, plan->payload), &zero, error)) {
        nv_luks_name_volume(plan->volume_id, plan->path, error);
        return FALSE;
    }
    if (!zero) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: non-zero data in the first %s of %s and no LUKS header: refusing "
                    "to format",
                    plan->volume_id, region, plan->path);
        return FALSE;
    }
    if (size < plan->payload + NV_LUKS_MIN_PAYLOAD) {
        g_autofree char *have = size_text(size);

        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: %s (%s) is too small for a %s header of %s and a payload: "
                    "refusing to format",
                    plan->volume_id, plan->path, have, crypt_type_of(plan->type), region);
        return FALSE;
    }
    *verdict = VERDICT_FORMAT;
    return TRUE;
}

/* The one definition of blank (luks_format.h), on the volume open as @fd. */
static gboolean
assess(format_plan *plan, int fd, assess_verdict *verdict, nv_luks_ensure_result *out,
       GError **error)
{
    nv_luks_probe_result probe;
    struct crypt_device *cd = NULL;
    gboolean ok;
    g_autofree char *who = g_str_equal(plan->volume_id, plan->path)
                               ? g_strdup(plan->path)
                               : g_strdup_printf("%s: %s", plan->volume_id, plan->path);

    if (!nv_luks_probe_fd(plan->path, fd, &probe, &cd, error)) {
        nv_luks_name_volume(plan->volume_id, plan->path, error);
        return FALSE;
    }
    switch (probe.kind) {
    case NV_LUKS_PROBE_LUKS1:
    case NV_LUKS_PROBE_LUKS2:
        ok = assess_luks(plan, fd, probe.kind, cd, verdict, out, error);
        nv_crypt_close(cd);
        return ok;
    case NV_LUKS_PROBE_OTHER:
        if (g_str_equal(probe.signature, "qcow2"))
            g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                        "volume %s is a qcow2 image, not raw: refusing to format", who);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                        "volume %s carries a %s signature and no LUKS header: refusing to format",
                        who, probe.signature);
        return FALSE;
    case NV_LUKS_PROBE_BLANK:
        return assess_unsigned(plan, fd, verdict, error);
    }
    g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: unexpected probe result", who);
    return FALSE;
}

/* Zeros over [0, @payload) of the volume open as @fd: the keyslot area
 * first, then the header (@meta_end bytes; one page for LUKS1, so that last
 * write cannot be cut short by a kill), so an interrupted wipe leaves a
 * header whose keyslot is incomplete, which nv_luks_ensure() formats again. */
static gboolean
wipe_header(const format_plan *plan, int fd, guint64 payload, guint64 meta_end, GError **error)
{
    g_autofree guint8 *zeros = g_malloc0(READ_CHUNK);

    for (guint64 at = meta_end; at < payload; at += READ_CHUNK) {
        if (!nv_luks_write_at(plan->volume_id, plan->path, fd, zeros,
                              (gsize)MIN((guint64)READ_CHUNK, payload - at), at, error))
            return FALSE;
    }
    return nv_luks_write_at(plan->volume_id, plan->path, fd, zeros, (gsize)MIN(meta_end, payload),
                            0, error);
}

static guint64
header_end(struct crypt_device *cd)
{
    guint64 metadata = 0, keyslots = 0;

    if (g_str_equal(crypt_get_type(cd), CRYPT_LUKS2) &&
        crypt_get_metadata_size(cd, &metadata, &keyslots) == 0)
        return 2 * metadata; /* the primary and the secondary copy */
    return PAGE;             /* the LUKS1 phdr is 592 bytes; keyslot 0 starts at 4 KiB */
}

/* After the write: libcryptsetup must load the header we built from the
 * volume itself, complete. */
static gboolean
verify_written(const format_plan *plan, int fd, const char *uuid, GError **error)
{
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    gboolean interrupted = TRUE;
    gboolean ok = FALSE;

    nv_crypt_log_begin(&log);
    cd = nv_crypt_open_loaded(plan->volume_id, plan->path, &log, error);
    if (!cd || !interrupted_format(plan->path, fd, cd, &interrupted, error)) {
        nv_luks_name_volume(plan->volume_id, plan->path, error);
        goto out;
    }
    if (!g_str_equal(crypt_get_type(cd), crypt_type_of(plan->type)) ||
        g_strcmp0(crypt_get_uuid(cd), uuid) != 0 || interrupted) {
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: the %s header written to %s does not read back", plan->volume_id,
                    crypt_type_of(plan->type), plan->path);
        goto out;
    }
    ok = TRUE;

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return ok;
}

/* Copy the header region of @header_fd onto the volume in one pwrite,
 * header first (see luks_format.h, crash safety), then read it back. */
static gboolean
write_header(const format_plan *plan, int fd, int header_fd, const char *uuid, GError **error)
{
    void *image = mmap(NULL, plan->payload, PROT_READ, MAP_SHARED, header_fd, 0);
    gboolean ok;

    if (image == MAP_FAILED) {
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: cannot map the new header: %s",
                    plan->volume_id, g_strerror(errno));
        return FALSE;
    }
    ok = nv_luks_write_at(plan->volume_id, plan->path, fd, image, plan->payload, 0, error) &&
         verify_written(plan, fd, uuid, error);
    munmap(image, plan->payload);
    if (!ok) {
        g_autoptr(GError) local = NULL;

        /* Leave the volume blank as it was, not half ours. */
        if (!wipe_header(plan, fd, plan->payload, PAGE, &local))
            g_warning("%s", local->message);
    }
    return ok;
}

/* Build, lock, check again, write. */
static gboolean
format_volume(format_plan *plan, const nv_secure_buf *passphrase, nv_luks_ensure_result *out,
              GError **error)
{
    char uuid[sizeof(out->header_uuid)] = "";
    assess_verdict again = VERDICT_FORMAT;
    int header_fd;
    int fd = -1;
    gboolean ok = FALSE;

    /* The PBKDF benchmark and key derivation take seconds: done privately,
     * before the volume is locked, so a kill here leaves it untouched. */
    header_fd = build_header(plan, passphrase, uuid, sizeof(uuid), error);
    if (header_fd < 0)
        return FALSE;
    fd = nv_luks_open_exclusive(plan->volume_id, plan->path, error);
    if (fd < 0)
        goto out;
    /* Somebody may have formatted it (or written to it) since it was
     * probed: probe again, under the lock. */
    if (!assess(plan, fd, &again, out, error))
        goto out;
    if (again == VERDICT_ACCEPT) {
        g_debug("volume %s: %s was formatted by somebody else meanwhile", plan->volume_id,
                plan->path);
        ok = TRUE;
        goto out;
    }
    if (g_str_equal(plan->volume_id, plan->path))
        g_message("volume %s is blank: formatting it as %s", plan->path, crypt_type_of(plan->type));
    else
        g_message("volume %s: %s is blank: formatting it as %s", plan->volume_id, plan->path,
                  crypt_type_of(plan->type));
    if (!write_header(plan, fd, header_fd, uuid, error))
        goto out;
    g_debug("volume %s: formatted %s as %s (%s-%s, %u-bit key), header UUID %s", plan->volume_id,
            plan->path, crypt_type_of(plan->type), plan->cipher, plan->mode, plan->key_bits, uuid);
    out->formatted = TRUE;
    out->found = plan->type == NV_LUKS_TYPE_LUKS2 ? NV_LUKS_FOUND_LUKS2 : NV_LUKS_FOUND_LUKS1;
    g_strlcpy(out->header_uuid, uuid, sizeof(out->header_uuid));
    ok = TRUE;

out:
    if (fd >= 0)
        close(fd);
    close(header_fd);
    return ok;
}

gboolean
nv_luks_ensure(const char *volume_id, const char *path, nv_image_format image_format,
               nv_luks_type want_type, nv_luks_ensure_flags flags, const char *cipher,
               guint key_size_bits, const nv_secure_buf *passphrase, guint32 pbkdf2_iterations,
               nv_luks_ensure_result *out, GError **error)
{
    format_plan plan;
    assess_verdict verdict = VERDICT_ACCEPT;
    gboolean ok = FALSE;
    int fd;

    memset(out, 0, sizeof(*out));
    if (image_format == NV_IMAGE_QCOW2)
        return nv_luks_check_qcow2_luks(volume_id, path, error) &&
               (out->found = NV_LUKS_FOUND_QCOW2_LUKS, TRUE);
    if (!plan_init(&plan, volume_id, path, want_type, flags, cipher, key_size_bits,
                   pbkdf2_iterations, error))
        return FALSE;

    /* First read-only, under a shared lock: a volume in use (open in
     * QEMU) that needs no format is accepted without contending for it. */
    fd = nv_luks_open_shared(volume_id, path, error);
    if (fd < 0)
        goto out;
    ok = assess(&plan, fd, &verdict, out, error);
    close(fd);
    if (ok && verdict == VERDICT_FORMAT)
        ok = format_volume(&plan, passphrase, out, error);

out:
    if (!ok)
        memset(out, 0, sizeof(*out));
    plan_clear(&plan);
    return ok;
}

gboolean
nv_luks_assess(const char *volume_id, const char *path, nv_luks_type want_type,
               nv_luks_ensure_flags flags, const char *cipher, guint key_size_bits, GError **error)
{
    nv_luks_ensure_result out;
    format_plan plan;
    assess_verdict verdict = VERDICT_ACCEPT;
    gboolean ok = FALSE;
    int fd;

    if (!plan_init(&plan, volume_id, path, want_type, flags, cipher, key_size_bits, 0, error))
        return FALSE;
    fd = nv_luks_open_shared(volume_id, path, error);
    if (fd >= 0) {
        ok = assess(&plan, fd, &verdict, &out, error);
        close(fd);
    }
    plan_clear(&plan);
    return ok;
}

gboolean
nv_luks_unformat(const char *volume_id, const char *path, const char *header_uuid, GError **error)
{
    format_plan plan = { .volume_id = volume_id, .path = path };
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    guint64 payload = 0, meta_end = 0;
    gboolean ok = FALSE;
    int fd;

    fd = nv_luks_open_exclusive(volume_id, path, error);
    if (fd < 0)
        return FALSE;
    nv_crypt_log_begin(&log);
    cd = nv_crypt_open_loaded(volume_id, path, &log, error);
    if (!cd) {
        g_autofree char *why = g_strdup((*error)->message);

        /* Whatever is there, it is not the header this call wrote. */
        g_clear_error(error);
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED, "%s: not wiping it", why);
        goto out;
    }
    if (g_strcmp0(crypt_get_uuid(cd), header_uuid) != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: %s carries LUKS header UUID %s, not the one this attach wrote "
                    "(%s): not wiping it",
                    volume_id, path, crypt_get_uuid(cd) ? crypt_get_uuid(cd) : "(none)",
                    header_uuid);
        goto out;
    }
    payload = crypt_get_data_offset(cd) * SECTOR_SIZE;
    meta_end = header_end(cd);
    nv_crypt_close(cd);
    cd = NULL;
    ok = wipe_header(&plan, fd, payload, meta_end, error);
    if (ok)
        g_message("volume %s: wiped the LUKS header %s from %s again", volume_id, header_uuid,
                  path);

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    close(fd);
    return ok;
}

gboolean
nv_luks_format(const char *path, nv_luks_type type, const char *cipher, guint key_size_bits,
               const nv_secure_buf *passphrase, guint32 pbkdf2_iterations, GError **error)
{
    nv_luks_ensure_result result;

    if (!nv_luks_ensure(path, path, NV_IMAGE_RAW, type, NV_LUKS_ENSURE_ANY_VERSION, cipher,
                        key_size_bits, passphrase, pbkdf2_iterations, &result, error))
        return FALSE;
    if (!result.formatted) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s already carries a %s header: refusing to format", path,
                    nv_luks_found_to_string(result.found));
        return FALSE;
    }
    return TRUE;
}
