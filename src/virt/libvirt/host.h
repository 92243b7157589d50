/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libvirt host: connection, versions, volume secrets
 * (nova/virt/libvirt/host.py).
 *
 * Only this module talks to libvirt's secret API.  libvirt's own error
 * printing is switched off for the host's connection (a per-connection
 * handler; the process-wide one is left to the program): every failure
 * comes back through GError (NV_ERROR_LIBVIRT, libvirt's message prefixed with the
 * object: "secret for volume VOLID: ...").
 *
 * Like every libvirt client, a process using this module must ignore SIGPIPE:
 * libvirt's remote driver writes to the daemon's socket, and a daemon that
 * went away would otherwise kill the caller.  A library does not change
 * signal dispositions behind its caller's back, so that is left to main().
 *
 * Spec work item: "create the required Libvirt secret for the passphrase":
 * a volume secret has usage type 'volume' and usage id = the volume id, and
 * is what <encryption><secret type='passphrase' uuid=.../></encryption>
 * names in the disk config.
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "util/secure.h"

G_BEGIN_DECLS

/* A version in libvirt's encoding (virConnectGetLibVersion/GetVersion):
 * major * 1000000 + minor * 1000 + micro.  NV_VERSION(2, 6, 0) == 2006000. */
#define NV_VERSION(major, minor, micro)                                                            \
    ((guint64)(major)*1000000 + (guint64)(minor)*1000 + (guint64)(micro))

typedef struct nv_host nv_host;

/* Open a read-write connection to @uri; NULL or "" means libvirt's default
 * (LIBVIRT_DEFAULT_URI, then its built-in choice).  Returns a new host the
 * caller frees with nv_host_free(), or NULL with NV_ERROR_LIBVIRT
 * "cannot connect to libvirt at 'URI': ..." (the default: "at the default
 * URI"). */
nv_host *nv_host_open(const char *uri, GError **error);

/* Close the connection and free.  NULL is a no-op. */
void nv_host_free(nv_host *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_host, nv_host_free)
/* libvirt's headers define no cleanup functions for GLib. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virSecret, virSecretFree)

/* Ask libvirt to probe the connection after @interval seconds of silence
 * and close it after @count unanswered probes (virConnectSetKeepAlive), so
 * that a call on a libvirtd that stopped answering fails instead of
 * blocking.  Best effort: FALSE, with the reason logged at debug level,
 * when libvirt cannot (no event loop runs in the process, or the driver
 * behind the URI has no keepalive, as test:///). */
gboolean nv_host_set_keepalive(nv_host *host, int interval, guint count);

/* The URI as given to nv_host_open() (NULL for the default).  Borrowed. */
const char *nv_host_get_uri(const nv_host *host);

/* The libvirt connection, for the guest module.  Borrowed: valid until
 * nv_host_free(); do not close it. */
virConnectPtr nv_host_get_connection(nv_host *host);

/* Version of the libvirt daemon behind the connection (libvirt encoding).
 * FALSE with NV_ERROR_LIBVIRT "libvirt version: ...". */
gboolean nv_host_get_lib_version(nv_host *host, guint64 *version, GError **error);

/* Version of the hypervisor (QEMU) the daemon drives (libvirt encoding).
 * FALSE with NV_ERROR_LIBVIRT "hypervisor version: ...". */
gboolean nv_host_get_hypervisor_version(nv_host *host, guint64 *version, GError **error);

/* Host.has_min_version: TRUE when libvirt >= @lib_version and the
 * hypervisor >= @hv_version; 0 skips that check.  FALSE with @error unset
 * means "older"; FALSE with @error set means the versions could not be read
 * (Nova treats that as "older" too: pass NULL to get its behaviour). */
gboolean nv_host_has_min_version(nv_host *host, guint64 lib_version, guint64 hv_version,
                                 GError **error);

/* The <secret> nv_host_create_volume_secret() defines for @volume_id (@uuid
 * may be NULL), built without touching libvirt, e.g. for dry runs.  Caller
 * frees; NV_ERROR_BAD_INPUT for an empty volume id. */
char *nv_host_volume_secret_xml(const char *volume_id, const char *uuid, GError **error);

/* Define a persistent, private volume secret for @volume_id and set
 * @passphrase as its value (Host.create_secret).  @uuid is the secret's UUID,
 * or NULL to let libvirt pick one.  Returns the UUID (caller frees), or NULL
 * with NV_ERROR_LIBVIRT "secret for volume VOLID: ..." (also when a secret
 * with that usage exists already) or NV_ERROR_BAD_INPUT for an empty volume
 * id.  The secret is defined ephemeral (private), given its value, then
 * redefined persistent, so that one a crash left unfinished is ephemeral
 * and is recognised (nv_host_volume_secret_has_value()); if a step fails the
 * secret is undefined again. */
char *nv_host_create_volume_secret(nv_host *host, const char *volume_id, const char *uuid,
                                   const nv_secure_buf *passphrase, GError **error);

/* Undefine the secret with @uuid: rollback removes exactly the secret its
 * own call created, never another one that took the same usage since.
 * NV_ERROR_NOT_FOUND "secret UUID not found" when there is none;
 * NV_ERROR_LIBVIRT otherwise.  @error may be NULL. */
gboolean nv_host_delete_secret_by_uuid(nv_host *host, const char *uuid, GError **error);

/* Look up the volume secret of @volume_id (Host.find_secret).  Returns TRUE
 * and sets *@uuid (caller frees) to its UUID, or to NULL when there is no
 * such secret: that is a normal result, not an error.  Any other libvirt
 * failure (Nova swallows them all) returns FALSE with NV_ERROR_LIBVIRT
 * "secret for volume VOLID: ...". */
gboolean nv_host_find_volume_secret(nv_host *host, const char *volume_id, char **uuid,
                                    GError **error);

/* As nv_host_find_volume_secret(), keeping the handle: *@secret (caller
 * frees with virSecretFree(), g_autoptr(virSecret)) or NULL when there is
 * none.  An operation that looked its secret up this way deletes that very
 * secret with nv_host_undefine_secret(), with no second lookup. */
gboolean nv_host_lookup_volume_secret(nv_host *host, const char *volume_id, virSecretPtr *secret,
                                      GError **error);

/* Undefine @secret (by its UUID, as nv_host_delete_secret_by_uuid()).
 * NV_ERROR_NOT_FOUND "secret UUID: ..." when it is gone already;
 * NV_ERROR_LIBVIRT otherwise. */
gboolean nv_host_undefine_secret(nv_host *host, virSecretPtr secret, GError **error);

/* Undefine the volume secret of @volume_id (Host.delete_secret).  A missing
 * secret is NV_ERROR_NOT_FOUND "secret for volume VOLID not found", so
 * callers that do not care can match and drop it; other failures are
 * NV_ERROR_LIBVIRT. */
gboolean nv_host_delete_volume_secret(nv_host *host, const char *volume_id, GError **error);

/* Whether the volume secret of @volume_id has a value that can be reused.
 * An ephemeral secret gives FALSE, value or not: nvirt's finished secrets
 * are persistent, so it is one whose creation a crash cut short (see
 * nv_host_create_volume_secret()).  Otherwise only answerable for secrets
 * with private='no' (e.g. ones Nova created): libvirt checks "private"
 * before "has a value", so for the persistent private secrets this module
 * creates it is NV_ERROR_UNSUPPORTED "secret for volume VOLID is private:
 * cannot tell whether it has a value".  Those cannot lack one.  NV_ERROR_NOT_FOUND when there is no
 * secret.  The value read is wiped at once. */
gboolean nv_host_volume_secret_has_value(nv_host *host, const char *volume_id, gboolean *has_value,
                                         GError **error);

/* One volume secret of the host (host_secrets.c). */
typedef struct {
    char *uuid;      /* lowercase */
    char *volume_id; /* its usage id */
} nv_host_volume_secret;

void nv_host_volume_secret_free(nv_host_volume_secret *secret);

/* Every secret of usage type 'volume' on the host, of any owner; secrets
 * of other usage types (ceph, iscsi, tls, vtpm) are never listed.
 * GPtrArray of nv_host_volume_secret *, caller frees; NV_ERROR_LIBVIRT
 * "list secrets: ..." on failure.  A secret that vanishes while it is
 * read is skipped. */
GPtrArray *nv_host_list_volume_secrets(nv_host *host, GError **error);

G_END_DECLS
