/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The INI loader: oslo.config's ConfigOpts for the options in options.h, on
 * top of iniparser 4.1.
 */
#include "conf/conf.h"

#include <errno.h>
#include <iniparser/iniparser.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/options.h"
#include "nvirt/error.h"

const nv_conf_section *const nv_conf_sections[] = {
    &nv_conf_paths_section,       &nv_conf_key_manager_section,
    &nv_conf_libvirt_section,     &nv_conf_oslo_concurrency_section,
    &nv_conf_workarounds_section, NULL,
};

/* Where an option's value lives inside nv_conf. */
#define FIELD(conf, opt, type) ((type *)(void *)((char *)(conf) + (opt)->offset))

/* oslo.config nests substitutions; a loop would recurse for ever there. */
#define MAX_SUBSTITUTION_DEPTH 8

/* The source named in messages about built-in defaults (never shown: the
 * defaults are valid, see nv_conf_new_default). */
#define DEFAULTS_SOURCE "<defaults>"

static gboolean
section_is(const nv_conf_section *sec, const char *name)
{
    /* iniparser lower-cases section names, nova.conf spells "DEFAULT". */
    return g_ascii_strcasecmp(sec->name, name) == 0;
}

static const nv_conf_opt *
find_opt(const char *section, const char *name, const nv_conf_section **out_sec)
{
    for (gsize s = 0; nv_conf_sections[s]; s++) {
        const nv_conf_section *sec = nv_conf_sections[s];

        if (!section_is(sec, section))
            continue;
        for (gsize o = 0; o < sec->n_opts; o++) {
            if (g_ascii_strcasecmp(sec->opts[o].name, name) == 0) {
                *out_sec = sec;
                return &sec->opts[o];
            }
        }
    }
    return NULL;
}

/* The option an older nova.conf spelling ([keymgr] fixed_key, [key_manager]
 * api_class) stands for, or NULL. */
static const nv_conf_opt *
find_deprecated_opt(const char *section, const char *name, const nv_conf_section **out_sec)
{
    for (gsize s = 0; nv_conf_sections[s]; s++) {
        const nv_conf_section *sec = nv_conf_sections[s];

        for (gsize o = 0; o < sec->n_opts; o++) {
            const nv_conf_opt *opt = &sec->opts[o];
            const char *group = opt->deprecated_group ? opt->deprecated_group : sec->name;
            const char *oname = opt->deprecated_name ? opt->deprecated_name : opt->name;

            if (!opt->deprecated_group && !opt->deprecated_name)
                continue;
            if (g_ascii_strcasecmp(group, section) == 0 && g_ascii_strcasecmp(oname, name) == 0) {
                *out_sec = sec;
                return opt;
            }
        }
    }
    return NULL;
}

static gboolean
section_is_known(const char *section)
{
    for (gsize s = 0; nv_conf_sections[s]; s++) {
        const nv_conf_section *sec = nv_conf_sections[s];

        if (section_is(sec, section))
            return TRUE;
        for (gsize o = 0; o < sec->n_opts; o++) {
            const char *group = sec->opts[o].deprecated_group;

            if (group && g_ascii_strcasecmp(group, section) == 0)
                return TRUE;
        }
    }
    return FALSE;
}

/* oslo.config types.Boolean: TRUE_VALUES / FALSE_VALUES, any case. */
static gboolean
parse_bool(const char *value, gboolean *out)
{
    static const char *const true_values[] = { "true", "1", "on", "yes" };
    static const char *const false_values[] = { "false", "0", "off", "no" };

    for (gsize i = 0; i < G_N_ELEMENTS(true_values); i++) {
        if (g_ascii_strcasecmp(value, true_values[i]) == 0) {
            *out = TRUE;
            return TRUE;
        }
        if (g_ascii_strcasecmp(value, false_values[i]) == 0) {
            *out = FALSE;
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
is_choice(const nv_conf_opt *opt, const char *value)
{
    /* oslo.config compares choices case-sensitively unless told otherwise. */
    for (gsize i = 0; opt->choices[i]; i++) {
        if (strcmp(opt->choices[i], value) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Convert @value (as written in @file) and store it in @opt's field. */
static gboolean
set_value(nv_conf *conf, const nv_conf_section *sec, const nv_conf_opt *opt, const char *value,
          const char *file, GError **error)
{
    switch (opt->type) {
    case NV_CONF_TYPE_ENUM:
        if (value && !is_choice(opt, value)) {
            g_autofree char *list = g_strjoinv(", ", (char **)opt->choices);

            g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s: [%s] %s: '%s' is not one of %s",
                        file, sec->name, opt->name, value, list);
            return FALSE;
        }
        g_free(*FIELD(conf, opt, char *));
        *FIELD(conf, opt, char *) = g_strdup(value);
        return TRUE;
    case NV_CONF_TYPE_STRING:
        g_free(*FIELD(conf, opt, char *));
        *FIELD(conf, opt, char *) = g_strdup(value);
        return TRUE;
    case NV_CONF_TYPE_BOOL:
        if (!value || !parse_bool(value, FIELD(conf, opt, gboolean))) {
            g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s: [%s] %s: '%s' is not a boolean",
                        file, sec->name, opt->name, value ? value : "");
            return FALSE;
        }
        return TRUE;
    case NV_CONF_TYPE_INT: {
        gint64 n = 0;

        if (!value || !g_ascii_string_to_signed(value, 10, G_MININT, G_MAXINT, &n, NULL)) {
            g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s: [%s] %s: '%s' is not an integer",
                        file, sec->name, opt->name, value ? value : "");
            return FALSE;
        }
        if (n < opt->min) {
            g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                        "%s: [%s] %s: %" G_GINT64_FORMAT " is less than the minimum %d", file,
                        sec->name, opt->name, n, opt->min);
            return FALSE;
        }
        *FIELD(conf, opt, int) = (int)n;
        return TRUE;
    }
    case NV_CONF_TYPE_HEX_KEY: {
        nv_secure_buf **field = FIELD(conf, opt, nv_secure_buf *);
        g_autoptr(GError) local = NULL;
        g_autofree char *what = NULL;
        nv_secure_buf *key;

        nv_secure_buf_free(*field);
        *field = NULL;
        /* Nova's help allows an empty string: no key. */
        if (!value || !*value)
            return TRUE;
        what = g_strdup_printf("%s: [%s] %s", file, sec->name, opt->name);
        key = nv_secure_buf_from_hex(value, what, &local);
        if (!key) {
            /* The message names the option and an offset, never the value. */
            g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s", local->message);
            return FALSE;
        }
        *field = key;
        return TRUE;
    }
    }
    g_assert_not_reached();
}

/* The value a "$name" reference stands for; only string options can be
 * referenced (a key must never be copied into another option). */
static const char *
lookup_reference(const nv_conf *conf, const nv_conf_section *own, const char *ref,
                 const nv_conf_opt **out_opt, const nv_conf_section **out_sec)
{
    const char *dot = strchr(ref, '.');
    const nv_conf_opt *opt = NULL;
    const nv_conf_section *sec = NULL;

    /* oslo.config StrSubWrapper: "group.opt", else the option's own group,
     * else [DEFAULT]. */
    if (dot) {
        g_autofree char *group = g_strndup(ref, (gsize)(dot - ref));

        opt = find_opt(group, dot + 1, &sec);
    }
    if (!opt)
        opt = find_opt(own->name, ref, &sec);
    if (!opt)
        opt = find_opt("DEFAULT", ref, &sec);
    if (!opt || (opt->type != NV_CONF_TYPE_STRING && opt->type != NV_CONF_TYPE_ENUM))
        return NULL;
    *out_opt = opt;
    *out_sec = sec;
    return *FIELD(conf, opt, char *);
}

/* Why a substitution failed: the reference, and whether it was a loop. */
typedef struct {
    char *ref;
    gboolean loop;
} bad_substitution;

/* oslo.config ConfigOpts._substitute: string.Template with idpattern
 * [_a-z][._a-z0-9]* (any case), "$$" and "\$" for a literal "$", and "$"
 * before anything else kept as it is (safe_substitute). */
static char *
expand(const nv_conf *conf, const nv_conf_section *sec, const char *raw, int depth,
       bad_substitution *bad)
{
    g_autoptr(GString) out = g_string_new(NULL);
    const char *p = raw ? raw : "";

    while (*p) {
        g_autofree char *ref = NULL;
        g_autofree char *sub = NULL;
        const nv_conf_opt *ref_opt = NULL;
        const nv_conf_section *ref_sec = NULL;
        const char *value;
        const char *start;

        if ((p[0] == '\\' || p[0] == '$') && p[1] == '$') {
            g_string_append_c(out, '$');
            p += 2;
            continue;
        }
        if (p[0] != '$') {
            g_string_append_c(out, *p++);
            continue;
        }
        if (p[1] == '{') {
            const char *end = strchr(p + 2, '}');

            start = p + 2;
            if (end && end > start && (g_ascii_isalpha(*start) || *start == '_')) {
                ref = g_strndup(start, (gsize)(end - start));
                p = end + 1;
            }
        } else if (g_ascii_isalpha(p[1]) || p[1] == '_') {
            start = p + 1;
            p = start;
            while (g_ascii_isalnum(*p) || *p == '_' || *p == '.')
                p++;
            ref = g_strndup(start, (gsize)(p - start));
        }
        if (!ref) {
            g_string_append_c(out, *p++);
            continue;
        }

        value = lookup_reference(conf, sec, ref, &ref_opt, &ref_sec);
        if (!ref_opt || depth >= MAX_SUBSTITUTION_DEPTH) {
            bad->ref = g_steal_pointer(&ref);
            bad->loop = ref_opt != NULL;
            return NULL;
        }
        sub = expand(conf, ref_sec, value, depth + 1, bad);
        if (!sub)
            return NULL;
        g_string_append(out, sub);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Expand every string option, all from the values as written, then store
 * them: expanding in place would expand "$$" twice. */
static gboolean
expand_all(nv_conf *conf, const char *file, GError **error)
{
    g_autoptr(GPtrArray) expanded = g_ptr_array_new_with_free_func(g_free);

    for (gsize s = 0; nv_conf_sections[s]; s++) {
        const nv_conf_section *sec = nv_conf_sections[s];

        for (gsize o = 0; o < sec->n_opts; o++) {
            const nv_conf_opt *opt = &sec->opts[o];
            bad_substitution bad = { NULL, FALSE };
            char *value;

            if (opt->type != NV_CONF_TYPE_STRING) {
                g_ptr_array_add(expanded, NULL);
                continue;
            }
            value = expand(conf, sec, *FIELD(conf, opt, char *), 0, &bad);
            if (!value) {
                if (bad.loop)
                    g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                                "%s: [%s] %s: substitution loop at $%s", file, sec->name, opt->name,
                                bad.ref);
                else
                    g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                                "%s: [%s] %s: no string option $%s to substitute", file, sec->name,
                                opt->name, bad.ref);
                g_free(bad.ref);
                return FALSE;
            }
            g_ptr_array_add(expanded, value);
        }
    }

    for (gsize s = 0, i = 0; nv_conf_sections[s]; s++) {
        const nv_conf_section *sec = nv_conf_sections[s];

        for (gsize o = 0; o < sec->n_opts; o++, i++) {
            char **field;

            if (!g_ptr_array_index(expanded, i))
                continue;
            field = FIELD(conf, &sec->opts[o], char *);
            g_free(*field);
            *field = g_steal_pointer(&g_ptr_array_index(expanded, i));
        }
    }
    return TRUE;
}

/* Defaults as written in the table, before "$name" expansion. */
static nv_conf *
new_raw_defaults(void)
{
    nv_conf *conf = g_new0(nv_conf, 1);

    for (gsize s = 0; nv_conf_sections[s]; s++) {
        const nv_conf_section *sec = nv_conf_sections[s];

        for (gsize o = 0; o < sec->n_opts; o++) {
            g_autoptr(GError) error = NULL;

            if (!set_value(conf, sec, &sec->opts[o], sec->opts[o].default_value, DEFAULTS_SOURCE,
                           &error))
                g_error("%s", error->message);
        }
    }
    return conf;
}

nv_conf *
nv_conf_new_default(void)
{
    nv_conf *conf = new_raw_defaults();
    g_autoptr(GError) error = NULL;

    if (!expand_all(conf, DEFAULTS_SOURCE, &error))
        g_error("%s", error->message);
    return conf;
}

void
nv_conf_free(nv_conf *conf)
{
    if (!conf)
        return;
    for (gsize s = 0; nv_conf_sections[s]; s++) {
        const nv_conf_section *sec = nv_conf_sections[s];

        for (gsize o = 0; o < sec->n_opts; o++) {
            const nv_conf_opt *opt = &sec->opts[o];

            if (opt->type == NV_CONF_TYPE_STRING || opt->type == NV_CONF_TYPE_ENUM)
                g_free(*FIELD(conf, opt, char *));
            else if (opt->type == NV_CONF_TYPE_HEX_KEY)
                nv_secure_buf_free(*FIELD(conf, opt, nv_secure_buf *));
        }
    }
    g_free(conf);
}

/* iniparser reports errors through one process-wide callback, so loads are
 * serialised and the first error of the current load is kept here. */
G_LOCK_DEFINE_STATIC(iniparser_lock);
static char *ini_error_file;
static char *ini_error;

static int
capture_ini_error(const char *fmt, ...)
{
    va_list ap;
    int line = 0;

    if (ini_error)
        return 0;
    /* Take apart iniparser 4.1's own formats rather than printing them: the
     * syntax error one quotes the offending line, which may hold a key. */
    va_start(ap, fmt);
    if (strstr(fmt, "syntax error") || strstr(fmt, "line too long")) {
        (void)va_arg(ap, const char *);
        line = va_arg(ap, int);
    }
    va_end(ap);

    if (strstr(fmt, "syntax error"))
        ini_error = g_strdup_printf("%s:%d: syntax error", ini_error_file, line);
    else if (strstr(fmt, "line too long"))
        ini_error = g_strdup_printf("%s:%d: line too long", ini_error_file, line);
    else if (strstr(fmt, "cannot open"))
        ini_error = g_strdup_printf("%s: cannot open", ini_error_file);
    else if (strstr(fmt, "memory"))
        ini_error = g_strdup_printf("%s: out of memory", ini_error_file);
    else
        ini_error = g_strdup_printf("%s: cannot parse", ini_error_file);
    return 0;
}

static dictionary *
load_ini(const char *path, GError **error)
{
    dictionary *dict;
    struct stat st;
    FILE *f;

    /* iniparser only says "cannot open"; find out why first. */
    f = fopen(path, "r");
    if (!f) {
        int err = errno;

        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s: %s", path, g_strerror(err));
        return NULL;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s: %s", path, g_strerror(EISDIR));
        return NULL;
    }
    fclose(f);

    G_LOCK(iniparser_lock);
    ini_error_file = g_strdup(path);
    iniparser_set_error_callback(capture_ini_error);
    dict = iniparser_load(path);
    /* iniparser cannot tell us the previous callback; NULL restores its
     * default (print to stderr), which is all nvirt ever uses otherwise. */
    iniparser_set_error_callback(NULL);
    if (!dict) {
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s", ini_error ? ini_error : "cannot parse");
    } else if (ini_error) {
        /* iniparser 4.1 returns NULL on errors; be safe if one does not. */
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s", ini_error);
        iniparser_freedict(dict);
        dict = NULL;
    }
    g_clear_pointer(&ini_error, g_free);
    g_clear_pointer(&ini_error_file, g_free);
    G_UNLOCK(iniparser_lock);
    return dict;
}

/* iniparser frees its strings without wiping them: wipe every spelling of a
 * key option first. */
static void
free_dict_wiped(dictionary *dict)
{
    if (!dict)
        return;
    for (ssize_t i = 0; i < dict->size; i++) {
        const char *colon = dict->key[i] ? strchr(dict->key[i], ':') : NULL;
        g_autofree char *section = NULL;
        const nv_conf_section *sec = NULL;
        const nv_conf_opt *opt;

        if (!colon || !dict->val[i])
            continue;
        section = g_strndup(dict->key[i], (gsize)(colon - dict->key[i]));
        opt = find_opt(section, colon + 1, &sec);
        if (!opt)
            opt = find_deprecated_opt(section, colon + 1, &sec);
        if (opt && opt->type == NV_CONF_TYPE_HEX_KEY)
            explicit_bzero(dict->val[i], strlen(dict->val[i]));
    }
    iniparser_freedict(dict);
}

typedef dictionary nv_ini_dict;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_ini_dict, free_dict_wiped)

static gboolean
check_backend(const nv_conf *conf, const char *file, GError **error)
{
    const char *backend = conf->key_manager.backend;

    /* Castellan would load any driver by name; nvirt has the fixed key only,
     * and failing here beats failing at the first encrypted attach. */
    if (backend && g_strv_contains(nv_conf_key_manager_backends, backend))
        return TRUE;
    g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                "%s: [key_manager] backend: '%s' is not built in (available: fixed)", file,
                backend ? backend : "");
    return FALSE;
}

/* How nova.conf spells a section iniparser has lower-cased ("DEFAULT"). */
static const char *
section_spelling(const char *section)
{
    for (gsize s = 0; nv_conf_sections[s]; s++) {
        if (section_is(nv_conf_sections[s], section))
            return nv_conf_sections[s]->name;
    }
    return section;
}

/* Whether @dict sets @opt under its current spelling. */
static gboolean
is_set(nv_ini_dict *dict, const nv_conf_section *sec, const nv_conf_opt *opt)
{
    g_autofree char *entry = g_strdup_printf("%s:%s", sec->name, opt->name);
    g_autofree char *lower = g_ascii_strdown(entry, -1);

    return iniparser_find_entry(dict, lower) != 0;
}

static gboolean
apply_entry(nv_conf *conf, nv_ini_dict *dict, const char *file, const char *entry,
            const char *value, GPtrArray *warnings, GError **error)
{
    const char *colon = strchr(entry, ':');
    g_autofree char *section = NULL;
    const nv_conf_section *sec = NULL;
    const nv_conf_opt *opt;
    const char *name;

    if (!colon) {
        /* A section header. */
        if (!section_is_known(entry))
            g_ptr_array_add(warnings, g_strdup_printf("%s: unknown section [%s]", file, entry));
        return TRUE;
    }

    section = g_strndup(entry, (gsize)(colon - entry));
    name = colon + 1;
    if (!*section) {
        /* oslo.config refuses such a file; one warning is enough here. */
        g_ptr_array_add(warnings,
                        g_strdup_printf("%s: unknown option %s outside any section", file, name));
        return TRUE;
    }
    if (!section_is_known(section))
        return TRUE; /* the section header already warned */

    opt = find_opt(section, name, &sec);
    if (opt)
        return set_value(conf, sec, opt, value ? value : "", file, error);

    opt = find_deprecated_opt(section, name, &sec);
    if (!opt) {
        g_ptr_array_add(warnings, g_strdup_printf("%s: unknown option [%s] %s", file,
                                                  section_spelling(section), name));
        return TRUE;
    }
    g_ptr_array_add(warnings, g_strdup_printf("%s: deprecated option [%s] %s: use [%s] %s", file,
                                              section, name, sec->name, opt->name));
    /* oslo.config: the current spelling wins when both are set. */
    if (is_set(dict, sec, opt))
        return TRUE;
    return set_value(conf, sec, opt, value ? value : "", file, error);
}

nv_conf *
nv_conf_load(const char *path, GPtrArray **warnings, GError **error)
{
    g_autoptr(GPtrArray) warns = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(nv_ini_dict) dict = NULL;
    g_autoptr(nv_conf) conf = NULL;
    gboolean ok;

    dict = load_ini(path, error);
    ok = dict != NULL;
    if (ok) {
        conf = new_raw_defaults();
        /* Entries in file order, so warnings come out in file order too. */
        for (ssize_t i = 0; ok && i < dict->size; i++) {
            if (dict->key[i])
                ok = apply_entry(conf, dict, path, dict->key[i], dict->val[i], warns, error);
        }
    }
    ok = ok && expand_all(conf, path, error) && check_backend(conf, path, error);

    if (warnings)
        *warnings = g_steal_pointer(&warns);
    return ok ? g_steal_pointer(&conf) : NULL;
}
