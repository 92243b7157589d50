/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nv_volume_encryptor (nvirt/nvirt.h): a volume's os-brick-style encryptor
 * on its own, without libvirt, with its key from the configured key
 * manager.  What the nvirt encryptor-attach/-detach commands run.
 */
#include "conf/conf.h"
#include "encryptors/encryptor.h"
#include "encryptors/providers.h"
#include "keymgr/keymgr.h"
#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "virt/block_device.h"
#include "virt/libvirt/api_priv.h"

struct nv_volume_encryptor {
    const nv_conf *conf; /* borrowed: the key manager is made from it at attach */
    nv_connection_info *info;
    nv_encryption_meta *meta;
    nv_encryptor *enc;
    const char *reason; /* static; NULL when the metadata was used */
};

void
nv_volume_encryptor_free(nv_volume_encryptor *venc)
{
    if (!venc)
        return;
    nv_encryptor_free(venc->enc);
    nv_encryption_meta_free(venc->meta);
    nv_connection_info_free(venc->info);
    g_free(venc);
}

/* A volume without data.encrypted gets the no-op encryptor, as Nova never
 * asks Cinder for its metadata; so does empty metadata ("{}"). */
nv_volume_encryptor *
nv_volume_encryptor_new(const nv_conf *conf, const nv_volume_request *request, GError **error)
{
    g_autoptr(nv_volume_encryptor) venc = NULL;
    const nv_encryption_meta *meta;
    const char *volume_id;
    guint key_size = 0;

    if (!nv_volume_request_check(request, error))
        return NULL;
    if (!conf || !request->connection_info || !request->encryption) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "an encryptor needs a configuration, connection_info and encryption "
                    "metadata");
        return NULL;
    }
    venc = g_new0(nv_volume_encryptor, 1);
    venc->conf = conf;
    venc->info = nv_connection_info_parse(request->connection_info, -1, error);
    if (!venc->info)
        return NULL;
    volume_id = venc->info->volume_id;
    venc->meta = nv_encryption_meta_parse(request->encryption, -1, volume_id, error);
    if (!venc->meta)
        return NULL;
    meta = venc->meta;

    if (!venc->info->encrypted || meta->empty) {
        venc->reason =
            !venc->info->encrypted ? "data.encrypted is not set" : "encryption metadata is empty";
        venc->enc =
            nv_encryptor_new(volume_id, venc->info->device_path, NULL, NULL, NULL, 0, error);
        return venc->enc ? g_steal_pointer(&venc) : NULL;
    }
    /* The parser bounds key_size already; the narrowing to the encryptor's
     * guint is checked here all the same, so no caller can wrap it. */
    if (meta->has_key_size && (meta->key_size <= 0 || meta->key_size > G_MAXUINT)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: key_size %" G_GINT64_FORMAT " is out of range", volume_id,
                    meta->key_size);
        return NULL;
    }
    if (meta->has_key_size)
        key_size = (guint)meta->key_size;
    venc->enc = nv_encryptor_new(volume_id, venc->info->device_path, meta->provider,
                                 meta->control_location, meta->cipher, key_size, error);
    return venc->enc ? g_steal_pointer(&venc) : NULL;
}

gboolean
nv_volume_encryptor_attach(nv_volume_encryptor *venc, GError **error)
{
    g_autoptr(nv_keymgr) keymgr = NULL;
    g_autoptr(nv_secure_buf) passphrase = NULL;

    /* The no-op encryptor does nothing and needs no key (the host may have
     * no key manager configured). */
    if (!nv_encryptor_mapping_name(venc->enc))
        return TRUE;
    keymgr = nv_keymgr_new_from_conf(venc->conf, error);
    if (!keymgr)
        return FALSE;
    passphrase = nv_keymgr_get_volume_passphrase(keymgr, venc->info->volume_id,
                                                 venc->meta->encryption_key_id, error);
    if (!passphrase)
        return FALSE;
    return nv_encryptor_attach(venc->enc, passphrase, error);
}

gboolean
nv_volume_encryptor_detach(nv_volume_encryptor *venc, GError **error)
{
    return nv_encryptor_detach(venc->enc, error);
}

const char *
nv_volume_encryptor_get_volume_id(const nv_volume_encryptor *venc)
{
    return venc->info->volume_id;
}

const char *
nv_volume_encryptor_get_format(const nv_volume_encryptor *venc)
{
    return nv_encryption_format_name(nv_encryptor_format(venc->enc));
}

const char *
nv_volume_encryptor_get_device_path(const nv_volume_encryptor *venc)
{
    return nv_encryptor_device_path(venc->enc);
}

const char *
nv_volume_encryptor_get_mapping(const nv_volume_encryptor *venc)
{
    return nv_encryptor_mapping_name(venc->enc);
}

const char *
nv_volume_encryptor_get_reason(const nv_volume_encryptor *venc)
{
    return venc->reason;
}
