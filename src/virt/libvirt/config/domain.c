/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk lookups in a whole <domain> document (Guest.get_disk).
 */
#include "virt/libvirt/config/priv.h"

#include "nvirt/error.h"

static gboolean
disk_node_matches(const nv_xml_node *disk, const char *target_dev, const char *serial)
{
    for (const nv_xml_node *c = nv_xml_children(disk); c; c = nv_xml_next(c)) {
        if (target_dev && nv_xml_is_element(c, "target")) {
            g_autofree char *dev = nv_xml_get_prop(c, "dev");

            if (g_strcmp0(dev, target_dev) == 0)
                return TRUE;
        } else if (!target_dev && nv_xml_is_element(c, "serial")) {
            g_autofree char *text = nv_xml_get_text(c);

            if (g_str_equal(text, serial))
                return TRUE;
        }
    }
    return FALSE;
}

static char *
domain_name(const nv_xml_node *root)
{
    for (const nv_xml_node *c = nv_xml_children(root); c; c = nv_xml_next(c)) {
        if (nv_xml_is_element(c, "name"))
            return nv_xml_get_text(c);
    }
    return g_strdup("");
}

nv_disk_config *
nv_domain_find_disk(const char *domain_xml, const char *target_dev, const char *serial,
                    GError **error)
{
    g_autoptr(nv_xml_doc) doc = NULL;
    g_autofree char *name = NULL;
    nv_xml_node *root;

    g_return_val_if_fail(domain_xml != NULL, NULL);
    if (!target_dev && !serial) {
        g_set_error_literal(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            DOMAIN_OBJ ": disk lookup needs a target dev or a serial");
        return NULL;
    }
    doc = nv_xml_parse(domain_xml, DOMAIN_OBJ, "domain", error);
    if (!doc)
        return NULL;
    root = nv_xml_root(doc);
    for (const nv_xml_node *c = nv_xml_children(root); c; c = nv_xml_next(c)) {
        if (!nv_xml_is_element(c, "devices"))
            continue;
        for (const nv_xml_node *d = nv_xml_children(c); d; d = nv_xml_next(d)) {
            if (nv_xml_is_element(d, "disk") && disk_node_matches(d, target_dev, serial))
                return nv_disk_from_node(d);
        }
    }
    name = domain_name(root);
    if (target_dev)
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND,
                    "domain '%s': no disk with target dev '%s'", name, target_dev);
    else
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "domain '%s': no disk with serial '%s'",
                    name, serial);
    return NULL;
}

GPtrArray *
nv_domain_parse_disks(const char *domain_xml, GError **error)
{
    g_autoptr(nv_xml_doc) doc = NULL;
    g_autoptr(GPtrArray) disks = NULL;
    nv_xml_node *root;

    g_return_val_if_fail(domain_xml != NULL, NULL);
    doc = nv_xml_parse(domain_xml, DOMAIN_OBJ, "domain", error);
    if (!doc)
        return NULL;
    disks = g_ptr_array_new_with_free_func((GDestroyNotify)nv_disk_config_free);
    root = nv_xml_root(doc);
    for (const nv_xml_node *c = nv_xml_children(root); c; c = nv_xml_next(c)) {
        if (!nv_xml_is_element(c, "devices"))
            continue;
        for (const nv_xml_node *d = nv_xml_children(c); d; d = nv_xml_next(d)) {
            if (nv_xml_is_element(d, "disk"))
                g_ptr_array_add(disks, nv_disk_from_node(d));
        }
    }
    return g_steal_pointer(&disks);
}

const nv_disk_config *
nv_disks_find_by_target(const GPtrArray *disks, const char *target_dev)
{
    if (!disks || !target_dev)
        return NULL;
    for (guint i = 0; i < disks->len; i++) {
        const nv_disk_config *disk = g_ptr_array_index(disks, i);

        if (g_strcmp0(disk->target_dev, target_dev) == 0)
            return disk;
    }
    return NULL;
}

gboolean
nv_disk_config_same_source(const nv_disk_config *a, const nv_disk_config *b)
{
    if (g_strcmp0(a->source_type, b->source_type) != 0)
        return FALSE;
    if (g_strcmp0(a->source_type, "network") == 0)
        return a->source_protocol && a->source_name &&
               g_strcmp0(a->source_protocol, b->source_protocol) == 0 &&
               g_strcmp0(a->source_name, b->source_name) == 0;
    return a->source_path && g_strcmp0(a->source_path, b->source_path) == 0;
}
