/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <encryption> of a disk (LibvirtConfigGuestDiskEncryption).
 */
#include "virt/libvirt/config/priv.h"

#include "nvirt/error.h"

nv_disk_encryption *
nv_disk_encryption_new(const char *format, const char *secret_type, const char *secret_uuid)
{
    nv_disk_encryption *enc = g_new0(nv_disk_encryption, 1);

    enc->format = g_strdup(format);
    enc->secret_type = g_strdup(secret_type);
    enc->secret_uuid = g_strdup(secret_uuid);
    return enc;
}

nv_disk_encryption *
nv_disk_encryption_copy(const nv_disk_encryption *enc)
{
    nv_disk_encryption *copy;

    if (!enc)
        return NULL;
    copy = nv_disk_encryption_new(enc->format, enc->secret_type, enc->secret_uuid);
    copy->engine = g_strdup(enc->engine);
    return copy;
}

void
nv_disk_encryption_free(nv_disk_encryption *enc)
{
    if (!enc)
        return;
    g_free(enc->format);
    g_free(enc->engine);
    g_free(enc->secret_type);
    g_free(enc->secret_uuid);
    g_free(enc);
}

gboolean
nv_disk_encryption_equal(const nv_disk_encryption *a, const nv_disk_encryption *b)
{
    if (!a || !b)
        return a == b;
    return g_strcmp0(a->format, b->format) == 0 && g_strcmp0(a->engine, b->engine) == 0 &&
           g_strcmp0(a->secret_type, b->secret_type) == 0 &&
           g_strcmp0(a->secret_uuid, b->secret_uuid) == 0;
}

gboolean
nv_encryption_check(const nv_disk_encryption *enc, GError **error)
{
    const char *missing = NULL;

    /* libvirt's storageencryption.rng: format and secret type+uuid are all
     * mandatory; Nova's format_dom would emit attributes set to None. */
    if (!enc->format)
        missing = "format";
    else if (!enc->secret_type)
        missing = "secret type";
    else if (!enc->secret_uuid)
        missing = "secret uuid";
    if (missing) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, ENCRYPTION_OBJ ": %s is required",
                    missing);
        return FALSE;
    }
    return TRUE;
}

void
nv_encryption_format(nv_xml_builder *b, const nv_disk_encryption *enc, nv_xml_node *node)
{
    nv_xml_node *secret;

    nv_xml_prop(b, node, "format", enc->format);
    nv_xml_prop(b, node, "engine", enc->engine);
    secret = nv_xml_child(b, node, "secret", NULL);
    nv_xml_prop(b, secret, "type", enc->secret_type);
    nv_xml_prop(b, secret, "uuid", enc->secret_uuid);
}

nv_disk_encryption *
nv_encryption_from_node(const nv_xml_node *node)
{
    nv_disk_encryption *enc = g_new0(nv_disk_encryption, 1);

    enc->format = nv_xml_get_prop(node, "format");
    enc->engine = nv_xml_get_prop(node, "engine");
    for (const nv_xml_node *c = nv_xml_children(node); c; c = nv_xml_next(c)) {
        if (nv_xml_is_element(c, "secret")) {
            nv_xml_take_string(&enc->secret_type, nv_xml_get_prop(c, "type"));
            nv_xml_take_string(&enc->secret_uuid, nv_xml_get_prop(c, "uuid"));
        }
    }
    return enc;
}

char *
nv_disk_encryption_to_xml(const nv_disk_encryption *enc, GError **error)
{
    nv_xml_builder b = { .object = ENCRYPTION_OBJ };
    g_autoptr(nv_xml_doc) doc = NULL;
    nv_xml_node *root;

    g_return_val_if_fail(enc != NULL, NULL);
    if (!nv_encryption_check(enc, error))
        return NULL;
    doc = nv_xml_new_doc("encryption", &root);
    nv_encryption_format(&b, enc, root);
    return nv_xml_finish(&b, doc, error);
}

nv_disk_encryption *
nv_disk_encryption_parse(const char *xml, GError **error)
{
    g_autoptr(nv_xml_doc) doc = NULL;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = nv_xml_parse(xml, ENCRYPTION_OBJ, "encryption", error);
    if (!doc)
        return NULL;
    return nv_encryption_from_node(nv_xml_root(doc));
}
