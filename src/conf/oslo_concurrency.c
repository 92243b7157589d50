/* SPDX-License-Identifier: Apache-2.0 */
/* [oslo_concurrency] options nvirt reads: oslo_concurrency/opts.py. */
#include <stddef.h>

#include "conf/conf.h"
#include "conf/options.h"

static const nv_conf_opt opts[] = {
    {
        /* oslo's default is $OSLO_LOCK_PATH, else none (external locks then
         * fail); nvirt always serialises work on a volume, so it needs a
         * directory without any configuration. */
        .name = "lock_path",
        .type = NV_CONF_TYPE_STRING,
        .default_value = "$state_path/lock",
        .offset = offsetof(nv_conf, oslo_concurrency.lock_path),
        .help = "Directory to use for lock files.  For security, the specified directory\n"
                "should only be writable by the user running the processes that need locking.\n"
                "\n"
                "nvirt takes an exclusive lock on the file nvirt-volume-VOLUME_ID in this\n"
                "directory for every attach, detach and rollback of that volume, so that two\n"
                "processes (or two driver handles) never work on one volume at the same time.\n"
                "Every nvirt process on a host must use the same directory.\n",
    },
};

const nv_conf_section nv_conf_oslo_concurrency_section = {
    .name = "oslo_concurrency",
    .opts = opts,
    .n_opts = G_N_ELEMENTS(opts),
};
