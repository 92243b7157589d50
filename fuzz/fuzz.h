/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one entry point every fuzz target defines (libFuzzer's), and helpers
 * the targets share.  Built twice: with clang's -fsanitize=fuzzer (meson
 * -Dfuzz=true) and with standalone_driver.c, which replays a corpus in the
 * normal test build.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A memfd holding @data (at least @min_size bytes, zero-extended), and its
 * /proc/self/fd path in *@path (caller frees).  -1 when the kernel refuses
 * (the target then returns without testing anything). */
int nv_fuzz_memfd(const uint8_t *data, size_t size, size_t min_size, char **path);
