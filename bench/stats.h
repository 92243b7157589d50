/* SPDX-License-Identifier: Apache-2.0 */
/* Order statistics shared by the benchmarks: medians and percentiles of
 * microsecond samples, reported in milliseconds. */
#pragma once

#include <glib.h>

/* Median of @n values in ms; sorts @values in place. */
double bench_median_ms(gint64 *values, guint n);

/* Nearest-rank @p-th percentile (0-100] of @n values in ms; sorts @values
 * in place. */
double bench_percentile_ms(gint64 *values, guint n, double p);
