/* SPDX-License-Identifier: Apache-2.0 */
/* The native-or-encryptor decision (virt/libvirt/encryption_path.c): every branch,
 * and both sides of each version boundary of the spec's gate. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "nvirt/error.h"
#include "virt/libvirt/encryption_path.h"

#define V(major, minor, micro) ((guint64)(major)*1000000 + (minor)*1000 + (micro))

typedef struct {
    char name[48];
    char provider[64];         /* "" = null */
    char control_location[16]; /* "" = null */
    guint64 libvirt;
    guint64 qemu;
    gboolean disable_native_luksv1;
    nv_encryption_path path;
    char reason[128];
} path_case;

ParameterizedTestParameters(choose_encryption_path, decides)
{
    static path_case cases[] = {
        { "luks_on_minimum_host", "luks", "front-end", V(2, 2, 0), V(2, 6, 0), FALSE,
          NV_ENCRYPTION_PATH_NATIVE,
          "provider 'luks' is LUKS v1 and QEMU 2.6.0 with libvirt 2.2.0 decrypts it" },
        { "luks_on_current_host", "luks", "front-end", V(9, 0, 0), V(7, 2, 0), FALSE,
          NV_ENCRYPTION_PATH_NATIVE,
          "provider 'luks' is LUKS v1 and QEMU 7.2.0 with libvirt 9.0.0 decrypts it" },
        { "legacy_luks_class_path", "nova.volume.encryptors.luks.LuksEncryptor", "front-end",
          V(2, 2, 0), V(2, 6, 0), FALSE, NV_ENCRYPTION_PATH_NATIVE,
          "provider 'nova.volume.encryptors.luks.LuksEncryptor' is LUKS v1 and QEMU 2.6.0 with "
          "libvirt 2.2.0 decrypts it" },
        { "qemu_just_below_minimum", "luks", "front-end", V(2, 2, 0), V(2, 5, 99), FALSE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "QEMU 2.5.99 is older than 2.6.0" },
        { "qemu_2_5_0", "luks", "front-end", V(9, 0, 0), V(2, 5, 0), FALSE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "QEMU 2.5.0 is older than 2.6.0" },
        { "libvirt_just_below_minimum", "luks", "front-end", V(2, 1, 999), V(2, 6, 0), FALSE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "libvirt 2.1.999 is older than 2.2.0" },
        { "libvirt_2_1_0", "luks", "front-end", V(2, 1, 0), V(7, 2, 0), FALSE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "libvirt 2.1.0 is older than 2.2.0" },
        { "workaround_set", "luks", "front-end", V(9, 0, 0), V(7, 2, 0), TRUE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "[workarounds] disable_native_luksv1 is set" },
        { "workaround_wins_over_old_qemu", "luks", "front-end", V(9, 0, 0), V(2, 5, 0), TRUE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "[workarounds] disable_native_luksv1 is set" },
        { "plain_is_never_native", "plain", "front-end", V(9, 0, 0), V(7, 2, 0), FALSE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "provider 'plain' is not LUKS v1" },
        { "legacy_plain_class", "CryptsetupEncryptor", "front-end", V(9, 0, 0), V(7, 2, 0), FALSE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "provider 'CryptsetupEncryptor' is not LUKS v1" },
        { "luks2_is_never_native", "luks2", "front-end", V(9, 0, 0), V(7, 2, 0), FALSE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "provider 'luks2' is not LUKS v1" },
        /* Nova's native path ignores control_location (a known gap): the
         * back end decrypts, so QEMU must not. */
        { "back_end_luks_is_not_decrypted_by_qemu", "luks", "back-end", V(9, 0, 0), V(7, 2, 0),
          FALSE, NV_ENCRYPTION_PATH_NONE, "control_location 'back-end' is not front-end" },
        { "back_end_plain_gets_no_encryptor", "plain", "back-end", V(9, 0, 0), V(7, 2, 0), FALSE,
          NV_ENCRYPTION_PATH_NONE, "control_location 'back-end' is not front-end" },
        { "back_end_old_qemu_gets_no_encryptor", "luks", "back-end", V(9, 0, 0), V(2, 5, 0), FALSE,
          NV_ENCRYPTION_PATH_NONE, "control_location 'back-end' is not front-end" },
        { "null_control_location_gets_no_encryptor", "plain", "", V(9, 0, 0), V(7, 2, 0), FALSE,
          NV_ENCRYPTION_PATH_NONE, "control_location '' is not front-end" },
        { "front_end_is_case_insensitive", "plain", "Front-End", V(9, 0, 0), V(7, 2, 0), FALSE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "provider 'plain' is not LUKS v1" },
        { "noop_alias", "NoOpEncryptor", "front-end", V(9, 0, 0), V(7, 2, 0), FALSE,
          NV_ENCRYPTION_PATH_NONE, "provider 'NoOpEncryptor' is the no-op encryptor" },
        { "null_provider", "", "front-end", V(9, 0, 0), V(7, 2, 0), FALSE, NV_ENCRYPTION_PATH_NONE,
          "no encryption provider (the no-op encryptor)" },
    };
    return cr_make_param_array(path_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(path_case *c, choose_encryption_path, decides)
{
    nv_encryption_meta meta = {
        .provider = c->provider[0] ? c->provider : NULL,
        .control_location = c->control_location[0] ? c->control_location : NULL,
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *reason = NULL;
    nv_encryption_path path = NV_ENCRYPTION_PATH_NONE;

    cr_assert(nv_driver_choose_encryption_path(&meta, "vol-1", c->libvirt, c->qemu,
                                               c->disable_native_luksv1, &path, &reason, &error),
              "%s: %s", c->name, error ? error->message : "");
    cr_assert_eq(path, c->path, "%s: got %s", c->name, nv_encryption_path_name(path));
    cr_assert_str_eq(reason, c->reason, "%s", c->name);
}

Test(choose_encryption_path, no_metadata_is_none)
{
    g_autofree char *reason = NULL;
    nv_encryption_path path = NV_ENCRYPTION_PATH_NATIVE;

    cr_assert(nv_driver_choose_encryption_path(NULL, "vol-1", V(9, 0, 0), V(7, 2, 0), FALSE, &path,
                                               &reason, NULL));
    cr_assert_eq(path, NV_ENCRYPTION_PATH_NONE);
    cr_assert_str_eq(reason, "no encryption metadata");
}

/* _attach_encryptor: "if encryption and ...": an empty dict is falsy. */
Test(choose_encryption_path, empty_metadata_is_none)
{
    nv_encryption_meta meta = { .empty = TRUE };
    nv_encryption_path path = NV_ENCRYPTION_PATH_NATIVE;

    cr_assert(nv_driver_choose_encryption_path(&meta, "vol-1", V(9, 0, 0), V(7, 2, 0), FALSE, &path,
                                               NULL, NULL));
    cr_assert_eq(path, NV_ENCRYPTION_PATH_NONE);
}

Test(choose_encryption_path, unknown_provider_fails)
{
    nv_encryption_meta meta = { .provider = "CryptSetupEncryptor",
                                .control_location = "front-end" };
    g_autoptr(GError) error = NULL;
    g_autofree char *reason = NULL;
    nv_encryption_path path;

    cr_assert_not(nv_driver_choose_encryption_path(&meta, "vol-1", V(9, 0, 0), V(7, 2, 0), FALSE,
                                                   &path, &reason, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message,
                     "volume vol-1: unknown encryption provider 'CryptSetupEncryptor'");
    cr_assert_null(reason);
}

Test(choose_encryption_path, minimums_are_the_spec_versions)
{
    cr_assert_eq(NV_MIN_QEMU_LUKS_VERSION, V(2, 6, 0));
    cr_assert_eq(NV_MIN_LIBVIRT_LUKS_VERSION, V(2, 2, 0));
}

ParameterizedTestParameters(encryption_path_name, names)
{
    static nv_encryption_path paths[] = { NV_ENCRYPTION_PATH_NONE, NV_ENCRYPTION_PATH_NATIVE,
                                          NV_ENCRYPTION_PATH_ENCRYPTOR, NV_ENCRYPTION_PATH_LIBRBD };
    return cr_make_param_array(nv_encryption_path, paths, G_N_ELEMENTS(paths));
}

ParameterizedTest(nv_encryption_path *p, encryption_path_name, names)
{
    static const char *const names[] = { "none", "native", "encryptor", "librbd" };

    cr_assert_str_eq(nv_encryption_path_name(*p), names[*p]);
}

/* ---- LUKS2 on rbd: librbd's gate ----------------------------------------- */

typedef struct {
    char name[48];
    char provider[16];
    guint64 libvirt;
    guint64 qemu;
    gboolean librbd;
    nv_encryption_path path;
    char reason[160];
} rbd_case;

ParameterizedTestParameters(choose_rbd_encryption_path, decides)
{
    static rbd_case cases[] = {
        { "luks2_on_minimum_host", "luks2", V(7, 9, 0), V(6, 1, 0), TRUE, NV_ENCRYPTION_PATH_LIBRBD,
          "provider 'luks2' is LUKS2 on rbd and librbd decrypts it" },
        { "luks2_on_debian_12", "luks2", V(9, 0, 0), V(7, 2, 0), TRUE, NV_ENCRYPTION_PATH_LIBRBD,
          "provider 'luks2' is LUKS2 on rbd and librbd decrypts it" },
        { "libvirt_just_below", "luks2", V(7, 8, 999), V(7, 2, 0), TRUE,
          NV_ENCRYPTION_PATH_ENCRYPTOR,
          "libvirt 7.8.999 is older than 7.9.0 (encryption engine librbd)" },
        { "qemu_just_below", "luks2", V(9, 0, 0), V(6, 0, 999), TRUE, NV_ENCRYPTION_PATH_ENCRYPTOR,
          "QEMU 6.0.999 is older than 6.1.0 (rbd encryption)" },
        { "no_librbd_encryption", "luks2", V(9, 0, 0), V(7, 2, 0), FALSE,
          NV_ENCRYPTION_PATH_ENCRYPTOR,
          "QEMU's rbd driver offers no LUKS2 encryption (qemu-img create -f rbd -o help lists no "
          "encrypt.format luks2: a librbd older than Ceph 16.1?)" },
        /* LUKS1 stays with QEMU's luks driver; plain has no librbd engine. */
        { "plain_stays_encryptor", "plain", V(9, 0, 0), V(7, 2, 0), TRUE,
          NV_ENCRYPTION_PATH_ENCRYPTOR, "provider 'plain' is not LUKS v1" },
    };
    return cr_make_param_array(rbd_case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(rbd_case *c, choose_rbd_encryption_path, decides)
{
    nv_encryption_meta meta = { .provider = c->provider, .control_location = "front-end" };
    g_autofree char *reason = NULL;
    nv_encryption_path path = NV_ENCRYPTION_PATH_NONE;

    cr_assert(nv_driver_choose_encryption_path(&meta, "vol-1", c->libvirt, c->qemu, FALSE, &path,
                                               &reason, NULL));
    nv_driver_choose_rbd_encryption_path(&meta, c->libvirt, c->qemu, c->librbd, &path, &reason);
    cr_assert_eq(path, c->path, "%s: got %s", c->name, nv_encryption_path_name(path));
    cr_assert_str_eq(reason, c->reason, "%s", c->name);
}

Test(choose_rbd_encryption_path, luks1_stays_native_with_qemu)
{
    nv_encryption_meta meta = { .provider = "luks", .control_location = "front-end" };
    g_autofree char *reason = NULL;
    nv_encryption_path path = NV_ENCRYPTION_PATH_NONE;

    cr_assert(nv_driver_choose_encryption_path(&meta, "vol-1", V(9, 0, 0), V(7, 2, 0), FALSE, &path,
                                               &reason, NULL));
    nv_driver_choose_rbd_encryption_path(&meta, V(9, 0, 0), V(7, 2, 0), TRUE, &path, &reason);
    cr_assert_eq(path, NV_ENCRYPTION_PATH_NATIVE);
}

/* No libvirt yet hot-plugs a librbd-decrypted disk in the right order. */
Test(choose_rbd_encryption_path, hotplug_is_refused_on_every_libvirt_so_far)
{
    g_autofree char *why = nv_librbd_luks2_hotplug_blocker(V(9, 0, 0));
    g_autofree char *later = nv_librbd_luks2_hotplug_blocker(V(11, 10, 0));

    cr_assert_str_eq(why, "libvirt 9.0.0 hot-plugs a disk that librbd decrypts before its key, so "
                          "QEMU refuses it; attach it to the shut-off domain and start that");
    cr_assert_not_null(later);
    cr_assert_eq(NV_MIN_LIBVIRT_LIBRBD_LUKS2_VERSION, V(7, 9, 0));
    cr_assert_eq(NV_MIN_QEMU_LIBRBD_LUKS2_VERSION, V(6, 1, 0));
}

/* QEMU 7.2 aborts resizing a librbd-decrypted disk: no QEMU is measured to
 * survive it yet, so a live extend is refused on every version. */
Test(choose_rbd_encryption_path, live_resize_is_refused_on_every_qemu_so_far)
{
    g_autofree char *why = nv_librbd_luks2_resize_blocker(V(7, 2, 0));
    g_autofree char *later = nv_librbd_luks2_resize_blocker(V(10, 0, 0));

    cr_assert_str_eq(why, "QEMU 7.2.0 aborts resizing a disk that librbd decrypts; the guest sees "
                          "the new size when the domain is next started");
    cr_assert_not_null(later);
}
