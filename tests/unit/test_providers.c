/* SPDX-License-Identifier: Apache-2.0 */
/* Provider alias table and control_location (encryptors/providers.c),
 * against os-brick's LEGACY_PROVIDER_CLASS_TO_FORMAT_MAP. */
#include <criterion/criterion.h>
#include <string.h>
#include <criterion/parameterized.h>

#include "encryptors/providers.h"
#include "nvirt/error.h"

typedef struct {
    char provider[64];
    nv_encryption_format format;
} alias_case;

ParameterizedTestParameters(provider_to_format, maps_every_alias)
{
    static alias_case cases[] = {
        { "luks", NV_ENCRYPTION_FORMAT_LUKS },
        { "plain", NV_ENCRYPTION_FORMAT_PLAIN },
        { "luks2", NV_ENCRYPTION_FORMAT_LUKS2 },
        { "nova.volume.encryptors.luks.LuksEncryptor", NV_ENCRYPTION_FORMAT_LUKS },
        { "nova.volume.encryptors.cryptsetup.CryptsetupEncryptor", NV_ENCRYPTION_FORMAT_PLAIN },
        { "nova.volume.encryptors.nop.NoopEncryptor", NV_ENCRYPTION_FORMAT_NONE },
        { "os_brick.encryptors.luks.LuksEncryptor", NV_ENCRYPTION_FORMAT_LUKS },
        { "os_brick.encryptors.cryptsetup.CryptsetupEncryptor", NV_ENCRYPTION_FORMAT_PLAIN },
        { "os_brick.encryptors.nop.NoopEncryptor", NV_ENCRYPTION_FORMAT_NONE },
        { "LuksEncryptor", NV_ENCRYPTION_FORMAT_LUKS },
        { "CryptsetupEncryptor", NV_ENCRYPTION_FORMAT_PLAIN },
        { "NoOpEncryptor", NV_ENCRYPTION_FORMAT_NONE },
        /* os-brick's own classes, imported by their real names
         * (os_brick/tests/encryptors/test_base.py test_get_encryptors). */
        { "os_brick.encryptors.luks.Luks2Encryptor", NV_ENCRYPTION_FORMAT_LUKS2 },
        { "os_brick.encryptors.nop.NoOpEncryptor", NV_ENCRYPTION_FORMAT_NONE },
    };
    return cr_make_param_array(alias_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(alias_case *c, provider_to_format, maps_every_alias)
{
    g_autoptr(GError) error = NULL;
    nv_encryption_format format = (nv_encryption_format)-1;

    cr_assert(nv_encryptors_provider_to_format(c->provider, "vol-1", &format, &error), "%s: %s",
              c->provider, error ? error->message : "");
    cr_assert_eq(format, c->format, "%s -> %s", c->provider, nv_encryption_format_name(format));
}

Test(provider_to_format, null_provider_is_noop)
{
    nv_encryption_format format = NV_ENCRYPTION_FORMAT_LUKS;

    cr_assert(nv_encryptors_provider_to_format(NULL, "vol-1", &format, NULL));
    cr_assert_eq(format, NV_ENCRYPTION_FORMAT_NONE);
}

/* os-brick imports "" as a class path and fails ("Empty module name"):
 * unlike None, it is not the no-op encryptor. */
Test(provider_to_format, empty_provider_is_unknown)
{
    g_autoptr(GError) error = NULL;
    nv_encryption_format format;

    cr_assert_not(nv_encryptors_provider_to_format("", "vol-1", &format, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message, "volume vol-1: unknown encryption provider ''");
}

/* Near misses of real aliases must not map: the table is exact. */
typedef struct {
    char provider[64];
} unknown_case;

ParameterizedTestParameters(provider_to_format, rejects_unknown)
{
    static unknown_case cases[] = {
        { "CryptSetupEncryptor" }, /* capital S: not in os-brick's map */
        { "LUKS" },
        { "Luks" },
        { "luks1" },
        { "NoopEncryptor" }, /* the class path spelling, without the path */
        { "nova.volume.encryptors.nop.NoOpEncryptor" }, /* never existed in Nova */
        { "os_brick.encryptors.luks2.Luks2Encryptor" }, /* no such module */
        { "my.out_of_tree.Encryptor" },
    };
    return cr_make_param_array(unknown_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(unknown_case *c, provider_to_format, rejects_unknown)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *expected =
        g_strdup_printf("volume vol-1: unknown encryption provider '%s'", c->provider);
    nv_encryption_format format;

    cr_assert_not(nv_encryptors_provider_to_format(c->provider, "vol-1", &format, &error),
                  "accepted %s", c->provider);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message, expected);
}

typedef struct {
    char location[16]; /* "-" = NULL */
    gboolean front_end;
} location_case;

ParameterizedTestParameters(is_front_end, matches_case_insensitively)
{
    static location_case cases[] = {
        { "front-end", TRUE }, { "FRONT-END", TRUE }, { "Front-End", TRUE },
        { "back-end", FALSE }, { "frontend", FALSE }, { "front-end ", FALSE },
        { "", FALSE },         { "-", FALSE },
    };
    return cr_make_param_array(location_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(location_case *c, is_front_end, matches_case_insensitively)
{
    const char *location = strcmp(c->location, "-") == 0 ? NULL : c->location;

    cr_assert_eq(nv_encryptors_is_front_end(location), c->front_end, "'%s'", c->location);
}

Test(encryption_format_name, names_each_format)
{
    cr_assert_str_eq(nv_encryption_format_name(NV_ENCRYPTION_FORMAT_NONE), "none");
    cr_assert_str_eq(nv_encryption_format_name(NV_ENCRYPTION_FORMAT_LUKS), "luks");
    cr_assert_str_eq(nv_encryption_format_name(NV_ENCRYPTION_FORMAT_PLAIN), "plain");
    cr_assert_str_eq(nv_encryption_format_name(NV_ENCRYPTION_FORMAT_LUKS2), "luks2");
}
