/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <disk> (LibvirtConfigGuestDisk).
 *
 * Output follows LibvirtConfigGuestDisk.format_dom element order so the XML
 * nvirt hands to libvirt is the XML Nova would have handed it.  Parsing
 * follows parse_dom: lenient, unknown elements and attributes are skipped,
 * because the input is usually live domain XML full of things we never set
 * (<alias>, <backingStore>, index=...).
 */
#include "virt/libvirt/config/priv.h"

#include "nvirt/error.h"

static const char *const iotune_names[NV_IOTUNE_LAST] = {
    [NV_IOTUNE_READ_BYTES_SEC] = "read_bytes_sec",
    [NV_IOTUNE_READ_IOPS_SEC] = "read_iops_sec",
    [NV_IOTUNE_WRITE_BYTES_SEC] = "write_bytes_sec",
    [NV_IOTUNE_WRITE_IOPS_SEC] = "write_iops_sec",
    [NV_IOTUNE_TOTAL_BYTES_SEC] = "total_bytes_sec",
    [NV_IOTUNE_TOTAL_IOPS_SEC] = "total_iops_sec",
    [NV_IOTUNE_READ_BYTES_SEC_MAX] = "read_bytes_sec_max",
    [NV_IOTUNE_WRITE_BYTES_SEC_MAX] = "write_bytes_sec_max",
    [NV_IOTUNE_TOTAL_BYTES_SEC_MAX] = "total_bytes_sec_max",
    [NV_IOTUNE_READ_IOPS_SEC_MAX] = "read_iops_sec_max",
    [NV_IOTUNE_WRITE_IOPS_SEC_MAX] = "write_iops_sec_max",
    [NV_IOTUNE_TOTAL_IOPS_SEC_MAX] = "total_iops_sec_max",
    [NV_IOTUNE_SIZE_IOPS_SEC] = "size_iops_sec",
};

const char *
nv_iotune_field_name(nv_iotune_field field)
{
    g_return_val_if_fail(field < NV_IOTUNE_LAST, NULL);
    return iotune_names[field];
}

static nv_disk_host *
disk_host_new(const char *name, const char *port, const char *transport, const char *socket)
{
    nv_disk_host *host = g_new0(nv_disk_host, 1);

    host->name = g_strdup(name);
    host->port = g_strdup(port);
    host->transport = g_strdup(transport);
    host->socket = g_strdup(socket);
    return host;
}

static void
disk_host_free(gpointer data)
{
    nv_disk_host *host = data;

    if (!host)
        return;
    g_free(host->name);
    g_free(host->port);
    g_free(host->transport);
    g_free(host->socket);
    g_free(host);
}

static gboolean
disk_host_equal(const nv_disk_host *a, const nv_disk_host *b)
{
    return g_strcmp0(a->name, b->name) == 0 && g_strcmp0(a->port, b->port) == 0 &&
           g_strcmp0(a->transport, b->transport) == 0 && g_strcmp0(a->socket, b->socket) == 0;
}

nv_disk_config *
nv_disk_config_new(void)
{
    nv_disk_config *disk = g_new0(nv_disk_config, 1);

    /* LibvirtConfigGuestDisk.__init__ defaults, which are libvirt's too. */
    disk->source_type = g_strdup("file");
    disk->source_device = g_strdup("disk");
    disk->source_hosts = g_ptr_array_new_with_free_func(disk_host_free);
    return disk;
}

void
nv_disk_config_free(nv_disk_config *disk)
{
    if (!disk)
        return;
    g_free(disk->source_type);
    g_free(disk->source_device);
    g_free(disk->driver_name);
    g_free(disk->driver_format);
    g_free(disk->driver_cache);
    g_free(disk->driver_io);
    g_free(disk->driver_discard);
    g_free(disk->source_path);
    g_free(disk->source_protocol);
    g_free(disk->source_name);
    g_ptr_array_unref(disk->source_hosts);
    g_free(disk->auth_username);
    g_free(disk->auth_secret_type);
    g_free(disk->auth_secret_uuid);
    g_free(disk->target_dev);
    g_free(disk->target_bus);
    g_free(disk->serial);
    for (int i = 0; i < NV_IOTUNE_LAST; i++)
        g_free(disk->iotune[i]);
    g_free(disk->logical_block_size);
    g_free(disk->physical_block_size);
    g_free(disk->boot_order);
    nv_device_address_free(disk->address);
    g_free(disk->alias);
    nv_disk_encryption_free(disk->encryption);
    g_free(disk);
}

nv_disk_config *
nv_disk_config_copy(const nv_disk_config *disk)
{
    nv_disk_config *copy;

    g_return_val_if_fail(disk != NULL, NULL);
    copy = nv_disk_config_new();
    nv_xml_take_string(&copy->source_type, g_strdup(disk->source_type));
    nv_xml_take_string(&copy->source_device, g_strdup(disk->source_device));
    copy->driver_name = g_strdup(disk->driver_name);
    copy->driver_format = g_strdup(disk->driver_format);
    copy->driver_cache = g_strdup(disk->driver_cache);
    copy->driver_io = g_strdup(disk->driver_io);
    copy->driver_discard = g_strdup(disk->driver_discard);
    copy->source_path = g_strdup(disk->source_path);
    copy->source_protocol = g_strdup(disk->source_protocol);
    copy->source_name = g_strdup(disk->source_name);
    for (guint i = 0; i < disk->source_hosts->len; i++) {
        const nv_disk_host *h = g_ptr_array_index(disk->source_hosts, i);

        nv_disk_config_add_host(copy, h->name, h->port, h->transport, h->socket);
    }
    copy->auth_username = g_strdup(disk->auth_username);
    copy->auth_secret_type = g_strdup(disk->auth_secret_type);
    copy->auth_secret_uuid = g_strdup(disk->auth_secret_uuid);
    copy->target_dev = g_strdup(disk->target_dev);
    copy->target_bus = g_strdup(disk->target_bus);
    copy->serial = g_strdup(disk->serial);
    for (int i = 0; i < NV_IOTUNE_LAST; i++)
        copy->iotune[i] = g_strdup(disk->iotune[i]);
    copy->logical_block_size = g_strdup(disk->logical_block_size);
    copy->physical_block_size = g_strdup(disk->physical_block_size);
    copy->readonly = disk->readonly;
    copy->shareable = disk->shareable;
    copy->boot_order = g_strdup(disk->boot_order);
    copy->address = nv_device_address_copy(disk->address);
    copy->alias = g_strdup(disk->alias);
    copy->encryption = nv_disk_encryption_copy(disk->encryption);
    return copy;
}

void
nv_disk_config_add_host(nv_disk_config *disk, const char *name, const char *port,
                        const char *transport, const char *socket)
{
    g_return_if_fail(disk != NULL);
    g_ptr_array_add(disk->source_hosts, disk_host_new(name, port, transport, socket));
}

gboolean
nv_disk_config_equal(const nv_disk_config *a, const nv_disk_config *b)
{
    if (!a || !b)
        return a == b;
    if (g_strcmp0(a->source_type, b->source_type) != 0 ||
        g_strcmp0(a->source_device, b->source_device) != 0 ||
        g_strcmp0(a->driver_name, b->driver_name) != 0 ||
        g_strcmp0(a->driver_format, b->driver_format) != 0 ||
        g_strcmp0(a->driver_cache, b->driver_cache) != 0 ||
        g_strcmp0(a->driver_io, b->driver_io) != 0 ||
        g_strcmp0(a->driver_discard, b->driver_discard) != 0 ||
        g_strcmp0(a->source_path, b->source_path) != 0 ||
        g_strcmp0(a->source_protocol, b->source_protocol) != 0 ||
        g_strcmp0(a->source_name, b->source_name) != 0 ||
        g_strcmp0(a->auth_username, b->auth_username) != 0 ||
        g_strcmp0(a->auth_secret_type, b->auth_secret_type) != 0 ||
        g_strcmp0(a->auth_secret_uuid, b->auth_secret_uuid) != 0 ||
        g_strcmp0(a->target_dev, b->target_dev) != 0 ||
        g_strcmp0(a->target_bus, b->target_bus) != 0 || g_strcmp0(a->serial, b->serial) != 0 ||
        g_strcmp0(a->logical_block_size, b->logical_block_size) != 0 ||
        g_strcmp0(a->physical_block_size, b->physical_block_size) != 0 ||
        a->readonly != b->readonly || a->shareable != b->shareable ||
        g_strcmp0(a->boot_order, b->boot_order) != 0 || g_strcmp0(a->alias, b->alias) != 0)
        return FALSE;
    for (int i = 0; i < NV_IOTUNE_LAST; i++) {
        if (g_strcmp0(a->iotune[i], b->iotune[i]) != 0)
            return FALSE;
    }
    if (a->source_hosts->len != b->source_hosts->len)
        return FALSE;
    for (guint i = 0; i < a->source_hosts->len; i++) {
        if (!disk_host_equal(g_ptr_array_index(a->source_hosts, i),
                             g_ptr_array_index(b->source_hosts, i)))
            return FALSE;
    }
    return nv_device_address_equal(a->address, b->address) &&
           nv_disk_encryption_equal(a->encryption, b->encryption);
}

static gboolean
disk_fail(GError **error, const char *message)
{
    g_set_error_literal(error, NV_ERROR, NV_ERROR_BAD_INPUT, message);
    return FALSE;
}

/* What format_dom would need to produce XML libvirt accepts; Nova leaves
 * these to lxml TypeErrors or libvirt errors at attach time. */
gboolean
nv_disk_check(const nv_disk_config *disk, GError **error)
{
    const char *type = disk->source_type;
    gboolean network;

    if (!type)
        return disk_fail(error, DISK_OBJ ": source type is required");
    if (!g_str_equal(type, "file") && !g_str_equal(type, "block") &&
        !g_str_equal(type, "network")) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    DISK_OBJ ": unsupported source type '%s' (file, block, network)", type);
        return FALSE;
    }
    network = g_str_equal(type, "network");
    if (network && !disk->source_protocol)
        return disk_fail(error, DISK_OBJ ": network source protocol is required");
    if (!network && disk->source_hosts->len > 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    DISK_OBJ ": source hosts need source type 'network', not '%s'", type);
        return FALSE;
    }
    for (guint i = 0; i < disk->source_hosts->len; i++) {
        const nv_disk_host *h = g_ptr_array_index(disk->source_hosts, i);

        if (g_strcmp0(h->transport, "unix") == 0) {
            if (!h->socket)
                return disk_fail(error, DISK_OBJ ": unix host socket is required");
        } else if (!h->name) {
            return disk_fail(error, DISK_OBJ ": host name is required");
        }
    }
    if (disk->auth_username || disk->auth_secret_type || disk->auth_secret_uuid) {
        if (!disk->auth_username)
            return disk_fail(error, DISK_OBJ ": auth username is required");
        if (!disk->auth_secret_type)
            return disk_fail(error, DISK_OBJ ": auth secret type is required");
        if (!disk->auth_secret_uuid)
            return disk_fail(error, DISK_OBJ ": auth secret uuid is required");
    }
    if (!disk->target_dev)
        return disk_fail(error, DISK_OBJ ": target dev is required");
    if (disk->address && !nv_address_check(disk->address, error))
        return FALSE;
    if (disk->encryption && !nv_encryption_check(disk->encryption, error))
        return FALSE;
    return TRUE;
}

static void
disk_format_source(nv_xml_builder *b, const nv_disk_config *disk, nv_xml_node *root)
{
    nv_xml_node *source;

    if (g_str_equal(disk->source_type, "network")) {
        source = nv_xml_child(b, root, "source", NULL);
        nv_xml_prop(b, source, "protocol", disk->source_protocol);
        nv_xml_prop(b, source, "name", disk->source_name);
        for (guint i = 0; i < disk->source_hosts->len; i++) {
            const nv_disk_host *h = g_ptr_array_index(disk->source_hosts, i);
            nv_xml_node *host = nv_xml_child(b, source, "host", NULL);

            /* libvirt's own attribute order (virDomainStorageNetworkHostFormat). */
            nv_xml_prop(b, host, "name", h->name);
            nv_xml_prop(b, host, "port", h->port);
            nv_xml_prop(b, host, "transport", h->transport);
            nv_xml_prop(b, host, "socket", h->socket);
        }
        return;
    }
    /* A file disk without a path is an empty drive (cdrom): no <source>. */
    if (!disk->source_path)
        return;
    source = nv_xml_child(b, root, "source", NULL);
    nv_xml_prop(b, source, g_str_equal(disk->source_type, "file") ? "file" : "dev",
                disk->source_path);
}

void
nv_disk_format(nv_xml_builder *b, const nv_disk_config *disk, nv_xml_node *root)
{
    nv_xml_node *node;
    nv_xml_node *iotune = NULL;

    nv_xml_prop(b, root, "type", disk->source_type);
    nv_xml_prop(b, root, "device", disk->source_device);

    /* Unlike format_dom, io alone also makes a <driver>: Nova drops it. */
    if (disk->driver_name || disk->driver_format || disk->driver_cache || disk->driver_discard ||
        disk->driver_io) {
        node = nv_xml_child(b, root, "driver", NULL);
        nv_xml_prop(b, node, "name", disk->driver_name);
        nv_xml_prop(b, node, "type", disk->driver_format);
        nv_xml_prop(b, node, "cache", disk->driver_cache);
        nv_xml_prop(b, node, "discard", disk->driver_discard);
        nv_xml_prop(b, node, "io", disk->driver_io);
    }

    disk_format_source(b, disk, root);

    if (disk->auth_secret_type) {
        node = nv_xml_child(b, root, "auth", NULL);
        nv_xml_prop(b, node, "username", disk->auth_username);
        node = nv_xml_child(b, node, "secret", NULL);
        nv_xml_prop(b, node, "type", disk->auth_secret_type);
        nv_xml_prop(b, node, "uuid", disk->auth_secret_uuid);
    }

    node = nv_xml_child(b, root, "target", NULL);
    nv_xml_prop(b, node, "dev", disk->target_dev);
    nv_xml_prop(b, node, "bus", disk->target_bus);

    if (disk->serial)
        nv_xml_child(b, root, "serial", disk->serial);

    for (int i = 0; i < NV_IOTUNE_LAST; i++) {
        if (!disk->iotune[i])
            continue;
        if (!iotune)
            iotune = nv_xml_child(b, root, "iotune", NULL);
        nv_xml_child(b, iotune, iotune_names[i], disk->iotune[i]);
    }

    if (disk->logical_block_size || disk->physical_block_size) {
        node = nv_xml_child(b, root, "blockio", NULL);
        nv_xml_prop(b, node, "logical_block_size", disk->logical_block_size);
        nv_xml_prop(b, node, "physical_block_size", disk->physical_block_size);
    }

    if (disk->readonly)
        nv_xml_child(b, root, "readonly", NULL);
    if (disk->shareable)
        nv_xml_child(b, root, "shareable", NULL);
    if (disk->boot_order) {
        node = nv_xml_child(b, root, "boot", NULL);
        nv_xml_prop(b, node, "order", disk->boot_order);
    }
    if (disk->address)
        nv_address_format(b, disk->address, root);
    /* The spec's work item: <encryption> is the last child of <disk>. */
    if (disk->encryption) {
        node = nv_xml_child(b, root, "encryption", NULL);
        nv_encryption_format(b, disk->encryption, node);
    }
    /* alias is never written back: libvirt ignores non-"ua-" aliases in
     * device XML, and format_dom leaves it out too. */
}

char *
nv_disk_config_to_xml(const nv_disk_config *disk, GError **error)
{
    nv_xml_builder b = { .object = DISK_OBJ };
    g_autoptr(nv_xml_doc) doc = NULL;
    nv_xml_node *root;

    g_return_val_if_fail(disk != NULL, NULL);
    if (!nv_disk_check(disk, error))
        return NULL;
    doc = nv_xml_new_doc("disk", &root);
    nv_disk_format(&b, disk, root);
    return nv_xml_finish(&b, doc, error);
}

static void
disk_parse_auth(nv_disk_config *disk, const nv_xml_node *auth)
{
    nv_xml_take_string(&disk->auth_username, nv_xml_get_prop(auth, "username"));
    for (const nv_xml_node *c = nv_xml_children(auth); c; c = nv_xml_next(c)) {
        if (nv_xml_is_element(c, "secret")) {
            nv_xml_take_string(&disk->auth_secret_type, nv_xml_get_prop(c, "type"));
            /* libvirt also allows usage= instead of uuid=; we only model uuid. */
            nv_xml_take_string(&disk->auth_secret_uuid, nv_xml_get_prop(c, "uuid"));
        }
    }
}

static void
disk_parse_source(nv_disk_config *disk, const nv_xml_node *source)
{
    const char *type = disk->source_type ? disk->source_type : "";

    if (g_str_equal(type, "file")) {
        nv_xml_take_string(&disk->source_path, nv_xml_get_prop(source, "file"));
    } else if (g_str_equal(type, "block")) {
        nv_xml_take_string(&disk->source_path, nv_xml_get_prop(source, "dev"));
    } else if (g_str_equal(type, "network")) {
        nv_xml_take_string(&disk->source_protocol, nv_xml_get_prop(source, "protocol"));
        nv_xml_take_string(&disk->source_name, nv_xml_get_prop(source, "name"));
    }
    for (const nv_xml_node *c = nv_xml_children(source); c; c = nv_xml_next(c)) {
        if (nv_xml_is_element(c, "host") && g_str_equal(type, "network")) {
            g_autofree char *name = nv_xml_get_prop(c, "name");
            g_autofree char *port = nv_xml_get_prop(c, "port");
            g_autofree char *transport = nv_xml_get_prop(c, "transport");
            g_autofree char *socket = nv_xml_get_prop(c, "socket");

            nv_disk_config_add_host(disk, name, port, transport, socket);
        } else if (nv_xml_is_element(c, "auth")) {
            /* libvirt >= 3.9 keeps <auth>/<encryption> inside <source> when
             * they were given there, and formats live XML the same way. */
            disk_parse_auth(disk, c);
        } else if (nv_xml_is_element(c, "encryption")) {
            nv_disk_encryption_free(disk->encryption);
            disk->encryption = nv_encryption_from_node(c);
        }
    }
}

static void
disk_parse_iotune(nv_disk_config *disk, const nv_xml_node *iotune)
{
    for (const nv_xml_node *c = nv_xml_children(iotune); c; c = nv_xml_next(c)) {
        for (int i = 0; i < NV_IOTUNE_LAST; i++) {
            if (nv_xml_is_element(c, iotune_names[i]))
                nv_xml_take_string(&disk->iotune[i], nv_xml_get_text(c));
        }
    }
}

/* LibvirtConfigGuestDisk.parse_dom: only direct children of <disk>, so the
 * <source> inside <backingStore> or <mirror> never overwrites ours. */
nv_disk_config *
nv_disk_from_node(const nv_xml_node *root)
{
    nv_disk_config *disk = nv_disk_config_new();
    char *value;

    if ((value = nv_xml_get_prop(root, "type")))
        nv_xml_take_string(&disk->source_type, value);
    if ((value = nv_xml_get_prop(root, "device")))
        nv_xml_take_string(&disk->source_device, value);

    for (const nv_xml_node *c = nv_xml_children(root); c; c = nv_xml_next(c)) {
        if (nv_xml_is_element(c, "driver")) {
            nv_xml_take_string(&disk->driver_name, nv_xml_get_prop(c, "name"));
            nv_xml_take_string(&disk->driver_format, nv_xml_get_prop(c, "type"));
            nv_xml_take_string(&disk->driver_cache, nv_xml_get_prop(c, "cache"));
            nv_xml_take_string(&disk->driver_discard, nv_xml_get_prop(c, "discard"));
            nv_xml_take_string(&disk->driver_io, nv_xml_get_prop(c, "io"));
        } else if (nv_xml_is_element(c, "source")) {
            disk_parse_source(disk, c);
        } else if (nv_xml_is_element(c, "auth")) {
            disk_parse_auth(disk, c);
        } else if (nv_xml_is_element(c, "target")) {
            nv_xml_take_string(&disk->target_dev, nv_xml_get_prop(c, "dev"));
            nv_xml_take_string(&disk->target_bus, nv_xml_get_prop(c, "bus"));
        } else if (nv_xml_is_element(c, "serial")) {
            nv_xml_take_string(&disk->serial, nv_xml_get_text(c));
        } else if (nv_xml_is_element(c, "iotune")) {
            disk_parse_iotune(disk, c);
        } else if (nv_xml_is_element(c, "blockio")) {
            /* format_dom's, which parse_dom does not read back. */
            nv_xml_take_string(&disk->logical_block_size, nv_xml_get_prop(c, "logical_block_size"));
            nv_xml_take_string(&disk->physical_block_size,
                               nv_xml_get_prop(c, "physical_block_size"));
        } else if (nv_xml_is_element(c, "readonly")) {
            disk->readonly = TRUE;
        } else if (nv_xml_is_element(c, "shareable")) {
            disk->shareable = TRUE;
        } else if (nv_xml_is_element(c, "boot")) {
            nv_xml_take_string(&disk->boot_order, nv_xml_get_prop(c, "order"));
        } else if (nv_xml_is_element(c, "address")) {
            nv_device_address_free(disk->address);
            disk->address = nv_address_from_node(c);
        } else if (nv_xml_is_element(c, "alias")) {
            nv_xml_take_string(&disk->alias, nv_xml_get_prop(c, "name"));
        } else if (nv_xml_is_element(c, "encryption")) {
            nv_disk_encryption_free(disk->encryption);
            disk->encryption = nv_encryption_from_node(c);
        }
    }
    return disk;
}

nv_disk_config *
nv_disk_config_parse(const char *xml, GError **error)
{
    g_autoptr(nv_xml_doc) doc = NULL;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = nv_xml_parse(xml, DISK_OBJ, "disk", error);
    if (!doc)
        return NULL;
    return nv_disk_from_node(nv_xml_root(doc));
}

void
nv_disk_config_set_luks_encryption(nv_disk_config *disk, const char *secret_uuid)
{
    g_return_if_fail(disk != NULL && secret_uuid != NULL);

    nv_disk_encryption_free(disk->encryption);
    disk->encryption = nv_disk_encryption_new("luks", "passphrase", secret_uuid);
}

void
nv_disk_config_set_librbd_encryption(nv_disk_config *disk)
{
    g_return_if_fail(disk != NULL && disk->encryption != NULL);

    g_free(disk->encryption->format);
    disk->encryption->format = g_strdup("luks2");
    g_free(disk->encryption->engine);
    disk->encryption->engine = g_strdup("librbd");
}
