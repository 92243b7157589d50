/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Build-time tool: nvirt.conf(5)'s OPTIONS section, in reStructuredText,
 * from the option table 'nvirt generate-config' prints (src/conf/options.h),
 * so the manual page cannot drift from what nvirt reads.
 *
 *   conf-rst TEMPLATE OUTPUT
 *
 * copies TEMPLATE to OUTPUT with the line "@OPTIONS@" replaced by one
 * subsection per configuration section and a definition per option.  The
 * help texts are Nova's, which oslo.config's Sphinx extension renders as
 * reStructuredText too, so they are copied as they are.
 */
#include <stdio.h>
#include <string.h>

#include "conf/options.h"

static const char *
type_name(nv_conf_type type)
{
    switch (type) {
    case NV_CONF_TYPE_STRING:
    case NV_CONF_TYPE_ENUM:
        return "string";
    case NV_CONF_TYPE_BOOL:
        return "boolean";
    case NV_CONF_TYPE_INT:
        return "integer";
    case NV_CONF_TYPE_HEX_KEY:
        return "string, hexadecimal";
    case NV_CONF_TYPE_SECRET:
        return "string, secret";
    }
    return "value";
}

/* One option as a definition list item: the term names it, the body says
 * its type, default and constraints, then Nova's help, indented. */
static void
print_opt(GString *out, const nv_conf_section *sec, const nv_conf_opt *opt)
{
    g_auto(GStrv) lines = g_strsplit(opt->help, "\n", -1);

    g_string_append_printf(out, "``%s``\n", opt->name);
    g_string_append_printf(out, "    *Type:* %s.", type_name(opt->type));
    if (!opt->default_value)
        g_string_append(out, " *Default:* unset.");
    else if (!*opt->default_value)
        g_string_append(out, " *Default:* empty.");
    else
        g_string_append_printf(out, " *Default:* ``%s``.", opt->default_value);
    if (opt->type == NV_CONF_TYPE_INT)
        g_string_append_printf(out, " *Minimum:* %d.", opt->min);
    if (opt->type == NV_CONF_TYPE_ENUM) {
        g_string_append(out, " *Values:*");
        for (gsize i = 0; opt->choices[i]; i++)
            g_string_append_printf(out, "%s ``%s``", i ? "," : "", opt->choices[i]);
        g_string_append_c(out, '.');
    }
    if (opt->deprecated_group || opt->deprecated_name)
        g_string_append_printf(out, " *Also read as:* ``[%s] %s`` (deprecated).",
                               opt->deprecated_group ? opt->deprecated_group : sec->name,
                               opt->deprecated_name ? opt->deprecated_name : opt->name);
    g_string_append(out, "\n\n");
    for (gsize i = 0; lines[i]; i++) {
        if (*lines[i])
            g_string_append_printf(out, "    %s\n", lines[i]);
        else if (lines[i + 1])
            g_string_append_c(out, '\n');
    }
    g_string_append_c(out, '\n');
}

static void
print_options(GString *out)
{
    for (gsize s = 0; nv_conf_sections[s]; s++) {
        const nv_conf_section *sec = nv_conf_sections[s];
        g_autofree char *title = g_strdup_printf("[%s]", sec->name);
        g_autofree char *rule = g_strnfill(strlen(title), '-');

        g_string_append_printf(out, "%s\n%s\n\n", title, rule);
        for (gsize o = 0; o < sec->n_opts; o++)
            print_opt(out, sec, &sec->opts[o]);
    }
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *template = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    g_auto(GStrv) lines = NULL;
    gboolean replaced = FALSE;

    if (argc != 3) {
        g_printerr("usage: %s TEMPLATE OUTPUT\n", argv[0]);
        return 2;
    }
    if (!g_file_get_contents(argv[1], &template, NULL, &error)) {
        g_printerr("conf-rst: %s\n", error->message);
        return 1;
    }
    lines = g_strsplit(template, "\n", -1);
    for (gsize i = 0; lines[i]; i++) {
        if (strcmp(lines[i], "@OPTIONS@") == 0) {
            print_options(out);
            replaced = TRUE;
            continue;
        }
        g_string_append(out, lines[i]);
        if (lines[i + 1])
            g_string_append_c(out, '\n');
    }
    if (!replaced) {
        g_printerr("conf-rst: %s has no @OPTIONS@ line\n", argv[1]);
        return 1;
    }
    if (!g_file_set_contents(argv[2], out->str, (gssize)out->len, &error)) {
        g_printerr("conf-rst: %s\n", error->message);
        return 1;
    }
    return 0;
}
