/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The opaque public types of nvirt/nvirt.h (host information, attach
 * plans, the versioned volume request) and the offline plan disk-xml
 * prints: the driver's planning without a libvirt connection.
 */
#include "virt/libvirt/api_priv.h"

#include "conf/conf.h"
#include "encryptors/providers.h"
#include "nvirt/error.h"
#include "util/quote.h"
#include "virt/libvirt/config.h"
#include "virt/libvirt/encryption_path.h"
#include "virt/libvirt/volume/volume.h"

gboolean
nv_volume_request_check(const nv_volume_request *request, GError **error)
{
    if (!request) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "no volume request given");
        return FALSE;
    }
    if (request->version != NV_VOLUME_REQUEST_VERSION) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume request version %u is not one this libnvirt knows (%u); "
                    "initialise requests with NV_VOLUME_REQUEST_INIT",
                    request->version, (unsigned int)NV_VOLUME_REQUEST_VERSION);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Host information                                                         */
/* ------------------------------------------------------------------------ */

guint64
nv_host_info_get_libvirt_version(const nv_host_info *info)
{
    return info->libvirt_version;
}

guint64
nv_host_info_get_qemu_version(const nv_host_info *info)
{
    return info->qemu_version;
}

gboolean
nv_host_info_get_native_luks(const nv_host_info *info)
{
    return info->native_luks;
}

const char *
nv_host_info_get_reason(const nv_host_info *info)
{
    return info->reason;
}

gboolean
nv_host_info_get_rbd_luks2(const nv_host_info *info)
{
    return info->rbd_luks2;
}

const char *
nv_host_info_get_rbd_luks2_reason(const nv_host_info *info)
{
    return info->rbd_luks2_reason;
}

void
nv_host_info_free(nv_host_info *info)
{
    if (!info)
        return;
    g_free(info->reason);
    g_free(info->rbd_luks2_reason);
    g_free(info);
}

/* ------------------------------------------------------------------------ */
/* Attach plans                                                             */
/* ------------------------------------------------------------------------ */

/* The os-brick class get_volume_encryptor picks for a provider
 * (FORMAT_TO_FRONTEND_ENCRYPTOR_MAP), or NULL. */
static const char *
encryptor_class(const nv_encryption_meta *meta)
{
    nv_encryption_format format = NV_ENCRYPTION_FORMAT_NONE;

    if (!nv_encryptors_provider_to_format(meta->provider, NULL, &format, NULL))
        return NULL;
    switch (format) {
    case NV_ENCRYPTION_FORMAT_LUKS:
        return "LuksEncryptor";
    case NV_ENCRYPTION_FORMAT_LUKS2:
        return "Luks2Encryptor";
    case NV_ENCRYPTION_FORMAT_PLAIN:
        return "CryptsetupEncryptor";
    case NV_ENCRYPTION_FORMAT_NONE:
        break;
    }
    return NULL;
}

nv_attach_plan *
nv_attach_plan_new(const nv_connection_info *info, const nv_encryption_meta *meta,
                   nv_encryption_path path, const char *reason)
{
    nv_attach_plan *plan = g_new0(nv_attach_plan, 1);
    gboolean decrypts = meta && path != NV_ENCRYPTION_PATH_NONE;

    plan->volume_id = g_strdup(info->volume_id);
    plan->encryption_path = nv_encryption_path_name(path);
    plan->reason = g_strdup(reason);
    plan->encrypted = meta != NULL;
    if (path == NV_ENCRYPTION_PATH_ENCRYPTOR && meta)
        plan->encryptor = encryptor_class(meta);
    if (nv_encryption_path_uses_secret(path))
        plan->secret_usage = g_strdup(info->volume_id);
    /* nv_encryption_meta_parse() bounds key_size to 8..1024 bits. */
    if (decrypts && meta->has_key_size) {
        plan->has_key_size = TRUE;
        plan->key_size = (guint)meta->key_size;
    }
    if (decrypts)
        plan->cipher = g_strdup(meta->cipher);
    return plan;
}

const char *
nv_attach_plan_get_volume_id(const nv_attach_plan *plan)
{
    return plan->volume_id;
}

const char *
nv_attach_plan_get_encryption_path(const nv_attach_plan *plan)
{
    return plan->encryption_path;
}

const char *
nv_attach_plan_get_reason(const nv_attach_plan *plan)
{
    return plan->reason;
}

gboolean
nv_attach_plan_get_encrypted(const nv_attach_plan *plan)
{
    return plan->encrypted;
}

gboolean
nv_attach_plan_get_reuses_secret(const nv_attach_plan *plan)
{
    return plan->reuses_secret;
}

const char *
nv_attach_plan_get_disk_xml(const nv_attach_plan *plan)
{
    return plan->disk_xml;
}

const char *
nv_attach_plan_get_secret_xml(const nv_attach_plan *plan)
{
    return plan->secret_xml;
}

const char *
nv_attach_plan_get_encryptor(const nv_attach_plan *plan)
{
    return plan->encryptor;
}

const char *
nv_attach_plan_get_secret_usage(const nv_attach_plan *plan)
{
    return plan->secret_usage;
}

gboolean
nv_attach_plan_get_key_size(const nv_attach_plan *plan, guint *key_size)
{
    if (plan->has_key_size && key_size)
        *key_size = plan->key_size;
    return plan->has_key_size;
}

const char *
nv_attach_plan_get_cipher(const nv_attach_plan *plan)
{
    return plan->cipher;
}

void
nv_attach_plan_free(nv_attach_plan *plan)
{
    if (!plan)
        return;
    g_free(plan->volume_id);
    g_free(plan->reason);
    g_free(plan->disk_xml);
    g_free(plan->secret_xml);
    g_free(plan->secret_usage);
    g_free(plan->cipher);
    g_free(plan);
}

/* ------------------------------------------------------------------------ */
/* The offline plan                                                         */
/* ------------------------------------------------------------------------ */

nv_attach_plan *
nv_plan_attach_offline(const nv_conf *conf, const nv_volume_request *request,
                       guint64 libvirt_version, guint64 qemu_version, const char *secret_uuid,
                       GError **error)
{
    g_autoptr(nv_connection_info) info = NULL;
    g_autoptr(nv_encryption_meta) meta = NULL;
    g_autoptr(nv_disk_info) disk_info = NULL;
    g_autoptr(nv_disk_config) disk = NULL;
    g_autoptr(nv_attach_plan) plan = NULL;
    g_autofree char *reason = NULL;
    g_autofree char *fresh_uuid = NULL;
    nv_encryption_path path;

    if (!nv_volume_request_check(request, error))
        return NULL;
    if (!conf || !request->connection_info || !request->mountpoint) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "an offline plan needs a configuration, connection_info and a mountpoint");
        return NULL;
    }
    info = nv_connection_info_parse(request->connection_info, -1, error);
    if (!info)
        return NULL;
    if (secret_uuid && !g_uuid_string_is_valid(secret_uuid)) {
        g_autofree char *quoted = nv_quote(secret_uuid);

        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: secret uuid %s is not a valid UUID", info->volume_id, quoted);
        return NULL;
    }
    disk_info =
        nv_disk_info_new_for_volume(info->volume_id, request->mountpoint, request->disk_bus, error);
    if (!disk_info)
        return NULL;
    /* get_encryption_metadata only asks Cinder when data.encrypted. */
    if (info->encrypted && request->encryption) {
        meta = nv_encryption_meta_parse(request->encryption, -1, info->volume_id, error);
        if (!meta)
            return NULL;
    } else if (info->encrypted) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: connection_info says the volume is encrypted but no "
                    "encryption metadata was given",
                    info->volume_id);
        return NULL;
    }

    if (!nv_driver_choose_encryption_path(meta, info->volume_id, libvirt_version, qemu_version,
                                          conf->workarounds.disable_native_luksv1, &path, &reason,
                                          error))
        return NULL;
    /* LUKS2 on rbd: librbd decrypts it, behind the same gate as at attach
     * (encryption_path.c).  Offline there is no QEMU to ask whether its rbd
     * driver has librbd's encryption: a host at these versions is assumed
     * to have it, as Debian 12's Ceph 16.2 has. */
    disk = nv_volume_get_config(info, disk_info, conf, error);
    if (!disk)
        return NULL;
    if (g_strcmp0(disk->source_type, "network") == 0 &&
        g_strcmp0(disk->source_protocol, "rbd") == 0 && path == NV_ENCRYPTION_PATH_ENCRYPTOR)
        nv_driver_choose_rbd_encryption_path(meta, libvirt_version, qemu_version, TRUE, &path,
                                             &reason);
    /* A network volume has no host device for cryptsetup
     * (VolumeEncryptionNotSupported), offline as at attach. */
    if (path == NV_ENCRYPTION_PATH_ENCRYPTOR &&
        !nv_volume_check_encryptor_supported(info, conf, error))
        return NULL;

    if (nv_encryption_path_uses_secret(path)) {
        if (!secret_uuid)
            secret_uuid = fresh_uuid = g_uuid_string_random();
        nv_disk_config_set_luks_encryption(disk, secret_uuid);
        if (path == NV_ENCRYPTION_PATH_LIBRBD)
            nv_disk_config_set_librbd_encryption(disk);
    }

    plan = nv_attach_plan_new(info, meta, path, reason);
    plan->disk_xml = nv_disk_config_to_xml(disk, error);
    if (!plan->disk_xml)
        return NULL;
    return g_steal_pointer(&plan);
}
