/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration (the nova/conf modules + oslo.config).
 *
 * Options are defined once, in a table (name, section, type, default, help,
 * and the field of nv_conf they fill).  The same table drives the INI loader
 * and the sample config generator, so the two cannot drift.  Option and
 * section names follow nova.conf wherever Nova has the option.
 */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "nvirt/nvirt.h"
#include "util/secure.h"

G_BEGIN_DECLS

/* The definition behind the public opaque nv_conf (nvirt/nvirt.h). */
struct nv_conf {
    /* [DEFAULT] state_path: what "$state_path" in other options expands to. */
    char *state_path;
    struct {
        char *connection_uri;       /* "" = libvirt's default for virt_type */
        char *virt_type;            /* "kvm", "qemu" (Nova also allows lxc, parallels) */
        char *nfs_mount_point_base; /* where NFS shares are mounted ($state_path expanded) */
        char *rbd_user;             /* cephx user when Cinder's data has no secret_uuid; NULL */
        char *rbd_secret_uuid;      /* libvirt ceph secret of rbd_user; NULL if unset */
        /* Comma-separated protocols QEMU opens itself instead of a host
         * device; "iscsi" is the one nvirt knows.  "" = none. */
        char *qemu_allowed_storage_drivers;
        /* Comma-separated "SOURCE_TYPE=MODE" entries (Nova's ListOpt), "" =
         * none: the cache mode of a file, block or network volume. */
        char *disk_cachemodes;
        int device_detach_timeout;  /* seconds to wait for a detach event, >= 1 */
        int device_detach_attempts; /* live detach requests sent before giving up, >= 1 */
        /* Most PBKDF2 iterations a keyslot of an existing LUKS volume may
         * ask before it is handed to QEMU; 0 = no bound.  nvirt's own. */
        int volume_luks_max_unlock_iterations;
        /* libvirt keepalive (virConnectSetKeepAlive, virsh's -k/-K): seconds
         * of silence before a probe, 0 = off; unanswered probes before the
         * connection is closed.  nvirt's own; needs an event loop. */
        int keepalive_interval;
        int keepalive_count;
        /* Live migration (Nova's names): the destination URI template
         * ("%s" = destination host), its scheme, and the address this host
         * receives migration traffic on.  NULL = unset. */
        char *live_migration_uri;
        char *live_migration_scheme;
        char *live_migration_inbound_addr;
        int live_migration_bandwidth; /* MiB/s, 0 = the hypervisor's default */
        /* Seconds per GiB of guest RAM (at least 2 GiB) a migration may run
         * before live_migration_timeout_action; 0 = no bound. */
        int live_migration_completion_timeout;
        char *live_migration_timeout_action; /* "abort" or "force_complete" (pause) */
    } libvirt;
    /* castellan's [barbican] (castellan/key_manager/barbican_key_manager.py). */
    struct {
        char *barbican_endpoint; /* NULL: the catalog's public key-manager endpoint */
        char *auth_endpoint; /* Keystone v3, used when [barbican_service_user] has no auth_url */
        char *barbican_api_version; /* NULL: "v1" */
        gboolean verify_ssl;
        char *verify_ssl_path; /* CA bundle file or directory; NULL: the system's */
        int number_of_retries; /* retries of a request Barbican answered 5xx, >= 0 */
        int retry_delay;       /* seconds between those retries, >= 0 */
    } barbican;
    /* keystoneauth1's auth plugin options, loaded from [barbican_service_user]. */
    struct nv_conf_service_user {
        char *auth_type; /* password, v3applicationcredential, token; NULL: none set */
        char *auth_url;
        char *username;
        char *user_id;
        char *user_domain_name;
        char *user_domain_id;
        nv_secure_buf *password;
        char *project_name;
        char *project_id;
        char *project_domain_name;
        char *project_domain_id;
        char *application_credential_id;
        char *application_credential_name;
        nv_secure_buf *application_credential_secret;
        nv_secure_buf *token;
    } barbican_service_user;
    struct {
        char *backend;            /* "fixed" or "barbican"; checked when a key is needed */
        nv_secure_buf *fixed_key; /* raw key bytes from hex; NULL if unset or "" */
    } key_manager;
    struct {
        char *lock_path; /* directory of the per-volume lock files ($state_path expanded) */
    } oslo_concurrency;
    struct {
        gboolean disable_native_luksv1;
    } workarounds;
};

/* Built-in defaults, as the option table gives them (with "$state_path"
 * already expanded).  Never fails; caller owns the result. */
nv_conf *nv_conf_new_default(void);

/* The largest configuration file nvirt reads. */
#define NV_CONF_MAX_FILE_SIZE (4 * 1024 * 1024)

/* Load @path (an INI file, nova.conf syntax) over the defaults: the same as
 * nv_conf_load_files() with @path as the only file.  Caller owns the
 * result.
 *
 * Unknown sections and options are not errors: each adds one line to
 * *@warnings ("FILE: unknown option [libvirt] foo", "FILE: unknown section
 * [glance]"), as do deprecated nova.conf spellings that are still read
 * ([keymgr] fixed_key, [key_manager] api_class).  [key_manager] backend is
 * not checked here: the key manager is chosen when a key is needed, so a
 * volume whose secret libvirt already holds attaches whatever the backend
 * (nova bug 1905701).  When @warnings is non-NULL,
 * *@warnings is always set, on failure too, to a GPtrArray of char * the
 * caller owns.
 *
 * Errors are NV_ERROR_CONFIG with a one-line message naming the file, and the
 * section and option or the line:
 *   "FILE: No such file or directory"
 *   "FILE:LINE: syntax error"
 *   "FILE: [workarounds] disable_native_luksv1: 'maybe' is not a boolean"
 *   "FILE: is a FIFO, not a regular file"  (also devices, sockets; never blocks)
 *   "FILE: larger than 4194304 bytes"       (NV_CONF_MAX_FILE_SIZE)
 * A bad [key_manager] fixed_key is reported without quoting the value.
 * Secret options ([barbican_service_user] password,
 * application_credential_secret, token) are read as the fixed key is.
 *
 * The fixed key (and every secret option) is read without leaving copies outside nv_secure_buf
 * memory (no stdio buffer, no iniparser string; see conf/ini.h), and a
 * fixed_key that a later line or file replaces is wiped at once.
 *
 * Not thread-safe with other users of iniparser in the process: iniparser
 * 4.1 has one process-wide error callback, which the load sets and then
 * resets to iniparser's default (see include/nvirt/nvirt.h). */
nv_conf *nv_conf_load(const char *path, GPtrArray **warnings, GError **error);

/* The libvirt URI a driver connects to, as Nova's LibvirtDriver._uri():
 * [libvirt] connection_uri when set, else the default of [libvirt]
 * virt_type: "lxc:///" for lxc, "parallels:///system" for parallels,
 * "qemu:///system" for kvm and qemu.  Never NULL; owned by @conf or static. */
const char *nv_conf_libvirt_uri(const nv_conf *conf);

/* Load configuration files over the defaults with oslo.config's
 * --config-file/--config-dir semantics: each of @files (NULL-terminated; may
 * be NULL) in order, then every "*.conf" in @config_dir (NULL: none) in
 * sorted order, names starting with '.' skipped; a value set by a later file
 * overrides an earlier one, and "$name" substitution sees the final values.
 * A missing file or directory that is named here is an error naming it
 * (choosing optional defaults is the caller's business).  Warnings and
 * errors as nv_conf_load(); a message about a value names the file that set
 * it.  Caller owns the result.  Public: nv_conf_load_files() in
 * nvirt/nvirt.h (with nv_conf_free(), which wipes the fixed key). */

/* The files --config-dir @dir stands for: DIR/NAME for every NAME ending in
 * ".conf" and not starting with '.', sorted (oslo.config globs
 * DIR/\*.conf and sorts).  A missing or unreadable directory is an error
 * (NV_ERROR_CONFIG, "DIR: No such file or directory").  Returns a GPtrArray
 * of char * the caller frees. */
GPtrArray *nv_conf_list_dir(const char *dir, GError **error);

/* Print the commented sample INI (oslo-config-generator style) to @out.
 * Write errors are left for the caller to find with ferror(@out). */
void nv_conf_generate_sample(FILE *out);

G_END_DECLS
