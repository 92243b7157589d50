/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libnvirt: attach encrypted Cinder volumes to libvirt guests, decrypted by
 * QEMU itself where the host allows it (QEMU >= 2.6.0 and libvirt >= 2.2.0),
 * by dm-crypt encryptors otherwise.  The public entry points of the driver,
 * for a compute service that links nvirt as its virt driver.
 *
 * Conventions: every function that can fail takes a trailing GError ** and
 * fills it with NV_ERROR (nvirt/error.h); returned pointers are owned by the
 * caller unless documented otherwise; _free(NULL) is a no-op.  A driver
 * handle is not thread-safe: use one per thread, or serialise calls.
 *
 * Process-wide state: the process must ignore SIGPIPE (libvirt's remote
 * driver needs it; a library does not change signal dispositions).  nvirt
 * replaces no process-wide handler; what it cannot avoid touching:
 *  - libvirt errors are caught by a handler on nvirt's own connection.  A
 *    failed connect has none yet, so libvirt also reports that one through
 *    the process-wide handler (by default printed to stderr), which is the
 *    program's to keep or silence: the nvirt CLI silences it in its main().
 *  - libcryptsetup messages go to a callback on each nvirt crypt handle;
 *    the few it logs before a handle exists (crypt_init failing to open a
 *    path) reach the process's global libcryptsetup log callback, or stderr
 *    if none is set.
 *  - iniparser 4.1 reports parse errors through one process-wide callback.
 *    Loading a configuration (nv_driver_open) sets it for the duration of
 *    the parse and then resets it to iniparser's default, because iniparser
 *    cannot report the callback it had.  Loading is therefore not
 *    thread-safe with other iniparser users in the process, and a host
 *    application with its own iniparser error callback must set it again
 *    after nv_driver_open().  (nvirt's own loads are serialised.)
 *  - Key material lives in nv_secure_buf memory: anonymous mappings,
 *    mlock'd where RLIMIT_MEMLOCK allows (otherwise a one-time info
 *    message), excluded from core dumps (MADV_DONTDUMP) and zeroed in forked
 *    children (MADV_WIPEONFORK).  The library does not change the process's
 *    dumpability or core limit; the nvirt CLI does (PR_SET_DUMPABLE 0), and
 *    a host service may want to as well.
 *  - nv_driver_live_migration() runs libvirt's migration call in a thread of
 *    its own for the duration of the call, to watch its completion timeout.
 *
 * How long calls block (every bound is an option; a call that hits one
 * leaves the host as it was):
 *  - live migration: [libvirt] live_migration_completion_timeout per GiB of
 *    guest RAM, then live_migration_timeout_action (abort the job, or pause
 *    the guest so the copy converges), as Nova does; NV_ERROR_TIMEOUT.
 *  - detach: each live detach request waits [libvirt] device_detach_timeout
 *    seconds for the disk to leave, device_detach_attempts times; a disk
 *    that never leaves keeps its secret and mapping.
 *  - attach and every open of an existing LUKS volume: the keyslot's unlock
 *    cost is read first and a volume over [libvirt]
 *    volume_luks_max_unlock_iterations is refused before QEMU, whose main
 *    loop would derive the key, gets it.  Past that, libvirt bounds what it
 *    owns: a call that finds another job on the domain waits at most 30 s
 *    ("cannot acquire state change lock").  A QEMU that stops answering its
 *    monitor blocks libvirt's attach without a bound, as in Nova; nvirt puts
 *    no client-side timer on it, because the attach would go on inside
 *    libvirtd after nvirt gave up and rolled back the secret it needs.
 *  - a libvirtd that stops answering: the driver asks libvirt for
 *    keepalive on its connection ([libvirt] keepalive_interval, 5 s, and
 *    keepalive_count, 6, as virsh), and a call blocked on such a daemon
 *    fails with NV_ERROR_LIBVIRT ("... keepalive timeout") after about
 *    interval x count seconds.  libvirt runs keepalive on its event loop,
 *    which is process-wide, so the program runs it: register it
 *    (virEventRegisterDefaultImpl) and run virEventRunDefaultImpl in a
 *    thread before nv_driver_open(), as the nvirt command and Nova do.
 *    Without one the driver works the same, with no probes.  A connection
 *    that libvirt closed stays closed: open a new driver.
 */
#pragma once

#include <glib.h>

#include "nvirt/error.h"
#include "nvirt/export.h"

G_BEGIN_DECLS

typedef struct nv_driver nv_driver;

/* Open a driver: read @config_file (nova.conf-style INI; NULL for built-in
 * defaults) and connect to libvirt at @connect_uri, or, when @connect_uri
 * is NULL or empty, at the URI Nova would use: [libvirt] connection_uri,
 * else qemu:///system for virt_type kvm or qemu (lxc:///, parallels:///system
 * for those types; LIBVIRT_DEFAULT_URI is not consulted, as in Nova).
 * Configuration warnings
 * (unknown options) are returned through @warnings when non-NULL (a
 * GPtrArray of strings the caller frees).  Errors: NV_ERROR_CONFIG for a bad
 * configuration, NV_ERROR_LIBVIRT when libvirt cannot be reached. */
NV_EXPORT nv_driver *nv_driver_open(const char *config_file, const char *connect_uri,
                                    GPtrArray **warnings, GError **error);

/* As nv_driver_open(), reading the configuration as oslo.config does: the
 * files of the NULL-terminated @config_files in order (a later value
 * overrides an earlier one), then every @config_dir/\*.conf in sorted order.
 * NULL or empty @config_files and NULL @config_dir: built-in defaults.  A
 * named file or directory that is missing is NV_ERROR_CONFIG naming it. */
NV_EXPORT nv_driver *nv_driver_open_files(const char *const *config_files, const char *config_dir,
                                          const char *connect_uri, GPtrArray **warnings,
                                          GError **error);

NV_EXPORT void nv_driver_free(nv_driver *driver);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_driver, nv_driver_free)

/* Hand the driver a Keystone token to read keys from Barbican with, as Nova
 * hands castellan the request context's token: from now on the Barbican key
 * manager ([key_manager] backend = barbican) sends @token instead of
 * authenticating with [barbican_service_user].  @token is borrowed and
 * copied into locked memory that is wiped when replaced or when the driver
 * is freed; the caller should wipe its own copy.  NULL or "" goes back to
 * [barbican_service_user].  A refused token is not renewed: the attach
 * fails with NV_ERROR_AUTH naming the key id, and the caller hands in a
 * fresh token.  The fixed key manager ignores it.  Never fails; not
 * thread-safe with an attach running on the same driver. */
NV_EXPORT void nv_driver_set_auth_token(nv_driver *driver, const char *token);

/* What the host offers (LibvirtDriver._is_native_luks_available).  Opaque:
 * read it with the getters; strings are owned by the info. */
typedef struct nv_host_info nv_host_info;

NV_EXPORT nv_host_info *nv_driver_get_host_info(nv_driver *driver, GError **error);

/* libvirt's version, in libvirt's encoding: major*1000000+minor*1000+micro. */
NV_EXPORT guint64 nv_host_info_get_libvirt_version(const nv_host_info *info);
/* QEMU's version, same encoding. */
NV_EXPORT guint64 nv_host_info_get_qemu_version(const nv_host_info *info);
/* TRUE when QEMU decrypts provider 'luks' volumes on this host. */
NV_EXPORT gboolean nv_host_info_get_native_luks(const nv_host_info *info);
/* Why (not), one line. */
NV_EXPORT const char *nv_host_info_get_reason(const nv_host_info *info);
/* TRUE when librbd inside QEMU decrypts provider 'luks2' rbd volumes on this
 * host (<encryption format='luks2' engine='librbd'>: libvirt >= 7.9.0, QEMU
 * >= 6.1.0 with an rbd driver that offers LUKS2).  Since 0.2.0. */
NV_EXPORT gboolean nv_host_info_get_rbd_luks2(const nv_host_info *info);
/* Why (not), one line; says when such a disk can only be cold-plugged
 * (libvirt 9.0 cannot hot-plug it).  Since 0.2.0. */
NV_EXPORT const char *nv_host_info_get_rbd_luks2_reason(const nv_host_info *info);

/* "MAJOR.MINOR.MICRO" of a version in libvirt's encoding (7002022 ->
 * "7.2.22").  Caller frees. */
NV_EXPORT char *nv_version_to_string(guint64 version);
NV_EXPORT void nv_host_info_free(nv_host_info *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_host_info, nv_host_info_free)

/* The spec's version gate for native decryption (Nova's
 * MIN_LIBVIRT_LUKS_VERSION / MIN_QEMU_LUKS_VERSION), in libvirt's encoding:
 * libvirt 2.2.0 and QEMU 2.6.0. */
#define NV_NATIVE_LUKS_MIN_LIBVIRT_VERSION 2002000
#define NV_NATIVE_LUKS_MIN_QEMU_VERSION    2006000

/* One volume as the compute manager hands it to the driver.  All strings are
 * borrowed for the duration of the call.  Versioned, as libgit2's options
 * structs are: initialise with NV_VOLUME_REQUEST_INIT (or set @version to
 * NV_VOLUME_REQUEST_VERSION) so that a program built against these headers
 * keeps working when a later release appends fields; the library refuses a
 * version it does not know (NV_ERROR_BAD_INPUT). */
#define NV_VOLUME_REQUEST_VERSION 1
typedef struct {
    unsigned int version;        /* NV_VOLUME_REQUEST_VERSION */
    const char *connection_info; /* Cinder's connection_info, JSON */
    const char *encryption;      /* Cinder's encryption metadata, JSON; NULL if none */
    const char *mountpoint;      /* "/dev/vdb" or "vdb" */
    const char *disk_bus;        /* NULL: from the device name (vd -> virtio, sd -> scsi) */
} nv_volume_request;
#define NV_VOLUME_REQUEST_INIT                                                                     \
    {                                                                                              \
        NV_VOLUME_REQUEST_VERSION                                                                  \
    }

/* What an attach would do, computed without changing anything.  Opaque:
 * read it with the getters; strings are owned by the plan. */
typedef struct nv_attach_plan nv_attach_plan;

NV_EXPORT const char *nv_attach_plan_get_volume_id(const nv_attach_plan *plan);
/* "native", "encryptor" or "none". */
NV_EXPORT const char *nv_attach_plan_get_encryption_path(const nv_attach_plan *plan);
/* Why that path, one line. */
NV_EXPORT const char *nv_attach_plan_get_reason(const nv_attach_plan *plan);
/* TRUE when the volume is encrypted: connection_info says so (data.encrypted)
 * and encryption metadata was given.  Metadata for a volume that is not
 * encrypted is ignored, as Nova never fetches it. */
NV_EXPORT gboolean nv_attach_plan_get_encrypted(const nv_attach_plan *plan);
/* TRUE when a volume secret exists already and is reused. */
NV_EXPORT gboolean nv_attach_plan_get_reuses_secret(const nv_attach_plan *plan);
/* The <disk> to attach. */
NV_EXPORT const char *nv_attach_plan_get_disk_xml(const nv_attach_plan *plan);
/* The <secret> to define; NULL unless one would be created. */
NV_EXPORT const char *nv_attach_plan_get_secret_xml(const nv_attach_plan *plan);
/* The os-brick class that decrypts on the host ("LuksEncryptor",
 * "Luks2Encryptor", "CryptsetupEncryptor") on the encryptor path, else NULL. */
NV_EXPORT const char *nv_attach_plan_get_encryptor(const nv_attach_plan *plan);
/* The volume secret's usage id (the volume id) on the native path, else
 * NULL. */
NV_EXPORT const char *nv_attach_plan_get_secret_usage(const nv_attach_plan *plan);
/* The metadata's key size in bits, which a first-use format would use: TRUE
 * and *@key_size set when something decrypts and the metadata gives one. */
NV_EXPORT gboolean nv_attach_plan_get_key_size(const nv_attach_plan *plan, guint *key_size);
/* The metadata's cipher when something decrypts, else NULL. */
NV_EXPORT const char *nv_attach_plan_get_cipher(const nv_attach_plan *plan);

NV_EXPORT void nv_attach_plan_free(nv_attach_plan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_attach_plan, nv_attach_plan_free)

/* Plan attaching @request to domain @domain: validates every input, looks up
 * the domain and the host versions, and returns the decision and the XML,
 * changing nothing (no secret, no format, no device).  The secret uuid in a
 * plan is a fresh one for illustration; attach picks its own. */
NV_EXPORT nv_attach_plan *nv_driver_plan_attach(nv_driver *driver, const char *domain,
                                                const nv_volume_request *request, GError **error);

/* Attach the volume to @domain (LibvirtDriver.attach_volume): its persistent
 * config when the domain is defined, its live one when it is active
 * (running, paused, ...; a transient domain gets a live-only disk).  Natively decrypted volumes get
 * a persistent private libvirt secret and <encryption format='luks'>.
 *
 * Data safety: a volume is formatted (LUKS1) only when it is provably blank;
 * a qcow2 image, a volume with any signature, or data anywhere in the region
 * a format would write is refused.  The whole operation holds the volume's
 * external lock ([oslo_concurrency] lock_path), so concurrent attaches and
 * detaches of one volume, from any process on the host, run one at a time.
 * Before anything changes, the target must be free in the live and the
 * persistent config and the volume must not be attached to the domain
 * already.  On any failure what this call did is undone (its secret, by
 * UUID; a header it wrote; a mapping it opened): the host, domain and volume
 * are as they were.  NV_ERROR_BUSY when another operation on the volume
 * holds its lock for longer than the lock timeout. */
NV_EXPORT gboolean nv_driver_attach_volume(nv_driver *driver, const char *domain,
                                           const nv_volume_request *request, GError **error);

/* Detach the volume at @request->mountpoint from @domain
 * (LibvirtDriver.detach_volume), under the volume's lock: remove the disk
 * (found by target, as Nova does), wait until it has really left the running
 * domain (re-sending the request up to [libvirt] device_detach_attempts
 * times), then undo what attach set up on the host, as the spec says: when
 * the disk is there its <encryption> decides (present: delete the volume
 * secret; absent: close the dm-crypt encryptor); when the disk, or the whole
 * domain, has gone, the volume secret decides, and the host side is cleaned
 * up all the same.  A disk at the mountpoint whose serial or source shows it
 * is another volume's is refused.  Encryption metadata is needed only to
 * close an encryptor.  A disk that never leaves keeps its secret and
 * mapping. */
NV_EXPORT gboolean nv_driver_detach_volume(nv_driver *driver, const char *domain,
                                           const nv_volume_request *request, GError **error);

/* Make the guest see a volume Cinder has grown (LibvirtDriver.extend_volume)
 * to @new_size bytes, the volume's new size on the host.  @request names the
 * volume by connection_info; its mountpoint is optional (NULL: the disk whose
 * serial is the volume id or whose source is data.device_path), its
 * encryption metadata is needed only when a dm-crypt encryptor decrypts it.
 * Runs under the volume's lock.  When @domain is running or paused, QEMU
 * resizes the disk (virDomainBlockResize) to:
 *  - natively decrypted LUKS (the disk has <encryption>): @new_size minus
 *    the volume's LUKS payload offset, read from its header;
 *  - encryptor: the size of the dm-crypt mapping, resized to the grown
 *    device first;
 *  - otherwise @new_size.
 * A shut-off domain is left alone (QEMU reads the size at its next start).
 * *@guest_size (may be NULL) gets the size the guest's disk now has, or 0
 * when nothing was resized.
 *
 * Refused with nothing changed, one line naming the object: an unknown
 * domain (NV_ERROR_NOT_FOUND), a volume the domain does not have
 * (NV_ERROR_NOT_FOUND "volume V: not attached to domain 'D'"), a @new_size
 * of 0, larger than the volume on the host, or smaller than the disk the
 * guest has now (NV_ERROR_BAD_INPUT); a natively decrypted qcow2 image or
 * network disk (NV_ERROR_UNSUPPORTED). */
NV_EXPORT gboolean nv_driver_extend_volume(nv_driver *driver, const char *domain,
                                           const nv_volume_request *request, guint64 new_size,
                                           guint64 *guest_size, GError **error);

/* Swap the volume @old_volume attached to running @domain at @mountpoint for
 * @new_volume (LibvirtDriver.swap_volume): QEMU copies the guest-visible
 * contents onto the new volume (virDomainBlockCopy, reusing the existing
 * storage), the guest is pivoted onto it, and the persistent config then
 * names it.  As in Nova, a persistent domain is undefined during the copy
 * and defined again after it, from its live XML (or from its old one when
 * the copy failed; its NVRAM is kept).  The requests' mountpoint and
 * disk_bus are not used; their encryption metadata is optional.  The disk
 * keeps the old volume's <serial> until the domain is restarted, as in Nova
 * (QEMU cannot change it live).  Waits for the copy however long it takes.
 *
 * Refused with nothing changed: an encrypted old or new volume
 * (NV_ERROR_UNSUPPORTED; natively decrypted LUKS: nova bug 1749418), a
 * domain that is not running (NV_ERROR_UNSUPPORTED), no disk at
 * @mountpoint or one that is another volume's, a new volume that is missing
 * or attached to the domain already (NV_ERROR_NOT_FOUND /
 * NV_ERROR_BAD_INPUT).  A failed copy leaves the guest on the old volume. */
NV_EXPORT gboolean nv_driver_swap_volume(nv_driver *driver, const char *domain,
                                         const char *mountpoint,
                                         const nv_volume_request *old_volume,
                                         const nv_volume_request *new_volume, GError **error);

/* ------------------------------------------------------------------------ */
/* Without a libvirt connection                                             */
/* ------------------------------------------------------------------------ */

/* A configuration, read as nv_driver_open_files() reads it: the files of the
 * NULL-terminated @config_files in order (later values override), then every
 * @config_dir/\*.conf in sorted order; NULL or empty @config_files and NULL
 * @config_dir: the built-in defaults.  Warnings (unknown options) through
 * @warnings when non-NULL (a GPtrArray of strings the caller frees).  A
 * missing file or directory, or a bad value, is NV_ERROR_CONFIG naming it. */
typedef struct nv_conf nv_conf;

NV_EXPORT nv_conf *nv_conf_load_files(const char *const *config_files, const char *config_dir,
                                      GPtrArray **warnings, GError **error);
NV_EXPORT void nv_conf_free(nv_conf *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_conf, nv_conf_free)

/* The commented sample configuration (oslo-config-generator style): every
 * option nvirt reads, with its help text, commented out at its default.
 * Caller frees. */
NV_EXPORT char *nv_conf_generate_sample_text(void);

/* Plan attaching @request as nv_driver_plan_attach() does, offline: no
 * libvirt connection, no domain, no host lookup.  The decision is made as on
 * a host with @libvirt_version and @qemu_version (libvirt's encoding; e.g.
 * NV_NATIVE_LUKS_MIN_LIBVIRT_VERSION and NV_NATIVE_LUKS_MIN_QEMU_VERSION)
 * and @conf's [workarounds] disable_native_luksv1; LUKS2 on an rbd volume
 * takes the librbd path when those versions pass its gate (a librbd with
 * encryption is assumed).  On the native and librbd paths the
 * <encryption> names the secret @secret_uuid (NULL: a fresh uuid, for
 * illustration); an invalid uuid is NV_ERROR_BAD_INPUT.  Nothing is created,
 * so the plan has no secret XML and never reuses a secret.  A network
 * volume an encryptor would have to decrypt is refused
 * (NV_ERROR_UNSUPPORTED), as an attach would refuse it. */
NV_EXPORT nv_attach_plan *nv_plan_attach_offline(const nv_conf *conf,
                                                 const nv_volume_request *request,
                                                 guint64 libvirt_version, guint64 qemu_version,
                                                 const char *secret_uuid, GError **error);

/* A volume's dm-crypt encryptor on its own, without libvirt, as the
 * driver's encryptor path runs it (os-brick's encryptors): for operators
 * recovering a host, a mapping left open or a volume to read after a failed
 * detach.  Built from @request's connection_info (data.device_path) and
 * encryption metadata (both required; mountpoint and disk_bus are not
 * used).  A volume whose connection_info lacks data.encrypted, or whose
 * metadata is empty, gets the no-op encryptor (see
 * nv_volume_encryptor_get_reason()), as does a control_location other than
 * front-end.  @conf is borrowed and must outlive the encryptor: attach reads
 * the key from its key manager ([key_manager]).  A key_size that does not
 * fit is NV_ERROR_BAD_INPUT naming the volume. */
typedef struct nv_volume_encryptor nv_volume_encryptor;

NV_EXPORT nv_volume_encryptor *
nv_volume_encryptor_new(const nv_conf *conf, const nv_volume_request *request, GError **error);

/* Open the mapping crypt-<basename of data.device_path> with the volume's
 * key from the key manager; a blank luks/luks2 volume is formatted first, a
 * volume carrying any other signature is refused.  The key never leaves
 * locked memory and is wiped after use.  A no-op encryptor does nothing. */
NV_EXPORT gboolean nv_volume_encryptor_attach(nv_volume_encryptor *enc, GError **error);

/* Close the mapping (one that is not open is not an error).  No key is
 * needed. */
NV_EXPORT gboolean nv_volume_encryptor_detach(nv_volume_encryptor *enc, GError **error);

NV_EXPORT const char *nv_volume_encryptor_get_volume_id(const nv_volume_encryptor *enc);
/* "none", "luks", "plain" or "luks2". */
NV_EXPORT const char *nv_volume_encryptor_get_format(const nv_volume_encryptor *enc);
/* data.device_path, which attach points at the decrypted device, as
 * os-brick's encryptors do (detach points it back); NULL when
 * connection_info has none. */
NV_EXPORT const char *nv_volume_encryptor_get_device_path(const nv_volume_encryptor *enc);
/* The dm-crypt mapping name; NULL for the no-op encryptor. */
NV_EXPORT const char *nv_volume_encryptor_get_mapping(const nv_volume_encryptor *enc);
/* Why the volume has nothing to decrypt ("data.encrypted is not set",
 * "encryption metadata is empty"), or NULL when its metadata was used
 * (which may still select the no-op encryptor: control_location back-end). */
NV_EXPORT const char *nv_volume_encryptor_get_reason(const nv_volume_encryptor *enc);

NV_EXPORT void nv_volume_encryptor_free(nv_volume_encryptor *enc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_volume_encryptor, nv_volume_encryptor_free)

G_END_DECLS

/* Live migration and reconcile: nvirt/migrate.h. */
#include "nvirt/migrate.h"
/* Instance lifecycle: spawn, power-off, power-on, hard reboot, destroy. */
#include "nvirt/lifecycle.h"
