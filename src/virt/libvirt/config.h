/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Libvirt XML config objects (nova/virt/libvirt/config.py).
 *
 * Spec work item: "Extend the LibvirtConfigGuestDisk class to configure the
 * encryption element of a disk device and to also create the required
 * Libvirt secret for the passphrase."  The disk config carries an optional
 * nv_disk_encryption (<encryption format='luks'><secret .../></encryption>),
 * and nv_secret_config is the <secret> document the host module defines
 * before setting the passphrase on it.
 *
 * Every object has _new, _free, _to_xml (a standalone document string the
 * caller owns) and _parse (from an XML string).  Field values are plain
 * strings, as in Nova, so a parsed object carries exactly what libvirt said;
 * NULL means "attribute/element absent".  This is the only module that
 * touches libxml2, and inside it only config/xml.c does.
 */
#pragma once

/* One header per object, in dependency order; config/xml.h and
 * config/priv.h are the module's internals. */
#include "virt/libvirt/config/encryption.h"
#include "virt/libvirt/config/address.h"
#include "virt/libvirt/config/disk.h"
#include "virt/libvirt/config/secret.h"
#include "virt/libvirt/config/domain.h"
#include "virt/libvirt/config/guest.h"
