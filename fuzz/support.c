/* SPDX-License-Identifier: Apache-2.0 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

int
nv_fuzz_memfd(const uint8_t *data, size_t size, size_t min_size, char **path)
{
    int fd = memfd_create("nvirt-fuzz", MFD_CLOEXEC);
    size_t done = 0;

    if (fd < 0)
        return -1;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);

        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    if (size < min_size && ftruncate(fd, (off_t)min_size) < 0) {
        close(fd);
        return -1;
    }
    *path = g_strdup_printf("/proc/self/fd/%d", fd);
    return fd;
}
