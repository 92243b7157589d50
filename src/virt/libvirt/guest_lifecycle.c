/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-domain operations for spawn and destroy (see guest_lifecycle.h). */
#include "virt/libvirt/guest_lifecycle.h"

#include <libvirt/virterror.h>

#include "nvirt/error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

static gboolean
set_domain_error(GError **error, const char *name, const char *what)
{
    g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "domain '%s': %s%s", name, what,
                virGetLastErrorMessage());
    return FALSE;
}

/* @name's domain, or NULL: with @error NV_ERROR_NOT_FOUND when there is
 * none. */
static virDomainPtr
lookup(nv_host *host, const char *name, GError **error)
{
    virDomainPtr dom = virDomainLookupByName(nv_host_get_connection(host), name);
    virErrorPtr err;

    if (dom)
        return dom;
    err = virGetLastError();
    if (err && err->code == VIR_ERR_NO_DOMAIN)
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "domain '%s' not found", name);
    else
        set_domain_error(error, name, "");
    return NULL;
}

gboolean
nv_guest_exists(nv_host *host, const char *name, const char *uuid, gboolean *exists, GError **error)
{
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(GError) local = NULL;
    virErrorPtr err;

    g_return_val_if_fail(host != NULL && name != NULL && exists != NULL, FALSE);
    *exists = FALSE;
    dom = lookup(host, name, &local);
    if (dom) {
        *exists = TRUE;
        return TRUE;
    }
    if (!g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!uuid)
        return TRUE;
    dom = virDomainLookupByUUIDString(nv_host_get_connection(host), uuid);
    if (dom) {
        *exists = TRUE;
        return TRUE;
    }
    err = virGetLastError();
    if (err && err->code == VIR_ERR_NO_DOMAIN)
        return TRUE;
    return set_domain_error(error, name, "lookup by uuid: ");
}

gboolean
nv_guest_define_and_start(nv_host *host, const char *name, const char *xml, gboolean *defined,
                          GError **error)
{
    g_autoptr(virDomain) dom = NULL;

    g_return_val_if_fail(host != NULL && xml != NULL && defined != NULL, FALSE);
    *defined = FALSE;
    dom = virDomainDefineXMLFlags(nv_host_get_connection(host), xml, VIR_DOMAIN_DEFINE_VALIDATE);
    if (!dom)
        return set_domain_error(error, name, "define: ");
    *defined = TRUE;
    if (virDomainCreate(dom) < 0)
        return set_domain_error(error, name, "start: ");
    return TRUE;
}

gboolean
nv_guest_power_off(nv_host *host, const char *name, GError **error)
{
    g_autoptr(virDomain) dom = NULL;
    int active;

    g_return_val_if_fail(host != NULL && name != NULL, FALSE);
    dom = lookup(host, name, error);
    if (!dom)
        return FALSE;
    active = virDomainIsActive(dom);
    if (active < 0)
        return set_domain_error(error, name, "state: ");
    if (active == 0)
        return TRUE;
    if (virDomainDestroy(dom) < 0) {
        virErrorPtr err = virGetLastError();

        /* It stopped on its own in between: what was asked. */
        if (err && err->code == VIR_ERR_OPERATION_INVALID && virDomainIsActive(dom) == 0)
            return TRUE;
        return set_domain_error(error, name, "destroy: ");
    }
    return TRUE;
}

gboolean
nv_guest_undefine(nv_host *host, const char *name, GError **error)
{
    g_autoptr(virDomain) dom = NULL;
    int persistent;

    g_return_val_if_fail(host != NULL && name != NULL, FALSE);
    dom = lookup(host, name, error);
    if (!dom)
        return FALSE;
    persistent = virDomainIsPersistent(dom);
    if (persistent < 0)
        return set_domain_error(error, name, "persistence: ");
    if (persistent == 0)
        return TRUE;
    if (virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                        VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                        VIR_DOMAIN_UNDEFINE_NVRAM) < 0)
        return set_domain_error(error, name, "undefine: ");
    return TRUE;
}
