/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The instance a spawn builds (the fields of nova.objects.Instance and its
 * flavor the libvirt driver turns into <domain>), parsed from JSON with the
 * limits of block_device.h.  The public handle is nv_instance in
 * include/nvirt/nvirt.h.
 */
#pragma once

#include <glib.h>

#include "nvirt/nvirt.h"

G_BEGIN_DECLS

#define NV_INSTANCE_MAX_NAME_BYTES 255
#define NV_INSTANCE_MAX_MEMORY_MB  (G_GINT64_CONSTANT(1) << 30) /* 1 PiB */
#define NV_INSTANCE_MAX_VCPUS      4096

struct nv_instance {
    char *name;         /* libvirt domain name */
    char *uuid;         /* canonical lowercase form */
    guint64 memory_mb;  /* flavor.memory_mb */
    guint vcpus;        /* flavor.vcpus */
    char *machine_type; /* hw_machine_type; NULL: libvirt's default */
    char *kernel;       /* direct kernel boot; NULL: none */
    char *initrd;
    char *cmdline;
    char *console_log; /* serial console to this file; NULL: on a pty */
};

G_END_DECLS
