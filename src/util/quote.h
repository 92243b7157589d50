/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Untrusted values in messages.  A value from Cinder, a tenant or a command
 * line can hold a newline, a terminal escape or megabytes; quoted with
 * nv_quote() it is one short line: C escapes (g_strescape) and, past
 * NV_QUOTE_MAX_CHARS bytes of the original, cut with "...".
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How many bytes of the value a message keeps. */
#define NV_QUOTE_MAX_CHARS 64

/* A new string: @value escaped and cut, in single quotes ("'vd\\nb'").
 * NULL quotes as "(null)". */
char *nv_quote(const char *value);

G_END_DECLS
