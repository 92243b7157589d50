/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <address> of a device (LibvirtConfigGuestDeviceAddressPCI / ...Drive).
 */
#include "virt/libvirt/config/priv.h"

#include "nvirt/error.h"

nv_device_address *
nv_device_address_new_pci(const char *domain, const char *bus, const char *slot,
                          const char *function)
{
    nv_device_address *addr = g_new0(nv_device_address, 1);

    addr->type = g_strdup("pci");
    addr->domain = g_strdup(domain);
    addr->bus = g_strdup(bus);
    addr->slot = g_strdup(slot);
    addr->function = g_strdup(function);
    return addr;
}

nv_device_address *
nv_device_address_new_drive(const char *controller, const char *bus, const char *target,
                            const char *unit)
{
    nv_device_address *addr = g_new0(nv_device_address, 1);

    addr->type = g_strdup("drive");
    addr->controller = g_strdup(controller);
    addr->bus = g_strdup(bus);
    addr->target = g_strdup(target);
    addr->unit = g_strdup(unit);
    return addr;
}

nv_device_address *
nv_device_address_copy(const nv_device_address *addr)
{
    nv_device_address *copy;

    if (!addr)
        return NULL;
    copy = g_new0(nv_device_address, 1);
    copy->type = g_strdup(addr->type);
    copy->domain = g_strdup(addr->domain);
    copy->slot = g_strdup(addr->slot);
    copy->function = g_strdup(addr->function);
    copy->controller = g_strdup(addr->controller);
    copy->target = g_strdup(addr->target);
    copy->unit = g_strdup(addr->unit);
    copy->bus = g_strdup(addr->bus);
    return copy;
}

void
nv_device_address_free(nv_device_address *addr)
{
    if (!addr)
        return;
    g_free(addr->type);
    g_free(addr->domain);
    g_free(addr->slot);
    g_free(addr->function);
    g_free(addr->controller);
    g_free(addr->target);
    g_free(addr->unit);
    g_free(addr->bus);
    g_free(addr);
}

gboolean
nv_device_address_equal(const nv_device_address *a, const nv_device_address *b)
{
    if (!a || !b)
        return a == b;
    return g_strcmp0(a->type, b->type) == 0 && g_strcmp0(a->domain, b->domain) == 0 &&
           g_strcmp0(a->slot, b->slot) == 0 && g_strcmp0(a->function, b->function) == 0 &&
           g_strcmp0(a->controller, b->controller) == 0 && g_strcmp0(a->target, b->target) == 0 &&
           g_strcmp0(a->unit, b->unit) == 0 && g_strcmp0(a->bus, b->bus) == 0;
}

gboolean
nv_address_check(const nv_device_address *addr, GError **error)
{
    if (!addr->type) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, DISK_OBJ ": address type is required");
        return FALSE;
    }
    if (!g_str_equal(addr->type, "pci") && !g_str_equal(addr->type, "drive")) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    DISK_OBJ ": unsupported address type '%s' (pci, drive)", addr->type);
        return FALSE;
    }
    return TRUE;
}

void
nv_address_format(nv_xml_builder *b, const nv_device_address *addr, nv_xml_node *parent)
{
    nv_xml_node *node = nv_xml_child(b, parent, "address", NULL);

    nv_xml_prop(b, node, "type", addr->type);
    if (g_str_equal(addr->type, "pci")) {
        nv_xml_prop(b, node, "domain", addr->domain);
        nv_xml_prop(b, node, "bus", addr->bus);
        nv_xml_prop(b, node, "slot", addr->slot);
        nv_xml_prop(b, node, "function", addr->function);
    } else {
        nv_xml_prop(b, node, "controller", addr->controller);
        nv_xml_prop(b, node, "bus", addr->bus);
        nv_xml_prop(b, node, "target", addr->target);
        nv_xml_prop(b, node, "unit", addr->unit);
    }
}

/* LibvirtConfigGuestDeviceAddress.parse_dom: only pci and drive are modelled;
 * other types (ccw, virtio-mmio, usb) give no address at all. */
nv_device_address *
nv_address_from_node(const nv_xml_node *node)
{
    g_autofree char *type = nv_xml_get_prop(node, "type");
    nv_device_address *addr;

    if (g_strcmp0(type, "pci") == 0) {
        addr = g_new0(nv_device_address, 1);
        addr->domain = nv_xml_get_prop(node, "domain");
        addr->slot = nv_xml_get_prop(node, "slot");
        addr->function = nv_xml_get_prop(node, "function");
    } else if (g_strcmp0(type, "drive") == 0) {
        addr = g_new0(nv_device_address, 1);
        addr->controller = nv_xml_get_prop(node, "controller");
        addr->target = nv_xml_get_prop(node, "target");
        addr->unit = nv_xml_get_prop(node, "unit");
    } else {
        return NULL;
    }
    addr->type = g_steal_pointer(&type);
    addr->bus = nv_xml_get_prop(node, "bus");
    return addr;
}
