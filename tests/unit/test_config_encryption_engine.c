/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <encryption engine=...> (libvirt >= 7.9): librbd decrypts LUKS2 on rbd
 * with engine='librbd'; live XML says engine='qemu' for QEMU's luks driver.
 * Kept apart from test_config.c while that file is split.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "virt/libvirt/config.h"

#define SECRET_UUID "c5f0fd26-7a39-4b3b-a3b3-5c1f9c2e7a11"

Test(config_encryption_engine, round_trips)
{
    const char *xml = "<encryption format=\"luks2\" engine=\"librbd\">\n"
                      "  <secret type=\"passphrase\" uuid=\"" SECRET_UUID "\"/>\n"
                      "</encryption>\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_disk_encryption) enc = nv_disk_encryption_parse(xml, &error);
    g_autoptr(nv_disk_encryption) copy = NULL;
    g_autofree char *out = NULL;

    cr_assert_not_null(enc, "%s", error ? error->message : "");
    cr_assert_str_eq(enc->engine, "librbd");
    copy = nv_disk_encryption_copy(enc);
    cr_assert(nv_disk_encryption_equal(enc, copy));
    out = nv_disk_encryption_to_xml(copy, &error);
    cr_assert_str_eq(out, xml);
}

Test(config_encryption_engine, absent_engine_writes_no_attribute_and_differs)
{
    g_autoptr(nv_disk_encryption) plain = nv_disk_encryption_new("luks", "passphrase", SECRET_UUID);
    g_autoptr(nv_disk_encryption) qemu = nv_disk_encryption_new("luks", "passphrase", SECRET_UUID);
    g_autofree char *out = nv_disk_encryption_to_xml(plain, NULL);

    qemu->engine = g_strdup("qemu");
    cr_assert_null(strstr(out, "engine"), "%s", out);
    cr_assert_not(nv_disk_encryption_equal(plain, qemu));
}
