/* SPDX-License-Identifier: Apache-2.0 */
#include "util/quote.h"

#include <string.h>

char *
nv_quote(const char *value)
{
    g_autofree char *head = NULL;
    g_autofree char *escaped = NULL;

    if (!value)
        return g_strdup("(null)");
    /* Cut before escaping, so the work and the result are bounded whatever
     * the value's size; g_strescape turns control and non-ASCII bytes into
     * octal escapes, so a newline cannot split the message. */
    head = g_strndup(value, NV_QUOTE_MAX_CHARS);
    escaped = g_strescape(head, NULL);
    return g_strdup_printf("'%s%s'", escaped, value[strlen(head)] ? "..." : "");
}
