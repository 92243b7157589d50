/* SPDX-License-Identifier: Apache-2.0 */
/* The LUKS probe (libblkid + libcryptsetup's header loaders) and the
 * unlock-cost check over an in-memory image: the input is the start of a
 * memfd volume zero-extended to 4 MiB, so a LUKS1/LUKS2 header in the input
 * has room for its keyslot areas. */
#include <unistd.h>

#include "encryptors/luks_format.h"
#include "fuzz.h"

#define IMAGE_SIZE (4 * 1024 * 1024)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    nv_luks_probe_result probe;
    int fd;

    if (size > IMAGE_SIZE)
        return 0;
    fd = nv_fuzz_memfd(data, size, IMAGE_SIZE, &path);
    if (fd < 0)
        return 0;
    if (nv_luks_probe(path, &probe, &error)) {
        if (probe.kind == NV_LUKS_PROBE_LUKS1 || probe.kind == NV_LUKS_PROBE_LUKS2) {
            if (!nv_luks_check_unlock_cost("vol-fuzz", path, NULL, &error))
                g_assert(error && !strchr(error->message, '\n'));
        }
    } else {
        g_assert(error && !strchr(error->message, '\n'));
    }
    close(fd);
    return 0;
}
