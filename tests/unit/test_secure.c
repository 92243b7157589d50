/* SPDX-License-Identifier: Apache-2.0 */
/* nv_secure_buf: hex passphrase derivation and wiping (util/secure.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "nvirt/error.h"
#include "util/secure.h"

Test(secure, passphrase_is_lowercase_hex_of_key_bytes)
{
    /* Nova: binascii.hexlify(key).decode('utf-8'), so 0xAB -> "ab". */
    const guint8 key[] = { 0x00, 0x01, 0xab, 0xff, 0x10 };
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_new_from(key, sizeof(key));
    g_autoptr(nv_secure_buf) hex = nv_secure_buf_to_hex(buf);

    cr_assert_eq(nv_secure_buf_len(hex), 10);
    cr_assert_str_eq(nv_secure_buf_str(hex), "0001abff10");
}

Test(secure, from_hex_accepts_both_cases)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_from_hex("0aFf", "test key", &error);

    cr_assert_not_null(buf);
    cr_assert_eq(nv_secure_buf_len(buf), 2);
    cr_assert_eq(nv_secure_buf_cdata(buf)[0], 0x0a);
    cr_assert_eq(nv_secure_buf_cdata(buf)[1], 0xff);
}

Test(secure, from_hex_rejects_odd_length_without_echoing_input)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_from_hex("abc", "[key_manager] fixed_key", &error);

    cr_assert_null(buf);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message,
                     "[key_manager] fixed_key: expected an even number of hex digits");
}

Test(secure, from_hex_rejects_non_hex_without_echoing_input)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) buf =
        nv_secure_buf_from_hex("00zz11", "[key_manager] fixed_key", &error);

    cr_assert_null(buf);
    cr_assert_str_eq(error->message,
                     "[key_manager] fixed_key: not a hex string (bad digit at offset 2)");
    cr_assert_null(strstr(error->message, "zz"));
}

Test(secure, from_hex_rejects_empty)
{
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_secure_buf_from_hex("", "k", &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
}

Test(secure, equal_compares_contents_and_length)
{
    g_autoptr(nv_secure_buf) a = nv_secure_buf_new_from("abcd", 4);
    g_autoptr(nv_secure_buf) b = nv_secure_buf_new_from("abcd", 4);
    g_autoptr(nv_secure_buf) c = nv_secure_buf_new_from("abce", 4);
    g_autoptr(nv_secure_buf) d = nv_secure_buf_new_from("abc", 3);

    cr_assert(nv_secure_buf_equal(a, b));
    cr_assert_not(nv_secure_buf_equal(a, c));
    cr_assert_not(nv_secure_buf_equal(a, d));
}

Test(secure, data_is_nul_terminated_for_c_apis)
{
    g_autoptr(nv_secure_buf) buf = nv_secure_buf_new_from("xyz", 3);

    cr_assert_eq(nv_secure_buf_cdata(buf)[3], '\0');
    cr_assert_eq(strlen(nv_secure_buf_str(buf)), 3);
}

Test(secure, free_null_is_noop)
{
    nv_secure_buf_free(NULL);
}
