/* SPDX-License-Identifier: Apache-2.0 */
/* [DEFAULT] options nvirt reads: nova/conf/paths.py. */
#include <stddef.h>

#include "conf/conf.h"
#include "conf/options.h"

static const nv_conf_opt opts[] = {
    {
        .name = "state_path",
        .type = NV_CONF_TYPE_STRING,
        /* Nova defaults to $pybasedir (where its Python package lives); a C
         * program has no such directory, so use the FHS state directory. */
        .default_value = "/var/lib/nvirt",
        .offset = offsetof(nv_conf, state_path),
        /* Nova's help, less the instances_path and pybasedir sentences that
         * do not apply to nvirt. */
        .help = "The top-level directory for maintaining nvirt's state.\n"
                "\n"
                "This directory is used to store nvirt's internal state. It is used by a\n"
                "variety of other config options which derive from this. In some scenarios\n"
                "(for example migrations) it makes sense to use a storage location which is\n"
                "shared between multiple compute hosts (for example via NFS).\n"
                "\n"
                "Possible values:\n"
                "\n"
                "* The full path to a directory.\n",
    },
};

const nv_conf_section nv_conf_paths_section = {
    .name = "DEFAULT",
    .opts = opts,
    .n_opts = G_N_ELEMENTS(opts),
};
