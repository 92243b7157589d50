/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config module internals shared by its object files: the pieces one object
 * writes or reads inside another's element (a disk's <address> and
 * <encryption>, a domain's <disk>).  Nothing outside src/virt/libvirt/config/
 * includes this.
 */
#pragma once

#include "virt/libvirt/config.h"
#include "virt/libvirt/config/xml.h"

G_BEGIN_DECLS

#define DISK_OBJ       "disk config"
#define ENCRYPTION_OBJ "disk encryption"
#define SECRET_OBJ     "secret config"
#define DOMAIN_OBJ     "domain config"

/* encryption.c */
gboolean nv_encryption_check(const nv_disk_encryption *enc, GError **error);
void nv_encryption_format(nv_xml_builder *b, const nv_disk_encryption *enc, nv_xml_node *node);
nv_disk_encryption *nv_encryption_from_node(const nv_xml_node *node);

/* address.c */
gboolean nv_address_check(const nv_device_address *addr, GError **error);
void nv_address_format(nv_xml_builder *b, const nv_device_address *addr, nv_xml_node *parent);
nv_device_address *nv_address_from_node(const nv_xml_node *node);

/* disk.c: what nv_disk_config_to_xml() checks, and the children and
 * attributes it writes on a <disk> node (@root) the caller created. */
gboolean nv_disk_check(const nv_disk_config *disk, GError **error);
void nv_disk_format(nv_xml_builder *b, const nv_disk_config *disk, nv_xml_node *root);
nv_disk_config *nv_disk_from_node(const nv_xml_node *root);

G_END_DECLS
