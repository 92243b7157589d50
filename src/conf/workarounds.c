/* SPDX-License-Identifier: Apache-2.0 */
/* [workarounds] options nvirt reads: nova/conf/workarounds.py. */
#include <stddef.h>

#include "conf/conf.h"
#include "conf/options.h"

static const nv_conf_opt opts[] = {
    {
        /* In Nova's Victoria docs, deprecated in 23.0.0 (Wallaby) and gone by
         * Nova 26, whose sources are not at hand for it: the help follows the
         * text those releases shipped, without its pointer to [workarounds]
         * rbd_volume_local_attach. */
        .name = "disable_native_luksv1",
        .type = NV_CONF_TYPE_BOOL,
        .default_value = "false",
        .offset = offsetof(nv_conf, workarounds.disable_native_luksv1),
        .help = "When attaching encrypted LUKSv1 Cinder volumes to instances the Libvirt driver\n"
                "configures the encrypted disks to be natively decrypted by QEMU.\n"
                "\n"
                "A performance issue has been discovered in the libgcrypt implementation used by\n"
                "QEMU that severely degrades the I/O performance of these encrypted disks.\n"
                "\n"
                "Until the libgcrypt issue is resolved in the upstream project, this workaround\n"
                "can be used to revert to the previous behaviour of decrypting volumes using\n"
                "os-brick.\n",
    },
};

const nv_conf_section nv_conf_workarounds_section = {
    .name = "workarounds",
    .opts = opts,
    .n_opts = G_N_ELEMENTS(opts),
};
