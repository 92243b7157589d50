/* SPDX-License-Identifier: Apache-2.0 */
/* <disk> XML (nv_disk_config_parse), and its round trip: what parses must
 * format, and the formatted XML must parse to an equal object. */
#include "fuzz_xml.h"
#include "virt/libvirt/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = nv_fuzz_cstring(data, size);
    g_autoptr(nv_disk_config) disk = NULL;
    g_autoptr(GError) error = NULL;

    disk = nv_disk_config_parse(xml, &error);
    g_assert((disk == NULL) != (error == NULL));
    if (disk) {
        g_autoptr(nv_disk_config) again = NULL;
        g_autofree char *out = NULL;

        out = nv_disk_config_to_xml(disk, &error);
        if (out) {
            again = nv_disk_config_parse(out, &error);
            g_assert(again);
        }
    }
    return 0;
}
