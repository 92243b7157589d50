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
 */
#pragma once

#include <glib.h>

#include "nvirt/error.h"
#include "nvirt/export.h"

G_BEGIN_DECLS

typedef struct nv_driver nv_driver;

/* Open a driver: read @config_file (nova.conf-style INI; NULL for built-in
 * defaults) and connect to libvirt at @connect_uri, or at [libvirt]
 * connection_uri when @connect_uri is NULL.  Configuration warnings
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

/* What the host offers (LibvirtDriver._is_native_luks_available). */
typedef struct {
    guint64 libvirt_version; /* libvirt encoding: major*1000000+minor*1000+micro */
    guint64 qemu_version;
    gboolean native_luks; /* QEMU decrypts provider 'luks' volumes here */
    char *reason;         /* why (not), one line */
} nv_host_info;

NV_EXPORT nv_host_info *nv_driver_get_host_info(nv_driver *driver, GError **error);

/* "MAJOR.MINOR.MICRO" of a version in libvirt's encoding (7002022 ->
 * "7.2.22").  Caller frees. */
NV_EXPORT char *nv_version_to_string(guint64 version);
NV_EXPORT void nv_host_info_free(nv_host_info *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_host_info, nv_host_info_free)

/* One volume as the compute manager hands it to the driver.  All strings are
 * borrowed for the duration of the call. */
typedef struct {
    const char *connection_info; /* Cinder's connection_info, JSON */
    const char *encryption;      /* Cinder's encryption metadata, JSON; NULL if none */
    const char *mountpoint;      /* "/dev/vdb" or "vdb" */
    const char *disk_bus;        /* NULL: from the device name (vd -> virtio, sd -> scsi) */
} nv_volume_request;

/* What an attach would do, computed without changing anything. */
typedef struct {
    char *volume_id;
    char *encryption_path;  /* "native", "encryptor" or "none" */
    char *reason;           /* why that path, one line */
    gboolean reuses_secret; /* a volume secret exists already and is reused */
    char *disk_xml;         /* the <disk> to attach */
    char *secret_xml;       /* the <secret> to define; NULL unless one is created */
} nv_attach_plan;

NV_EXPORT void nv_attach_plan_free(nv_attach_plan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_attach_plan, nv_attach_plan_free)

/* Plan attaching @request to domain @domain: validates every input, looks up
 * the domain and the host versions, and returns the decision and the XML,
 * changing nothing (no secret, no format, no device).  The secret uuid in a
 * plan is a fresh one for illustration; attach picks its own. */
NV_EXPORT nv_attach_plan *nv_driver_plan_attach(nv_driver *driver, const char *domain,
                                                const nv_volume_request *request, GError **error);

/* Attach the volume to @domain (LibvirtDriver.attach_volume): its persistent
 * config when the domain is defined, its live one when it runs or is paused
 * (a transient domain gets a live-only disk).  Natively decrypted volumes get
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

G_END_DECLS
