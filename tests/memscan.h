/* SPDX-License-Identifier: Apache-2.0 */
/* Looking for stray copies of key material in the test's own memory. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether @needle (@len bytes) occurs anywhere in this process's private
 * writable memory that a core dump would include: the heap, the stack and
 * anonymous mappings not marked MADV_DONTDUMP (so nv_secure_buf memory is
 * not searched, and freed-but-unwiped heap blocks are).  Keep @needle itself
 * in read-only data (a static const array or string literal), which is not
 * searched.  Asserts (fails the test) when /proc/self cannot be read. */
gboolean nv_test_memory_contains(const void *needle, gsize len);

G_END_DECLS
