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
    "fixed",    "nova.keymgr.conf_key_mgr.ConfKeyManager",
    "barbican", "castellan.key_manager.barbican_key_manager.BarbicanKeyManager",
    NULL,
};

static const nv_conf_opt opts[] = {
    {
        /* castellan/key_manager/__init__.py key_manager_opts. */
        .name = "backend",
        .type = NV_CONF_TYPE_STRING,
        /* Castellan defaults to "barbican"; nvirt keeps the backend that needs
         * no service, so an existing nvirt.conf keeps working. */
        .default_value = "fixed",
        .offset = offsetof(nv_conf, key_manager.backend),
        .deprecated_name = "api_class",
        /* Castellan's help names its backends; nvirt's differ. */
        .help = "Specify the key manager implementation. nvirt has two built-in backends:\n"
                "\"barbican\" reads each volume's key from OpenStack Barbican (options in\n"
                "[barbican] and [barbican_service_user]); \"fixed\" returns the key set in\n"
                "``fixed_key`` as Nova's ConfKeyManager does, which is insecure and only for\n"
                "testing. Castellan's default is \"barbican\"; nvirt's is \"fixed\". The class\n"
                "paths nova.keymgr.conf_key_mgr.ConfKeyManager and\n"
                "castellan.key_manager.barbican_key_manager.BarbicanKeyManager are accepted as\n"
                "well. Any other value is reported when a key is first needed, not when the\n"
                "file is read, so a volume whose libvirt secret exists still attaches. Will\n"
                "support the values earlier set using [key_manager]/api_class for some time.\n",
    },
    {
        .name = "fixed_key",
        .type = NV_CONF_TYPE_HEX_KEY,
        .offset = offsetof(nv_conf, key_manager.fixed_key),
        .deprecated_group = "keymgr",
        .help = "Fixed key returned by key manager, specified in hex.\n"
                "\n"
                "The fixed key manager is insecure and is not recommended for production\n"
                "deployments: every volume shares this one key, and anyone who can read this\n"
                "file can decrypt every volume. Use it for testing only; use\n"
                "``backend = barbican`` in production.\n"
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
