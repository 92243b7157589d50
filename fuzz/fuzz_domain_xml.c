/* SPDX-License-Identifier: Apache-2.0 */
/* A domain's <devices><disk> list (nv_domain_parse_disks), as libvirtd's
 * XMLDesc hands it over. */
#include "fuzz_xml.h"
#include "virt/libvirt/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = nv_fuzz_cstring(data, size);
    g_autoptr(GPtrArray) disks = NULL;
    g_autoptr(GError) error = NULL;

    disks = nv_domain_parse_disks(xml, &error);
    g_assert((disks == NULL) != (error == NULL));
    if (disks)
        (void)nv_disks_find_by_target(disks, "vdb");
    return 0;
}
