/* SPDX-License-Identifier: Apache-2.0 */
#include "virt/libvirt/host.h"

#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "nvirt/error.h"
#include "virt/libvirt/config.h"

struct nv_host {
    char *uri;
    virConnectPtr conn;
};

/* libvirt prints every error to stderr unless a handler is installed; ours
 * come back through GError, so the connection's handler drops them.  Only
 * the connection's: the process-wide handler (virSetErrorFunc) belongs to
 * the program that links nvirt.  A failed virConnectOpen has no connection
 * yet, so libvirt reports that one through the process-wide handler (by
 * default: printed to stderr) as well as through our GError. */
static void
discard_libvirt_error(void *opaque, virErrorPtr err)
{
}

static int
last_error_code(void)
{
    virErrorPtr err = virGetLastError();

    return err ? err->code : VIR_ERR_OK;
}

static void
set_secret_error(GError **error, const char *volume_id)
{
    g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "secret for volume %s: %s", volume_id,
                virGetLastErrorMessage());
}

nv_host *
nv_host_open(const char *uri, GError **error)
{
    nv_host *host;
    virConnectPtr conn;
    const char *target = uri && *uri ? uri : NULL;

    conn = virConnectOpen(target);
    if (!conn) {
        if (target)
            g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "cannot connect to libvirt at '%s': %s",
                        target, virGetLastErrorMessage());
        else
            g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT,
                        "cannot connect to libvirt at the default URI: %s",
                        virGetLastErrorMessage());
        return NULL;
    }
    virConnSetErrorFunc(conn, NULL, discard_libvirt_error);
    host = g_new0(nv_host, 1);
    host->uri = g_strdup(target);
    host->conn = conn;
    return host;
}

gboolean
nv_host_set_keepalive(nv_host *host, int interval, guint count)
{
    int rc;

    g_return_val_if_fail(host != NULL && interval > 0 && count > 0, FALSE);
    rc = virConnectSetKeepAlive(host->conn, interval, count);
    if (rc < 0) {
        /* Without an event loop libvirt says "the caller doesn't support
         * keepalive protocol; perhaps it's missing event loop
         * implementation". */
        g_debug("libvirt keepalive not enabled: %s", virGetLastErrorMessage());
        return FALSE;
    }
    if (rc > 0) {
        g_debug("libvirt keepalive not enabled: the daemon does not support it");
        return FALSE;
    }
    g_debug("libvirt keepalive: a probe after %d s of silence, the connection closed after %u "
            "unanswered",
            interval, count);
    return TRUE;
}

void
nv_host_free(nv_host *host)
{
    if (!host)
        return;
    if (host->conn)
        virConnectClose(host->conn);
    g_free(host->uri);
    g_free(host);
}

const char *
nv_host_get_uri(const nv_host *host)
{
    g_return_val_if_fail(host != NULL, NULL);
    return host->uri;
}

virConnectPtr
nv_host_get_connection(nv_host *host)
{
    g_return_val_if_fail(host != NULL, NULL);
    return host->conn;
}

gboolean
nv_host_get_lib_version(nv_host *host, guint64 *version, GError **error)
{
    unsigned long v = 0;

    g_return_val_if_fail(host != NULL && version != NULL, FALSE);
    if (virConnectGetLibVersion(host->conn, &v) < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "libvirt version: %s",
                    virGetLastErrorMessage());
        return FALSE;
    }
    *version = v;
    return TRUE;
}

gboolean
nv_host_get_hypervisor_version(nv_host *host, guint64 *version, GError **error)
{
    unsigned long v = 0;

    g_return_val_if_fail(host != NULL && version != NULL, FALSE);
    if (virConnectGetVersion(host->conn, &v) < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "hypervisor version: %s",
                    virGetLastErrorMessage());
        return FALSE;
    }
    *version = v;
    return TRUE;
}

gboolean
nv_host_has_min_version(nv_host *host, guint64 lib_version, guint64 hv_version, GError **error)
{
    guint64 v = 0;

    g_return_val_if_fail(host != NULL, FALSE);
    if (lib_version) {
        if (!nv_host_get_lib_version(host, &v, error))
            return FALSE;
        if (v < lib_version)
            return FALSE;
    }
    if (hv_version) {
        if (!nv_host_get_hypervisor_version(host, &v, error))
            return FALSE;
        if (v < hv_version)
            return FALSE;
    }
    return TRUE;
}

static gboolean
check_volume_id(const char *volume_id, GError **error)
{
    if (volume_id && *volume_id)
        return TRUE;
    g_set_error_literal(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "volume secret: the volume id is empty");
    return FALSE;
}

/* Returns TRUE with *@secret NULL when there is none (VIR_ERR_NO_SECRET). */
static gboolean
lookup_volume_secret(nv_host *host, const char *volume_id, virSecretPtr *secret, GError **error)
{
    *secret = virSecretLookupByUsage(host->conn, VIR_SECRET_USAGE_TYPE_VOLUME, volume_id);
    if (*secret)
        return TRUE;
    if (last_error_code() == VIR_ERR_NO_SECRET)
        return TRUE;
    set_secret_error(error, volume_id);
    return FALSE;
}

char *
nv_host_volume_secret_xml(const char *volume_id, const char *uuid, GError **error)
{
    g_autoptr(nv_secret_config) conf = NULL;

    if (!check_volume_id(volume_id, error))
        return NULL;
    conf = nv_secret_config_new();
    /* ephemeral='no': the secret must survive libvirtd and host restarts,
     * since power-on and host-boot resume find it instead of asking the key
     * manager (nova bug 1905701). */
    conf->ephemeral = FALSE;
    /* private='yes', unlike Nova's private='no': nothing needs to read the
     * passphrase back through the API (libvirt hands it to QEMU internally),
     * so a leaked read-only connection must not be able to either. */
    conf->private_ = TRUE;
    conf->uuid = g_strdup(uuid);
    conf->usage_type = g_strdup("volume");
    conf->usage_id = g_strdup(volume_id);
    return nv_secret_config_to_xml(conf, error);
}

/* Define the secret of @volume_id from @conf's XML.  Returns the new
 * reference or NULL with @error set. */
static virSecretPtr
define_secret(nv_host *host, const nv_secret_config *conf, const char *volume_id, GError **error)
{
    g_autofree char *xml = nv_secret_config_to_xml(conf, error);
    virSecretPtr secret;

    if (!xml)
        return NULL;
    secret = virSecretDefineXML(host->conn, xml, 0);
    if (!secret)
        set_secret_error(error, volume_id);
    return secret;
}

char *
nv_host_create_volume_secret(nv_host *host, const char *volume_id, const char *uuid,
                             const nv_secure_buf *passphrase, GError **error)
{
    g_autoptr(nv_secret_config) conf = NULL;
    g_autofree char *xml = NULL;
    char uuid_str[VIR_UUID_STRING_BUFLEN];
    virSecretPtr secret;

    g_return_val_if_fail(host != NULL && passphrase != NULL, NULL);
    xml = nv_host_volume_secret_xml(volume_id, uuid, error);
    if (!xml)
        return NULL;
    conf = nv_secret_config_parse(xml, error);
    if (!conf)
        return NULL;

    /* Defined ephemeral first (held in libvirtd's memory only, nothing
     * written), given its value, then redefined persistent: libvirt writes
     * value and config in that one call.  A crash at any point leaves a
     * secret a later attach can tell apart: an ephemeral one, which
     * nv_host_volume_secret_has_value() counts as unfinished (recreated by
     * the next attach; a restart of libvirtd drops it anyway), or the
     * persistent private one with its value.  A secret defined persistent
     * and private at once would hide a missing value for good (libvirt
     * refuses to read private values), and every later attach would reuse
     * it and fail inside QEMU.  Private from the start; libvirt keeps the
     * value across the redefinition.  Same RPCs as defining it public and
     * then private, one disk write (fsync) fewer. */
    conf->ephemeral = TRUE;
    secret = define_secret(host, conf, volume_id, error);
    if (!secret)
        return NULL;
    if (virSecretGetUUIDString(secret, uuid_str) < 0 ||
        virSecretSetValue(secret, nv_secure_buf_cdata(passphrase), nv_secure_buf_len(passphrase),
                          0) < 0) {
        set_secret_error(error, volume_id);
        virSecretUndefine(secret);
        virSecretFree(secret);
        return NULL;
    }
    virSecretFree(secret);

    g_free(conf->uuid);
    conf->uuid = g_strdup(uuid_str);
    conf->ephemeral = FALSE;
    secret = define_secret(host, conf, volume_id, error);
    if (!secret) {
        nv_host_delete_secret_by_uuid(host, uuid_str, NULL);
        return NULL;
    }
    virSecretFree(secret);
    return g_strdup(uuid_str);
}

gboolean
nv_host_delete_secret_by_uuid(nv_host *host, const char *uuid, GError **error)
{
    virSecretPtr secret;
    int rc;

    g_return_val_if_fail(host != NULL && uuid != NULL, FALSE);
    secret = virSecretLookupByUUIDString(host->conn, uuid);
    if (!secret) {
        if (last_error_code() == VIR_ERR_NO_SECRET)
            g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "secret %s not found", uuid);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "secret %s: %s", uuid,
                        virGetLastErrorMessage());
        return FALSE;
    }
    rc = virSecretUndefine(secret);
    if (rc < 0)
        g_set_error(error, NV_ERROR,
                    last_error_code() == VIR_ERR_NO_SECRET ? NV_ERROR_NOT_FOUND : NV_ERROR_LIBVIRT,
                    "secret %s: %s", uuid, virGetLastErrorMessage());
    virSecretFree(secret);
    return rc == 0;
}

gboolean
nv_host_lookup_volume_secret(nv_host *host, const char *volume_id, virSecretPtr *secret,
                             GError **error)
{
    g_return_val_if_fail(host != NULL && secret != NULL, FALSE);
    *secret = NULL;
    return check_volume_id(volume_id, error) &&
           lookup_volume_secret(host, volume_id, secret, error);
}

gboolean
nv_host_undefine_secret(nv_host *host, virSecretPtr secret, GError **error)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";

    g_return_val_if_fail(host != NULL && secret != NULL, FALSE);
    /* Local: the handle carries its UUID, no RPC. */
    virSecretGetUUIDString(secret, uuid);
    if (virSecretUndefine(secret) == 0)
        return TRUE;
    g_set_error(error, NV_ERROR,
                last_error_code() == VIR_ERR_NO_SECRET ? NV_ERROR_NOT_FOUND : NV_ERROR_LIBVIRT,
                "secret %s: %s", uuid, virGetLastErrorMessage());
    return FALSE;
}

gboolean
nv_host_find_volume_secret(nv_host *host, const char *volume_id, char **uuid, GError **error)
{
    char uuid_str[VIR_UUID_STRING_BUFLEN];
    virSecretPtr secret = NULL;
    int rc;

    g_return_val_if_fail(host != NULL && uuid != NULL, FALSE);
    *uuid = NULL;
    if (!check_volume_id(volume_id, error))
        return FALSE;
    if (!lookup_volume_secret(host, volume_id, &secret, error))
        return FALSE;
    if (!secret)
        return TRUE;
    rc = virSecretGetUUIDString(secret, uuid_str);
    if (rc < 0)
        set_secret_error(error, volume_id);
    else
        *uuid = g_strdup(uuid_str);
    virSecretFree(secret);
    return rc == 0;
}

gboolean
nv_host_delete_volume_secret(nv_host *host, const char *volume_id, GError **error)
{
    virSecretPtr secret = NULL;
    int rc;

    g_return_val_if_fail(host != NULL, FALSE);
    if (!check_volume_id(volume_id, error))
        return FALSE;
    if (!lookup_volume_secret(host, volume_id, &secret, error))
        return FALSE;
    if (!secret) {
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "secret for volume %s not found",
                    volume_id);
        return FALSE;
    }
    rc = virSecretUndefine(secret);
    if (rc < 0) {
        /* Deleted by someone else between lookup and undefine: same as
         * finding none. */
        if (last_error_code() == VIR_ERR_NO_SECRET)
            g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "secret for volume %s not found",
                        volume_id);
        else
            set_secret_error(error, volume_id);
    }
    virSecretFree(secret);
    return rc == 0;
}

gboolean
nv_host_volume_secret_has_value(nv_host *host, const char *volume_id, gboolean *has_value,
                                GError **error)
{
    g_autoptr(nv_secret_config) conf = NULL;
    g_autofree char *xml = NULL;
    virSecretPtr secret = NULL;
    unsigned char *value;
    size_t len = 0;

    g_return_val_if_fail(host != NULL && has_value != NULL, FALSE);
    *has_value = FALSE;
    if (!check_volume_id(volume_id, error))
        return FALSE;
    if (!lookup_volume_secret(host, volume_id, &secret, error))
        return FALSE;
    if (!secret) {
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "secret for volume %s not found",
                    volume_id);
        return FALSE;
    }
    xml = virSecretGetXMLDesc(secret, 0);
    if (!xml) {
        set_secret_error(error, volume_id);
        virSecretFree(secret);
        return FALSE;
    }
    conf = nv_secret_config_parse(xml, error);
    if (!conf) {
        virSecretFree(secret);
        return FALSE;
    }
    /* nvirt's finished secrets are persistent: an ephemeral one is one
     * whose creation was cut short, value or not (see
     * nv_host_create_volume_secret()), and must not be reused. */
    if (conf->ephemeral) {
        virSecretFree(secret);
        return TRUE;
    }
    /* libvirt's secretGetValue refuses private secrets ("secret is
     * private", VIR_ERR_INVALID_SECRET) before it looks at the value. */
    if (conf->private_) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "secret for volume %s is private: cannot tell whether it has a value",
                    volume_id);
        virSecretFree(secret);
        return FALSE;
    }
    value = virSecretGetValue(secret, &len, 0);
    if (value) {
        explicit_bzero(value, len);
        free(value);
        *has_value = TRUE;
    } else if (last_error_code() != VIR_ERR_NO_SECRET) {
        /* VIR_ERR_NO_SECRET here is "secret 'UUID' does not have a value". */
        set_secret_error(error, volume_id);
        virSecretFree(secret);
        return FALSE;
    }
    /* Only now: every libvirt call, virSecretFree too, resets the last error. */
    virSecretFree(secret);
    return TRUE;
}
