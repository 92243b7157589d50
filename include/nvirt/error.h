/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvirt error domain.
 *
 * Every nvirt function that can fail takes a trailing "GError **error" and
 * fills it with NV_ERROR and one of the codes below.  Messages are one line,
 * name the object they are about (volume id, domain, path) and never contain
 * key material.
 */
#pragma once

#include <glib.h>

#include "nvirt/export.h"

G_BEGIN_DECLS

#define NV_ERROR (nv_error_quark())

typedef enum {
    NV_ERROR_FAILED,           /* anything not listed below */
    NV_ERROR_BAD_INPUT,        /* malformed request: JSON, missing key, bad value */
    NV_ERROR_CONFIG,           /* bad configuration file or option value */
    NV_ERROR_NOT_FOUND,        /* domain, secret, volume or mapping absent */
    NV_ERROR_UNSUPPORTED,      /* valid request this host or volume cannot do */
    NV_ERROR_WRONG_PASSPHRASE, /* the key does not open the volume */
    NV_ERROR_LIBVIRT,          /* libvirt reported an error */
    NV_ERROR_CRYPT,            /* libcryptsetup / libblkid reported an error */
    NV_ERROR_BUSY,             /* another operation holds the volume; retry later */
    NV_ERROR_AUTH,             /* the key manager refused the credentials or the key (401, 403) */
    NV_ERROR_UNREACHABLE,      /* the key manager or Keystone did not answer */
    /* An operation did not finish within its configured bound and was
     * stopped (a live migration past live_migration_completion_timeout);
     * the host is as before it.  Since 0.2.0. */
    NV_ERROR_TIMEOUT,
} nv_error_code;

NV_EXPORT GQuark nv_error_quark(void);

G_END_DECLS
