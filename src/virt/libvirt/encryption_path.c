/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who decrypts an encrypted volume: the spec's decision between QEMU's
 * native LUKS decryption and the dm-crypt encryptors
 * (LibvirtDriver._allow_native_luksv1 and, in Nova 17-19,
 * _is_native_luks_available).  Pure functions, no libvirt: the driver
 * feeds them the host's versions, and unit tests pin every branch.
 */
#include "virt/libvirt/encryption_path.h"

#include "encryptors/providers.h"
#include "nvirt/error.h"
#include "nvirt/nvirt.h"

const char *
nv_encryption_path_name(nv_encryption_path path)
{
    switch (path) {
    case NV_ENCRYPTION_PATH_NONE:
        return "none";
    case NV_ENCRYPTION_PATH_NATIVE:
        return "native";
    case NV_ENCRYPTION_PATH_ENCRYPTOR:
        return "encryptor";
    case NV_ENCRYPTION_PATH_LIBRBD:
        return "librbd";
    }
    return "none";
}

gboolean
nv_encryption_path_uses_secret(nv_encryption_path path)
{
    return path == NV_ENCRYPTION_PATH_NATIVE || path == NV_ENCRYPTION_PATH_LIBRBD;
}

char *
nv_version_to_string(guint64 version)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT,
                           version / 1000000, (version / 1000) % 1000, version % 1000);
}

/* Why QEMU may not decrypt a LUKS v1 volume here, or NULL if it may.  The
 * operator's switch is checked before the host versions. */
char *
nv_native_luks_blocker(guint64 libvirt_version, guint64 qemu_version,
                       gboolean disable_native_luksv1)
{
    if (disable_native_luksv1)
        return g_strdup("[workarounds] disable_native_luksv1 is set");
    if (qemu_version < NV_MIN_QEMU_LUKS_VERSION) {
        g_autofree char *have = nv_version_to_string(qemu_version);
        g_autofree char *need = nv_version_to_string(NV_MIN_QEMU_LUKS_VERSION);

        return g_strdup_printf("QEMU %s is older than %s", have, need);
    }
    if (libvirt_version < NV_MIN_LIBVIRT_LUKS_VERSION) {
        g_autofree char *have = nv_version_to_string(libvirt_version);
        g_autofree char *need = nv_version_to_string(NV_MIN_LIBVIRT_LUKS_VERSION);

        return g_strdup_printf("libvirt %s is older than %s", have, need);
    }
    return NULL;
}

gboolean
nv_driver_choose_encryption_path(const nv_encryption_meta *meta, const char *volume_id,
                                 guint64 libvirt_version, guint64 qemu_version,
                                 gboolean disable_native_luksv1, nv_encryption_path *path,
                                 char **reason, GError **error)
{
    nv_encryption_format format;
    g_autofree char *why = NULL;

    g_return_val_if_fail(path != NULL, FALSE);

    /* _attach_encryptor: "if encryption and ...": {} is falsy. */
    if (!meta || meta->empty) {
        *path = NV_ENCRYPTION_PATH_NONE;
        if (reason)
            *reason = g_strdup("no encryption metadata");
        return TRUE;
    }
    if (!nv_encryptors_provider_to_format(meta->provider, volume_id, &format, error))
        return FALSE;

    if (format == NV_ENCRYPTION_FORMAT_NONE) {
        *path = NV_ENCRYPTION_PATH_NONE;
        if (reason)
            *reason = meta->provider && *meta->provider
                          ? g_strdup_printf("provider '%s' is the no-op encryptor", meta->provider)
                          : g_strdup("no encryption provider (the no-op encryptor)");
        return TRUE;
    }

    /* os-brick get_volume_encryptor gives the no-op encryptor unless
     * control_location is front-end, since the storage back end then
     * encrypts.  Nova's native path ignores control_location (a known gap
     * in nova-behaviour.md): a back-end encrypted LUKS volume would get a
     * secret and QEMU would try to decrypt data the back end already
     * decrypted.  nvirt applies the same rule to both paths. */
    if (!nv_encryptors_is_front_end(meta->control_location)) {
        *path = NV_ENCRYPTION_PATH_NONE;
        if (reason)
            *reason = g_strdup_printf("control_location '%s' is not front-end",
                                      meta->control_location ? meta->control_location : "");
        return TRUE;
    }

    if (format == NV_ENCRYPTION_FORMAT_LUKS) {
        why = nv_native_luks_blocker(libvirt_version, qemu_version, disable_native_luksv1);
        if (!why) {
            *path = NV_ENCRYPTION_PATH_NATIVE;
            if (reason) {
                g_autofree char *qemu = nv_version_to_string(qemu_version);
                g_autofree char *libvirt = nv_version_to_string(libvirt_version);

                *reason = g_strdup_printf("provider '%s' is LUKS v1 and QEMU %s with libvirt "
                                          "%s decrypts it",
                                          meta->provider, qemu, libvirt);
            }
            return TRUE;
        }
    } else {
        why = g_strdup_printf("provider '%s' is not LUKS v1", meta->provider);
    }

    *path = NV_ENCRYPTION_PATH_ENCRYPTOR;
    if (reason)
        *reason = g_steal_pointer(&why);
    return TRUE;
}

/* The one place the librbd LUKS2 gate lives (the versions in
 * encryption_path.h). */
char *
nv_librbd_luks2_blocker(guint64 libvirt_version, guint64 qemu_version, gboolean librbd_encryption)
{
    if (libvirt_version < NV_MIN_LIBVIRT_LIBRBD_LUKS2_VERSION) {
        g_autofree char *have = nv_version_to_string(libvirt_version);
        g_autofree char *need = nv_version_to_string(NV_MIN_LIBVIRT_LIBRBD_LUKS2_VERSION);

        return g_strdup_printf("libvirt %s is older than %s (encryption engine librbd)", have,
                               need);
    }
    if (qemu_version < NV_MIN_QEMU_LIBRBD_LUKS2_VERSION) {
        g_autofree char *have = nv_version_to_string(qemu_version);
        g_autofree char *need = nv_version_to_string(NV_MIN_QEMU_LIBRBD_LUKS2_VERSION);

        return g_strdup_printf("QEMU %s is older than %s (rbd encryption)", have, need);
    }
    if (!librbd_encryption)
        return g_strdup("QEMU's rbd driver offers no LUKS2 encryption (qemu-img create -f rbd "
                        "-o help lists no encrypt.format luks2: a librbd older than Ceph 16.1?)");
    return NULL;
}

char *
nv_librbd_luks2_hotplug_blocker(guint64 libvirt_version)
{
    g_autofree char *have = NULL;

    if (libvirt_version >= NV_MIN_LIBVIRT_LIBRBD_LUKS2_HOTPLUG_VERSION)
        return NULL;
    have = nv_version_to_string(libvirt_version);
    return g_strdup_printf("libvirt %s hot-plugs a disk that librbd decrypts before its key, so "
                           "QEMU refuses it; attach it to the shut-off domain and start that",
                           have);
}

char *
nv_librbd_luks2_resize_blocker(guint64 qemu_version)
{
    g_autofree char *have = NULL;

    if (qemu_version >= NV_MIN_QEMU_LIBRBD_LUKS2_RESIZE_VERSION)
        return NULL;
    have = nv_version_to_string(qemu_version);
    return g_strdup_printf("QEMU %s aborts resizing a disk that librbd decrypts; the guest sees "
                           "the new size when the domain is next started",
                           have);
}

void
nv_driver_choose_rbd_encryption_path(const nv_encryption_meta *meta, guint64 libvirt_version,
                                     guint64 qemu_version, gboolean librbd_encryption,
                                     nv_encryption_path *path, char **reason)
{
    nv_encryption_format format = NV_ENCRYPTION_FORMAT_NONE;
    g_autofree char *why = NULL;

    if (*path != NV_ENCRYPTION_PATH_ENCRYPTOR ||
        !nv_encryptors_provider_to_format(meta->provider, NULL, &format, NULL) ||
        format != NV_ENCRYPTION_FORMAT_LUKS2)
        return;
    why = nv_librbd_luks2_blocker(libvirt_version, qemu_version, librbd_encryption);
    if (!why) {
        *path = NV_ENCRYPTION_PATH_LIBRBD;
        why =
            g_strdup_printf("provider '%s' is LUKS2 on rbd and librbd decrypts it", meta->provider);
    }
    if (reason) {
        g_free(*reason);
        *reason = g_steal_pointer(&why);
    }
}
