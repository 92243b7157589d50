/* SPDX-License-Identifier: Apache-2.0 */
/*
 * XML helpers of the config module: the only code that includes libxml2.
 *
 * The object files (encryption.c, disk.c, ...) build and read documents
 * through these calls and never see a libxml2 header, so the parser's
 * hardening (no network, no DTD, no DOCTYPE, quiet per-context errors) and
 * the writer's text checks live in one place.  Internal to the config
 * module; nothing outside src/virt/libvirt/config/ includes this.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* libxml2's own node and document types, opaque to the object files. */
typedef struct _xmlNode nv_xml_node;
typedef struct _xmlDoc nv_xml_doc;

void nv_xml_doc_free(nv_xml_doc *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_xml_doc, nv_xml_doc_free)

/* Building */

/* Sticky-error tree builder: after the first failure every call is a no-op,
 * so the format code reads like format_dom and checks once at the end. */
typedef struct {
    const char *object; /* "disk config", for messages */
    GError *error;
} nv_xml_builder;

/* A new document whose root element is <@root_name> (*@root). */
nv_xml_doc *nv_xml_new_doc(const char *root_name, nv_xml_node **root);
/* Set @attr when @value is not NULL (None in Nova means "leave it out"). */
void nv_xml_prop(nv_xml_builder *b, nv_xml_node *node, const char *attr, const char *value);
/* New child element; @text (may be NULL) becomes escaped text content. */
nv_xml_node *nv_xml_child(nv_xml_builder *b, nv_xml_node *parent, const char *name,
                          const char *text);
/* Finish a build: the standalone document string (no <?xml?> declaration,
 * 2-space indent, final newline; caller owns), or NULL with the builder's
 * error. */
char *nv_xml_finish(nv_xml_builder *b, nv_xml_doc *doc, GError **error);

/* Parsing */

/* Parse @xml and check its root is <@root_name>; errors name @object.  No
 * network, no DTD loading, no entity substitution, and any DOCTYPE is
 * refused outright. */
nv_xml_doc *nv_xml_parse(const char *xml, const char *object, const char *root_name,
                         GError **error);
nv_xml_node *nv_xml_root(nv_xml_doc *doc);
/* First child node (any kind) and next sibling; NULL at the end. */
const nv_xml_node *nv_xml_children(const nv_xml_node *node);
const nv_xml_node *nv_xml_next(const nv_xml_node *node);
gboolean nv_xml_is_element(const nv_xml_node *node, const char *name);
/* Attribute value as a g_free()able string, NULL when absent. */
char *nv_xml_get_prop(const nv_xml_node *node, const char *name);
/* Text content, "" for an empty element (lxml gives None there; "" keeps a
 * present-but-empty <serial/> distinguishable from an absent one). */
char *nv_xml_get_text(const nv_xml_node *node);
/* Replace *@field with @value (owned). */
void nv_xml_take_string(char **field, char *value);
/* <node attr='yes|no'> into *@out (absent = no); NV_ERROR_BAD_INPUT naming
 * @object otherwise. */
gboolean nv_xml_parse_yes_no(const nv_xml_node *node, const char *attr, const char *object,
                             gboolean *out, GError **error);

G_END_DECLS
