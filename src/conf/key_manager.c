/* SPDX-License-Identifier: Apache-2.0 */
/* [key_manager] options nvirt reads: nova/conf/key_manager.py and the
 * castellan options Nova registers into the same group. */
#include <stddef.h>

#include "conf/conf.h"
#include "conf/options.h"

/* Also spelt as the class path of Nova's ConfKeyManager, which castellan
 * still loads ("not a stevedore based driver, trying to load it as a class");
 * keymgr/keymgr.c maps both to the fixed-key backend. */
const char *const nv_conf_key_manager_backends[] = {
    "fixed",
    "nova.keymgr.conf_key_mgr.ConfKeyManager",
    NULL,
};

static const nv_conf_opt opts[] = {
    {
        /* castellan/key_manager/__init__.py key_manager_opts. */
        .name = "backend",
        .type = NV_CONF_TYPE_STRING,
        /* Castellan defaults to "barbican", which nvirt does not have. */
        .default_value = "fixed",
        .offset = offsetof(nv_conf, key_manager.backend),
        .deprecated_name = "api_class",
        /* Castellan's help names its backends; nvirt's differ. */
        .help = "Specify the key manager implementation. nvirt has one built-in backend,\n"
                "\"fixed\", which returns the key set in ``fixed_key`` as Nova's\n"
                "ConfKeyManager does, so that is the default (castellan's default,\n"
                "\"barbican\", and \"vault\" are not built in and are rejected). Nova's\n"
                "spelling nova.keymgr.conf_key_mgr.ConfKeyManager is accepted as well. Will\n"
                "support the values earlier set using [key_manager]/api_class for some time.\n",
    },
    {
        .name = "fixed_key",
        .type = NV_CONF_TYPE_HEX_KEY,
        .offset = offsetof(nv_conf, key_manager.fixed_key),
        .deprecated_group = "keymgr",
        .help = "Fixed key returned by key manager, specified in hex.\n"
                "\n"
                "Possible values:\n"
                "\n"
                "* Empty string or a key in hex value\n",
    },
};

const nv_conf_section nv_conf_key_manager_section = {
    .name = "key_manager",
    .opts = opts,
    .n_opts = G_N_ELEMENTS(opts),
};
