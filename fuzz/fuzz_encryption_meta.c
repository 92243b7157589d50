/* SPDX-License-Identifier: Apache-2.0 */
/* Cinder's volume encryption metadata JSON (nv_encryption_meta_parse). */
#include "fuzz.h"
#include "virt/block_device.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(nv_encryption_meta) meta = NULL;
    g_autoptr(GError) error = NULL;

    if (size > G_MAXSSIZE)
        return 0;
    meta = nv_encryption_meta_parse((const char *)data, (gssize)size, "vol-fuzz", &error);
    g_assert((meta == NULL) != (error == NULL));
    if (error) {
        g_assert(!strchr(error->message, '\n'));
    } else if (meta->has_key_size) {
        /* The documented range, checked before any narrowing. */
        g_assert(meta->key_size > 0 && meta->key_size <= 1024 && meta->key_size % 8 == 0);
    }
    return 0;
}
