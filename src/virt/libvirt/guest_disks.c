/* SPDX-License-Identifier: Apache-2.0 */
#include "virt/libvirt/guest_disks.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <string.h>

#include "nvirt/error.h"

#define DOMAIN_OBJ "domain config"

/* Depths of the elements read: <domain> is 1. */
enum {
    DEPTH_ROOT = 1,
    DEPTH_DEVICES = 2,
    DEPTH_DISK = 3,
    DEPTH_DISK_CHILD = 4,
};

/* The child of <disk> (depth 4), or of that child (depth 5), being read:
 * what the elements below it mean. */
typedef enum {
    PART_OTHER,
    PART_SOURCE,
    PART_AUTH,
    PART_ENCRYPTION,
    PART_IOTUNE,
} disk_part;

typedef struct {
    xmlParserCtxt *ctxt;
    int depth; /* of the innermost open element */
    gboolean root_is_domain;
    char *root_name;
    gboolean active;
    gboolean in_devices;
    gboolean doctype;
    char *first_error;

    GPtrArray *disks;     /* NULL when only @find_target is looked for */
    nv_disk_config *disk; /* the <disk> being read (in @disks) */
    const char *find_target;
    gboolean in_disk; /* inside a <disk> of <devices> */
    gboolean found;   /* a disk has <target dev=@find_target> */
    disk_part part4;  /* child of <disk> being read */
    disk_part part5;  /* child of <source> being read */

    /* Text being collected for *text_field, until the end of the element
     * at text_depth (xmlNodeGetContent(): all text below it). */
    char **text_field;
    int text_depth;
    GString *text;
} scan_state;

static void
init_libxml(void)
{
    static gsize done = 0;

    if (g_once_init_enter(&done)) {
        xmlInitParser();
        g_once_init_leave(&done, 1);
    }
}

static gboolean
is(const xmlChar *name, const char *want)
{
    return strcmp((const char *)name, want) == 0;
}

/* Attribute @name without a namespace (xmlGetNoNsProp()), as a g_free()able
 * copy, NULL when absent.  SAX2 passes each attribute as five pointers:
 * local name, prefix, URI, value, end of value. */
static char *
attr(int n_attrs, const xmlChar **attrs, const char *name)
{
    for (int i = 0; i < n_attrs; i++) {
        const xmlChar **a = attrs + 5 * i;

        if (!a[2] && is(a[0], name))
            return g_strndup((const char *)a[3], (gsize)(a[4] - a[3]));
    }
    return NULL;
}

static void
take(char **field, char *value)
{
    g_free(*field);
    *field = value;
}

static void
collect_text(scan_state *s, char **field)
{
    s->text_field = field;
    s->text_depth = s->depth;
    g_string_truncate(s->text, 0);
}

static void
start_disk(scan_state *s, int n, const xmlChar **attrs)
{
    char *value;

    /* Nova's defaults stay where the XML says nothing, as disk_from_node(). */
    s->disk = nv_disk_config_new();
    if ((value = attr(n, attrs, "type")))
        take(&s->disk->source_type, value);
    if ((value = attr(n, attrs, "device")))
        take(&s->disk->source_device, value);
    g_ptr_array_add(s->disks, s->disk);
}

static nv_disk_encryption *
new_encryption(int n, const xmlChar **attrs)
{
    nv_disk_encryption *enc = g_new0(nv_disk_encryption, 1);

    enc->format = attr(n, attrs, "format");
    enc->engine = attr(n, attrs, "engine");
    return enc;
}

static void
read_secret(char **type, char **uuid, int n, const xmlChar **attrs)
{
    take(type, attr(n, attrs, "type"));
    take(uuid, attr(n, attrs, "uuid"));
}

/* LibvirtConfigGuestDeviceAddress.parse_dom, as address_from_node(). */
static nv_device_address *
read_address(int n, const xmlChar **attrs)
{
    g_autofree char *type = attr(n, attrs, "type");
    nv_device_address *addr;

    if (g_strcmp0(type, "pci") == 0) {
        addr = g_new0(nv_device_address, 1);
        addr->domain = attr(n, attrs, "domain");
        addr->slot = attr(n, attrs, "slot");
        addr->function = attr(n, attrs, "function");
    } else if (g_strcmp0(type, "drive") == 0) {
        addr = g_new0(nv_device_address, 1);
        addr->controller = attr(n, attrs, "controller");
        addr->target = attr(n, attrs, "target");
        addr->unit = attr(n, attrs, "unit");
    } else {
        return NULL;
    }
    addr->type = g_steal_pointer(&type);
    addr->bus = attr(n, attrs, "bus");
    return addr;
}

/* <source> (disk_parse_source()): which attributes name it depends on the
 * disk type. */
static void
read_source(nv_disk_config *disk, int n, const xmlChar **attrs)
{
    const char *type = disk->source_type ? disk->source_type : "";

    if (g_str_equal(type, "file")) {
        take(&disk->source_path, attr(n, attrs, "file"));
    } else if (g_str_equal(type, "block")) {
        take(&disk->source_path, attr(n, attrs, "dev"));
    } else if (g_str_equal(type, "network")) {
        take(&disk->source_protocol, attr(n, attrs, "protocol"));
        take(&disk->source_name, attr(n, attrs, "name"));
    }
}

/* A direct child of <disk> (disk_from_node()). */
static void
start_disk_child(scan_state *s, const xmlChar *name, int n, const xmlChar **attrs)
{
    nv_disk_config *disk = s->disk;

    s->part4 = PART_OTHER;
    if (is(name, "driver")) {
        take(&disk->driver_name, attr(n, attrs, "name"));
        take(&disk->driver_format, attr(n, attrs, "type"));
        take(&disk->driver_cache, attr(n, attrs, "cache"));
        take(&disk->driver_discard, attr(n, attrs, "discard"));
        take(&disk->driver_io, attr(n, attrs, "io"));
    } else if (is(name, "source")) {
        read_source(disk, n, attrs);
        s->part4 = PART_SOURCE;
    } else if (is(name, "auth")) {
        take(&disk->auth_username, attr(n, attrs, "username"));
        s->part4 = PART_AUTH;
    } else if (is(name, "target")) {
        take(&disk->target_dev, attr(n, attrs, "dev"));
        take(&disk->target_bus, attr(n, attrs, "bus"));
    } else if (is(name, "serial")) {
        collect_text(s, &disk->serial);
    } else if (is(name, "iotune")) {
        s->part4 = PART_IOTUNE;
    } else if (is(name, "blockio")) {
        take(&disk->logical_block_size, attr(n, attrs, "logical_block_size"));
        take(&disk->physical_block_size, attr(n, attrs, "physical_block_size"));
    } else if (is(name, "readonly")) {
        disk->readonly = TRUE;
    } else if (is(name, "shareable")) {
        disk->shareable = TRUE;
    } else if (is(name, "boot")) {
        take(&disk->boot_order, attr(n, attrs, "order"));
    } else if (is(name, "address")) {
        nv_device_address_free(disk->address);
        disk->address = read_address(n, attrs);
    } else if (is(name, "alias")) {
        take(&disk->alias, attr(n, attrs, "name"));
    } else if (is(name, "encryption")) {
        nv_disk_encryption_free(disk->encryption);
        disk->encryption = new_encryption(n, attrs);
        s->part4 = PART_ENCRYPTION;
    }
}

/* A child (depth 5) of the <disk> child @s->part4. */
static void
start_part_child(scan_state *s, const xmlChar *name, int n, const xmlChar **attrs)
{
    nv_disk_config *disk = s->disk;

    s->part5 = PART_OTHER;
    switch (s->part4) {
    case PART_SOURCE:
        if (is(name, "host") && g_strcmp0(disk->source_type, "network") == 0) {
            g_autofree char *host = attr(n, attrs, "name");
            g_autofree char *port = attr(n, attrs, "port");
            g_autofree char *transport = attr(n, attrs, "transport");
            g_autofree char *socket = attr(n, attrs, "socket");

            nv_disk_config_add_host(disk, host, port, transport, socket);
        } else if (is(name, "auth")) {
            /* libvirt >= 3.9 keeps <auth>/<encryption> inside <source>
             * when they were given there. */
            take(&disk->auth_username, attr(n, attrs, "username"));
            s->part5 = PART_AUTH;
        } else if (is(name, "encryption")) {
            nv_disk_encryption_free(disk->encryption);
            disk->encryption = new_encryption(n, attrs);
            s->part5 = PART_ENCRYPTION;
        }
        break;
    case PART_AUTH:
        if (is(name, "secret"))
            read_secret(&disk->auth_secret_type, &disk->auth_secret_uuid, n, attrs);
        break;
    case PART_ENCRYPTION:
        if (is(name, "secret"))
            read_secret(&disk->encryption->secret_type, &disk->encryption->secret_uuid, n, attrs);
        break;
    case PART_IOTUNE:
        for (int i = 0; i < NV_IOTUNE_LAST; i++) {
            if (is(name, nv_iotune_field_name(i))) {
                collect_text(s, &disk->iotune[i]);
                break;
            }
        }
        break;
    case PART_OTHER:
        break;
    }
}

static void
on_start(void *data, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri, int n_ns,
         const xmlChar **ns, int n_attrs, int n_defaulted, const xmlChar **attrs)
{
    scan_state *s = data;
    g_autofree char *id = NULL;

    s->depth++;
    switch (s->depth) {
    case DEPTH_ROOT:
        s->root_name = g_strdup((const char *)name);
        s->root_is_domain = is(name, "domain");
        id = attr(n_attrs, attrs, "id");
        s->active = id != NULL;
        break;
    case DEPTH_DEVICES:
        s->in_devices = s->root_is_domain && is(name, "devices");
        break;
    case DEPTH_DISK:
        s->in_disk = s->in_devices && is(name, "disk");
        if (s->in_disk && s->disks)
            start_disk(s, n_attrs, attrs);
        break;
    case DEPTH_DISK_CHILD:
        if (s->disk) {
            start_disk_child(s, name, n_attrs, attrs);
        } else if (s->in_disk && s->find_target && is(name, "target")) {
            g_autofree char *dev = attr(n_attrs, attrs, "dev");

            if (g_strcmp0(dev, s->find_target) == 0) {
                /* The rest of the document cannot change the answer. */
                s->found = TRUE;
                xmlStopParser(s->ctxt);
            }
        }
        break;
    case DEPTH_DISK_CHILD + 1:
        if (s->disk)
            start_part_child(s, name, n_attrs, attrs);
        break;
    case DEPTH_DISK_CHILD + 2:
        /* <source><auth><secret> and <source><encryption><secret>. */
        if (s->disk && s->part4 == PART_SOURCE && is(name, "secret")) {
            if (s->part5 == PART_AUTH)
                read_secret(&s->disk->auth_secret_type, &s->disk->auth_secret_uuid, n_attrs, attrs);
            else if (s->part5 == PART_ENCRYPTION)
                read_secret(&s->disk->encryption->secret_type, &s->disk->encryption->secret_uuid,
                            n_attrs, attrs);
        }
        break;
    default:
        break;
    }
}

static void
on_end(void *data, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri)
{
    scan_state *s = data;

    if (s->text_field && s->depth == s->text_depth) {
        take(s->text_field, g_strndup(s->text->str, s->text->len));
        s->text_field = NULL;
    }
    switch (s->depth) {
    case DEPTH_DEVICES:
        s->in_devices = FALSE;
        break;
    case DEPTH_DISK:
        s->disk = NULL;
        s->in_disk = FALSE;
        break;
    case DEPTH_DISK_CHILD:
        s->part4 = PART_OTHER;
        break;
    case DEPTH_DISK_CHILD + 1:
        s->part5 = PART_OTHER;
        break;
    default:
        break;
    }
    s->depth--;
}

static void
on_text(void *data, const xmlChar *text, int len)
{
    scan_state *s = data;

    if (s->text_field)
        g_string_append_len(s->text, (const char *)text, len);
}

/* Any DOCTYPE is refused before its internal subset is read. */
static void
on_doctype(void *data, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
    scan_state *s = data;

    s->doctype = TRUE;
    xmlStopParser(s->ctxt);
}

/* Keeps libxml2 quiet on stderr; the first error names the real fault. */
static void
on_error(void *data, xmlError *err)
{
    scan_state *s = data;

    if (!s->first_error && err && err->level >= XML_ERR_ERROR) {
        s->first_error =
            g_strdup_printf("line %d: %s", err->line, err->message ? err->message : "");
        g_strchomp(s->first_error);
        g_strdelimit(s->first_error, "\r\n", ' ');
    }
}

/* One pass over @xml into @s.  The same rules as config.c's parse_doc(): no
 * network, no DTD, no DOCTYPE at all.  XML_PARSE_NOENT only makes libxml2
 * hand over predefined entities and character references decoded (without
 * it SAX gets "&#38;" for "&amp;"): with no DTD there is nothing else to
 * substitute. */
static gboolean
scan(const char *xml, scan_state *s, GError **error)
{
    xmlSAXHandler sax = {
        .initialized = XML_SAX2_MAGIC,
        .startElementNs = on_start,
        .endElementNs = on_end,
        .characters = on_text,
        .cdataBlock = on_text,
        .internalSubset = on_doctype,
        .serror = on_error,
    };
    size_t len;
    gboolean well_formed;

    g_return_val_if_fail(xml != NULL, FALSE);
    init_libxml();
    len = strlen(xml);
    if (len > G_MAXINT) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, DOMAIN_OBJ ": XML document too large");
        return FALSE;
    }
    s->ctxt = xmlCreateMemoryParserCtxt(xml, (int)len);
    if (!s->ctxt) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, DOMAIN_OBJ ": cannot create XML parser");
        return FALSE;
    }
    xmlCtxtUseOptions(s->ctxt,
                      XML_PARSE_NONET | XML_PARSE_NOENT | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    /* The context owns and frees its handler: ours replaces its contents. */
    *s->ctxt->sax = sax;
    s->ctxt->userData = s;
    s->text = g_string_new(NULL);
    xmlParseDocument(s->ctxt);
    well_formed = s->ctxt->wellFormed;
    xmlFreeParserCtxt(s->ctxt);
    s->ctxt = NULL;
    g_string_free(s->text, TRUE);
    s->text = NULL;

    if (s->doctype) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, DOMAIN_OBJ ": DOCTYPE is not allowed");
        return FALSE;
    }
    if (s->found)
        return TRUE;
    if (!well_formed) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, DOMAIN_OBJ ": malformed XML at %s",
                    s->first_error ? s->first_error : "line 0: unknown error");
        return FALSE;
    }
    if (!s->root_is_domain) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    DOMAIN_OBJ ": expected <domain> root element, got <%s>",
                    s->root_name ? s->root_name : "");
        return FALSE;
    }
    return TRUE;
}

static void
scan_state_clear(scan_state *s)
{
    if (s->disks)
        g_ptr_array_unref(s->disks);
    g_free(s->root_name);
    g_free(s->first_error);
}

GPtrArray *
nv_guest_disks_scan(const char *domain_xml, gboolean *active, GError **error)
{
    scan_state s = { 0 };
    GPtrArray *disks = NULL;

    s.disks = g_ptr_array_new_with_free_func((GDestroyNotify)nv_disk_config_free);
    if (scan(domain_xml, &s, error)) {
        disks = g_steal_pointer(&s.disks);
        if (active)
            *active = s.active;
    }
    scan_state_clear(&s);
    return disks;
}

gboolean
nv_guest_disks_scan_has_target(const char *domain_xml, const char *target_dev, gboolean *present,
                               GError **error)
{
    scan_state s = { 0 };
    gboolean ok;

    g_return_val_if_fail(target_dev != NULL && present != NULL, FALSE);
    s.find_target = target_dev;
    ok = scan(domain_xml, &s, error);
    if (ok)
        *present = s.found;
    scan_state_clear(&s);
    return ok;
}
