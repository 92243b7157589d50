/* SPDX-License-Identifier: Apache-2.0 */
/*
 * XML helpers of the config module, on libxml2 trees (see xml.h).
 */
#include "virt/libvirt/config/xml.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "nvirt/error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

void
nv_xml_doc_free(nv_xml_doc *doc)
{
    xmlFreeDoc(doc);
}

/* ------------------------------------------------------------------------ */
/* Building                                                                  */

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
builder_check_text(nv_xml_builder *b, const xmlNode *node, const char *attr, const char *value)
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
void
nv_xml_prop(nv_xml_builder *b, xmlNode *node, const char *attr, const char *value)
{
    if (!value || !node || !builder_check_text(b, node, attr, value))
        return;
    xmlNewProp(node, BAD_CAST attr, BAD_CAST value);
}

/* New child element; @text (may be NULL) becomes escaped text content. */
xmlNode *
nv_xml_child(nv_xml_builder *b, xmlNode *parent, const char *name, const char *text)
{
    xmlNode *node;

    if (b->error || !parent)
        return NULL;
    node = xmlNewChild(parent, NULL, BAD_CAST name, NULL);
    if (text && builder_check_text(b, node, NULL, text))
        xmlNodeAddContent(node, BAD_CAST text);
    return node;
}

xmlDoc *
nv_xml_new_doc(const char *root_name, xmlNode **root)
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
char *
nv_xml_finish(nv_xml_builder *b, xmlDoc *doc, GError **error)
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
xmlDoc *
nv_xml_parse(const char *xml, const char *object, const char *root_name, GError **error)
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

gboolean
nv_xml_is_element(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, BAD_CAST name);
}

/* Attribute value as a g_free()able string, NULL when absent. */
char *
nv_xml_get_prop(const xmlNode *node, const char *name)
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
char *
nv_xml_get_text(const xmlNode *node)
{
    xmlChar *value = xmlNodeGetContent(node);
    char *copy = g_strdup(value ? (const char *)value : "");

    xmlFree(value);
    return copy;
}

/* Replace *@field with @value (owned). */
void
nv_xml_take_string(char **field, char *value)
{
    g_free(*field);
    *field = value;
}

gboolean
nv_xml_parse_yes_no(const xmlNode *node, const char *attr, const char *object, gboolean *out,
                    GError **error)
{
    g_autofree char *value = nv_xml_get_prop(node, attr);

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

nv_xml_node *
nv_xml_root(nv_xml_doc *doc)
{
    return xmlDocGetRootElement(doc);
}

const nv_xml_node *
nv_xml_children(const nv_xml_node *node)
{
    return node->children;
}

const nv_xml_node *
nv_xml_next(const nv_xml_node *node)
{
    return node->next;
}
