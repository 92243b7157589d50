/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NoOpEncryptor (os_brick/encryptors/nop.py): unencrypted volumes, and
 * volumes the storage back end decrypts (control_location back-end).
 */
#include "encryptors/encryptor_priv.h"

static gboolean
nop_attach(nv_encryptor *enc, const nv_secure_buf *passphrase, GError **error)
{
    return TRUE;
}

static gboolean
nop_detach(nv_encryptor *enc, GError **error)
{
    return TRUE;
}

static gboolean
nop_extend(nv_encryptor *enc, const nv_secure_buf *passphrase, guint64 *decrypted_size,
           GError **error)
{
    *decrypted_size = 0;
    return TRUE;
}

const nv_encryptor_ops nv_nop_encryptor_ops = {
    .name = "NoOpEncryptor",
    .attach = nop_attach,
    .detach = nop_detach,
    .extend = nop_extend,
};
