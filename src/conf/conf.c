/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The INI loader: oslo.config's ConfigOpts for the options in options.h, on
 * top of iniparser 4.1.
 */
#include "conf/conf.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "conf/ini.h"
#include "conf/options.h"
#include "nvirt/error.h"

const nv_conf_section *const nv_conf_sections[] = {
    &nv_conf_paths_section,
    &nv_conf_barbican_section,
    &nv_conf_barbican_service_user_section,
    &nv_conf_key_manager_section,
    &nv_conf_libvirt_section,
    &nv_conf_oslo_concurrency_section,
    &nv_conf_workarounds_section,
    NULL,
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
    case NV_CONF_TYPE_SECRET: {
        nv_secure_buf **field = FIELD(conf, opt, nv_secure_buf *);

        nv_secure_buf_free(*field);
        *field = value && *value ? nv_secure_buf_new_from(value, strlen(value)) : NULL;
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

/* The file that set @opt last, for messages; @sources maps options to
 * paths and may be NULL (built-in defaults only). */
static const char *
opt_source(GHashTable *sources, const nv_conf_opt *opt)
{
    const char *file = sources ? g_hash_table_lookup(sources, opt) : NULL;

    return file ? file : DEFAULTS_SOURCE;
}

/* Expand every string option, all from the values as written, then store
 * them: expanding in place would expand "$$" twice.  Messages name the file
 * that set the option being expanded. */
static gboolean
expand_all(nv_conf *conf, GHashTable *sources, GError **error)
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
                const char *file = opt_source(sources, opt);

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

    if (!expand_all(conf, NULL, &error))
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
            else if (opt->type == NV_CONF_TYPE_HEX_KEY || opt->type == NV_CONF_TYPE_SECRET)
                nv_secure_buf_free(*FIELD(conf, opt, nv_secure_buf *));
        }
    }
    g_free(conf);
}

/* Castellan would load any driver by name; nvirt has two built in.  An
 * unknown one is only a warning here: the key manager is created when a key
 * is needed, and a volume whose libvirt secret exists needs none (nova bug
 * 1905701), so the load must not fail before that secret is looked up. */
static void
warn_unknown_backend(const nv_conf *conf, const char *file, GPtrArray *warnings)
{
    const char *backend = conf->key_manager.backend;

    if (backend && g_strv_contains(nv_conf_key_manager_backends, backend))
        return;
    g_ptr_array_add(warnings,
                    g_strdup_printf("%s: [key_manager] backend: '%s' is not built in (available: "
                                    "fixed, barbican); attaches that need a key will fail",
                                    file, backend ? backend : ""));
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
is_set(dictionary *dict, const nv_conf_section *sec, const nv_conf_opt *opt)
{
    g_autofree char *entry = g_strdup_printf("%s:%s", sec->name, opt->name);
    g_autofree char *lower = g_ascii_strdown(entry, -1);

    return iniparser_find_entry(dict, lower) != 0;
}

/* The option names whose values are keys, every spelling: the INI reader
 * keeps their values out of iniparser.  NULL-terminated, static. */
static const char *const *
key_option_names(void)
{
    static const char **names;
    static gsize done;

    if (g_once_init_enter(&done)) {
        GPtrArray *list = g_ptr_array_new();

        for (gsize s = 0; nv_conf_sections[s]; s++) {
            const nv_conf_section *sec = nv_conf_sections[s];

            for (gsize o = 0; o < sec->n_opts; o++) {
                if (sec->opts[o].type != NV_CONF_TYPE_HEX_KEY &&
                    sec->opts[o].type != NV_CONF_TYPE_SECRET)
                    continue;
                g_ptr_array_add(list, (gpointer)sec->opts[o].name);
                if (sec->opts[o].deprecated_name)
                    g_ptr_array_add(list, (gpointer)sec->opts[o].deprecated_name);
            }
        }
        g_ptr_array_add(list, NULL);
        names = (const char **)g_ptr_array_free(list, FALSE);
        g_once_init_leave(&done, 1);
    }
    return names;
}

/* One load: the options as the files set them so far, and which file set
 * each one, for messages about values that only fail once all are read. */
typedef struct {
    nv_conf *conf;
    GPtrArray *warnings;
    GHashTable *sources; /* const nv_conf_opt * -> file path (owned) */
} loader;

static const nv_conf_opt *
backend_opt(void)
{
    const nv_conf_section *sec = NULL;

    return find_opt("key_manager", "backend", &sec);
}

/* Store @value (a key option: the placeholder the INI reader put there). */
static gboolean
apply_value(loader *ld, const nv_ini_file *file, const nv_conf_section *sec, const nv_conf_opt *opt,
            const char *value, GError **error)
{
    const char *text = value ? value : "";

    if (opt->type == NV_CONF_TYPE_HEX_KEY || opt->type == NV_CONF_TYPE_SECRET) {
        nv_secure_buf *hex = nv_ini_file_key(file, text);

        /* nv_ini_file_load() has checked that every key option holds one. */
        g_assert(hex);
        text = nv_secure_buf_str(hex);
    }
    if (!set_value(ld->conf, sec, opt, text, file->path, error))
        return FALSE;
    g_hash_table_replace(ld->sources, (gpointer)opt, g_strdup(file->path));
    return TRUE;
}

static gboolean
apply_entry(loader *ld, const nv_ini_file *file, const char *entry, const char *value,
            GError **error)
{
    const char *colon = strchr(entry, ':');
    g_autofree char *section = NULL;
    const nv_conf_section *sec = NULL;
    const nv_conf_opt *opt;
    const char *name;

    if (!colon) {
        /* A section header. */
        if (!section_is_known(entry))
            g_ptr_array_add(ld->warnings,
                            g_strdup_printf("%s: unknown section [%s]", file->path, entry));
        return TRUE;
    }

    section = g_strndup(entry, (gsize)(colon - entry));
    name = colon + 1;
    if (!*section) {
        /* oslo.config refuses such a file; one warning is enough here. */
        g_ptr_array_add(ld->warnings, g_strdup_printf("%s: unknown option %s outside any section",
                                                      file->path, name));
        return TRUE;
    }
    if (!section_is_known(section))
        return TRUE; /* the section header already warned */

    opt = find_opt(section, name, &sec);
    if (opt)
        return apply_value(ld, file, sec, opt, value, error);

    opt = find_deprecated_opt(section, name, &sec);
    if (!opt) {
        g_ptr_array_add(ld->warnings, g_strdup_printf("%s: unknown option [%s] %s", file->path,
                                                      section_spelling(section), name));
        return TRUE;
    }
    g_ptr_array_add(ld->warnings, g_strdup_printf("%s: deprecated option [%s] %s: use [%s] %s",
                                                  file->path, section, name, sec->name, opt->name));
    /* oslo.config: within one file the current spelling wins when both are
     * set; a later file overrides either. */
    if (is_set(file->ini, sec, opt))
        return TRUE;
    return apply_value(ld, file, sec, opt, value, error);
}

static gboolean
apply_file(loader *ld, const char *path, GError **error)
{
    g_autoptr(nv_ini_file) file = NULL;

    g_debug("reading configuration file %s", path);
    file = nv_ini_file_load(path, key_option_names(), NV_CONF_MAX_FILE_SIZE, error);
    if (!file)
        return FALSE;
    /* Entries in file order, so warnings come out in file order too. */
    for (ssize_t i = 0; i < file->ini->size; i++) {
        if (file->ini->key[i] &&
            !apply_entry(ld, file, file->ini->key[i], file->ini->val[i], error))
            return FALSE;
    }
    return TRUE;
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
nv_conf_list_dir(const char *dir, GError **error)
{
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    struct dirent *ent;
    DIR *d = opendir(dir);

    if (!d) {
        int err = errno;

        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s: %s", dir, g_strerror(err));
        return NULL;
    }
    while ((errno = 0, ent = readdir(d))) {
        if (ent->d_name[0] != '.' && g_str_has_suffix(ent->d_name, ".conf"))
            g_ptr_array_add(paths, g_build_filename(dir, ent->d_name, NULL));
    }
    if (errno != 0) {
        int err = errno;

        closedir(d);
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s: %s", dir, g_strerror(err));
        return NULL;
    }
    closedir(d);
    g_ptr_array_sort(paths, compare_names);
    return g_steal_pointer(&paths);
}

static gboolean
load_into(loader *ld, const char *const *files, const char *config_dir, GError **error)
{
    g_autoptr(GPtrArray) dir_files = NULL;

    for (gsize i = 0; files && files[i]; i++) {
        if (!apply_file(ld, files[i], error))
            return FALSE;
    }
    if (config_dir) {
        dir_files = nv_conf_list_dir(config_dir, error);
        if (!dir_files)
            return FALSE;
        for (guint i = 0; i < dir_files->len; i++) {
            if (!apply_file(ld, g_ptr_array_index(dir_files, i), error))
                return FALSE;
        }
    }
    /* Substitution sees the final values, as oslo.config expands at access
     * time: a later file's $state_path applies to an earlier file's
     * options. */
    if (!expand_all(ld->conf, ld->sources, error))
        return FALSE;
    warn_unknown_backend(ld->conf, opt_source(ld->sources, backend_opt()), ld->warnings);
    return TRUE;
}

nv_conf *
nv_conf_load_files(const char *const *files, const char *config_dir, GPtrArray **warnings,
                   GError **error)
{
    g_autoptr(GPtrArray) warns = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) sources = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    g_autoptr(nv_conf) conf = new_raw_defaults();
    loader ld = { conf, warns, sources };
    gboolean ok = load_into(&ld, files, config_dir, error);

    if (warnings)
        *warnings = g_steal_pointer(&warns);
    return ok ? g_steal_pointer(&conf) : NULL;
}

nv_conf *
nv_conf_load(const char *path, GPtrArray **warnings, GError **error)
{
    const char *files[] = { path, NULL };

    return nv_conf_load_files(files, NULL, warnings, error);
}
