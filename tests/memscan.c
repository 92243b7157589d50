/* SPDX-License-Identifier: Apache-2.0 */
/* The scan allocates nothing on the heap and keeps its stack frames small:
 * it must not overwrite the freed memory it is looking at. */
#include "memscan.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK      (1024 * 1024)
#define SMAPS_MAX  (16 * 1024 * 1024)
#define MAX_RANGES 8192

typedef struct {
    guintptr start;
    guintptr end;
} range;

static range ranges[MAX_RANGES];

static void *
map_scratch(gsize size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    cr_assert_neq(p, MAP_FAILED);
    /* DONTDUMP: the scan skips its own buffers. */
    madvise(p, size, MADV_DONTDUMP);
    return p;
}

/* /proc/self/smaps into @buf (NUL-terminated); returns its length. */
static gsize
read_smaps(char *buf, gsize size)
{
    int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
    gsize used = 0;
    ssize_t n;

    cr_assert_geq(fd, 0, "cannot open /proc/self/smaps");
    while (used < size - 1 && (n = read(fd, buf + used, size - 1 - used)) > 0)
        used += (gsize)n;
    close(fd);
    cr_assert_lt(used, size - 1, "/proc/self/smaps is too large");
    buf[used] = '\0';
    return used;
}

/* Private writable mappings a core dump would include: the heap, the stack,
 * anonymous ones without the "dd" flag.  Returns how many. */
static gsize
searchable_ranges(char *smaps)
{
    gboolean candidate = FALSE;
    range current = { 0, 0 };
    gsize count = 0;

    for (char *line = smaps; line && *line;) {
        char *nl = strchr(line, '\n');
        unsigned long start, end;
        char perms[5] = "";
        int path_at = 0;

        if (nl)
            *nl = '\0';
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &start, &end, perms, &path_at) >= 3) {
            const char *path = path_at > 0 ? line + path_at : "";

            current.start = start;
            current.end = end;
            candidate =
                perms[0] == 'r' && perms[1] == 'w' && perms[3] == 'p' &&
                (*path == '\0' || strcmp(path, "[heap]") == 0 || strcmp(path, "[stack]") == 0);
        } else if (candidate && strncmp(line, "VmFlags:", 8) == 0) {
            if (!strstr(line, " dd") && count < MAX_RANGES)
                ranges[count++] = current;
            candidate = FALSE;
        }
        line = nl ? nl + 1 : NULL;
    }
    return count;
}

gboolean
nv_test_memory_contains(const void *needle, gsize len)
{
    char *smaps = map_scratch(SMAPS_MAX);
    guint8 *buf = map_scratch(CHUNK + len);
    gboolean found = FALSE;
    gsize count;
    int fd;

    cr_assert_gt(len, 0);
    cr_assert_lt(len, CHUNK);
    read_smaps(smaps, SMAPS_MAX);
    count = searchable_ranges(smaps);
    fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "cannot open /proc/self/mem");

    for (gsize i = 0; !found && i < count; i++) {
        const range *r = &ranges[i];
        gsize carry = 0;

        for (guintptr at = r->start; !found && at < r->end;) {
            gsize want = MIN((gsize)(r->end - at), (gsize)CHUNK);
            ssize_t n = pread(fd, buf + carry, want, (off_t)at);

            if (n <= 0)
                break; /* e.g. a guard page */
            found = memmem(buf, carry + (gsize)n, needle, len) != NULL;
            /* Keep the last len-1 bytes: a copy may straddle two chunks. */
            if (carry + (gsize)n >= len - 1) {
                memmove(buf, buf + carry + (gsize)n - (len - 1), len - 1);
                carry = len - 1;
            }
            at += (guintptr)n;
        }
    }
    close(fd);
    explicit_bzero(buf, CHUNK + len);
    munmap(buf, CHUNK + len);
    munmap(smaps, SMAPS_MAX);
    return found;
}
