/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole-domain operations a spawn and a destroy need (Host.write_instance_config,
 * Guest.launch, Guest.poweroff, Guest.delete_configuration).  They work by
 * name or UUID on the host's connection; errors are NV_ERROR_LIBVIRT
 * "domain 'NAME': ..." (NV_ERROR_NOT_FOUND where noted).
 */
#pragma once

#include <glib.h>

#include "virt/libvirt/host.h"

G_BEGIN_DECLS

/* TRUE in *@exists when a domain named @name or with UUID @uuid (may be
 * NULL) is defined or running. */
gboolean nv_guest_exists(nv_host *host, const char *name, const char *uuid, gboolean *exists,
                         GError **error);

/* Define @xml as a persistent domain (validated against libvirt's schema)
 * and start it.  *@defined is set TRUE once the definition exists, also
 * when starting it fails, so the caller knows what to undo. */
gboolean nv_guest_define_and_start(nv_host *host, const char *name, const char *xml,
                                   gboolean *defined, GError **error);

/* Stop domain @name if it runs (virDomainDestroy: the power cord).
 * NV_ERROR_NOT_FOUND when there is no such domain. */
gboolean nv_guest_power_off(nv_host *host, const char *name, GError **error);

/* Remove the persistent definition of @name with its managed save image,
 * snapshot metadata and NVRAM (Guest.delete_configuration).  A running
 * domain becomes transient; NV_ERROR_NOT_FOUND when there is none. */
gboolean nv_guest_undefine(nv_host *host, const char *name, GError **error);

G_END_DECLS
