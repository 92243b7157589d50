/* SPDX-License-Identifier: Apache-2.0 */
/* The XML parsers take a NUL-terminated string: a copy of the input. */
#pragma once

#include <string.h>

#include "fuzz.h"

static inline char *
nv_fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = g_malloc(size + 1);

    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
