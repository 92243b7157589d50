/* SPDX-License-Identifier: Apache-2.0 */
/* Cinder's connection_info JSON (nv_connection_info_parse). */
#include "fuzz.h"
#include "virt/block_device.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(nv_connection_info) info = NULL;
    g_autoptr(GError) error = NULL;

    if (size > G_MAXSSIZE)
        return 0;
    info = nv_connection_info_parse((const char *)data, (gssize)size, &error);
    /* Exactly one of a result and an error, and an error is one line. */
    g_assert((info == NULL) != (error == NULL));
    if (error)
        g_assert(!strchr(error->message, '\n'));
    else
        (void)nv_connection_info_get_data_string(info, "device_path");
    return 0;
}
