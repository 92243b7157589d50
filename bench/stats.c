/* SPDX-License-Identifier: Apache-2.0 */
#include "stats.h"

#include <stdlib.h>

static int
cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return (x > y) - (x < y);
}

double
bench_median_ms(gint64 *values, guint n)
{
    qsort(values, n, sizeof(*values), cmp_i64);
    if (n % 2)
        return values[n / 2] / 1000.0;
    return (values[n / 2 - 1] + values[n / 2]) / 2000.0;
}

double
bench_percentile_ms(gint64 *values, guint n, double p)
{
    guint rank;

    qsort(values, n, sizeof(*values), cmp_i64);
    rank = (guint)(p / 100.0 * n + 0.999999);
    rank = CLAMP(rank, 1, n);
    return values[rank - 1] / 1000.0;
}
