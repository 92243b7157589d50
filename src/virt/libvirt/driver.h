/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driver core (nova/virt/libvirt/driver.py): attach and detach of encrypted
 * volumes.  The public entry points are declared in include/nvirt/; the
 * pure encryption decision they make is in encryption_path.h.
 */
#pragma once

#include <glib.h>

#include "virt/block_device.h"
#include "virt/libvirt/encryption_path.h"

G_BEGIN_DECLS

G_END_DECLS
