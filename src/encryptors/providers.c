/* SPDX-License-Identifier: Apache-2.0 */
/* Provider alias table (os_brick/encryptors/__init__.py). */
#include "encryptors/providers.h"

#include <string.h>

#include "nvirt/error.h"

static const struct {
    const char *provider;
    nv_encryption_format format;
} provider_formats[] = {
    /* FORMAT_TO_FRONTEND_ENCRYPTOR_MAP keys: what Cinder sends today. */
    { "luks", NV_ENCRYPTION_FORMAT_LUKS },
    { "plain", NV_ENCRYPTION_FORMAT_PLAIN },
    { "luks2", NV_ENCRYPTION_FORMAT_LUKS2 },
    /* LEGACY_PROVIDER_CLASS_TO_FORMAT_MAP, exactly: note the bare
     * "CryptsetupEncryptor" has a lower-case s and "NoOpEncryptor" a capital
     * O, while the class paths spell it "NoopEncryptor". */
    { "nova.volume.encryptors.luks.LuksEncryptor", NV_ENCRYPTION_FORMAT_LUKS },
    { "nova.volume.encryptors.cryptsetup.CryptsetupEncryptor", NV_ENCRYPTION_FORMAT_PLAIN },
    { "nova.volume.encryptors.nop.NoopEncryptor", NV_ENCRYPTION_FORMAT_NONE },
    { "os_brick.encryptors.luks.LuksEncryptor", NV_ENCRYPTION_FORMAT_LUKS },
    { "os_brick.encryptors.cryptsetup.CryptsetupEncryptor", NV_ENCRYPTION_FORMAT_PLAIN },
    { "os_brick.encryptors.nop.NoopEncryptor", NV_ENCRYPTION_FORMAT_NONE },
    { "LuksEncryptor", NV_ENCRYPTION_FORMAT_LUKS },
    { "CryptsetupEncryptor", NV_ENCRYPTION_FORMAT_PLAIN },
    { "NoOpEncryptor", NV_ENCRYPTION_FORMAT_NONE },
    /* FORMAT_TO_FRONTEND_ENCRYPTOR_MAP values that the legacy map lacks:
     * os-brick imports any other provider as a class path, so its own
     * in-tree classes work by their real names. */
    { "os_brick.encryptors.luks.Luks2Encryptor", NV_ENCRYPTION_FORMAT_LUKS2 },
    { "os_brick.encryptors.nop.NoOpEncryptor", NV_ENCRYPTION_FORMAT_NONE },
};

gboolean
nv_encryptors_provider_to_format(const char *provider, const char *volume_id,
                                 nv_encryption_format *format, GError **error)
{
    g_return_val_if_fail(format != NULL, FALSE);

    /* os-brick: "elif provider is None" -> NoOpEncryptor.  An empty string
     * is not None: os-brick tries to import it as a class and fails, so it
     * falls through to the unknown-provider error below. */
    if (!provider) {
        *format = NV_ENCRYPTION_FORMAT_NONE;
        return TRUE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(provider_formats); i++) {
        if (strcmp(provider, provider_formats[i].provider) == 0) {
            *format = provider_formats[i].format;
            return TRUE;
        }
    }
    /* os-brick would try to import it as an out-of-tree class (and fails
     * for ""); Cinder has refused such providers since Queens, so this port
     * does not, whatever the control_location. */
    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "volume %s: unknown encryption provider '%s'",
                volume_id ? volume_id : "(unknown)", provider);
    return FALSE;
}

const char *
nv_encryption_format_name(nv_encryption_format format)
{
    switch (format) {
    case NV_ENCRYPTION_FORMAT_NONE:
        return "none";
    case NV_ENCRYPTION_FORMAT_LUKS:
        return "luks";
    case NV_ENCRYPTION_FORMAT_PLAIN:
        return "plain";
    case NV_ENCRYPTION_FORMAT_LUKS2:
        return "luks2";
    }
    return "none";
}

gboolean
nv_encryptors_is_front_end(const char *control_location)
{
    return control_location && g_ascii_strcasecmp(control_location, "front-end") == 0;
}
