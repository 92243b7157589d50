/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk lookups in a whole <domain> document (Guest.get_disk).
 */
#pragma once

#include <glib.h>

#include "virt/libvirt/config/disk.h"

G_BEGIN_DECLS

/* Find the <disk> in a domain XML whose <target dev=> is @target_dev, or
 * whose <serial> is @serial when @target_dev is NULL.  Returns NULL with
 * NV_ERROR_NOT_FOUND when there is none (Guest.get_disk).  Caller owns the
 * result.  NV_ERROR_BAD_INPUT when both keys are NULL or the XML is not a
 * <domain> document. */
nv_disk_config *nv_domain_find_disk(const char *domain_xml, const char *target_dev,
                                    const char *serial, GError **error);

/* Every <disk> of a domain XML, in document order, parsed once (an attach or
 * detach checks targets, serials and sources against one read of each
 * config).  A GPtrArray of nv_disk_config the caller frees (never NULL on
 * success); errors as nv_domain_find_disk(). */
GPtrArray *nv_domain_parse_disks(const char *domain_xml, GError **error);

/* The disk of @disks (from nv_domain_parse_disks(); NULL = none) whose
 * <target dev=> is @target_dev, or NULL.  Borrowed. */
const nv_disk_config *nv_disks_find_by_target(const GPtrArray *disks, const char *target_dev);

/* TRUE when @a and @b name the same storage: the same file or block device
 * path, or the same network protocol and name.  A side without a source
 * never matches. */
gboolean nv_disk_config_same_source(const nv_disk_config *a, const nv_disk_config *b);

G_END_DECLS
