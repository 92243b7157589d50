/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <address> of a device (LibvirtConfigGuestDeviceAddressPCI / ...Drive).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* <address type='pci' domain bus slot function/> or
 * <address type='drive' controller bus target unit/> */
typedef struct {
    char *type; /* "pci" or "drive" */
    /* pci */
    char *domain;
    char *slot;
    char *function;
    /* drive */
    char *controller;
    char *target;
    char *unit;
    /* both */
    char *bus;
} nv_device_address;

/* New addresses (LibvirtConfigGuestDeviceAddressPCI / ...Drive); every
 * argument may be NULL (attribute absent) and is copied.  Never NULL. */
nv_device_address *nv_device_address_new_pci(const char *domain, const char *bus, const char *slot,
                                             const char *function);
nv_device_address *nv_device_address_new_drive(const char *controller, const char *bus,
                                               const char *target, const char *unit);
nv_device_address *nv_device_address_copy(const nv_device_address *addr);
void nv_device_address_free(nv_device_address *addr);
gboolean nv_device_address_equal(const nv_device_address *a, const nv_device_address *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_device_address, nv_device_address_free)

G_END_DECLS
