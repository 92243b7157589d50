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

#include "util/secure.h"

G_BEGIN_DECLS

typedef struct {
    struct {
        char *connection_uri;       /* "" = libvirt's default for virt_type */
        char *virt_type;            /* "kvm", "qemu" */
        char *nfs_mount_point_base; /* where NFS shares are mounted */
    } libvirt;
    struct {
        char *backend;            /* "fixed" (the only built-in backend) */
        nv_secure_buf *fixed_key; /* raw key bytes from hex; NULL if unset */
    } key_manager;
    struct {
        gboolean disable_native_luksv1;
    } workarounds;
} nv_conf;

/* Built-in defaults, as the option table gives them. */
nv_conf *nv_conf_new_default(void);

/* Load @path (an INI file) over the defaults.  Unknown sections and options
 * are not errors: each adds one line to @warnings (if non-NULL, a GPtrArray
 * of char * the caller owns).  A bad value or syntax error fails with
 * NV_ERROR_CONFIG and a message naming file, section and option (and line,
 * for syntax errors). */
nv_conf *nv_conf_load(const char *path, GPtrArray **warnings, GError **error);

/* Print the commented sample INI (oslo-config-generator style) to @out. */
void nv_conf_generate_sample(FILE *out);

void nv_conf_free(nv_conf *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_conf, nv_conf_free)

G_END_DECLS
