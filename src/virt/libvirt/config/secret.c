/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <secret> (LibvirtConfigSecret).
 */
#include "virt/libvirt/config/priv.h"

#include "nvirt/error.h"

/* libvirt's secret.rng usage types and the element carrying the usage id. */
static const char *
secret_usage_element(const char *usage_type)
{
    static const struct {
        const char *type;
        const char *element;
    } map[] = {
        { "volume", "volume" }, { "ceph", "name" }, { "iscsi", "target" },
        { "tls", "name" },      { "vtpm", "name" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(map); i++) {
        if (g_str_equal(usage_type, map[i].type))
            return map[i].element;
    }
    return NULL;
}

nv_secret_config *
nv_secret_config_new(void)
{
    return g_new0(nv_secret_config, 1);
}

void
nv_secret_config_free(nv_secret_config *secret)
{
    if (!secret)
        return;
    g_free(secret->uuid);
    g_free(secret->description);
    g_free(secret->usage_type);
    g_free(secret->usage_id);
    g_free(secret);
}

gboolean
nv_secret_config_equal(const nv_secret_config *a, const nv_secret_config *b)
{
    if (!a || !b)
        return a == b;
    return !a->ephemeral == !b->ephemeral && !a->private_ == !b->private_ &&
           g_strcmp0(a->uuid, b->uuid) == 0 && g_strcmp0(a->description, b->description) == 0 &&
           g_strcmp0(a->usage_type, b->usage_type) == 0 && g_strcmp0(a->usage_id, b->usage_id) == 0;
}

char *
nv_secret_config_to_xml(const nv_secret_config *secret, GError **error)
{
    nv_xml_builder b = { .object = SECRET_OBJ };
    g_autoptr(nv_xml_doc) doc = NULL;
    const char *usage_element = NULL;
    nv_xml_node *root;
    nv_xml_node *usage;

    g_return_val_if_fail(secret != NULL, NULL);
    if (secret->usage_type) {
        usage_element = secret_usage_element(secret->usage_type);
        if (!usage_element) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        SECRET_OBJ ": unsupported usage type '%s' (volume, ceph, iscsi, tls, vtpm)",
                        secret->usage_type);
            return NULL;
        }
        if (!secret->usage_id) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        SECRET_OBJ ": usage id is required for usage type '%s'",
                        secret->usage_type);
            return NULL;
        }
    } else if (secret->usage_id) {
        g_set_error_literal(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            SECRET_OBJ ": usage type is required with a usage id");
        return NULL;
    }

    doc = nv_xml_new_doc("secret", &root);
    nv_xml_prop(&b, root, "ephemeral", secret->ephemeral ? "yes" : "no");
    nv_xml_prop(&b, root, "private", secret->private_ ? "yes" : "no");
    /* LibvirtConfigSecret.format_dom order: description, uuid, usage. */
    if (secret->description)
        nv_xml_child(&b, root, "description", secret->description);
    if (secret->uuid)
        nv_xml_child(&b, root, "uuid", secret->uuid);
    if (secret->usage_type) {
        usage = nv_xml_child(&b, root, "usage", NULL);
        nv_xml_prop(&b, usage, "type", secret->usage_type);
        nv_xml_child(&b, usage, usage_element, secret->usage_id);
    }
    return nv_xml_finish(&b, doc, error);
}

nv_secret_config *
nv_secret_config_parse(const char *xml, GError **error)
{
    g_autoptr(nv_xml_doc) doc = NULL;
    g_autoptr(nv_secret_config) secret = NULL;
    nv_xml_node *root;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = nv_xml_parse(xml, SECRET_OBJ, "secret", error);
    if (!doc)
        return NULL;
    root = nv_xml_root(doc);
    secret = nv_secret_config_new();
    if (!nv_xml_parse_yes_no(root, "ephemeral", SECRET_OBJ, &secret->ephemeral, error) ||
        !nv_xml_parse_yes_no(root, "private", SECRET_OBJ, &secret->private_, error))
        return NULL;

    for (const nv_xml_node *c = nv_xml_children(root); c; c = nv_xml_next(c)) {
        if (nv_xml_is_element(c, "uuid")) {
            nv_xml_take_string(&secret->uuid, nv_xml_get_text(c));
        } else if (nv_xml_is_element(c, "description")) {
            nv_xml_take_string(&secret->description, nv_xml_get_text(c));
        } else if (nv_xml_is_element(c, "usage")) {
            const char *element;

            nv_xml_take_string(&secret->usage_type, nv_xml_get_prop(c, "type"));
            element = secret->usage_type ? secret_usage_element(secret->usage_type) : NULL;
            for (const nv_xml_node *u = nv_xml_children(c); element && u; u = nv_xml_next(u)) {
                if (nv_xml_is_element(u, element))
                    nv_xml_take_string(&secret->usage_id, nv_xml_get_text(u));
            }
        }
    }
    return g_steal_pointer(&secret);
}
