/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <domain> (LibvirtConfigGuest): format_dom and parse_dom for the elements
 * nvirt spawns a guest with.  Devices are formatted by their own objects
 * (disk.c) into the <devices> node; parsing is lenient as for a disk, since
 * live domain XML carries much more than we set.
 */
#include "virt/libvirt/config/priv.h"

#include "nvirt/error.h"

#define GUEST_OBJ "guest config"

/* Bounds on what we write and read back: libvirt's own vcpu ceiling for
 * QEMU is in the thousands, and 1 PiB of RAM is past any real host. */
#define GUEST_MAX_MEMORY_KIB (G_GUINT64_CONSTANT(1) << 40)
#define GUEST_MAX_VCPUS      4096

static void
controller_free(gpointer data)
{
    nv_controller_config *ctrl = data;

    if (!ctrl)
        return;
    g_free(ctrl->type);
    g_free(ctrl->index);
    g_free(ctrl->model);
    g_free(ctrl);
}

static void
chardev_free(gpointer data)
{
    nv_chardev_config *chr = data;

    if (!chr)
        return;
    g_free(chr->element);
    g_free(chr->type);
    g_free(chr->source_path);
    g_free(chr->target_port);
    g_free(chr);
}

nv_guest_config *
nv_guest_config_new(void)
{
    nv_guest_config *guest = g_new0(nv_guest_config, 1);

    /* LibvirtConfigGuest.__init__: 500 MiB, 1 vcpu; hvm is what the libvirt
     * driver sets for every qemu/kvm guest. */
    guest->virt_type = g_strdup("qemu");
    guest->memory_kib = 500 * 1024;
    guest->vcpus = 1;
    guest->os_type = g_strdup("hvm");
    guest->disks = g_ptr_array_new_with_free_func((GDestroyNotify)nv_disk_config_free);
    guest->controllers = g_ptr_array_new_with_free_func(controller_free);
    guest->chardevs = g_ptr_array_new_with_free_func(chardev_free);
    return guest;
}

void
nv_guest_config_free(nv_guest_config *guest)
{
    if (!guest)
        return;
    g_free(guest->virt_type);
    g_free(guest->uuid);
    g_free(guest->name);
    g_free(guest->os_type);
    g_free(guest->os_arch);
    g_free(guest->os_machine_type);
    g_free(guest->os_kernel);
    g_free(guest->os_initrd);
    g_free(guest->os_cmdline);
    g_ptr_array_unref(guest->disks);
    g_ptr_array_unref(guest->controllers);
    g_ptr_array_unref(guest->chardevs);
    g_free(guest);
}

void
nv_guest_config_add_disk(nv_guest_config *guest, nv_disk_config *disk)
{
    g_return_if_fail(guest != NULL && disk != NULL);
    g_ptr_array_add(guest->disks, disk);
}

void
nv_guest_config_add_controller(nv_guest_config *guest, const char *type, const char *index,
                               const char *model)
{
    nv_controller_config *ctrl;

    g_return_if_fail(guest != NULL);
    ctrl = g_new0(nv_controller_config, 1);
    ctrl->type = g_strdup(type);
    ctrl->index = g_strdup(index);
    ctrl->model = g_strdup(model);
    g_ptr_array_add(guest->controllers, ctrl);
}

void
nv_guest_config_add_chardev(nv_guest_config *guest, const char *element, const char *type,
                            const char *source_path, const char *target_port)
{
    nv_chardev_config *chr;

    g_return_if_fail(guest != NULL);
    chr = g_new0(nv_chardev_config, 1);
    chr->element = g_strdup(element);
    chr->type = g_strdup(type);
    chr->source_path = g_strdup(source_path);
    chr->target_port = g_strdup(target_port);
    g_ptr_array_add(guest->chardevs, chr);
}

static gboolean
controller_equal(gconstpointer pa, gconstpointer pb)
{
    const nv_controller_config *a = pa, *b = pb;

    return g_strcmp0(a->type, b->type) == 0 && g_strcmp0(a->index, b->index) == 0 &&
           g_strcmp0(a->model, b->model) == 0;
}

static gboolean
chardev_equal(gconstpointer pa, gconstpointer pb)
{
    const nv_chardev_config *a = pa, *b = pb;

    return g_strcmp0(a->element, b->element) == 0 && g_strcmp0(a->type, b->type) == 0 &&
           g_strcmp0(a->source_path, b->source_path) == 0 &&
           g_strcmp0(a->target_port, b->target_port) == 0;
}

static gboolean
disk_equal(gconstpointer a, gconstpointer b)
{
    return nv_disk_config_equal(a, b);
}

static gboolean
array_equal(const GPtrArray *a, const GPtrArray *b, gboolean (*eq)(gconstpointer, gconstpointer))
{
    if (a->len != b->len)
        return FALSE;
    for (guint i = 0; i < a->len; i++) {
        if (!eq(g_ptr_array_index(a, i), g_ptr_array_index(b, i)))
            return FALSE;
    }
    return TRUE;
}

gboolean
nv_guest_config_equal(const nv_guest_config *a, const nv_guest_config *b)
{
    if (!a || !b)
        return a == b;
    return g_strcmp0(a->virt_type, b->virt_type) == 0 && g_strcmp0(a->uuid, b->uuid) == 0 &&
           g_strcmp0(a->name, b->name) == 0 && a->memory_kib == b->memory_kib &&
           a->vcpus == b->vcpus && g_strcmp0(a->os_type, b->os_type) == 0 &&
           g_strcmp0(a->os_arch, b->os_arch) == 0 &&
           g_strcmp0(a->os_machine_type, b->os_machine_type) == 0 &&
           g_strcmp0(a->os_kernel, b->os_kernel) == 0 &&
           g_strcmp0(a->os_initrd, b->os_initrd) == 0 &&
           g_strcmp0(a->os_cmdline, b->os_cmdline) == 0 &&
           array_equal(a->disks, b->disks, disk_equal) &&
           array_equal(a->controllers, b->controllers, controller_equal) &&
           array_equal(a->chardevs, b->chardevs, chardev_equal);
}

static gboolean
guest_fail(GError **error, const char *message)
{
    g_set_error_literal(error, NV_ERROR, NV_ERROR_BAD_INPUT, message);
    return FALSE;
}

static gboolean
chardev_check(const nv_chardev_config *chr, GError **error)
{
    if (g_strcmp0(chr->element, "serial") != 0 && g_strcmp0(chr->element, "console") != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    GUEST_OBJ ": unsupported character device '%s' (serial, console)",
                    chr->element ? chr->element : "");
        return FALSE;
    }
    if (g_strcmp0(chr->type, "file") == 0) {
        if (!chr->source_path) {
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        GUEST_OBJ ": %s of type 'file' needs a source path", chr->element);
            return FALSE;
        }
    } else if (g_strcmp0(chr->type, "pty") != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    GUEST_OBJ ": unsupported %s type '%s' (pty, file)", chr->element,
                    chr->type ? chr->type : "");
        return FALSE;
    }
    return TRUE;
}

static gboolean
guest_check(const nv_guest_config *guest, GError **error)
{
    if (!guest->virt_type)
        return guest_fail(error, GUEST_OBJ ": virt type is required");
    if (!guest->name)
        return guest_fail(error, GUEST_OBJ ": name is required");
    if (guest->memory_kib == 0 || guest->memory_kib > GUEST_MAX_MEMORY_KIB)
        return guest_fail(error, GUEST_OBJ ": memory must be between 1 KiB and 1 PiB");
    if (guest->vcpus == 0 || guest->vcpus > GUEST_MAX_VCPUS)
        return guest_fail(error, GUEST_OBJ ": vcpus must be between 1 and 4096");
    if (!guest->os_type)
        return guest_fail(error, GUEST_OBJ ": os type is required");
    if ((guest->os_initrd || guest->os_cmdline) && !guest->os_kernel)
        return guest_fail(error, GUEST_OBJ ": initrd and cmdline need a kernel");
    for (guint i = 0; i < guest->disks->len; i++) {
        const nv_disk_config *disk = g_ptr_array_index(guest->disks, i);

        if (!nv_disk_check(disk, error))
            return FALSE;
        for (guint j = 0; j < i; j++) {
            const nv_disk_config *other = g_ptr_array_index(guest->disks, j);

            if (g_str_equal(other->target_dev, disk->target_dev)) {
                g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            GUEST_OBJ ": two disks with target dev '%s'", disk->target_dev);
                return FALSE;
            }
        }
    }
    for (guint i = 0; i < guest->controllers->len; i++) {
        const nv_controller_config *ctrl = g_ptr_array_index(guest->controllers, i);

        if (!ctrl->type)
            return guest_fail(error, GUEST_OBJ ": controller type is required");
    }
    for (guint i = 0; i < guest->chardevs->len; i++) {
        if (!chardev_check(g_ptr_array_index(guest->chardevs, i), error))
            return FALSE;
    }
    return TRUE;
}

static void
guest_format_os(nv_xml_builder *b, const nv_guest_config *guest, nv_xml_node *root)
{
    nv_xml_node *os = nv_xml_child(b, root, "os", NULL);
    nv_xml_node *type = nv_xml_child(b, os, "type", guest->os_type);

    nv_xml_prop(b, type, "arch", guest->os_arch);
    nv_xml_prop(b, type, "machine", guest->os_machine_type);
    if (guest->os_kernel)
        nv_xml_child(b, os, "kernel", guest->os_kernel);
    if (guest->os_initrd)
        nv_xml_child(b, os, "initrd", guest->os_initrd);
    if (guest->os_cmdline)
        nv_xml_child(b, os, "cmdline", guest->os_cmdline);
}

static void
guest_format_devices(nv_xml_builder *b, const nv_guest_config *guest, nv_xml_node *root)
{
    nv_xml_node *devices;

    if (guest->disks->len == 0 && guest->controllers->len == 0 && guest->chardevs->len == 0)
        return;
    devices = nv_xml_child(b, root, "devices", NULL);
    for (guint i = 0; i < guest->disks->len; i++)
        nv_disk_format(b, g_ptr_array_index(guest->disks, i),
                       nv_xml_child(b, devices, "disk", NULL));
    for (guint i = 0; i < guest->controllers->len; i++) {
        const nv_controller_config *ctrl = g_ptr_array_index(guest->controllers, i);
        nv_xml_node *node = nv_xml_child(b, devices, "controller", NULL);

        nv_xml_prop(b, node, "type", ctrl->type);
        nv_xml_prop(b, node, "index", ctrl->index);
        nv_xml_prop(b, node, "model", ctrl->model);
    }
    for (guint i = 0; i < guest->chardevs->len; i++) {
        const nv_chardev_config *chr = g_ptr_array_index(guest->chardevs, i);
        nv_xml_node *node = nv_xml_child(b, devices, chr->element, NULL);

        nv_xml_prop(b, node, "type", chr->type);
        /* LibvirtConfigGuestCharBase: only a file gets a <source>; a pty's
         * path is libvirt's to pick. */
        if (g_str_equal(chr->type, "file"))
            nv_xml_prop(b, nv_xml_child(b, node, "source", NULL), "path", chr->source_path);
        if (chr->target_port)
            nv_xml_prop(b, nv_xml_child(b, node, "target", NULL), "port", chr->target_port);
    }
}

char *
nv_guest_config_to_xml(const nv_guest_config *guest, GError **error)
{
    nv_xml_builder b = { .object = GUEST_OBJ };
    g_autoptr(nv_xml_doc) doc = NULL;
    g_autofree char *memory = NULL;
    g_autofree char *vcpus = NULL;
    nv_xml_node *root;

    g_return_val_if_fail(guest != NULL, NULL);
    if (!guest_check(guest, error))
        return NULL;
    memory = g_strdup_printf("%" G_GUINT64_FORMAT, guest->memory_kib);
    vcpus = g_strdup_printf("%u", guest->vcpus);

    doc = nv_xml_new_doc("domain", &root);
    nv_xml_prop(&b, root, "type", guest->virt_type);
    /* _format_basic_props order. */
    if (guest->uuid)
        nv_xml_child(&b, root, "uuid", guest->uuid);
    nv_xml_child(&b, root, "name", guest->name);
    nv_xml_child(&b, root, "memory", memory);
    nv_xml_child(&b, root, "vcpu", vcpus);
    guest_format_os(&b, guest, root);
    guest_format_devices(&b, guest, root);
    return nv_xml_finish(&b, doc, error);
}

/* A positive decimal count no larger than @max. */
static gboolean
parse_count(const nv_xml_node *node, guint64 max, guint64 *out, GError **error)
{
    g_autofree char *text = nv_xml_get_text(node);
    g_autoptr(GError) local = NULL;

    g_strstrip(text);
    if (!g_ascii_string_to_unsigned(text, 10, 1, max, out, &local)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    GUEST_OBJ ": <%s> must be a number between 1 and %" G_GUINT64_FORMAT
                              ", got '%s'",
                    nv_xml_is_element(node, "vcpu") ? "vcpu" : "memory", max, text);
        return FALSE;
    }
    return TRUE;
}

static gboolean
guest_parse_memory(nv_guest_config *guest, const nv_xml_node *node, GError **error)
{
    g_autofree char *unit = nv_xml_get_prop(node, "unit");

    /* libvirt always formats KiB; Nova writes no unit (KiB too). */
    if (unit && !g_str_equal(unit, "KiB") && !g_str_equal(unit, "k")) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    GUEST_OBJ ": <memory unit='%s'> is not supported (KiB)", unit);
        return FALSE;
    }
    return parse_count(node, GUEST_MAX_MEMORY_KIB, &guest->memory_kib, error);
}

static void
guest_parse_os(nv_guest_config *guest, const nv_xml_node *os)
{
    for (const nv_xml_node *c = nv_xml_children(os); c; c = nv_xml_next(c)) {
        if (nv_xml_is_element(c, "type")) {
            nv_xml_take_string(&guest->os_type, nv_xml_get_text(c));
            nv_xml_take_string(&guest->os_arch, nv_xml_get_prop(c, "arch"));
            nv_xml_take_string(&guest->os_machine_type, nv_xml_get_prop(c, "machine"));
        } else if (nv_xml_is_element(c, "kernel")) {
            nv_xml_take_string(&guest->os_kernel, nv_xml_get_text(c));
        } else if (nv_xml_is_element(c, "initrd")) {
            nv_xml_take_string(&guest->os_initrd, nv_xml_get_text(c));
        } else if (nv_xml_is_element(c, "cmdline")) {
            nv_xml_take_string(&guest->os_cmdline, nv_xml_get_text(c));
        }
    }
}

static void
guest_parse_chardev(nv_guest_config *guest, const nv_xml_node *node, const char *element)
{
    g_autofree char *type = nv_xml_get_prop(node, "type");
    g_autofree char *path = NULL;
    g_autofree char *port = NULL;

    for (const nv_xml_node *c = nv_xml_children(node); c; c = nv_xml_next(c)) {
        if (nv_xml_is_element(c, "source"))
            nv_xml_take_string(&path, nv_xml_get_prop(c, "path"));
        else if (nv_xml_is_element(c, "target"))
            nv_xml_take_string(&port, nv_xml_get_prop(c, "port"));
    }
    /* A live pty's path is libvirt's choice; keep it only for a file, which
     * is the only type whose path is configuration. */
    if (g_strcmp0(type, "file") != 0)
        g_clear_pointer(&path, g_free);
    nv_guest_config_add_chardev(guest, element, type, path, port);
}

static void
guest_parse_devices(nv_guest_config *guest, const nv_xml_node *devices)
{
    for (const nv_xml_node *d = nv_xml_children(devices); d; d = nv_xml_next(d)) {
        if (nv_xml_is_element(d, "disk")) {
            nv_guest_config_add_disk(guest, nv_disk_from_node(d));
        } else if (nv_xml_is_element(d, "controller")) {
            g_autofree char *type = nv_xml_get_prop(d, "type");
            g_autofree char *index = nv_xml_get_prop(d, "index");
            g_autofree char *model = nv_xml_get_prop(d, "model");

            nv_guest_config_add_controller(guest, type, index, model);
        } else if (nv_xml_is_element(d, "serial")) {
            guest_parse_chardev(guest, d, "serial");
        } else if (nv_xml_is_element(d, "console")) {
            guest_parse_chardev(guest, d, "console");
        }
    }
}

nv_guest_config *
nv_guest_config_parse(const char *xml, GError **error)
{
    g_autoptr(nv_xml_doc) doc = NULL;
    g_autoptr(nv_guest_config) guest = NULL;
    nv_xml_node *root;
    guint64 vcpus;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = nv_xml_parse(xml, GUEST_OBJ, "domain", error);
    if (!doc)
        return NULL;
    root = nv_xml_root(doc);
    guest = nv_guest_config_new();
    nv_xml_take_string(&guest->virt_type, nv_xml_get_prop(root, "type"));
    /* What the document does not say is absent, not Nova's default. */
    g_clear_pointer(&guest->os_type, g_free);
    for (const nv_xml_node *c = nv_xml_children(root); c; c = nv_xml_next(c)) {
        if (nv_xml_is_element(c, "uuid")) {
            nv_xml_take_string(&guest->uuid, nv_xml_get_text(c));
        } else if (nv_xml_is_element(c, "name")) {
            nv_xml_take_string(&guest->name, nv_xml_get_text(c));
        } else if (nv_xml_is_element(c, "memory")) {
            if (!guest_parse_memory(guest, c, error))
                return NULL;
        } else if (nv_xml_is_element(c, "vcpu")) {
            if (!parse_count(c, GUEST_MAX_VCPUS, &vcpus, error))
                return NULL;
            guest->vcpus = (guint)vcpus;
        } else if (nv_xml_is_element(c, "os")) {
            guest_parse_os(guest, c);
        } else if (nv_xml_is_element(c, "devices")) {
            guest_parse_devices(guest, c);
        }
    }
    return g_steal_pointer(&guest);
}
