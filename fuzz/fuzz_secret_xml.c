/* SPDX-License-Identifier: Apache-2.0 */
/* <secret> XML (nv_secret_config_parse) and its round trip. */
#include "fuzz_xml.h"
#include "virt/libvirt/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = nv_fuzz_cstring(data, size);
    g_autoptr(nv_secret_config) secret = NULL;
    g_autoptr(GError) error = NULL;

    secret = nv_secret_config_parse(xml, &error);
    g_assert((secret == NULL) != (error == NULL));
    if (secret) {
        g_autoptr(nv_secret_config) again = NULL;
        g_autofree char *out = NULL;

        out = nv_secret_config_to_xml(secret, &error);
        if (out) {
            again = nv_secret_config_parse(out, &error);
            g_assert(again);
        }
    }
    return 0;
}
