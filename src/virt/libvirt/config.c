/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Libvirt XML config objects (nova/virt/libvirt/config.py), built and parsed
 * with libxml2 trees.
 *
 * Output follows LibvirtConfigGuestDisk.format_dom element order so the XML
 * nvirt hands to libvirt is the XML Nova would have handed it.  Parsing
 * follows parse_dom: lenient, unknown elements and attributes are skipped,
 * because the input is usually live domain XML full of things we never set
 * (<alias>, <backingStore>, index=...).
 */
#include "virt/libvirt/config.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "nvirt/error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

#define DISK_OBJ       "disk config"
#define ENCRYPTION_OBJ "disk encryption"
#define SECRET_OBJ     "secret config"
#define DOMAIN_OBJ     "domain config"

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

/* ------------------------------------------------------------------------ */
/* Building                                                                  */

/* Sticky-error tree builder: after the first failure every call is a no-op,
 * so the format code reads like format_dom and checks once at the end. */
typedef struct {
    const char *object; /* "disk config", for messages */
    GError *error;
} xml_builder;

/* libxml2 writes C0 control characters as &#N; which no XML 1.0 parser
 * (libvirt's included) reads back, and it copies invalid UTF-8 through. */
static gboolean
is_xml_text(const char *s)
{
    if (!g_utf8_validate(s, -1, NULL))
        return FALSE;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            return FALSE;
    }
    return TRUE;
}

static gboolean
builder_check_text(xml_builder *b, const xmlNode *node, const char *attr, const char *value)
{
    if (b->error)
        return FALSE;
    if (is_xml_text(value))
        return TRUE;
    if (attr)
        g_set_error(&b->error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "%s: value of <%s %s=> is not valid XML text", b->object,
                    (const char *)node->name, attr);
    else
        g_set_error(&b->error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "%s: content of <%s> is not valid XML text", b->object,
                    (const char *)node->name);
    return FALSE;
}

/* Set @attr when @value is not NULL (None in Nova means "leave it out"). */
static void
builder_prop(xml_builder *b, xmlNode *node, const char *attr, const char *value)
{
    if (!value || !node || !builder_check_text(b, node, attr, value))
        return;
    xmlNewProp(node, BAD_CAST attr, BAD_CAST value);
}

/* New child element; @text (may be NULL) becomes escaped text content. */
static xmlNode *
builder_child(xml_builder *b, xmlNode *parent, const char *name, const char *text)
{
    xmlNode *node;

    if (b->error || !parent)
        return NULL;
    node = xmlNewChild(parent, NULL, BAD_CAST name, NULL);
    if (text && builder_check_text(b, node, NULL, text))
        xmlNodeAddContent(node, BAD_CAST text);
    return node;
}

static xmlDoc *
builder_new_doc(const char *root_name, xmlNode **root)
{
    xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");

    *root = xmlNewDocNode(doc, NULL, BAD_CAST root_name, NULL);
    xmlDocSetRootElement(doc, *root);
    return doc;
}

/* Standalone document, no <?xml?> declaration (virDomainAttachDeviceFlags and
 * virSecretDefineXML take the element itself), 2-space indent, final newline. */
static char *
doc_to_string(xmlDoc *doc)
{
    g_autoptr(xmlBuffer) buf = xmlBufferCreate();
    xmlSaveCtxt *save;

    save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    g_assert(save != NULL);
    xmlSaveDoc(save, doc);
    xmlSaveClose(save);
    return g_strndup((const char *)xmlBufferContent(buf), (gsize)xmlBufferLength(buf));
}

/* Finish a build: the document string, or NULL with the builder's error. */
static char *
builder_finish(xml_builder *b, xmlDoc *doc, GError **error)
{
    if (b->error) {
        g_propagate_error(error, b->error);
        b->error = NULL;
        return NULL;
    }
    return doc_to_string(doc);
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                   */

static void
init_libxml(void)
{
    static gsize done = 0;

    if (g_once_init_enter(&done)) {
        xmlInitParser();
        g_once_init_leave(&done, 1);
    }
}

/* Per-context structured error handler: keeps libxml2 quiet on stderr and
 * remembers the first error, which is the one that names the real fault. */
static void
record_first_error(void *data, xmlError *err)
{
    xmlParserCtxt *ctxt = data;
    char **first = ctxt->_private;

    if (first && !*first && err && err->level >= XML_ERR_ERROR) {
        *first = g_strdup_printf("line %d: %s", err->line, err->message ? err->message : "");
        g_strchomp(*first);
        /* One line: libxml2 messages may embed newlines. */
        g_strdelimit(*first, "\r\n", ' ');
    }
}

/* Parse @xml and check its root is <@root_name>.  No network, no DTD loading,
 * no entity substitution, and any DOCTYPE is refused outright: this XML comes
 * from libvirt or from our own callers and never needs one. */
static xmlDoc *
parse_doc(const char *xml, const char *object, const char *root_name, GError **error)
{
    g_autoptr(xmlParserCtxt) ctxt = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autofree char *first_error = NULL;
    size_t len = strlen(xml);
    xmlNode *root;

    init_libxml();
    if (len > G_MAXINT) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: XML document too large", object);
        return NULL;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "%s: cannot create XML parser", object);
        return NULL;
    }
    ctxt->sax->serror = record_first_error;
    ctxt->_private = &first_error;
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING);
    if (!doc || !ctxt->wellFormed) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: malformed XML at %s", object,
                    first_error ? first_error : "line 0: unknown error");
        return NULL;
    }
    if (doc->intSubset || doc->extSubset) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: DOCTYPE is not allowed", object);
        return NULL;
    }
    root = xmlDocGetRootElement(doc);
    if (!root || !xmlStrEqual(root->name, BAD_CAST root_name)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: expected <%s> root element, got <%s>",
                    object, root_name, root ? (const char *)root->name : "");
        return NULL;
    }
    return g_steal_pointer(&doc);
}

static gboolean
is_element(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, BAD_CAST name);
}

/* Attribute value as a g_free()able string, NULL when absent. */
static char *
get_prop(const xmlNode *node, const char *name)
{
    xmlChar *value = xmlGetNoNsProp(node, BAD_CAST name);
    char *copy;

    if (!value)
        return NULL;
    copy = g_strdup((const char *)value);
    xmlFree(value);
    return copy;
}

/* Text content, "" for an empty element (lxml gives None there; "" keeps a
 * present-but-empty <serial/> distinguishable from an absent one). */
static char *
get_text(const xmlNode *node)
{
    xmlChar *value = xmlNodeGetContent(node);
    char *copy = g_strdup(value ? (const char *)value : "");

    xmlFree(value);
    return copy;
}

/* Replace *@field with @value (owned). */
static void
take_string(char **field, char *value)
{
    g_free(*field);
    *field = value;
}

static gboolean
parse_yes_no(const xmlNode *node, const char *attr, const char *object, gboolean *out,
             GError **error)
{
    g_autofree char *value = get_prop(node, attr);

    if (!value || g_str_equal(value, "no"))
        *out = FALSE;
    else if (g_str_equal(value, "yes"))
        *out = TRUE;
    else {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "%s: <%s %s=> must be 'yes' or 'no', got '%s'", object,
                    (const char *)node->name, attr, value);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------------ */
/* <encryption> (LibvirtConfigGuestDiskEncryption)                           */

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

static gboolean
encryption_check(const nv_disk_encryption *enc, GError **error)
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

static void
encryption_format(xml_builder *b, const nv_disk_encryption *enc, xmlNode *node)
{
    xmlNode *secret;

    builder_prop(b, node, "format", enc->format);
    builder_prop(b, node, "engine", enc->engine);
    secret = builder_child(b, node, "secret", NULL);
    builder_prop(b, secret, "type", enc->secret_type);
    builder_prop(b, secret, "uuid", enc->secret_uuid);
}

static nv_disk_encryption *
encryption_from_node(const xmlNode *node)
{
    nv_disk_encryption *enc = g_new0(nv_disk_encryption, 1);

    enc->format = get_prop(node, "format");
    enc->engine = get_prop(node, "engine");
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (is_element(c, "secret")) {
            take_string(&enc->secret_type, get_prop(c, "type"));
            take_string(&enc->secret_uuid, get_prop(c, "uuid"));
        }
    }
    return enc;
}

char *
nv_disk_encryption_to_xml(const nv_disk_encryption *enc, GError **error)
{
    xml_builder b = { .object = ENCRYPTION_OBJ };
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *root;

    g_return_val_if_fail(enc != NULL, NULL);
    if (!encryption_check(enc, error))
        return NULL;
    doc = builder_new_doc("encryption", &root);
    encryption_format(&b, enc, root);
    return builder_finish(&b, doc, error);
}

nv_disk_encryption *
nv_disk_encryption_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = parse_doc(xml, ENCRYPTION_OBJ, "encryption", error);
    if (!doc)
        return NULL;
    return encryption_from_node(xmlDocGetRootElement(doc));
}

/* ------------------------------------------------------------------------ */
/* <address> (LibvirtConfigGuestDeviceAddressPCI / ...Drive)                 */

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

static gboolean
address_check(const nv_device_address *addr, GError **error)
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

static void
address_format(xml_builder *b, const nv_device_address *addr, xmlNode *parent)
{
    xmlNode *node = builder_child(b, parent, "address", NULL);

    builder_prop(b, node, "type", addr->type);
    if (g_str_equal(addr->type, "pci")) {
        builder_prop(b, node, "domain", addr->domain);
        builder_prop(b, node, "bus", addr->bus);
        builder_prop(b, node, "slot", addr->slot);
        builder_prop(b, node, "function", addr->function);
    } else {
        builder_prop(b, node, "controller", addr->controller);
        builder_prop(b, node, "bus", addr->bus);
        builder_prop(b, node, "target", addr->target);
        builder_prop(b, node, "unit", addr->unit);
    }
}

/* LibvirtConfigGuestDeviceAddress.parse_dom: only pci and drive are modelled;
 * other types (ccw, virtio-mmio, usb) give no address at all. */
static nv_device_address *
address_from_node(const xmlNode *node)
{
    g_autofree char *type = get_prop(node, "type");
    nv_device_address *addr;

    if (g_strcmp0(type, "pci") == 0) {
        addr = g_new0(nv_device_address, 1);
        addr->domain = get_prop(node, "domain");
        addr->slot = get_prop(node, "slot");
        addr->function = get_prop(node, "function");
    } else if (g_strcmp0(type, "drive") == 0) {
        addr = g_new0(nv_device_address, 1);
        addr->controller = get_prop(node, "controller");
        addr->target = get_prop(node, "target");
        addr->unit = get_prop(node, "unit");
    } else {
        return NULL;
    }
    addr->type = g_steal_pointer(&type);
    addr->bus = get_prop(node, "bus");
    return addr;
}

/* ------------------------------------------------------------------------ */
/* <disk> (LibvirtConfigGuestDisk)                                           */

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
    take_string(&copy->source_type, g_strdup(disk->source_type));
    take_string(&copy->source_device, g_strdup(disk->source_device));
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
static gboolean
disk_check(const nv_disk_config *disk, GError **error)
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
    if (disk->address && !address_check(disk->address, error))
        return FALSE;
    if (disk->encryption && !encryption_check(disk->encryption, error))
        return FALSE;
    return TRUE;
}

static void
disk_format_source(xml_builder *b, const nv_disk_config *disk, xmlNode *root)
{
    xmlNode *source;

    if (g_str_equal(disk->source_type, "network")) {
        source = builder_child(b, root, "source", NULL);
        builder_prop(b, source, "protocol", disk->source_protocol);
        builder_prop(b, source, "name", disk->source_name);
        for (guint i = 0; i < disk->source_hosts->len; i++) {
            const nv_disk_host *h = g_ptr_array_index(disk->source_hosts, i);
            xmlNode *host = builder_child(b, source, "host", NULL);

            /* libvirt's own attribute order (virDomainStorageNetworkHostFormat). */
            builder_prop(b, host, "name", h->name);
            builder_prop(b, host, "port", h->port);
            builder_prop(b, host, "transport", h->transport);
            builder_prop(b, host, "socket", h->socket);
        }
        return;
    }
    /* A file disk without a path is an empty drive (cdrom): no <source>. */
    if (!disk->source_path)
        return;
    source = builder_child(b, root, "source", NULL);
    builder_prop(b, source, g_str_equal(disk->source_type, "file") ? "file" : "dev",
                 disk->source_path);
}

char *
nv_disk_config_to_xml(const nv_disk_config *disk, GError **error)
{
    xml_builder b = { .object = DISK_OBJ };
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *root;
    xmlNode *node;
    xmlNode *iotune = NULL;

    g_return_val_if_fail(disk != NULL, NULL);
    if (!disk_check(disk, error))
        return NULL;

    doc = builder_new_doc("disk", &root);
    builder_prop(&b, root, "type", disk->source_type);
    builder_prop(&b, root, "device", disk->source_device);

    /* Unlike format_dom, io alone also makes a <driver>: Nova drops it. */
    if (disk->driver_name || disk->driver_format || disk->driver_cache || disk->driver_discard ||
        disk->driver_io) {
        node = builder_child(&b, root, "driver", NULL);
        builder_prop(&b, node, "name", disk->driver_name);
        builder_prop(&b, node, "type", disk->driver_format);
        builder_prop(&b, node, "cache", disk->driver_cache);
        builder_prop(&b, node, "discard", disk->driver_discard);
        builder_prop(&b, node, "io", disk->driver_io);
    }

    disk_format_source(&b, disk, root);

    if (disk->auth_secret_type) {
        node = builder_child(&b, root, "auth", NULL);
        builder_prop(&b, node, "username", disk->auth_username);
        node = builder_child(&b, node, "secret", NULL);
        builder_prop(&b, node, "type", disk->auth_secret_type);
        builder_prop(&b, node, "uuid", disk->auth_secret_uuid);
    }

    node = builder_child(&b, root, "target", NULL);
    builder_prop(&b, node, "dev", disk->target_dev);
    builder_prop(&b, node, "bus", disk->target_bus);

    if (disk->serial)
        builder_child(&b, root, "serial", disk->serial);

    for (int i = 0; i < NV_IOTUNE_LAST; i++) {
        if (!disk->iotune[i])
            continue;
        if (!iotune)
            iotune = builder_child(&b, root, "iotune", NULL);
        builder_child(&b, iotune, iotune_names[i], disk->iotune[i]);
    }

    if (disk->logical_block_size || disk->physical_block_size) {
        node = builder_child(&b, root, "blockio", NULL);
        builder_prop(&b, node, "logical_block_size", disk->logical_block_size);
        builder_prop(&b, node, "physical_block_size", disk->physical_block_size);
    }

    if (disk->readonly)
        builder_child(&b, root, "readonly", NULL);
    if (disk->shareable)
        builder_child(&b, root, "shareable", NULL);
    if (disk->boot_order) {
        node = builder_child(&b, root, "boot", NULL);
        builder_prop(&b, node, "order", disk->boot_order);
    }
    if (disk->address)
        address_format(&b, disk->address, root);
    /* The spec's work item: <encryption> is the last child of <disk>. */
    if (disk->encryption) {
        node = builder_child(&b, root, "encryption", NULL);
        encryption_format(&b, disk->encryption, node);
    }
    /* alias is never written back: libvirt ignores non-"ua-" aliases in
     * device XML, and format_dom leaves it out too. */
    return builder_finish(&b, doc, error);
}

static void
disk_parse_auth(nv_disk_config *disk, const xmlNode *auth)
{
    take_string(&disk->auth_username, get_prop(auth, "username"));
    for (const xmlNode *c = auth->children; c; c = c->next) {
        if (is_element(c, "secret")) {
            take_string(&disk->auth_secret_type, get_prop(c, "type"));
            /* libvirt also allows usage= instead of uuid=; we only model uuid. */
            take_string(&disk->auth_secret_uuid, get_prop(c, "uuid"));
        }
    }
}

static void
disk_parse_source(nv_disk_config *disk, const xmlNode *source)
{
    const char *type = disk->source_type ? disk->source_type : "";

    if (g_str_equal(type, "file")) {
        take_string(&disk->source_path, get_prop(source, "file"));
    } else if (g_str_equal(type, "block")) {
        take_string(&disk->source_path, get_prop(source, "dev"));
    } else if (g_str_equal(type, "network")) {
        take_string(&disk->source_protocol, get_prop(source, "protocol"));
        take_string(&disk->source_name, get_prop(source, "name"));
    }
    for (const xmlNode *c = source->children; c; c = c->next) {
        if (is_element(c, "host") && g_str_equal(type, "network")) {
            g_autofree char *name = get_prop(c, "name");
            g_autofree char *port = get_prop(c, "port");
            g_autofree char *transport = get_prop(c, "transport");
            g_autofree char *socket = get_prop(c, "socket");

            nv_disk_config_add_host(disk, name, port, transport, socket);
        } else if (is_element(c, "auth")) {
            /* libvirt >= 3.9 keeps <auth>/<encryption> inside <source> when
             * they were given there, and formats live XML the same way. */
            disk_parse_auth(disk, c);
        } else if (is_element(c, "encryption")) {
            nv_disk_encryption_free(disk->encryption);
            disk->encryption = encryption_from_node(c);
        }
    }
}

static void
disk_parse_iotune(nv_disk_config *disk, const xmlNode *iotune)
{
    for (const xmlNode *c = iotune->children; c; c = c->next) {
        for (int i = 0; i < NV_IOTUNE_LAST; i++) {
            if (is_element(c, iotune_names[i]))
                take_string(&disk->iotune[i], get_text(c));
        }
    }
}

/* LibvirtConfigGuestDisk.parse_dom: only direct children of <disk>, so the
 * <source> inside <backingStore> or <mirror> never overwrites ours. */
static nv_disk_config *
disk_from_node(const xmlNode *root)
{
    nv_disk_config *disk = nv_disk_config_new();
    char *value;

    if ((value = get_prop(root, "type")))
        take_string(&disk->source_type, value);
    if ((value = get_prop(root, "device")))
        take_string(&disk->source_device, value);

    for (const xmlNode *c = root->children; c; c = c->next) {
        if (is_element(c, "driver")) {
            take_string(&disk->driver_name, get_prop(c, "name"));
            take_string(&disk->driver_format, get_prop(c, "type"));
            take_string(&disk->driver_cache, get_prop(c, "cache"));
            take_string(&disk->driver_discard, get_prop(c, "discard"));
            take_string(&disk->driver_io, get_prop(c, "io"));
        } else if (is_element(c, "source")) {
            disk_parse_source(disk, c);
        } else if (is_element(c, "auth")) {
            disk_parse_auth(disk, c);
        } else if (is_element(c, "target")) {
            take_string(&disk->target_dev, get_prop(c, "dev"));
            take_string(&disk->target_bus, get_prop(c, "bus"));
        } else if (is_element(c, "serial")) {
            take_string(&disk->serial, get_text(c));
        } else if (is_element(c, "iotune")) {
            disk_parse_iotune(disk, c);
        } else if (is_element(c, "blockio")) {
            /* format_dom's, which parse_dom does not read back. */
            take_string(&disk->logical_block_size, get_prop(c, "logical_block_size"));
            take_string(&disk->physical_block_size, get_prop(c, "physical_block_size"));
        } else if (is_element(c, "readonly")) {
            disk->readonly = TRUE;
        } else if (is_element(c, "shareable")) {
            disk->shareable = TRUE;
        } else if (is_element(c, "boot")) {
            take_string(&disk->boot_order, get_prop(c, "order"));
        } else if (is_element(c, "address")) {
            nv_device_address_free(disk->address);
            disk->address = address_from_node(c);
        } else if (is_element(c, "alias")) {
            take_string(&disk->alias, get_prop(c, "name"));
        } else if (is_element(c, "encryption")) {
            nv_disk_encryption_free(disk->encryption);
            disk->encryption = encryption_from_node(c);
        }
    }
    return disk;
}

nv_disk_config *
nv_disk_config_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = parse_doc(xml, DISK_OBJ, "disk", error);
    if (!doc)
        return NULL;
    return disk_from_node(xmlDocGetRootElement(doc));
}

/* ------------------------------------------------------------------------ */
/* <secret> (LibvirtConfigSecret)                                            */

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
    xml_builder b = { .object = SECRET_OBJ };
    g_autoptr(xmlDoc) doc = NULL;
    const char *usage_element = NULL;
    xmlNode *root;
    xmlNode *usage;

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

    doc = builder_new_doc("secret", &root);
    builder_prop(&b, root, "ephemeral", secret->ephemeral ? "yes" : "no");
    builder_prop(&b, root, "private", secret->private_ ? "yes" : "no");
    /* LibvirtConfigSecret.format_dom order: description, uuid, usage. */
    if (secret->description)
        builder_child(&b, root, "description", secret->description);
    if (secret->uuid)
        builder_child(&b, root, "uuid", secret->uuid);
    if (secret->usage_type) {
        usage = builder_child(&b, root, "usage", NULL);
        builder_prop(&b, usage, "type", secret->usage_type);
        builder_child(&b, usage, usage_element, secret->usage_id);
    }
    return builder_finish(&b, doc, error);
}

nv_secret_config *
nv_secret_config_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(nv_secret_config) secret = NULL;
    xmlNode *root;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = parse_doc(xml, SECRET_OBJ, "secret", error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    secret = nv_secret_config_new();
    if (!parse_yes_no(root, "ephemeral", SECRET_OBJ, &secret->ephemeral, error) ||
        !parse_yes_no(root, "private", SECRET_OBJ, &secret->private_, error))
        return NULL;

    for (const xmlNode *c = root->children; c; c = c->next) {
        if (is_element(c, "uuid")) {
            take_string(&secret->uuid, get_text(c));
        } else if (is_element(c, "description")) {
            take_string(&secret->description, get_text(c));
        } else if (is_element(c, "usage")) {
            const char *element;

            take_string(&secret->usage_type, get_prop(c, "type"));
            element = secret->usage_type ? secret_usage_element(secret->usage_type) : NULL;
            for (const xmlNode *u = c->children; element && u; u = u->next) {
                if (is_element(u, element))
                    take_string(&secret->usage_id, get_text(u));
            }
        }
    }
    return g_steal_pointer(&secret);
}

/* ------------------------------------------------------------------------ */
/* <domain> disk lookup (Guest.get_disk)                                     */

static gboolean
disk_node_matches(const xmlNode *disk, const char *target_dev, const char *serial)
{
    for (const xmlNode *c = disk->children; c; c = c->next) {
        if (target_dev && is_element(c, "target")) {
            g_autofree char *dev = get_prop(c, "dev");

            if (g_strcmp0(dev, target_dev) == 0)
                return TRUE;
        } else if (!target_dev && is_element(c, "serial")) {
            g_autofree char *text = get_text(c);

            if (g_str_equal(text, serial))
                return TRUE;
        }
    }
    return FALSE;
}

static char *
domain_name(const xmlNode *root)
{
    for (const xmlNode *c = root->children; c; c = c->next) {
        if (is_element(c, "name"))
            return get_text(c);
    }
    return g_strdup("");
}

nv_disk_config *
nv_domain_find_disk(const char *domain_xml, const char *target_dev, const char *serial,
                    GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autofree char *name = NULL;
    xmlNode *root;

    g_return_val_if_fail(domain_xml != NULL, NULL);
    if (!target_dev && !serial) {
        g_set_error_literal(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            DOMAIN_OBJ ": disk lookup needs a target dev or a serial");
        return NULL;
    }
    doc = parse_doc(domain_xml, DOMAIN_OBJ, "domain", error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    for (const xmlNode *c = root->children; c; c = c->next) {
        if (!is_element(c, "devices"))
            continue;
        for (const xmlNode *d = c->children; d; d = d->next) {
            if (is_element(d, "disk") && disk_node_matches(d, target_dev, serial))
                return disk_from_node(d);
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
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(GPtrArray) disks = NULL;
    xmlNode *root;

    g_return_val_if_fail(domain_xml != NULL, NULL);
    doc = parse_doc(domain_xml, DOMAIN_OBJ, "domain", error);
    if (!doc)
        return NULL;
    disks = g_ptr_array_new_with_free_func((GDestroyNotify)nv_disk_config_free);
    root = xmlDocGetRootElement(doc);
    for (const xmlNode *c = root->children; c; c = c->next) {
        if (!is_element(c, "devices"))
            continue;
        for (const xmlNode *d = c->children; d; d = d->next) {
            if (is_element(d, "disk"))
                g_ptr_array_add(disks, disk_from_node(d));
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
