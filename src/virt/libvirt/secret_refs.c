/* SPDX-License-Identifier: Apache-2.0 */
#include "virt/libvirt/secret_refs.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

#include "nvirt/error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject)

gboolean
nv_secret_refs_add_from_xml(GHashTable *refs, const char *domain_xml, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctx = NULL;
    g_autoptr(xmlXPathObject) result = NULL;

    doc = xmlReadMemory(domain_xml, (int)strlen(domain_xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "domain XML does not parse");
        return FALSE;
    }
    ctx = xmlXPathNewContext(doc);
    result =
        xmlXPathEvalExpression(BAD_CAST "/domain/devices/disk/encryption/secret/@uuid"
                                        " | /domain/devices/disk/source/encryption/secret/@uuid",
                               ctx);
    if (!result || !result->nodesetval)
        return TRUE;
    for (int i = 0; i < result->nodesetval->nodeNr; i++) {
        xmlChar *uuid = xmlNodeGetContent(result->nodesetval->nodeTab[i]);

        if (uuid)
            g_hash_table_add(refs, g_ascii_strdown((const char *)uuid, -1));
        xmlFree(uuid);
    }
    return TRUE;
}

/* Both configs of @dom into @refs.  FALSE (error set) only when libvirt
 * fails for a reason other than the domain having gone. */
static gboolean
add_domain(GHashTable *refs, virDomainPtr dom, GError **error)
{
    const unsigned int configs[] = { 0, VIR_DOMAIN_XML_INACTIVE };
    int persistent = virDomainIsPersistent(dom);

    for (guint i = 0; i < G_N_ELEMENTS(configs); i++) {
        g_autofree char *xml = NULL;

        /* A transient domain has no persistent config; a shut-off one's
         * live XML is its persistent one (read twice, harmlessly). */
        if (configs[i] == VIR_DOMAIN_XML_INACTIVE && persistent != 1)
            continue;
        xml = virDomainGetXMLDesc(dom, configs[i]);
        if (!xml) {
            virErrorPtr err = virGetLastError();

            if (err && err->code == VIR_ERR_NO_DOMAIN)
                return TRUE;
            g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "domain '%s': XML: %s",
                        virDomainGetName(dom), err && err->message ? err->message : "unknown");
            return FALSE;
        }
        if (!nv_secret_refs_add_from_xml(refs, xml, error))
            return FALSE;
    }
    return TRUE;
}

GHashTable *
nv_secret_refs_collect(nv_host *host, const char *except_domain, GError **error)
{
    g_autoptr(GHashTable) refs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    virDomainPtr *domains = NULL;
    gboolean ok = TRUE;
    int n;

    n = virConnectListAllDomains(nv_host_get_connection(host), &domains, 0);
    if (n < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "list domains: %s",
                    virGetLastErrorMessage());
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (ok && g_strcmp0(virDomainGetName(domains[i]), except_domain) != 0)
            ok = add_domain(refs, domains[i], error);
        virDomainFree(domains[i]);
    }
    free(domains);
    return ok ? g_steal_pointer(&refs) : NULL;
}

gboolean
nv_secret_refs_in_use(nv_host *host, const char *uuid, const char *except_domain, gboolean *in_use,
                      GError **error)
{
    g_autoptr(GHashTable) refs = nv_secret_refs_collect(host, except_domain, error);
    g_autofree char *lower = NULL;

    if (!refs)
        return FALSE;
    lower = g_ascii_strdown(uuid, -1);
    *in_use = g_hash_table_contains(refs, lower);
    return TRUE;
}
