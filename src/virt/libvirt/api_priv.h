/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The definitions behind the opaque public types of nvirt/nvirt.h, and the
 * helpers the entry points share to fill them (api.c).  Not installed: a
 * program sees only the getters, so a field can be added here without
 * breaking the ABI.
 */
#pragma once

#include <glib.h>

#include "nvirt/nvirt.h"
#include "virt/block_device.h"
#include "virt/libvirt/encryption_path.h"

G_BEGIN_DECLS

struct nv_host_info {
    guint64 libvirt_version;
    guint64 qemu_version;
    gboolean native_luks;
    char *reason;
    gboolean rbd_luks2; /* librbd decrypts LUKS2 on rbd volumes */
    char *rbd_luks2_reason;
};

struct nv_attach_plan {
    char *volume_id;
    const char *encryption_path; /* static: nv_encryption_path_name() */
    char *reason;
    gboolean encrypted;
    gboolean reuses_secret;
    char *disk_xml;
    char *secret_xml;      /* NULL unless a secret would be created */
    const char *encryptor; /* static os-brick class name, or NULL */
    char *secret_usage;    /* NULL unless native */
    gboolean has_key_size;
    guint key_size;
    char *cipher;
};

/* NV_ERROR_BAD_INPUT unless @request is non-NULL and of a version this
 * library knows (NV_VOLUME_REQUEST_VERSION). */
gboolean nv_volume_request_check(const nv_volume_request *request, GError **error);

/* A plan with the decision filled in (volume id, path, reason, and what
 * follows from the metadata: encryptor class, secret usage, key size,
 * cipher); the caller adds the XML and the secret fields.  @meta is NULL for
 * a volume that is not encrypted. */
nv_attach_plan *nv_attach_plan_new(const nv_connection_info *info, const nv_encryption_meta *meta,
                                   nv_encryption_path path, const char *reason);

G_END_DECLS
