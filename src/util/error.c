/* SPDX-License-Identifier: Apache-2.0 */
#include "nvirt/error.h"

/* Spelt out rather than G_DEFINE_QUARK(nvirt-error-quark, ...): that macro
 * stringifies its argument, and clang-format spaces the hyphens, which made
 * the domain's name "nvirt - error - quark". */
GQuark
nv_error_quark(void)
{
    return g_quark_from_static_string("nvirt-error-quark");
}
