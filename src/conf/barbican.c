/* SPDX-License-Identifier: Apache-2.0 */
/* [barbican]: castellan's barbican_key_manager.py options (what a nova.conf
 * sets for Nova's key manager), and [barbican_service_user]: the
 * keystoneauth1 auth plugin options castellan loads from that group
 * (keystoneauth1/loading/_plugins/identity/v3.py and generic.py).  Help texts
 * are theirs where they have one. */
#include <stddef.h>

#include "conf/conf.h"
#include "conf/options.h"

#define BARBICAN(field)     offsetof(nv_conf, barbican.field)
#define SERVICE_USER(field) offsetof(nv_conf, barbican_service_user.field)

static const nv_conf_opt barbican_opts[] = {
    {
        .name = "barbican_endpoint",
        .type = NV_CONF_TYPE_STRING,
        .offset = BARBICAN(barbican_endpoint),
        .help = "Use this endpoint to connect to Barbican, for example:\n"
                "\"http://localhost:9311/\". When unset, nvirt uses the public \"key-manager\"\n"
                "endpoint of the Keystone token's service catalog.\n",
    },
    {
        .name = "barbican_api_version",
        .type = NV_CONF_TYPE_STRING,
        .offset = BARBICAN(barbican_api_version),
        .help = "Version of the Barbican API, for example: \"v1\" (the only one there is,\n"
                "and what nvirt uses when this is unset).\n",
    },
    {
        .name = "auth_endpoint",
        .type = NV_CONF_TYPE_STRING,
        .default_value = "http://localhost/identity/v3",
        .offset = BARBICAN(auth_endpoint),
        .help = "Use this endpoint to connect to Keystone. nvirt uses it when\n"
                "[barbican_service_user] auth_url is unset.\n",
    },
    {
        .name = "number_of_retries",
        .type = NV_CONF_TYPE_INT,
        .default_value = "60",
        .min = 0,
        .offset = BARBICAN(number_of_retries),
        .help = "Number of times to retry poll for key creation completion. nvirt creates\n"
                "no keys; it retries a request Barbican or Keystone answered with a server\n"
                "error (5xx) this many times. A refused connection or a timeout is not\n"
                "retried.\n",
    },
    {
        .name = "retry_delay",
        .type = NV_CONF_TYPE_INT,
        .default_value = "1",
        .min = 0,
        .offset = BARBICAN(retry_delay),
        .help = "Number of seconds to wait before retrying poll for key creation\n"
                "completion (nvirt: before retrying a request answered with a server\n"
                "error).\n",
    },
    {
        .name = "verify_ssl",
        .type = NV_CONF_TYPE_BOOL,
        .default_value = "true",
        .offset = BARBICAN(verify_ssl),
        .help = "Specifies if insecure TLS (https) requests. If False, the server's\n"
                "certificate will not be validated, if True, we can set the verify_ssl_path\n"
                "config meanwhile.\n",
    },
    {
        .name = "verify_ssl_path",
        .type = NV_CONF_TYPE_STRING,
        .offset = BARBICAN(verify_ssl_path),
        .help = "A path to a bundle or CA certs to check against, or None for requests to\n"
                "attempt to locate and use certificates which verify_ssh is True. If\n"
                "verify_ssl is False, this is ignored.\n",
    },
};

const nv_conf_section nv_conf_barbican_section = {
    .name = "barbican",
    .opts = barbican_opts,
    .n_opts = G_N_ELEMENTS(barbican_opts),
};

static const nv_conf_opt service_user_opts[] = {
    {
        .name = "auth_type",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(auth_type),
        .help = "Authentication type to load. nvirt knows \"password\" (also \"v3password\"),\n"
                "\"v3applicationcredential\" (also \"applicationcredential\") and \"token\"\n"
                "(also \"v3token\"). Unset: nvirt has no credentials of its own and needs a\n"
                "token handed to it by the compute service (nv_driver_set_auth_token).\n",
    },
    {
        .name = "auth_url",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(auth_url),
        .help = "Authentication URL (Keystone v3, for example http://keystone:5000/v3).\n"
                "Unset: [barbican] auth_endpoint.\n",
    },
    {
        .name = "username",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(username),
        .help = "Username (auth_type = password).\n",
    },
    {
        .name = "user_id",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(user_id),
        .help = "User ID (auth_type = password, instead of username).\n",
    },
    {
        .name = "user_domain_name",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(user_domain_name),
        .help = "User's domain name.\n",
    },
    {
        .name = "user_domain_id",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(user_domain_id),
        .help = "User's domain id.\n",
    },
    {
        .name = "password",
        .type = NV_CONF_TYPE_SECRET,
        .offset = SERVICE_USER(password),
        .help = "User's password. Read into locked memory and never echoed.\n",
    },
    {
        .name = "project_name",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(project_name),
        .help = "Project name to scope to.\n",
    },
    {
        .name = "project_id",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(project_id),
        .help = "Project ID to scope to.\n",
    },
    {
        .name = "project_domain_name",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(project_domain_name),
        .help = "Domain name containing project.\n",
    },
    {
        .name = "project_domain_id",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(project_domain_id),
        .help = "Domain ID containing project.\n",
    },
    {
        .name = "application_credential_id",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(application_credential_id),
        .help = "Application credential ID (auth_type = v3applicationcredential).\n",
    },
    {
        .name = "application_credential_name",
        .type = NV_CONF_TYPE_STRING,
        .offset = SERVICE_USER(application_credential_name),
        .help = "Application credential name (with username or user_id and the user's\n"
                "domain, instead of application_credential_id).\n",
    },
    {
        .name = "application_credential_secret",
        .type = NV_CONF_TYPE_SECRET,
        .offset = SERVICE_USER(application_credential_secret),
        .help = "Application credential auth secret. Read into locked memory and never\n"
                "echoed.\n",
    },
    {
        .name = "token",
        .type = NV_CONF_TYPE_SECRET,
        .offset = SERVICE_USER(token),
        .help = "Token to authenticate with (auth_type = token). Read into locked memory\n"
                "and never echoed.\n",
    },
};

const nv_conf_section nv_conf_barbican_service_user_section = {
    .name = "barbican_service_user",
    .opts = service_user_opts,
    .n_opts = G_N_ELEMENTS(service_user_opts),
};
