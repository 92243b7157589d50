/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The <disk>s of a domain XML as attach and detach read them, in one
 * streaming (SAX) pass of libxml2: no document tree is built.  With 100
 * disks a tree costs ~2.5 times the instructions of the pass (and far more
 * time, being allocation-bound) and it was built for every read of every
 * config, once per detach poll too.
 *
 * Each disk is read as nv_domain_parse_disks() reads it (disk_from_node():
 * the same fields, only direct children of <disk>), so the two give equal
 * nv_disk_config lists; tests/unit/test_guest_disks.c checks that they do.
 */
#pragma once

#include <glib.h>

#include "virt/libvirt/config.h"

G_BEGIN_DECLS

/* The disks of @domain_xml (nv_disk_config *, owned; in document order) and
 * *@active: TRUE when the root carries id=, which libvirt prints only for an
 * active (running, paused, ...) domain; NULL @active is allowed.  Errors as
 * nv_domain_parse_disks(): NV_ERROR_BAD_INPUT "domain config: malformed XML
 * at line N: ...", a DOCTYPE, or a root other than <domain>. */
GPtrArray *nv_guest_disks_scan(const char *domain_xml, gboolean *active, GError **error);

/* *@present = whether @domain_xml has a disk with <target dev=@target_dev>.
 * Errors as nv_guest_disks_scan(). */
gboolean nv_guest_disks_scan_has_target(const char *domain_xml, const char *target_dev,
                                        gboolean *present, GError **error);

G_END_DECLS
