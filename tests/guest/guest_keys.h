/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test keys and patterns shared by the in-guest tests, the host-side interop
 * checks and run-guest.sh (which reads GUEST_KEY_A from this file).  Test
 * data, not secrets.  Lowercase hex, so the passphrase (hex of the key
 * bytes) is the same string.
 */
#pragma once

#define GUEST_KEY_A "6e76697274206775657374206b657920412c20666f722074657374206f6e6c79"
#define GUEST_KEY_B "6e76697274206775657374206b657920422c20666f722074657374206f6e6c79"

/* Where the interop volumes hold their pattern, and which byte. */
#define INTEROP_OFFSET     (4 * 1024 * 1024)
#define INTEROP_HOST_BYTE  0xa5 /* written by qemu-io before the guest boots */
#define INTEROP_GUEST_BYTE 0x5a /* written through the encryptor in the guest */
