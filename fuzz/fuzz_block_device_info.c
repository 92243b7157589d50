/* SPDX-License-Identifier: Apache-2.0 */
/* Nova's block_device_info JSON (nv_block_device_info_parse): what spawn,
 * power-on, reboot, destroy and migrate take, each entry's connection_info
 * and encryption read by their own parsers. */
#include "fuzz.h"
#include "virt/block_device_info.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(nv_block_device_info) bdi = NULL;
    g_autoptr(GError) error = NULL;

    if (size > G_MAXSSIZE)
        return 0;
    bdi = nv_block_device_info_parse((const char *)data, (gssize)size, &error);
    g_assert((bdi == NULL) != (error == NULL));
    if (error) {
        g_assert(!strchr(error->message, '\n'));
        g_assert(g_str_has_prefix(error->message, "block_device_info: "));
        return 0;
    }
    /* The documented limits hold for whatever is accepted. */
    g_assert(bdi->mappings != NULL && bdi->mappings->len <= NV_BDM_MAX_ENTRIES);
    for (guint i = 0; i < bdi->mappings->len; i++) {
        const nv_bdm *bdm = g_ptr_array_index(bdi->mappings, i);

        g_assert(bdm->connection_info != NULL && bdm->connection_info->volume_id != NULL);
        g_assert(bdm->mount_device != NULL);
        g_assert(bdm->boot_index >= -1 && bdm->boot_index <= NV_BDM_MAX_BOOT_INDEX);
        for (guint j = 0; j < i; j++) {
            const nv_bdm *other = g_ptr_array_index(bdi->mappings, j);

            g_assert(bdm->boot_index < 0 || bdm->boot_index != other->boot_index);
            g_assert(strcmp(bdm->connection_info->volume_id, other->connection_info->volume_id));
        }
    }
    return 0;
}
