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

/* Add the content of every node @expr selects in @doc to @set, lowercased
 * when @lower, prefixed with @prefix. */
static void
add_matches(GHashTable *set, xmlXPathContextPtr ctx, const char *expr, const char *prefix,
            gboolean lower)
{
    g_autoptr(xmlXPathObject) result = xmlXPathEvalExpression(BAD_CAST expr, ctx);

    if (!result || !result->nodesetval)
        return;
    for (int i = 0; i < result->nodesetval->nodeNr; i++) {
        xmlChar *text = xmlNodeGetContent(result->nodesetval->nodeTab[i]);
        g_autofree char *value = NULL;

        if (!text)
            continue;
        value = lower ? g_ascii_strdown((const char *)text, -1) : g_strdup((const char *)text);
        g_hash_table_add(set, g_strconcat(prefix, value, NULL));
        xmlFree(text);
    }
}

static gboolean
add_from_xml(GHashTable *refs, GHashTable *sources, const char *domain_xml, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctx = NULL;

    doc = xmlReadMemory(domain_xml, (int)strlen(domain_xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "domain XML does not parse");
        return FALSE;
    }
    ctx = xmlXPathNewContext(doc);
    add_matches(refs, ctx,
                "/domain/devices/disk/encryption/secret/@uuid"
                " | /domain/devices/disk/source/encryption/secret/@uuid",
                "", TRUE);
    /* libvirt also lets a disk name its secret by usage. */
    add_matches(refs, ctx,
                "/domain/devices/disk/encryption/secret/@usage"
                " | /domain/devices/disk/source/encryption/secret/@usage",
                NV_SECRET_REFS_USAGE_PREFIX, FALSE);
    if (sources)
        add_matches(sources, ctx,
                    "/domain/devices/disk/source/@file | /domain/devices/disk/source/@dev", "",
                    FALSE);
    return TRUE;
}

gboolean
nv_secret_refs_add_from_xml(GHashTable *refs, const char *domain_xml, GError **error)
{
    return add_from_xml(refs, NULL, domain_xml, error);
}

/* Both configs of @dom into @refs.  FALSE (error set) only when libvirt
 * fails for a reason other than the domain having gone. */
static gboolean
add_domain(GHashTable *refs, GHashTable *sources, virDomainPtr dom, GError **error)
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
        if (!add_from_xml(refs, sources, xml, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
nv_domain_refs_collect(nv_host *host, const char *except_domain, GHashTable **secrets,
                       GHashTable **sources, GError **error)
{
    g_autoptr(GHashTable) refs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) paths =
        sources ? g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) : NULL;
    virDomainPtr *domains = NULL;
    gboolean ok = TRUE;
    int n;

    n = virConnectListAllDomains(nv_host_get_connection(host), &domains, 0);
    if (n < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "list domains: %s",
                    virGetLastErrorMessage());
        return FALSE;
    }
    for (int i = 0; i < n; i++) {
        if (ok && g_strcmp0(virDomainGetName(domains[i]), except_domain) != 0)
            ok = add_domain(refs, paths, domains[i], error);
        virDomainFree(domains[i]);
    }
    free(domains);
    if (!ok)
        return FALSE;
    *secrets = g_steal_pointer(&refs);
    if (sources)
        *sources = g_steal_pointer(&paths);
    return TRUE;
}

GHashTable *
nv_secret_refs_collect(nv_host *host, const char *except_domain, GError **error)
{
    GHashTable *refs = NULL;

    if (!nv_domain_refs_collect(host, except_domain, &refs, NULL, error))
        return NULL;
    return refs;
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
