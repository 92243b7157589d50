/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The option table, private to the conf module (oslo.config's Opt objects).
 *
 * Each section lives in its own file named after the nova/conf module that
 * defines it (paths.c, libvirt.c, key_manager.c, workarounds.c; barbican.c
 * for castellan's and keystoneauth's); conf.c reads
 * them for the loader and generator.c for the sample.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    NV_CONF_TYPE_STRING,  /* char *; "$name" expanded as oslo.config does */
    NV_CONF_TYPE_BOOL,    /* gboolean; oslo.config spellings */
    NV_CONF_TYPE_INT,     /* int, >= min */
    NV_CONF_TYPE_ENUM,    /* char *, one of choices */
    NV_CONF_TYPE_HEX_KEY, /* nv_secure_buf * of the decoded bytes; never echoed */
    /* nv_secure_buf * of the text (a password, a token); read like a key,
     * never echoed; NULL if unset or "". */
    NV_CONF_TYPE_SECRET,
} nv_conf_type;

typedef struct {
    const char *name;
    nv_conf_type type;
    /* As it would be written in the file; NULL = no value ("<None>"). */
    const char *default_value;
    /* ENUM: the accepted values, NULL-terminated. */
    const char *const *choices;
    /* INT: the smallest accepted value. */
    int min;
    /* Nova's help text where Nova has the option.  One source line per "\n";
     * the generator wraps each line, so a paragraph may be one long line. */
    const char *help;
    /* offsetof(nv_conf, ...) of the field the option fills. */
    gsize offset;
    /* An older nova.conf spelling still read (oslo deprecated_group /
     * deprecated_name); NULL = same as the current one. */
    const char *deprecated_group;
    const char *deprecated_name;
} nv_conf_opt;

typedef struct {
    const char *name; /* as nova.conf spells it: "DEFAULT", "libvirt" */
    const nv_conf_opt *opts;
    gsize n_opts;
} nv_conf_section;

extern const nv_conf_section nv_conf_paths_section;
extern const nv_conf_section nv_conf_barbican_section;
extern const nv_conf_section nv_conf_barbican_service_user_section;
extern const nv_conf_section nv_conf_libvirt_section;
extern const nv_conf_section nv_conf_key_manager_section;
extern const nv_conf_section nv_conf_oslo_concurrency_section;
extern const nv_conf_section nv_conf_workarounds_section;

/* Every section, in sample order: DEFAULT first, then alphabetical, as
 * oslo-config-generator orders groups.  NULL-terminated. */
extern const nv_conf_section *const nv_conf_sections[];

/* [key_manager] backend values nvirt has built in, NULL-terminated. */
extern const char *const nv_conf_key_manager_backends[];

G_END_DECLS
