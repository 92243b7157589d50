/* SPDX-License-Identifier: Apache-2.0 */
#include "nvirt/error.h"

G_DEFINE_QUARK(nvirt - error - quark, nv_error)
