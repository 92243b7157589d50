/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live migration helpers (nova/virt/libvirt/migration.py and the URI
 * helpers of LibvirtDriver): the destination's domain XML and the URIs a
 * migration uses.  Pure functions, no libvirt connection.
 *
 * Why the XML is rewritten at all: a natively decrypted disk names its
 * libvirt secret by UUID, and each host has its own secret (its own UUID)
 * for the volume.  The destination XML must name the destination's secret,
 * in the live XML (what the destination QEMU opens) and in the persistent
 * one (what the next cold start opens); libvirt otherwise sends the
 * source's persistent definition, which names a secret that is deleted once
 * the migration succeeds (see shared/reference/migration.md).
 */
#pragma once

#include <glib.h>

#include "conf/conf.h"

G_BEGIN_DECLS

/* _update_volume_xml, for what nvirt changes: every <disk> of @domain_xml
 * (the source's migratable XML, live or persistent) whose <serial> is a key
 * of @secret_uuids (serial/volume id -> destination secret UUID) and that
 * has an <encryption> (on the disk or, as libvirt also writes it, on its
 * <source>) gets that encryption's <secret type='passphrase'> pointed at
 * the destination's UUID.  Everything else is copied as libvirt wrote it.
 * Returns the new XML (caller frees).  Errors (NV_ERROR_BAD_INPUT, one line
 * naming the disk): XML that does not parse or is not a <domain>; an
 * encrypted disk whose serial has no entry (the destination would look for
 * the source's secret: "Secret not found" at prepare); an entry whose UUID
 * is not a UUID.  NV_ERROR_UNSUPPORTED for an entry whose disk has no
 * <encryption> (an encryptor decrypts it here, QEMU would there). */
char *nv_migration_update_guest_xml(const char *domain_xml, GHashTable *secret_uuids,
                                    GError **error);

/* LibvirtDriver._live_migration_uri: the libvirt URI the source daemon
 * opens to reach @dest (a host name or address): [libvirt]
 * live_migration_uri with "%s" replaced by @dest when set, else
 * qemu+SCHEME://DEST/system for virt_type kvm and qemu, SCHEME being
 * [libvirt] live_migration_scheme or "tcp" (an IPv6 address gets
 * brackets).  NV_ERROR_UNSUPPORTED for another virt_type
 * (LiveMigrationURINotAvailable), NV_ERROR_CONFIG for a live_migration_uri
 * with a '%' other than one "%s".  Caller frees. */
char *nv_migration_live_migration_uri(const nv_conf *conf, const char *dest, GError **error);

/* LibvirtDriver._migrate_uri: "tcp://ADDR" (brackets for IPv6) for the
 * QEMU migration stream, where the destination listens on @addr (its
 * [libvirt] live_migration_inbound_addr).  Caller frees. */
char *nv_migration_migrate_uri(const char *addr);

G_END_DECLS
