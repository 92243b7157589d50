/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration helpers (nova/virt/libvirt/migration.py). */
#include "virt/libvirt/migration.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "nvirt/error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

static xmlNodePtr
child_element(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr node = parent ? parent->children : NULL; node; node = node->next)
        if (node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, BAD_CAST name))
            return node;
    return NULL;
}

/* The text of <serial>, or NULL.  Caller frees. */
static char *
disk_serial(xmlNodePtr disk)
{
    xmlNodePtr serial = child_element(disk, "serial");
    xmlChar *text;
    char *copy;

    if (!serial)
        return NULL;
    text = xmlNodeGetContent(serial);
    copy = g_strdup((const char *)text);
    xmlFree(text);
    return copy ? g_strstrip(copy) : NULL;
}

/* The disk's target dev, for messages ("?" when it has none).  Caller frees. */
static char *
disk_target(xmlNodePtr disk)
{
    xmlChar *dev = xmlGetProp(child_element(disk, "target"), BAD_CAST "dev");
    char *copy = g_strdup(dev ? (const char *)dev : "?");

    xmlFree(dev);
    return copy;
}

/* Point the <secret> of one <encryption> at @uuid: the passphrase secret
 * libvirt's LUKS encryption names (a 'luks' encryption has exactly one). */
static void
set_encryption_secret(xmlNodePtr encryption, const char *uuid)
{
    for (xmlNodePtr node = encryption->children; node; node = node->next) {
        xmlChar *type;
        gboolean passphrase;

        if (node->type != XML_ELEMENT_NODE || !xmlStrEqual(node->name, BAD_CAST "secret"))
            continue;
        type = xmlGetProp(node, BAD_CAST "type");
        passphrase = type && xmlStrEqual(type, BAD_CAST "passphrase");
        xmlFree(type);
        if (!passphrase)
            continue;
        /* A secret may be named by usage instead of uuid; the destination's
         * is named by uuid, as nvirt's attach names it. */
        xmlUnsetProp(node, BAD_CAST "usage");
        xmlSetProp(node, BAD_CAST "uuid", BAD_CAST uuid);
    }
}

static gboolean
update_disk(xmlNodePtr disk, GHashTable *secret_uuids, GError **error)
{
    xmlNodePtr encryption[2] = { child_element(disk, "encryption"),
                                 child_element(child_element(disk, "source"), "encryption") };
    g_autofree char *serial = NULL;
    const char *uuid;

    serial = disk_serial(disk);
    uuid = serial ? g_hash_table_lookup(secret_uuids, serial) : NULL;
    if (!encryption[0] && !encryption[1]) {
        g_autofree char *dev = NULL;

        if (!uuid)
            return TRUE;
        /* Decrypted by a dm-crypt mapping here and by QEMU there: the disk
         * would need a new source, which a migration cannot give it. */
        dev = disk_target(disk);
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: disk '%s' is decrypted by an encryptor on the source but by "
                    "QEMU on the destination",
                    serial, dev);
        return FALSE;
    }
    if (!uuid) {
        g_autofree char *dev = disk_target(disk);

        if (serial)
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "volume %s: encrypted disk '%s' has no secret on the destination", serial,
                        dev);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "encrypted disk '%s' has no <serial>: cannot find its volume's secret on "
                        "the destination",
                        dev);
        return FALSE;
    }
    if (!g_uuid_string_is_valid(uuid)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: destination secret '%s' is not a UUID", serial, uuid);
        return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(encryption); i++)
        if (encryption[i])
            set_encryption_secret(encryption[i], uuid);
    return TRUE;
}

char *
nv_migration_update_guest_xml(const char *domain_xml, GHashTable *secret_uuids, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlBuffer) buffer = NULL;
    xmlNodePtr root, devices;

    g_return_val_if_fail(domain_xml != NULL && secret_uuids != NULL, NULL);
    doc = xmlReadMemory(domain_xml, (int)strlen(domain_xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !xmlStrEqual(root->name, BAD_CAST "domain")) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "migration: the domain XML is not a <domain> document");
        return NULL;
    }
    devices = child_element(root, "devices");
    for (xmlNodePtr disk = devices ? devices->children : NULL; disk; disk = disk->next) {
        if (disk->type != XML_ELEMENT_NODE || !xmlStrEqual(disk->name, BAD_CAST "disk"))
            continue;
        if (!update_disk(disk, secret_uuids, error))
            return NULL;
    }
    /* The root element only: no XML declaration, as libvirt writes it. */
    buffer = xmlBufferCreate();
    if (xmlNodeDump(buffer, doc, root, 0, 0) < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "migration: cannot write the domain XML");
        return NULL;
    }
    return g_strdup_printf("%.*s\n", xmlBufferLength(buffer),
                           (const char *)xmlBufferContent(buffer));
}

static char *
escape_ipv6(const char *addr)
{
    if (strchr(addr, ':') && addr[0] != '[')
        return g_strdup_printf("[%s]", addr);
    return g_strdup(addr);
}

char *
nv_migration_live_migration_uri(const nv_conf *conf, const char *dest, GError **error)
{
    g_autofree char *host = NULL;
    const char *uri = conf->libvirt.live_migration_uri;
    const char *scheme = conf->libvirt.live_migration_scheme;

    g_return_val_if_fail(dest != NULL, NULL);
    host = escape_ipv6(dest);
    if (uri && *uri) {
        const char *mark = strchr(uri, '%');

        if (!mark)
            return g_strdup(uri);
        /* Python's "uri % dest": one %s, nothing else. */
        if (mark[1] != 's' || strchr(mark + 2, '%')) {
            g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                        "[libvirt] live_migration_uri '%s': only one '%%s' is allowed", uri);
            return NULL;
        }
        return g_strdup_printf("%.*s%s%s", (int)(mark - uri), uri, host, mark + 2);
    }
    if (g_strcmp0(conf->libvirt.virt_type, "kvm") != 0 &&
        g_strcmp0(conf->libvirt.virt_type, "qemu") != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "no live migration URI for virt_type '%s'", conf->libvirt.virt_type);
        return NULL;
    }
    return g_strdup_printf("qemu+%s://%s/system", scheme && *scheme ? scheme : "tcp", host);
}

char *
nv_migration_migrate_uri(const char *addr)
{
    g_autofree char *host = escape_ipv6(addr);

    return g_strdup_printf("tcp://%s", host);
}
