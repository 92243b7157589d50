/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which libvirt secrets the domains of a host reference: the <secret
 * uuid=...> of every disk <encryption> (on the disk or on its <source>) in
 * every domain's live and persistent config, running, paused, shut off or
 * transient.
 *
 * Why: a volume attached to two domains (multiattach, <shareable/>) has one
 * volume secret on the host, which both disks name.  Nova deletes it at the
 * first detach, and the other domain then cannot start again ("Secret not
 * found").  nvirt deletes a volume secret only when no other domain still
 * references it, and reconcile removes only secrets nobody references.
 */
#pragma once

#include <glib.h>

#include "virt/libvirt/host.h"

G_BEGIN_DECLS

/* A secret named by usage (<secret type='passphrase' usage='VOLID'/>)
 * appears in the sets below as this prefix + its usage id. */
#define NV_SECRET_REFS_USAGE_PREFIX "usage:"

/* The set (keys, lowercase UUID strings) of secret UUIDs referenced by the
 * domains of @host other than the one named @except_domain (NULL: all).
 * Caller frees.  NV_ERROR_LIBVIRT when the domains cannot be listed or
 * read; a domain that vanishes while it is read is skipped. */
GHashTable *nv_secret_refs_collect(nv_host *host, const char *except_domain, GError **error);

/* As nv_secret_refs_collect(), and when @sources is non-NULL also the set
 * of every disk's source path (file or dev) in those configs.  Both sets
 * are the caller's. */
gboolean nv_domain_refs_collect(nv_host *host, const char *except_domain, GHashTable **secrets,
                                GHashTable **sources, GError **error);

/* *@in_use = TRUE when a domain other than @except_domain references the
 * secret @uuid. */
gboolean nv_secret_refs_in_use(nv_host *host, const char *uuid, const char *except_domain,
                               gboolean *in_use, GError **error);

/* Add to @refs the secret UUIDs @domain_xml's disks reference (for tests,
 * and for callers that have the XML already).  FALSE with
 * NV_ERROR_BAD_INPUT when the XML does not parse. */
gboolean nv_secret_refs_add_from_xml(GHashTable *refs, const char *domain_xml, GError **error);

G_END_DECLS
