/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NV_EXPORT marks a function of the public API.  libnvirt is built with
 * -fvisibility=hidden, so nothing else leaves the library; the linker
 * version script (src/libnvirt.syms) then puts every exported symbol in the
 * version node of the release that introduced it.  For a program including
 * the headers the attribute changes nothing.
 */
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define NV_EXPORT __attribute__((visibility("default")))
#else
#define NV_EXPORT
#endif
